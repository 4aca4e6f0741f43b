package store

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/concordnet/concord/protocol"
)

// Revision is one envelope about a bulletin: one of its versions, or a
// revocation.
type Revision struct {
	Version  int       `json:"version,omitempty" cbor:"1,keyasint,omitempty"` // 0 for a revocation
	Kind     string    `json:"kind" cbor:"2,keyasint"`
	Envelope [32]byte  `json:"envelope" cbor:"3,keyasint"`
	Seq      uint64    `json:"seq" cbor:"4,keyasint"`
	Author   string    `json:"author" cbor:"5,keyasint"`
	Modified time.Time `json:"modified" cbor:"6,keyasint"` // the version's modified time, or the revocation's envelope time
	Reason   string    `json:"reason,omitempty" cbor:"7,keyasint,omitempty"`
}

// Reasons merge refuses an envelope's record: the bulletin's record is
// left as it was, and the envelope only enters its author's chain (see
// PutEnvelope).
var (
	ErrNotOriginator = errors.New("only the bulletin's originator may revise or revoke it")
	ErrBadRevision   = errors.New("a revision must keep its bulletin's topic, creation time and audience")
)

// revision is the history entry of the envelope that made rec alone.
func (rec *BulletinRecord) revision() Revision {
	r := Revision{Version: rec.Version, Kind: rec.Kind, Envelope: rec.Envelope, Seq: rec.Seq,
		Author: rec.Author, Modified: rec.Modified}
	if rec.Kind == protocol.KindRevocation {
		r.Version, r.Modified, r.Reason = 0, rec.RevokedAt, rec.Reason
	}
	return r
}

// merge folds in, the record one envelope makes alone, into old, the
// stored record of the same bulletin (nil if none). Envelopes arrive in
// any order (gossip loses, sync fetches author by author), so the rules
// give the same record whatever the order:
//
//   - the content is that of the highest version; a tie goes to the lower
//     seq, the one its author published first;
//   - a revocation by the originator erases the content for good, before
//     or after any version arrives;
//   - until a version arrives the originator is unknown: revocations are
//     kept provisionally, and the first version decides which count.
func merge(old, in *BulletinRecord) (*BulletinRecord, error) {
	entry := in.revision()
	if old == nil {
		out := *in
		out.History = []Revision{entry}
		out.settle()
		return &out, nil
	}
	if !old.hasVersion() {
		return adopt(old, in, entry), nil
	}
	if in.Author != old.Author {
		return nil, fmt.Errorf("%w: bulletin %s is by member %s, the envelope by %s", ErrNotOriginator, old.ID, old.Author, in.Author)
	}
	out := *old
	out.History = withRevision(old.History, entry)
	out.Received = in.Received
	if in.Kind != protocol.KindRevocation {
		if err := sameBulletin(old, in); err != nil {
			return nil, err
		}
		if in.Version > old.Version || (in.Version == old.Version && in.Seq < old.Seq) {
			out.takeContent(in)
		}
	}
	out.settle()
	return &out, nil
}

// adopt merges into a record that holds only revocations. A version makes
// its author the originator: the revocations by anyone else were forged,
// and are dropped.
func adopt(old, in *BulletinRecord, entry Revision) *BulletinRecord {
	var out BulletinRecord
	if in.Kind == protocol.KindRevocation {
		out = *old
		out.History = withRevision(old.History, entry)
	} else {
		out = *in
		kept := slices.DeleteFunc(slices.Clone(old.History), func(r Revision) bool { return r.Author != in.Author })
		out.History = withRevision(kept, entry)
	}
	out.settle()
	return &out
}

// takeContent makes in's version the one the record holds.
func (rec *BulletinRecord) takeContent(in *BulletinRecord) {
	rec.Envelope, rec.Seq, rec.Kind, rec.Version = in.Envelope, in.Seq, in.Kind, in.Version
	rec.Modified, rec.ValidUntil, rec.Bulletin = in.Modified, in.ValidUntil, in.Bulletin
	rec.BodySize, rec.Body = in.BodySize, in.Body
	rec.Expired, rec.ExpiredAt = in.Expired, in.ExpiredAt
}

// settle applies the first revocation by the record's author, if any:
// the content is erased and the tombstone says why and when.
func (rec *BulletinRecord) settle() {
	rec.Revoked, rec.Reason, rec.RevokedAt = false, "", time.Time{}
	for _, r := range rec.History {
		if r.Kind == protocol.KindRevocation && r.Author == rec.Author {
			rec.Revoked, rec.Reason, rec.RevokedAt = true, r.Reason, r.Modified
			rec.Bulletin, rec.ValidUntil, rec.BodySize, rec.Body = nil, nil, 0, ""
			return
		}
	}
}

func (rec *BulletinRecord) hasVersion() bool {
	return slices.ContainsFunc(rec.History, func(r Revision) bool { return r.Kind != protocol.KindRevocation })
}

// withRevision adds r to a history kept in publication order: one
// author's seq on one topic.
func withRevision(h []Revision, r Revision) []Revision {
	out := append(slices.Clone(h), r)
	slices.SortStableFunc(out, func(a, b Revision) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.Author, b.Author))
	})
	return out
}

// sameBulletin checks what every version of a bulletin shares.
func sameBulletin(old, in *BulletinRecord) error {
	switch {
	case old.Topic != in.Topic:
		return fmt.Errorf("%w: bulletin %s belongs to another topic", ErrBadRevision, old.ID)
	case !old.Created.Equal(in.Created):
		return fmt.Errorf("%w: bulletin %s was created %s, the revision says %s", ErrBadRevision, old.ID,
			old.Created.Format(time.RFC3339Nano), in.Created.Format(time.RFC3339Nano))
	case !slices.Equal(old.Audience, in.Audience):
		return fmt.Errorf("%w: bulletin %s has another audience", ErrBadRevision, old.ID)
	}
	return nil
}

// Tombstone reports whether the record's content is erased: revoked by
// its originator, or expired here.
func (rec *BulletinRecord) Tombstone() bool { return rec.Revoked || rec.Expired }
