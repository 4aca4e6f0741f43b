package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// An auditor's second implementation in miniature: from the raw exports
// alone and the rules of docs/protocol.md (§1.5, §5.2–5.5, §8.1–8.2,
// "Verifying a raw export"), it re-checks every signature, the log's hash
// chain, membership, and each envelope's outer signature and chain. It
// uses only code that needs no secret: the context-free decoders and
// crypto.Open / crypto.Verify. It does not use protocol.TopicState.

// audited is what the auditor learns from a log.
type audited struct {
	topic   [32]byte
	cards   map[string]*crypto.Card // every member ever admitted, latest card
	roles   map[string]string       // current members
	owner   string
	epochs  map[uint64]map[string]bool // members(e) of §5.5
	epoch   uint64
	lastSeq map[string]uint64 // removed member → last seq accepted
}

// auditLog checks a log given as the exact bytes of its entries.
func auditLog(entries [][]byte) (*audited, error) {
	a := &audited{cards: map[string]*crypto.Card{}, roles: map[string]string{},
		epochs: map[uint64]map[string]bool{}, lastSeq: map[string]uint64{}}
	var prev [32]byte
	for i, raw := range entries {
		e, err := protocol.DecodeEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if e.Index != uint64(i) {
			return nil, fmt.Errorf("entry %d says index %d", i, e.Index)
		}
		if i == 0 {
			if e.Type != protocol.EntryGenesis {
				return nil, fmt.Errorf("entry 0 is %s, not genesis", e.Type)
			}
			a.topic, a.owner = sha256.Sum256(raw), e.Author
			a.cards[e.Author], a.roles[e.Author] = e.Card, protocol.RoleAdmin
		} else if !bytes.Equal(e.Topic, a.topic[:]) || !bytes.Equal(e.Prev, prev[:]) {
			return nil, fmt.Errorf("entry %d: topic or prev breaks the hash chain", i)
		}
		if err := a.authorize(i, e); err != nil {
			return nil, err
		}
		card := a.cards[e.Author]
		s, err := crypto.Open(raw)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if err := crypto.Verify(card.SignKey, crypto.DomainLogEntry, s.Body, s.Sig); err != nil {
			return nil, fmt.Errorf("entry %d: signature of %s: %w", i, e.Author, err)
		}
		a.apply(e)
		prev = sha256.Sum256(raw)
	}
	return a, nil
}

// authorize is rule 3 of §5.5: admins write; a member leaves for itself.
func (a *audited) authorize(i int, e *protocol.Entry) error {
	role, member := a.roles[e.Author]
	switch {
	case i == 0:
		return nil
	case !member:
		return fmt.Errorf("entry %d: author %s is not a current member", i, e.Author)
	case e.Type == protocol.EntryLeave && e.Author != a.owner:
		return nil
	case role != protocol.RoleAdmin:
		return fmt.Errorf("entry %d: author %s is not an admin", i, e.Author)
	case e.Type == protocol.EntryRole && e.Author != a.owner:
		return fmt.Errorf("entry %d: only the owner changes roles", i)
	}
	return nil
}

func (a *audited) apply(e *protocol.Entry) {
	switch e.Type {
	case protocol.EntryRotate:
		a.startEpoch(e.Rotate)
	case protocol.EntryAdd:
		a.cards[e.Card.ID], a.roles[e.Card.ID] = e.Card, e.Add.Role
		delete(a.lastSeq, e.Card.ID)
		a.epochs[a.epoch][e.Card.ID] = true
	case protocol.EntryRemove:
		delete(a.roles, e.Remove.Member)
		a.lastSeq[e.Remove.Member] = e.Remove.LastSeq
		a.startEpoch(&e.Remove.Rotate)
	case protocol.EntryLeave:
		delete(a.roles, e.Author)
		a.lastSeq[e.Author] = e.Leave.LastSeq
		a.startEpoch(&e.Leave.Rotate)
	case protocol.EntryRole:
		a.roles[e.Role.Member] = e.Role.Role
	}
}

func (a *audited) startEpoch(r *protocol.Rotate) {
	a.epoch = r.Epoch
	a.epochs[r.Epoch] = map[string]bool{}
	for _, k := range r.Keys {
		a.epochs[r.Epoch][k.Member] = true
	}
}

// auditEnvelopes checks envelopes given as their exact bytes, in (author,
// seq) order, against the audited log.
func (a *audited) auditEnvelopes(envs [][]byte) error {
	var last *protocol.Envelope
	for i, raw := range envs {
		env, err := protocol.DecodeEnvelope(raw)
		if err != nil {
			return fmt.Errorf("envelope %d: %w", i, err)
		}
		if env.ID != sha256.Sum256(raw) || !bytes.Equal(env.Topic, a.topic[:]) {
			return fmt.Errorf("envelope %d: ID or topic is wrong", i)
		}
		card := a.cards[env.Author]
		switch {
		case card == nil || !a.epochs[env.Epoch][env.Author]:
			return fmt.Errorf("envelope %d: %s was not a member at epoch %d", i, env.Author, env.Epoch)
		case a.roles[env.Author] == "" && env.Seq > a.lastSeq[env.Author]:
			return fmt.Errorf("envelope %d: seq %d of a former member is past its last seq", i, env.Seq)
		}
		if node, err := peer.Decode(env.Node); err != nil || !card.HasPeer(node) {
			return fmt.Errorf("envelope %d: node %s is not certified by its author's card", i, env.Node)
		}
		s, err := crypto.Open(raw)
		if err != nil {
			return fmt.Errorf("envelope %d: %w", i, err)
		}
		if err := crypto.Verify(card.SignKey, crypto.DomainEnvelope, s.Body, s.Sig); err != nil {
			return fmt.Errorf("envelope %d: signature: %w", i, err)
		}
		if err := chained(last, env); err != nil {
			return fmt.Errorf("envelope %d: %w", i, err)
		}
		last = env
	}
	return nil
}

// chained checks §8.2 between consecutive envelopes of the export: a node
// holds each author's chain from seq 1 without holes once synced.
func chained(last, env *protocol.Envelope) error {
	if last == nil || last.Author != env.Author {
		if env.Seq != 1 {
			return fmt.Errorf("%s's chain starts at seq %d", env.Author, env.Seq)
		}
		return nil
	}
	if env.Seq != last.Seq+1 || !bytes.Equal(env.Prev, last.ID[:]) {
		return fmt.Errorf("%s's seq %d does not follow seq %d", env.Author, env.Seq, last.Seq)
	}
	return nil
}

// exportLog and exportEnvelopes read a whole export through the local
// API, keeping only the exact bytes.
func exportLog(t *testing.T, c *api.Client, topic string) [][]byte {
	t.Helper()
	s, err := c.TopicLog(context.Background(), topic)
	return drain(t, s, err, func(e api.LogEntry) ([]byte, string) { return e.Raw, e.Error })
}

func exportEnvelopes(t *testing.T, c *api.Client, topic, author string) [][]byte {
	t.Helper()
	s, err := c.Envelopes(context.Background(), topic, api.EnvelopeQuery{Author: author})
	return drain(t, s, err, func(e api.RawEnvelope) ([]byte, string) { return e.Raw, e.Error })
}

func drain[T any](t *testing.T, s *api.Stream[T], err error, raw func(T) ([]byte, string)) [][]byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out [][]byte
	for {
		v, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, failed := raw(v)
		if failed != "" {
			t.Fatalf("export stopped short: %s", failed)
		}
		out = append(out, b)
	}
}

func TestAuditorVerifiesRawExports(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 3, "document-fraud")
	a, b, c := nodes[0], nodes[1], nodes[2]
	publishSeries(t, b, id, 3, "from b")
	cLast := publish(t, c, id, draft("from c"))
	eventually(t, 20*time.Second, "a misses c's bulletin", func() bool { return readable(a, cLast.ID) })
	if _, _, err := a.remove(ctx, a.topicByID(id), c.id.MemberID(), "audit test"); err != nil {
		t.Fatal(err)
	}
	publish(t, a, id, draft("after the removal"))

	client := asMember(a).api
	entries := exportLog(t, client, id.String())
	envs := exportEnvelopes(t, client, id.String(), "")
	st, _ := a.topicByID(id).snapshot()
	if len(entries) != len(st.Entries) || len(envs) != 3+1+1 {
		t.Fatalf("exported %d entries and %d envelopes, want %d and 5", len(entries), len(envs), len(st.Entries))
	}
	audit, err := auditLog(entries)
	if err != nil {
		t.Fatalf("the auditor refuses the node's log: %v", err)
	}
	if err := audit.auditEnvelopes(envs); err != nil {
		t.Fatalf("the auditor refuses the node's envelopes: %v", err)
	}
	// The miniature agrees with the node on who the members are.
	current := slices.Sorted(func(yield func(string) bool) {
		for m := range audit.roles {
			if !yield(m) {
				return
			}
		}
	})
	if !slices.Equal(current, st.CurrentMembers()) || audit.epoch != st.Epoch {
		t.Fatalf("auditor: members %v at epoch %d; node: %v at %d", current, audit.epoch, st.CurrentMembers(), st.Epoch)
	}

	// One author's envelopes, and the auditor sees every altered byte.
	only := exportEnvelopes(t, client, id.String(), c.id.MemberID())
	if cRaw, err := a.store.Envelope(cLast.Envelope); err != nil || len(only) != 1 || !bytes.Equal(only[0], cRaw) {
		t.Fatalf("--author exported %d envelopes, want c's one", len(only))
	}
	for i := range entries {
		if _, err := auditLog(flipped(entries, i)); err == nil {
			t.Fatalf("the auditor accepts a log whose entry %d was altered", i)
		}
	}
	for i := range envs {
		if err := audit.auditEnvelopes(flipped(envs, i)); err == nil {
			t.Fatalf("the auditor accepts envelope %d altered", i)
		}
	}
	bFirst := slices.IndexFunc(envs, func(raw []byte) bool {
		env, err := protocol.DecodeEnvelope(raw)
		return err == nil && env.Author == b.id.MemberID()
	})
	if err := audit.auditEnvelopes(slices.Delete(slices.Clone(envs), bFirst, bFirst+1)); err == nil {
		t.Fatal("the auditor accepts a chain with an envelope missing")
	}
}

// flipped returns raws with one byte of raws[i] changed, in the middle
// (where the signed body is).
func flipped(raws [][]byte, i int) [][]byte {
	out := slices.Clone(raws)
	out[i] = slices.Clone(raws[i])
	out[i][len(out[i])/2] ^= 0x01
	return out
}
