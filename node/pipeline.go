package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"filippo.io/age"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/concordnet/concord/crypto"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// validateEnvelope is the GossipSub validator of a bulletin topic. It runs
// the whole pipeline (validate, decrypt, store) before GossipSub forwards
// anything, so what is forwarded has been stored, and what is invalid is
// neither stored nor forwarded and counts against the sender's score.
func (n *Node) validateEnvelope(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if msg.ReceivedFrom == n.host.ID() {
		return pubsub.ValidationAccept // published by us: stored before publishing
	}
	if n.dropGossip != nil && n.dropGossip() {
		return pubsub.ValidationIgnore
	}
	env, err := protocol.DecodeEnvelope(msg.Data)
	if err != nil {
		return n.rejectEnvelope(from, protocol.RejectionReason(err), err)
	}
	t := n.topicByID(env.TopicID())
	if t == nil {
		return n.rejectEnvelope(from, protocol.ReasonUnknownTopic, fmt.Errorf("envelope %s is for a topic we do not belong to", env.ID.Short()))
	}
	state, _ := t.snapshot()
	if want := protocol.TopicString(state.Category, state.ID); msg.GetTopic() != want {
		return n.rejectEnvelope(from, protocol.ReasonWrongPubsubTopic, fmt.Errorf("envelope %s for topic %s arrived on %s", env.ID.Short(), want, msg.GetTopic()))
	}
	res, err := n.ingest(ctx, t, env)
	reason := protocol.RejectionReason(err)
	switch {
	case reason == protocol.ReasonUnknownEpoch || (reason == protocol.ReasonNotMember && state.Card(env.Author) == nil):
		return n.logHint(t, msg.ReceivedFrom, env, reason)
	case reason == protocol.ReasonStore:
		n.metrics.rejected.WithLabelValues("envelope", reason).Inc()
		if errors.Is(err, store.ErrDiskFull) {
			n.log.Debug("not storing a received envelope: disk full; sync brings it once space returns", "err", err)
		} else {
			n.log.Error("storing a received envelope", "err", err)
		}
		return pubsub.ValidationIgnore // our disk's fault, not the sender's
	case protocol.LocalVerdict(reason):
		// Judged against what we hold: a forwarder that did not hold the
		// same accepted the envelope in good faith.
		n.metrics.rejected.WithLabelValues("envelope", reason).Inc()
		n.log.Debug("envelope rejected", "from", from, "reason", reason, "err", err)
		return pubsub.ValidationIgnore
	case err != nil:
		return n.rejectEnvelope(from, reason, err)
	case res == store.Duplicate:
		return pubsub.ValidationIgnore
	}
	n.metrics.deliverySeconds.Observe(max(0, time.Since(env.TS).Seconds())) // clocks may disagree
	n.noticeGap(t, env)
	return pubsub.ValidationAccept
}

func (n *Node) rejectEnvelope(from peer.ID, reason string, err error) pubsub.ValidationResult {
	if reason == "" {
		reason = protocol.ReasonMalformed
	}
	n.metrics.rejected.WithLabelValues("envelope", reason).Inc()
	n.log.Debug("envelope rejected", "from", from, "reason", reason, "err", err)
	return pubsub.ValidationReject
}

// ingest validates an envelope against its topic, decrypts what it can
// and stores envelope and bulletin in one durable write. It returns the
// store's verdict, or a *protocol.Rejection.
func (n *Node) ingest(ctx context.Context, t *topic, env *protocol.Envelope) (store.PutResult, error) {
	return n.ingestWithGrace(ctx, t, env, graceEpochs)
}

// ingestWithGrace is ingest accepting envelopes up to grace epochs behind
// the current one: sync fetches envelopes of any past epoch.
func (n *Node) ingestWithGrace(ctx context.Context, t *topic, env *protocol.Envelope, grace uint64) (store.PutResult, error) {
	state, keys := t.snapshot()
	now := n.now()
	if err := n.admit(state, env, grace, now); err != nil {
		return 0, err
	}
	rec, receipt, err := n.open(state, keys, env, now)
	if err != nil {
		n.chainRefused(ctx, state, env)
		return 0, err
	}
	if receipt != nil {
		return n.putReceipt(ctx, state, env, receipt)
	}
	retainOnArrival(rec, state.Policy, now)
	return n.put(ctx, state, env, rec)
}

// admit runs the checks before decryption: the envelope against the
// topic's log, the author's chain if it is a former member, the clock and
// the author's budget here.
func (n *Node) admit(state *protocol.TopicState, env *protocol.Envelope, grace uint64, now time.Time) error {
	if err := state.CheckEnvelope(env, grace); err != nil {
		return err
	}
	// The grace window is for members who have not yet seen a rotate; a
	// member who was removed or left may publish nothing more, whatever
	// old epoch it claims: only what it had published before, up to the
	// last seq its removal recorded.
	if !state.MayPublish(env.Author, env.Seq) {
		return rejection(protocol.ReasonNotMember, fmt.Errorf("envelope %s: author %s is no longer a member of topic %s, and seq %d is past the last one its removal recorded",
			env.ID.Short(), env.Author, state.ID.Short(), env.Seq))
	}
	if err := n.onFormerChain(state, env); err != nil {
		return rejection(protocol.ReasonFormerChain, err)
	}
	if err := protocol.CheckEnvelopeTime(env, now); err != nil {
		return err
	}
	// What we hold at this seq already (a duplicate, or an equivocation
	// whose evidence is bounded) costs the author nothing: sync re-fetches
	// envelopes above a gap.
	if held, err := n.store.HasSeq(state.ID, env.Author, env.Seq); err == nil && !held {
		if err := n.budgets.allow(state.ID, env.Author, len(env.Raw)); err != nil {
			return rejection(protocol.ReasonBudget, fmt.Errorf("envelope %s: %w", env.ID.Short(), err))
		}
	}
	return nil
}

// storeRejections maps the store's refusals to their reasons.
var storeRejections = []struct {
	err    error
	reason string
}{
	{store.ErrBrokenChain, protocol.ReasonBrokenChain},
	{store.ErrNotOriginator, protocol.ReasonNotOriginator},
	{store.ErrBadRevision, protocol.ReasonBadRevision},
	{store.ErrQuota, protocol.ReasonQuota},
}

// put stores env and its record in one durable write.
func (n *Node) put(ctx context.Context, state *protocol.TopicState, env *protocol.Envelope, rec *store.BulletinRecord) (store.PutResult, error) {
	return n.putWith(state, env, func(ref store.EnvelopeRef) (store.PutResult, error) {
		return n.store.PutEnvelope(ctx, ref, env.Raw, rec)
	})
}

// putWith stores env with putFn and judges the outcome as put does.
func (n *Node) putWith(state *protocol.TopicState, env *protocol.Envelope, putFn func(store.EnvelopeRef) (store.PutResult, error)) (store.PutResult, error) {
	ref := storeRef(state, env)
	res, err := putFn(ref)
	n.noticeOwnEnvelope(env, res, err) // a copy of this node elsewhere? (selfwatch.go)
	if err != nil {
		for _, r := range storeRejections {
			if errors.Is(err, r.err) {
				return 0, rejection(r.reason, fmt.Errorf("envelope %s: %w", env.ID.Short(), err))
			}
		}
		return 0, rejection(protocol.ReasonStore, err)
	}
	switch res {
	case store.Equivocation:
		n.log.Warn("equivocation: two envelopes with the same sequence number", "topic", state.ID.String(),
			"author", env.Author, "seq", env.Seq, "envelope", env.ID.String())
		return res, rejection(protocol.ReasonEquivocation, fmt.Errorf("author %s already published seq %d on this topic", env.Author, env.Seq))
	case store.Stored:
		n.metrics.accepted.WithLabelValues("envelope").Inc()
		n.notify()
	}
	return res, nil
}

// rejection is err refused for reason.
func rejection(reason string, err error) error {
	return &protocol.Rejection{Reason: reason, Err: err}
}

// chainRefused keeps an envelope whose content was refused (it does not
// decrypt, its inner signature or bulletin is bad) in its author's chain,
// without a bulletin record: its outer signature is its author's, so the
// author's version vector advances and sync does not fetch it again and
// again; nothing of it is indexed or shown.
func (n *Node) chainRefused(ctx context.Context, state *protocol.TopicState, env *protocol.Envelope) {
	ref := store.EnvelopeRef{Topic: state.ID, Author: env.Author, Seq: env.Seq, Prev: env.Prev, ID: env.ID}
	if _, err := n.store.PutEnvelope(ctx, ref, env.Raw, nil); err != nil {
		n.log.Debug("keeping a refused envelope in its author's chain", "envelope", env.ID.String(), "err", err)
	}
}

// noticeGap starts a sync when the predecessor of env, just stored from
// gossip, is missing: gossip lost something, and sync knows exactly what.
// One gap sync runs per author at a time. It asks the author's own node
// first, which holds every envelope of its member, then other member
// nodes, up to gapAttempts syncs while the author's log here has a hole
// (which may be another one than env's: envelopes keep arriving).
func (n *Node) noticeGap(t *topic, env *protocol.Envelope) {
	if env.Seq == 1 {
		return
	}
	if has, err := n.store.HasSeq(env.TopicID(), env.Author, env.Seq-1); err != nil || has {
		return
	}
	if _, running := t.gapSyncs.LoadOrStore(env.Author, true); running {
		return
	}
	n.spawn(func() {
		defer t.gapSyncs.Delete(env.Author)
		for attempt := range gapAttempts {
			p, ok := n.authorPeer(t, env.Author)
			if !ok || attempt > 0 {
				if p, ok = n.randomMemberPeer(t); !ok {
					return
				}
			}
			if _, err := n.fetchEnvelopes(n.ctx, t, p, env.Author); err != nil {
				n.log.Debug("gap sync", "peer", p, "err", err)
			}
			if hole, err := n.store.HasHole(env.TopicID(), env.Author); err != nil || !hole {
				return
			}
		}
	})
}

// gapAttempts bounds the syncs one noticed gap starts; periodic sync
// closes what they could not.
const gapAttempts = 3

// authorPeer returns a connected node of member author on t.
func (n *Node) authorPeer(t *topic, author string) (peer.ID, bool) {
	s, _ := t.snapshot()
	for _, p := range n.host.Network().Peers() {
		if m, ok := s.PeerMember(p); ok && m == author {
			return p, true
		}
	}
	return "", false
}

// open decrypts an envelope if this node may read it and returns the
// bulletin record it makes alone (see store.PutEnvelope and openedRecord),
// or the receipt it holds.
func (n *Node) open(state *protocol.TopicState, keys map[uint64]*crypto.EpochKey, env *protocol.Envelope, now time.Time) (*store.BulletinRecord, *protocol.Receipt, error) {
	o, err := protocol.Open(state, protocol.Reader{ID: n.id, Keys: keys}, env, now)
	if err != nil {
		return nil, nil, err
	}
	rec, err := openedRecord(envelopeRecord(state, env, now), env, o)
	return rec, o.Receipt, err
}

// storeRef places env in its author's log.
func storeRef(state *protocol.TopicState, env *protocol.Envelope) store.EnvelopeRef {
	return store.EnvelopeRef{Topic: state.ID, Author: env.Author, Seq: env.Seq, Prev: env.Prev, ID: env.ID}
}

// envelopeRecord is the sealed record of env: what every node knows of it
// without decrypting.
func envelopeRecord(state *protocol.TopicState, env *protocol.Envelope, received time.Time) *store.BulletinRecord {
	return &store.BulletinRecord{
		ID: env.ID.String(), Topic: state.ID, Category: state.Category, Envelope: env.ID, Author: env.Author,
		Seq: env.Seq, Kind: env.Kind, Created: env.TS, Received: received.UTC(), Audience: env.Audience, Sealed: true,
	}
}

// readerIdentity returns the key that opens env, or nil if we may not.
func (n *Node) readerIdentity(keys map[uint64]*crypto.EpochKey, env *protocol.Envelope) age.Identity {
	return protocol.Reader{ID: n.id, Keys: keys}.Key(env)
}

// bulletinRecord completes rec with b. The record keeps neither the body
// nor the attachments' bytes (store.LightBulletin): they are in the
// envelope beside it (see fullBulletin). The body rides along unstored,
// for the search index.
func bulletinRecord(rec *store.BulletinRecord, b *protocol.Bulletin) (*store.BulletinRecord, error) {
	data, bodySize, err := store.LightBulletin(b)
	if err != nil {
		return nil, rejection(protocol.ReasonBadBulletin, err)
	}
	rec.ID, rec.Created, rec.Sealed, rec.Bulletin = b.ID, b.Created, false, data
	rec.BodySize, rec.Body = bodySize, b.Body
	rec.Version, rec.Modified, rec.ValidUntil = b.Version, b.Modified, b.ValidUntil
	return rec, nil
}

// Publish builds a bulletin from draft and publishes it on t (see emit).
func (n *Node) publish(ctx context.Context, t *topic, draft *protocol.BulletinDraft) (*store.BulletinRecord, error) {
	return n.emit(ctx, t, func(state *protocol.TopicState, now time.Time) (*outgoing, error) {
		b, err := draft.Build(protocol.Stamp{
			ID: protocol.NewBulletinID(state.ID, n.id.MemberID()), Version: 1, Created: now, Modified: now, Category: state.Category,
			Originator: protocol.Originator{Member: n.id.MemberID(), Country: n.cfg.Member.Country, Agency: n.cfg.Member.Name, Contact: n.cfg.Member.Contact},
		})
		if err != nil {
			return nil, err
		}
		return bulletinOut(protocol.KindBulletin, b)
	})
}

// outgoing is the one envelope an analyst's action publishes.
type outgoing struct {
	kind     string
	payload  []byte
	audience []string // restricted audience; empty: the epoch key
}

func bulletinOut(kind string, b *protocol.Bulletin) (*outgoing, error) {
	payload, err := protocol.EncodeBulletin(b)
	if err != nil {
		return nil, err
	}
	return &outgoing{kind: kind, payload: payload, audience: b.Audience}, nil
}

// emit publishes the envelope build makes: it encrypts it to the topic's
// current epoch (or to its restricted audience and ourselves), signs it,
// stores it durably, then gossips it, and returns the stored record once
// committed. Our publications on t are serialized throughout, so that
// sequence numbers never repeat and build sees our own latest envelopes;
// the topic's state may move on meanwhile, as it may at any receiver.
func (n *Node) emit(ctx context.Context, t *topic, build func(*protocol.TopicState, time.Time) (*outgoing, error)) (*store.BulletinRecord, error) {
	start := time.Now()
	if err := n.confirmOwnSeq(ctx, t); err != nil {
		return nil, err
	}
	t.publishing.Lock()
	defer t.publishing.Unlock()
	state, keys := t.snapshot()
	me := n.id.MemberID()
	if _, ok := state.Members[me]; !ok {
		return nil, api.Errorf(api.Forbidden, "this member is no longer a member of topic %q", state.Name)
	}
	now := n.now().UTC()
	out, err := build(state, now)
	if err != nil {
		return nil, err
	}
	recipients, err := n.recipients(state, keys, out.audience)
	if err != nil {
		return nil, err
	}
	env, err := n.seal(state, out.kind, out.payload, out.audience, recipients, now)
	if err != nil {
		return nil, err
	}
	// Our record is made as every receiver makes it, from the payload.
	o, err := protocol.OpenPayload(state, env, out.payload, now)
	if err != nil {
		return nil, err
	}
	rec, err := openedRecord(envelopeRecord(state, env, now), env, o)
	if err != nil {
		return nil, err
	}
	retainOnArrival(rec, state.Policy, now)
	ref := storeRef(state, env)
	var res store.PutResult
	if o.Receipt != nil { // stored with the mark that it was sent, once (requests.go)
		rec = envelopeRecord(state, env, now)
		res, err = n.store.PutSentReceipt(ctx, ref, env.Raw, o.Receipt.Request, o.Receipt.State, o.Receipt.At)
	} else {
		res, err = n.store.PutEnvelope(ctx, ref, env.Raw, rec)
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("storing the envelope: %w", err)
	case res != store.Stored:
		return nil, api.Errorf(api.Conflict, "storing the envelope: seq %d of this member on topic %q is already taken; nothing was published", env.Seq, state.Name)
	}
	n.metrics.published.Inc()
	n.notify()
	if err := t.bulletins.Publish(n.ctx, env.Raw); err != nil {
		n.log.Warn("gossip publish failed; the envelope is stored and will be served by sync", "envelope", env.ID.String(), "err", err)
	}
	n.metrics.publishSeconds.Observe(time.Since(start).Seconds())
	return rec, nil
}

// recipients returns who a bulletin is encrypted to: the epoch key's
// stanza (crypto.EpochRecipient), or for a restricted audience each named
// member's hybrid recipient and ours.
func (n *Node) recipients(state *protocol.TopicState, keys map[uint64]*crypto.EpochKey, audience []string) ([]age.Recipient, error) {
	if len(audience) == 0 {
		k := keys[state.Epoch]
		if k == nil {
			return nil, fmt.Errorf("this node lacks the key of the current epoch %d of topic %q", state.Epoch, state.Name)
		}
		return []age.Recipient{k.EnvelopeRecipient(state.ID)}, nil
	}
	out := []age.Recipient{n.id.Age.Recipient()}
	for _, id := range audience {
		m, ok := state.Members[id]
		if !ok {
			return nil, fmt.Errorf("audience member %s is not a member of topic %q (see `concord topic members`)", id, state.Name)
		}
		if id != n.id.MemberID() {
			out = append(out, m.Card.Recipient())
		}
	}
	return out, nil
}

// seal seals an envelope (see protocol.Seal) at the next sequence number
// of this member on the topic. Callers hold t.publishing.
func (n *Node) seal(state *protocol.TopicState, kind string, payload []byte, audience []string, to []age.Recipient, now time.Time) (*protocol.Envelope, error) {
	head, err := n.store.LastOf(state.ID, n.id.MemberID())
	if err != nil {
		return nil, err
	}
	p := protocol.SealParams{Kind: kind, Payload: payload, Audience: audience, To: to, Seq: head.Seq + 1, TS: now}
	if p.Seq > 1 {
		p.Prev = head.ID[:]
	}
	return protocol.Seal(state, n.id, p)
}

// validateLogEntry is the GossipSub validator of a topic's log channel.
func (n *Node) validateLogEntry(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if msg.ReceivedFrom == n.host.ID() {
		return pubsub.ValidationAccept
	}
	e, err := protocol.DecodeEntry(msg.Data)
	if err != nil {
		return n.rejectEntry(from, protocol.ReasonMalformed, err)
	}
	var id [32]byte
	copy(id[:], e.Topic)
	t := n.topicByID(id)
	if t == nil {
		return n.rejectEntry(from, protocol.ReasonUnknownTopic, errors.New("log entry for a topic we do not belong to"))
	}
	state, _ := t.snapshot()
	if want := protocol.LogTopicString(state.Category, state.ID); msg.GetTopic() != want {
		return n.rejectEntry(from, protocol.ReasonWrongPubsubTopic, fmt.Errorf("log entry for %s arrived on %s", want, msg.GetTopic()))
	}
	if e.Index > state.Len {
		// A gap: we missed entries, or the entry is forged (we cannot tell
		// yet: its author may be added by an entry we lack).
		n.log.Debug("log entry ahead of our log", "topic", state.ID.String(), "index", e.Index, "len", state.Len)
		n.hintedLogSync(t, msg.ReceivedFrom, func(s *protocol.TopicState) bool { return s.Len > e.Index })
		return pubsub.ValidationIgnore
	}
	err = n.applyEntry(ctx, t, msg.Data)
	var local localError
	switch {
	case errors.Is(err, protocol.ErrDuplicateEntry):
		return pubsub.ValidationIgnore
	case errors.Is(err, protocol.ErrLogFork):
		// Two admins wrote at the same index (the entry is signed by one
		// who may write there: Apply checked it): settle it with the
		// sender's log, and forward the entry so that every node sees both.
		n.log.Warn("topic log fork", "topic", state.ID.String(), "index", e.Index, "peer", msg.ReceivedFrom)
		p := msg.ReceivedFrom
		n.spawn(func() {
			if err := n.resolveFork(t, p); err != nil {
				n.log.Warn("log fork unresolved", "topic", state.ID.String(), "err", err)
			}
		})
		return pubsub.ValidationAccept
	case errors.As(err, &local):
		n.log.Error("storing a log entry", "err", err)
		return pubsub.ValidationIgnore
	case err != nil:
		return n.rejectEntry(from, protocol.ReasonInvalidEntry, err)
	}
	n.metrics.accepted.WithLabelValues("log-entry").Inc()
	return pubsub.ValidationAccept
}

func (n *Node) rejectEntry(from peer.ID, reason string, err error) pubsub.ValidationResult {
	n.metrics.rejected.WithLabelValues("log-entry", reason).Inc()
	n.log.Debug("log entry rejected", "from", from, "reason", reason, "err", err)
	return pubsub.ValidationReject
}
