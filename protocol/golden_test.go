package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/fxamacker/cbor/v2"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/internal/canon"
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
	gRead(t, filepath.Join("..", "crypto", "testdata", "identities.json"), &k)
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
	peerKey, err := p2pcrypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(gHex(t, m.PeerSeed)))
	if err != nil {
		t.Fatal(err)
	}
	return &crypto.Identity{Signing: ed25519.NewKeyFromSeed(gHex(t, m.SignSeed)), Age: ageID, Peer: peerKey}
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

func gHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gRead(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// gWrite writes v to testdata/name under -update.
func gWrite(t testing.TB, name string, v any) {
	t.Helper()
	if !*update {
		return
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

var gDiagMode, _ = cbor.DecOptions{DefaultMapType: reflect.TypeOf(map[string]any(nil))}.DecMode()

// gDiag decodes CBOR without a schema, byte strings as "h'…'" hex: what a
// reader of the spec sees, with the keys as they travel.
func gDiag(t testing.TB, data []byte) json.RawMessage {
	t.Helper()
	var v any
	if err := gDiagMode.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(gHexBytes(v))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gHexBytes(v any) any {
	switch x := v.(type) {
	case []byte:
		return "h'" + hex.EncodeToString(x) + "'"
	case map[string]any:
		for k, e := range x {
			x[k] = gHexBytes(e)
		}
	case []any:
		for i, e := range x {
			x[i] = gHexBytes(e)
		}
	}
	return v
}

// gSameFields compares the generic decoding of data with stored fields.
func gSameFields(t testing.TB, what string, data []byte, want json.RawMessage) {
	t.Helper()
	var w any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	norm, _ := json.Marshal(w)
	if got := gDiag(t, data); string(got) != string(norm) {
		t.Errorf("%s: decoded fields differ\n got %s\nwant %s", what, got, norm)
	}
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
		BodyHex: hex.EncodeToString(s.Body), Fields: gDiag(t, s.Body)}
}

// gCheckSigned checks a stored signed item's hash, body and fields.
func gCheckSigned(t testing.TB, it gItem, hash [32]byte) []byte {
	t.Helper()
	raw := gHex(t, it.Hex)
	s, err := crypto.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(hash[:]) != it.Hash || hex.EncodeToString(s.Body) != it.BodyHex {
		t.Errorf("%s: stored hash or body is not the item's", it.Name)
	}
	gSameFields(t, it.Name, s.Body, it.Fields)
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
		e.Add = &Add{Card: bobCard.Raw, Role: RoleMember, Nonce: gHex(t, "000102030405060708090a0b0c0d0e0f"), Key: k}
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

func gLoadLog(t testing.TB) (gLog, [][]byte) {
	t.Helper()
	if *update {
		gWrite(t, "log.json", gBuildLog(t))
	}
	var l gLog
	gRead(t, filepath.Join("testdata", "log.json"), &l)
	var raws [][]byte
	for _, it := range l.Entries {
		raws = append(raws, gHex(t, it.Hex))
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
