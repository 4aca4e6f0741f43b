package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// fullBulletin returns the bulletin rec holds, body and attachment bytes
// included. Records keep neither (see bulletinRecord), so for a bulletin
// with a body or attachments the envelope it came in is opened again.
func (n *Node) fullBulletin(rec store.BulletinRecord) (*protocol.Bulletin, error) {
	b, err := recordBulletin(rec)
	if err != nil {
		return nil, err
	}
	if !lacksContent(rec, b) {
		return b, nil
	}
	full, err := n.reopen(rec)
	if err != nil {
		return nil, fmt.Errorf("bulletin %s: reading its body and attachments: %w", rec.ID, err)
	}
	return full, nil
}

// recordBulletin decodes the bulletin a readable record keeps.
func recordBulletin(rec store.BulletinRecord) (*protocol.Bulletin, error) {
	var b protocol.Bulletin
	if err := json.Unmarshal(rec.Bulletin, &b); err != nil {
		return nil, fmt.Errorf("bulletin %s: its stored record does not decode (%v): the store is damaged; restore it from a backup (concord restore)", rec.ID, err)
	}
	return &b, nil
}

// lacksContent reports whether b, as rec keeps it, lacks its body or an
// attachment's bytes, which only the envelope holds.
func lacksContent(rec store.BulletinRecord, b *protocol.Bulletin) bool {
	return (rec.BodySize > 0 && b.Body == "") ||
		slices.ContainsFunc(b.Attachments, func(a protocol.Attachment) bool { return int64(len(a.Data)) != a.Size })
}

// recordBody is the store's BodySource: the body of a record that leaves
// it in its envelope, for Reindex.
func (n *Node) recordBody(rec *store.BulletinRecord) (string, error) {
	b, err := n.reopen(*rec)
	if err != nil {
		return "", err
	}
	return b.Body, nil
}

// reopen decrypts and verifies again the envelope of the version rec
// holds, as ingest did, and returns its bulletin.
func (n *Node) reopen(rec store.BulletinRecord) (*protocol.Bulletin, error) {
	short := protocol.EnvelopeID(rec.Envelope).Short()
	raw, err := n.store.Envelope(rec.Envelope)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("its envelope %s is missing from the store, which is damaged: restore it from a backup (concord restore)", short)
	}
	if err != nil {
		return nil, err
	}
	env, err := protocol.DecodeEnvelope(raw)
	if err != nil {
		return nil, fmt.Errorf("its stored envelope %s does not decode (%v): restore the store from a backup (concord restore)", short, err)
	}
	t := n.topicByID(rec.Topic)
	if t == nil {
		return nil, fmt.Errorf("this node no longer holds topic %s, whose keys open envelope %s: ask another member for the attachments", protocol.TopicID(rec.Topic).Short(), short)
	}
	state, keys := t.snapshot()
	if env.Kind == protocol.KindRevocation {
		return nil, fmt.Errorf("envelope %s is a revocation, not a version: the store is damaged; restore it from a backup (concord restore)", short)
	}
	// It opened when it arrived: a failure now means damage here.
	opened, err := protocol.Open(state, protocol.Reader{ID: n.id, Keys: keys}, env, n.now())
	switch {
	case err != nil:
		return nil, fmt.Errorf("envelope %s no longer opens (%v): restore the store from a backup (concord restore), or ask another member for the attachments", short, err)
	case opened.Sealed:
		return nil, fmt.Errorf("this node holds no key for envelope %s (epoch %d of topic %q) any more: ask another member for the attachments", short, env.Epoch, state.Name)
	}
	b := opened.Bulletin
	if b.ID != rec.ID {
		return nil, fmt.Errorf("envelope %s holds bulletin %s, not this one: the store is damaged; restore it from a backup (concord restore)", short, b.ID)
	}
	return b, nil
}
