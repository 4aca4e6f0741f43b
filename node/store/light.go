package store

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"

	"github.com/concordnet/concord/protocol"
)

// A record keeps what listing, search, the indexes and correlation read:
// every field of its bulletin but the body and the attachments' bytes.
// Those are in the envelope the record names, the single copy of the
// content; the node decrypts it again for show (a record would otherwise
// hold the content twice, and attachments a third more in base64).

// LightBulletin returns b's JSON as a record keeps it, without body or
// attachment bytes, and the size of the body it leaves out.
func LightBulletin(b *protocol.Bulletin) (json.RawMessage, int, error) {
	light := *b
	light.Body = ""
	light.Attachments = slices.Clone(b.Attachments)
	for i := range light.Attachments {
		light.Attachments[i].Data = nil
	}
	data, err := json.Marshal(&light)
	return data, len(b.Body), err
}

// BodySource returns the body of a record that does not hold it
// (BodySize > 0): the node opens the record's envelope again.
type BodySource func(rec *BulletinRecord) (string, error)

// bodySource is the Store's BodySource, nil until SetBodySource.
type bodySource = atomic.Pointer[BodySource]

// SetBodySource tells Reindex how to read the bodies records leave in
// their envelopes; without one, Reindex indexes such records without
// their body.
func (s *Store) SetBodySource(f BodySource) { s.bodies.Store(&f) }

// bodiesOf returns the bodies of the records of ids that leave theirs in
// the envelope, read outside any write so that decryption never holds up
// the commit loop. A body that cannot be read is left out, with a warning:
// the bulletin is then found by everything but its body.
func (s *Store) bodiesOf(ids []string) (map[string]string, error) {
	src := s.bodies.Load()
	if src == nil {
		return nil, nil
	}
	var recs []*BulletinRecord
	err := s.View(func(txn *badger.Txn) error {
		for _, id := range ids {
			rec, err := findRecord(txn, id)
			if err != nil {
				return err
			}
			if rec != nil && rec.BodySize > 0 && indexable(rec) {
				recs = append(recs, rec)
			}
		}
		return nil
	})
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	out := make(map[string]string, len(recs))
	for _, rec := range recs {
		body, err := (*src)(rec)
		if err != nil {
			s.log.Warn("reindex: a bulletin's body is not readable; it is indexed without it", "bulletin", rec.ID, "err", err)
			continue
		}
		out[rec.ID] = body
	}
	return out, nil
}

// migrateTo4 rewrites every JSON record in CBOR (record.go), without the
// body and attachment bytes: the envelope beside it holds them too. The
// search indexes, built from the whole record before, stay as they are.
func migrateTo4(db *badger.DB, log *slog.Logger) error {
	total := 0
	cursor := []byte{pfxBulletin}
	for {
		var sets [][2][]byte
		n := 0
		err := db.View(func(txn *badger.Txn) error {
			return eachFrom(txn, []byte{pfxBulletin}, cursor, migrateBatch/4, func(k, v []byte) error {
				cursor, n = append(k, 0), n+1
				val, changed, err := lightRecord(v)
				if err != nil {
					return fmt.Errorf("record %s: %w", k[1:], err)
				}
				if changed {
					sets = append(sets, [2][]byte{k, val})
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if err := setValues(db, sets); err != nil {
			return err
		}
		total += len(sets)
	}
	if total > 0 {
		log.Info("store upgraded: records no longer hold what their envelopes do", "to_schema", 4, "records", total)
	}
	return nil
}

// lightRecord returns a stored record in CBOR without body and attachment
// bytes, and whether that changed it.
func lightRecord(v []byte) ([]byte, bool, error) {
	var rec BulletinRecord
	if err := decodeRecord(v, &rec); err != nil {
		return nil, false, err
	}
	changed := v[0] == '{' // JSON becomes CBOR
	if len(rec.Bulletin) > 0 {
		var b protocol.Bulletin
		if err := json.Unmarshal(rec.Bulletin, &b); err != nil {
			return nil, false, err
		}
		if b.Body != "" || slices.ContainsFunc(b.Attachments, func(a protocol.Attachment) bool { return a.Data != nil }) {
			var err error
			if rec.Bulletin, rec.BodySize, err = LightBulletin(&b); err != nil {
				return nil, false, err
			}
			changed = true
		}
	}
	if !changed {
		return nil, false, nil
	}
	out, err := encodeRecord(&rec)
	return out, true, err
}

// setValues writes key-value pairs in one transaction.
func setValues(db *badger.DB, sets [][2][]byte) error {
	return db.Update(func(txn *badger.Txn) error {
		for _, kv := range sets {
			if err := txn.Set(kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	})
}
