package node

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

// Pages in which an envelope export reads the store: memory stays bounded
// by one page whatever the size of the topic.
const (
	exportPageBytes = 4 << 20
	exportPageCount = 256
)

// TopicLog sends every entry of a topic's log, in order, exactly as the
// log holds it. The log is held in memory already (protocol.TopicState);
// a snapshot is consistent even while entries are appended.
func (s *Service) TopicLog(ctx context.Context, ref string, send func(api.LogEntry) error) error {
	t, err := s.n.resolveTopic(ref)
	if err != nil {
		return err
	}
	st, _ := t.snapshot()
	for _, raw := range st.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := protocol.DecodeEntry(raw)
		if err != nil {
			return fmt.Errorf("topic %s: stored log entry does not decode: %w", st.ID.Short(), err)
		}
		if err := send(api.LogEntry{Index: e.Index, Type: e.Type, Author: e.Author, TS: e.TS,
			Hash: hex.EncodeToString(e.Hash[:]), Raw: e.Raw}); err != nil {
			return err
		}
	}
	return nil
}

// Envelopes sends the envelopes the node holds on a topic (of one author
// when q.Author is set), by author then seq, exactly as stored. It reads
// the store a page at a time. Equivocation evidence is not included: it is
// not in any author's chain.
func (s *Service) Envelopes(ctx context.Context, ref string, q api.EnvelopeQuery, send func(api.RawEnvelope) error) error {
	t, err := s.n.resolveTopic(ref)
	if err != nil {
		return err
	}
	st, _ := t.snapshot()
	authors, err := s.exportAuthors(st, q.Author)
	if err != nil {
		return err
	}
	for _, author := range authors {
		if err := s.exportAuthor(ctx, st.ID, author, send); err != nil {
			return err
		}
	}
	return nil
}

// exportAuthors is the sorted authors whose envelopes an export sends.
func (s *Service) exportAuthors(st *protocol.TopicState, ref string) ([]string, error) {
	if ref != "" {
		id, err := resolveAuthor(st, ref)
		if err != nil {
			return nil, err
		}
		return []string{id}, nil
	}
	_, highest, err := s.n.store.Heads(st.ID)
	if err != nil {
		return nil, err
	}
	authors := make([]string, 0, len(highest))
	for a := range highest {
		authors = append(authors, a)
	}
	slices.Sort(authors)
	return authors, nil
}

// exportAuthor sends one author's envelopes on topic, a page at a time.
func (s *Service) exportAuthor(ctx context.Context, topic protocol.TopicID, author string, send func(api.RawEnvelope) error) error {
	for from := uint64(1); ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, more, err := s.n.store.EnvelopeRange(topic, author, from, 0, exportPageBytes, exportPageCount)
		if err != nil {
			return err
		}
		for _, raw := range page {
			env, err := protocol.DecodeEnvelope(raw)
			if err != nil {
				return fmt.Errorf("topic %s: a stored envelope of %s does not decode: %w", topic.Short(), author, err)
			}
			if err := send(api.RawEnvelope{ID: env.ID.String(), Author: env.Author, Seq: env.Seq, Kind: env.Kind,
				Epoch: env.Epoch, Size: len(raw), Raw: raw}); err != nil {
				return err
			}
			from = env.Seq + 1
		}
		switch {
		case !more:
			return nil
		case len(page) == 0: // cannot happen: a page holds the largest envelope
			return fmt.Errorf("topic %s: envelope %d of %s does not fit an export page", topic.Short(), from, author)
		}
	}
}

// resolveAuthor resolves an --author reference among the current and
// former members of a topic: a former member's envelopes stay held.
func resolveAuthor(st *protocol.TopicState, ref string) (string, error) {
	cards := map[string]*crypto.Card{}
	for _, id := range st.CurrentMembers() {
		cards[id] = st.Members[id].Card
	}
	for id := range st.Removed {
		if c := st.Card(id); c != nil {
			cards[id] = c
		}
	}
	return matchMember(cards, ref, "author", fmt.Sprintf("member of topic %q, current or former", st.Name))
}
