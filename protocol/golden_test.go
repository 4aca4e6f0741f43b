package protocol

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/canon"
	"github.com/concordnet/concord/internal/golden"
)

// Golden vectors: byte-exact encodings of docs/protocol.md, checked
// against the code. `go test ./protocol -run Golden -update` rewrites them
// from the fixed keys of ../crypto/testdata/identities.json. Log entries
// and envelopes hold age ciphertexts, which are randomised: rewriting
// changes their bytes, and the checks read only what is stored.
var update = flag.Bool("update", false, "rewrite the golden vectors in testdata")

var gTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type gKeys struct {
	Members map[string]struct {
		SignSeed string `json:"sign_seed"`
		PeerSeed string `json:"peer_seed"`
		Age      string `json:"age_identity"`
	} `json:"members"`
	EpochKeys map[string]string `json:"epoch_keys"`
}

func gReadKeys(t testing.TB) gKeys {
	t.Helper()
	var k gKeys
	golden.Read(t, filepath.Join("..", "crypto", "testdata", "identities.json"), &k)
	return k
}

// gIdentity builds the golden identity called name from its fixed seeds.
func gIdentity(t testing.TB, name string) *crypto.Identity {
	t.Helper()
	m := gReadKeys(t).Members[name]
	ageID, err := age.ParseHybridIdentity(m.Age)
	if err != nil {
		t.Fatal(err)
	}
	peerKey, err := p2pcrypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(golden.Unhex(t, m.PeerSeed)))
	if err != nil {
		t.Fatal(err)
	}
	return &crypto.Identity{Signing: ed25519.NewKeyFromSeed(golden.Unhex(t, m.SignSeed)), Age: ageID, Peer: peerKey}
}

func gEpochKey(t testing.TB, epoch uint64, s string) *crypto.EpochKey {
	t.Helper()
	k, err := crypto.ParseEpochKey(epoch, s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// gCard is the card of a golden identity, as crypto's vectors have it.
func gCard(t testing.TB, id *crypto.Identity) *crypto.Card {
	t.Helper()
	c, err := crypto.NewCard(id, "Office Central des Stupéfiants", "FRA",
		[]string{"/ip4/192.0.2.10/tcp/7700", "/ip4/192.0.2.10/udp/7700/quic-v1"}, gTime)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// gReencodes checks that the typed decoding v of a body re-encodes to it.
func gReencodes(t testing.TB, what string, v any, body []byte) {
	t.Helper()
	if again, err := canon.Marshal(v); err != nil || !bytes.Equal(again, body) {
		t.Errorf("%s: re-encoding the decoded value changes its bytes (%v)", what, err)
	}
}

// gItem is one encoded item: its bytes, its hash where it has one, and
// the generic decoding of the part a reader checks field by field.
type gItem struct {
	Name    string          `json:"name"`
	Hex     string          `json:"hex"`
	Hash    string          `json:"sha256,omitempty"`
	BodyHex string          `json:"body_hex,omitempty"`
	Fields  json.RawMessage `json:"fields"`
}

func gSignedItem(t testing.TB, name string, raw []byte, hash [32]byte) gItem {
	t.Helper()
	s, err := crypto.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	return gItem{Name: name, Hex: hex.EncodeToString(raw), Hash: hex.EncodeToString(hash[:]),
		BodyHex: hex.EncodeToString(s.Body), Fields: golden.Diag(t, s.Body)}
}

// gCheckSigned checks a stored signed item's hash, body and fields.
func gCheckSigned(t testing.TB, it gItem, hash [32]byte) []byte {
	t.Helper()
	raw := golden.Unhex(t, it.Hex)
	s, err := crypto.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(hash[:]) != it.Hash || hex.EncodeToString(s.Body) != it.BodyHex {
		t.Errorf("%s: stored hash or body is not the item's", it.Name)
	}
	golden.SameFields(t, it.Name, s.Body, it.Fields)
	return s.Body
}

// gLog is the golden topic log: alice creates a topic, starts epoch 1,
// adds bob, then removes him (epoch 2).
type gLog struct {
	Comment string  `json:"comment"`
	TopicID string  `json:"topic_id"`
	Entries []gItem `json:"entries"`
}

func gBuildLog(t testing.TB) gLog {
	t.Helper()
	keys := gReadKeys(t)
	alice, bob := gIdentity(t, "alice"), gIdentity(t, "bob")
	aliceCard, bobCard := gCard(t, alice), gCard(t, bob)
	genesis, err := NewGenesis(alice, aliceCard, "drug-trafficking", "West Africa cocaine route", Policy{MaxAgeDays: 365}, gTime)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewTopicState(genesis)
	if err != nil {
		t.Fatal(err)
	}
	next := func(typ string, fill func(*LogEntry)) {
		e := s.NextEntry(alice.MemberID(), typ, gTime.Add(time.Duration(s.Len)*time.Minute))
		fill(e)
		raw, err := SignEntry(alice, e)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Apply(raw); err != nil {
			t.Fatal(err)
		}
	}
	rotate := func(epoch uint64, without string) Rotate {
		r, err := s.NewRotate(gEpochKey(t, epoch, keys.EpochKeys[string(rune('0'+epoch))]), without)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	next(EntryRotate, func(e *LogEntry) { r := rotate(1, ""); e.Rotate = &r })
	next(EntryAdd, func(e *LogEntry) {
		k, err := crypto.WrapEpochKey(gEpochKey(t, 1, keys.EpochKeys["1"]), bobCard.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		e.Add = &Add{Card: bobCard.Raw, Role: RoleMember, Nonce: golden.Unhex(t, "000102030405060708090a0b0c0d0e0f"), Key: k}
	})
	next(EntryRemove, func(e *LogEntry) {
		e.Remove = &Remove{Member: bob.MemberID(), Reason: "left the unit", Rotate: rotate(2, bob.MemberID())}
	})
	l := gLog{Comment: "topic log (§5): genesis, rotate to epoch 1, add bob, remove bob (epoch 2)", TopicID: s.ID.String()}
	for i, raw := range s.Entries {
		e, _ := DecodeEntry(raw)
		l.Entries = append(l.Entries, gSignedItem(t, e.Type+" "+string(rune('0'+i)), raw, e.Hash))
	}
	return l
}

var gLogOnce sync.Once

func gLoadLog(t testing.TB) (gLog, [][]byte) {
	t.Helper()
	gLogOnce.Do(func() { golden.Write(t, *update, "log.json", gBuildLog(t)) }) // once: its ciphertexts are random
	var l gLog
	golden.Read(t, filepath.Join("testdata", "log.json"), &l)
	var raws [][]byte
	for _, it := range l.Entries {
		raws = append(raws, golden.Unhex(t, it.Hex))
	}
	return l, raws
}

func TestGoldenLog(t *testing.T) {
	l, raws := gLoadLog(t)
	for i, it := range l.Entries {
		e, err := DecodeEntry(raws[i])
		if err != nil {
			t.Fatalf("%s: %v", it.Name, err)
		}
		gReencodes(t, it.Name, e.LogEntry, gCheckSigned(t, it, e.Hash))
	}
	// Replay verifies every signature and applies every rule.
	s, err := Replay(raws)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := gIdentity(t, "alice"), gIdentity(t, "bob")
	if s.ID.String() != l.TopicID || s.Epoch != 2 || s.MemberAt(bob.MemberID(), 2) || !s.MemberAt(bob.MemberID(), 1) {
		t.Fatalf("replayed log: topic %s epoch %d, want %s, epoch 2, bob a member of epoch 1 only", s.ID, s.Epoch, l.TopicID)
	}
	keys := gReadKeys(t)
	for epoch, who := range map[uint64]*crypto.Identity{1: bob, 2: alice} {
		k, err := crypto.UnwrapEpochKey(epoch, s.WrappedKeyFor(who.MemberID(), epoch), who.Age)
		if err != nil || k.String() != keys.EpochKeys[string(rune('0'+epoch))] {
			t.Errorf("epoch %d key wrapped to %s: %v", epoch, who.MemberID(), err)
		}
	}
}

// gBulletinID is a bulletin ID with fixed random part r, bound to alice
// and the golden topic.
func gBulletinID(topic TopicID, originator string, r byte) string {
	raw := bytes.Repeat([]byte{r}, 16)
	tag := bulletinIDTag(topic, originator, raw[:8])
	copy(raw[8:], tag[:8])
	return strings.ToLower(idEncoding.EncodeToString(raw))
}

// gBulletin is a bulletin with every optional field, version 1.
func gBulletin(t testing.TB, topic TopicID, alice string) *Bulletin {
	t.Helper()
	until := gTime.Add(90 * 24 * time.Hour)
	d := BulletinDraft{
		Title: "Cocaine shipment via Lomé", Summary: "Container MSCU1234565 expected on 12 March.",
		Body: "# Details\n\nThe container left Santos on 20 February.\n", Language: "en", TLP: "AMBER",
		Handling: Handling{Code: "H3", Restrictions: "Not for court use."}, SourceReliability: "B", InfoReliability: "2",
		ValidUntil: &until, References: References{InReplyTo: []string{gBulletinID(topic, alice, 7)}},
		Entities:    []Entity{{Type: "vessel", Value: "MSC Example", Fields: map[string]string{"imo": "9321483", "flag": "PAN"}}},
		Attachments: []Attachment{NewAttachment("route.txt", "text/plain", []byte("Santos - Lomé\n"))},
	}
	b, err := d.Build(Stamp{ID: gBulletinID(topic, alice, 1), Version: 1, Created: gTime, Modified: gTime,
		Originator: Originator{Member: alice, Country: "FRA", Agency: "OFAST", Contact: "duty officer +33 1 00 00 00 00"},
		Category:   "drug-trafficking"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gEncode(t testing.TB, b *Bulletin) []byte {
	t.Helper()
	data, err := EncodeBulletin(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// gTopic is the golden topic's ID: the hash of its genesis entry, which
// is deterministic (no ciphertext in it).
func gTopic(t testing.TB) TopicID {
	t.Helper()
	alice := gIdentity(t, "alice")
	genesis, err := NewGenesis(alice, gCard(t, alice), "drug-trafficking", "West Africa cocaine route", Policy{MaxAgeDays: 365}, gTime)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(genesis)
}

func TestGoldenBulletin(t *testing.T) {
	alice := gIdentity(t, "alice").MemberID()
	data := gEncode(t, gBulletin(t, gTopic(t), alice))
	golden.Write(t, *update, "bulletin.json", gItem{Name: "bulletin (§7), version 1, every optional field present", Hex: hex.EncodeToString(data), Fields: golden.Diag(t, data)})
	var it gItem
	golden.Read(t, filepath.Join("testdata", "bulletin.json"), &it)
	if it.Hex != hex.EncodeToString(data) {
		t.Fatal("EncodeBulletin no longer writes the stored bytes")
	}
	b, err := DecodeBulletin(data)
	if err != nil {
		t.Fatal(err)
	}
	golden.SameFields(t, it.Name, data, it.Fields)
	gReencodes(t, it.Name, b, data)
	if err := CheckBulletinID(b.ID, gTopic(t), alice); err != nil {
		t.Error(err)
	}
}

// gEnvelope is one golden envelope, its decrypted inner container and
// payload, and who can read it: "epoch 1" or a member's name.
type gEnvelope struct {
	gItem
	ReadBy        string          `json:"read_by"`
	InnerHex      string          `json:"inner_hex"`
	InnerFields   json.RawMessage `json:"inner_fields"`
	PayloadHex    string          `json:"payload_hex"`
	PayloadFields json.RawMessage `json:"payload_fields"`
}

// gBuildEnvelopes seals alice's envelopes on the golden topic at epoch 1:
// a bulletin, its revision, its revocation, and a bulletin restricted to bob.
func gBuildEnvelopes(t testing.TB) []gEnvelope {
	t.Helper()
	keys := gReadKeys(t)
	alice, bob := gIdentity(t, "alice"), gIdentity(t, "bob")
	topic := gTopic(t)
	b1 := gBulletin(t, topic, alice.MemberID())
	b2, err := b1.Revise(&BulletinDraft{Title: "Cocaine shipment via Lomé (update)", Language: "en", TLP: "AMBER",
		Handling: Handling{Code: "H1"}, SourceReliability: "B", InfoReliability: "1"}, gTime.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rev, err := EncodeRevocation(Revocation{Bulletin: b1.ID, Reason: "Shipment intercepted; the bulletin is obsolete."})
	if err != nil {
		t.Fatal(err)
	}
	restricted := *gBulletin(t, topic, alice.MemberID())
	restricted.ID, restricted.Audience = gBulletinID(topic, alice.MemberID(), 2), []string{bob.MemberID()}
	epoch1 := gEpochKey(t, 1, keys.EpochKeys["1"]).Recipient()
	var out []gEnvelope
	var prev []byte
	for i, c := range []struct {
		name, kind, readBy string
		payload            []byte
		audience           []string
		to                 []age.Recipient
	}{
		{"bulletin", KindBulletin, "epoch 1", gEncode(t, b1), nil, []age.Recipient{epoch1}},
		{"revision", KindRevision, "epoch 1", gEncode(t, b2), nil, []age.Recipient{epoch1}},
		{"revocation", KindRevocation, "epoch 1", rev, nil, []age.Recipient{epoch1}},
		{"bulletin to a restricted audience", KindBulletin, "bob", gEncode(t, &restricted), restricted.Audience,
			[]age.Recipient{alice.Age.Recipient(), bob.Age.Recipient()}},
	} {
		seq := uint64(i + 1)
		inner, err := SealInner(alice, InnerBody{Topic: topic[:], Epoch: 1, Author: alice.MemberID(), Seq: seq, Kind: c.kind, Payload: c.payload})
		if err != nil {
			t.Fatal(err)
		}
		ct, err := crypto.Encrypt(inner, c.to...)
		if err != nil {
			t.Fatal(err)
		}
		env, err := SealEnvelope(alice, EnvelopeBody{Kind: c.kind, Topic: topic[:], Epoch: 1, Author: alice.MemberID(),
			Node: alice.PeerID().String(), Seq: seq, Prev: prev, TS: gTime.Add(time.Duration(seq) * time.Hour),
			Audience: c.audience, Ciphertext: ct})
		if err != nil {
			t.Fatal(err)
		}
		prev = env.ID[:]
		is, _ := crypto.Open(inner)
		out = append(out, gEnvelope{gItem: gSignedItem(t, c.name, env.Raw, env.ID), ReadBy: c.readBy,
			InnerHex: hex.EncodeToString(inner), InnerFields: golden.Diag(t, is.Body),
			PayloadHex: hex.EncodeToString(c.payload), PayloadFields: golden.Diag(t, c.payload)})
	}
	return out
}

func TestGoldenEnvelopes(t *testing.T) {
	_, raws := gLoadLog(t)
	if *update {
		golden.Write(t, *update, "envelopes.json", gBuildEnvelopes(t))
	}
	var envs []gEnvelope
	golden.Read(t, filepath.Join("testdata", "envelopes.json"), &envs)
	s, err := Replay(raws[:3]) // bob is a member, epoch 1
	if err != nil {
		t.Fatal(err)
	}
	keys := gReadKeys(t)
	readers := map[string]age.Identity{"epoch 1": gEpochKey(t, 1, keys.EpochKeys["1"]).Identity, "bob": gIdentity(t, "bob").Age}
	alice := gIdentity(t, "alice").MemberID()
	var prev []byte
	for _, g := range envs {
		env, err := DecodeEnvelope(golden.Unhex(t, g.Hex))
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		gReencodes(t, g.Name, env.EnvelopeBody, gCheckSigned(t, g.gItem, env.ID))
		if err := s.CheckEnvelope(env, 1); err != nil { // outer signature included
			t.Errorf("%s: %v", g.Name, err)
		}
		if !bytes.Equal(env.Prev, prev) {
			t.Errorf("%s: prev is not the previous envelope's ID", g.Name)
		}
		prev = env.ID[:]
		plain, err := crypto.Decrypt(env.Ciphertext, MaxBulletinBytes+4<<10, readers[g.ReadBy])
		if err != nil || hex.EncodeToString(plain) != g.InnerHex {
			t.Fatalf("%s: decrypting with %s: %v", g.Name, g.ReadBy, err)
		}
		in, err := OpenInner(plain, env, s.Card(alice)) // inner signature included
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		is, _ := crypto.Open(plain)
		golden.SameFields(t, g.Name+" inner", is.Body, g.InnerFields)
		gReencodes(t, g.Name+" inner", in, is.Body)
		if hex.EncodeToString(in.Payload) != g.PayloadHex {
			t.Errorf("%s: payload differs", g.Name)
		}
		golden.SameFields(t, g.Name+" payload", in.Payload, g.PayloadFields)
		gCheckPayload(t, g.Name, env, in.Payload, alice)
	}
}

// gCheckPayload decodes a payload as its kind requires and checks its
// binding to the envelope.
func gCheckPayload(t testing.TB, name string, env *Envelope, payload []byte, alice string) {
	t.Helper()
	if env.Kind == KindRevocation {
		r, err := DecodeRevocation(payload)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		gReencodes(t, name+" payload", r, payload)
		if err := CheckBulletinID(r.Bulletin, env.TopicID(), alice); err != nil {
			t.Error(err)
		}
		return
	}
	b, err := DecodeBulletin(payload)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	gReencodes(t, name+" payload", b, payload)
	if err := CheckBulletinID(b.ID, env.TopicID(), alice); err != nil || !slices.Equal(b.Audience, env.Audience) {
		t.Errorf("%s: bulletin not bound to its envelope: %v", name, err)
	}
}

// gCase is an encoding a decoder must accept (Valid) or refuse.
type gCase struct {
	Name  string `json:"name"`
	Valid bool   `json:"valid"`
	Hex   string `json:"hex"`
}

func gSet(key string, v any) func(map[string]any) { return func(b map[string]any) { b[key] = v } }

// gBulletinCases mutate the generic form of the golden bulletin.
var gBulletinCases = []struct {
	name   string
	valid  bool
	mutate func(map[string]any)
}{
	{"unchanged", true, func(map[string]any) {}},
	{"title of 200 bytes", true, gSet("title", strings.Repeat("é", 100))},
	{"title of 201 bytes", false, gSet("title", strings.Repeat("é", 100)+"x")},
	{"title of white space only (U+00A0 U+0020 U+2028 U+3000)", false, gSet("title", "\u00a0 \u2028\u3000")},
	{"title of U+200B only (not white space)", true, gSet("title", "\u200b")},
	{"summary with CR (control character in multi-line text)", false, gSet("summary", "a\r\nb")},
	{"missing required key tlp", false, func(b map[string]any) { delete(b, "tlp") }},
	{"missing optional key summary", true, func(b map[string]any) { delete(b, "summary") }},
	{"optional key summary present but empty", false, gSet("summary", "")},
	{"optional key references present but empty", false, gSet("references", map[string]any{})},
	{"optional key audience present but empty", false, gSet("audience", []any{})},
	{"unknown key", false, gSet("extra", "x")},
	{"created with trailing fractional zero", false, gSet("created", "2026-03-01T12:00:00.10Z")},
	{"created with +00:00", false, gSet("created", "2026-03-01T12:00:00+00:00")},
}

func TestGoldenBulletinCases(t *testing.T) {
	data := gEncode(t, gBulletin(t, gTopic(t), gIdentity(t, "alice").MemberID()))
	var cases []gCase
	for _, c := range gBulletinCases {
		var m map[string]any
		if err := canon.DecodeGeneric(data, &m); err != nil {
			t.Fatal(err)
		}
		c.mutate(m)
		b, err := canon.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, gCase{Name: c.name, Valid: c.valid, Hex: hex.EncodeToString(b)})
	}
	gCheckCases(t, "bulletin_cases.json", cases, func(b []byte) error { _, err := DecodeBulletin(b); return err })
}

// gNested is n arrays (or maps with key "a") nested, around the integer 0.
func gNested(n int, maps bool) []byte {
	var b []byte
	for range n {
		if maps {
			b = append(b, 0xa1, 0x61, 'a')
		} else {
			b = append(b, 0x81)
		}
	}
	return append(b, 0x00)
}

// Depth counts arrays and maps on the path from the top-level item, the
// top-level one included: 16 levels decode, 17 do not, whatever the type.
func TestGoldenDepthCases(t *testing.T) {
	cases := []gCase{
		{"16 nested arrays", true, hex.EncodeToString(gNested(16, false))},
		{"17 nested arrays", false, hex.EncodeToString(gNested(17, false))},
		{"16 nested maps", true, hex.EncodeToString(gNested(16, true))},
		{"17 nested maps", false, hex.EncodeToString(gNested(17, true))},
		{"15 nested arrays around an empty array (16 levels)", true, hex.EncodeToString(append(gNested(15, false)[:15], 0x80))},
		{"16 nested arrays around an empty map (17 levels)", false, hex.EncodeToString(append(gNested(16, false)[:16], 0xa0))},
	}
	gCheckCases(t, "depth_cases.json", cases, func(b []byte) error { var v any; return canon.Unmarshal(b, &v) })
}

// gCheckCases stores cases under -update, requires the stored file to be
// what the cases generate, and runs decode on each.
func gCheckCases(t *testing.T, name string, cases []gCase, decode func([]byte) error) {
	t.Helper()
	golden.Write(t, *update, name, cases)
	var stored []gCase
	golden.Read(t, filepath.Join("testdata", name), &stored)
	if !reflect.DeepEqual(stored, cases) {
		t.Errorf("%s is not what the cases generate: run with -update", name)
	}
	for _, c := range stored {
		err := decode(golden.Unhex(t, c.Hex))
		t.Logf("%s: %v", c.Name, err)
		if (err == nil) != c.Valid {
			t.Errorf("%s: valid=%v, decoding says %v", c.Name, c.Valid, err)
		}
	}
}
