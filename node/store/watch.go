package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/concordnet/concord/entity"
)

// Watchlists and alerts are the analyst's own: they are written here and
// nowhere else (no envelope, no sync), encrypted at rest like the rest.

// WatchEntry is one watchlist entry: an entity in canonical form, or
// words that must all appear in a bulletin.
type WatchEntry struct {
	ID      string      `json:"id"`
	Term    string      `json:"term"` // as the analyst typed it
	Key     *entity.Key `json:"key,omitempty"`
	Words   []string    `json:"words,omitempty"` // folded (entity.Words)
	Note    string      `json:"note,omitempty"`
	Created time.Time   `json:"created"`
}

// Alert kinds.
const (
	AlertWatchlist   = "watchlist"
	AlertCorrelation = "correlation"
	AlertOverdue     = "overdue" // a request of this member past its due time, not answered by every addressee
)

// Alert is one local alert record: bulletin Bulletin (at Version) matched
// Term, a watchlist entry's or an entity shared with Others.
type Alert struct {
	Seq        uint64     `json:"seq"`
	Time       time.Time  `json:"time"`
	Kind       string     `json:"kind"`
	Bulletin   AlertRef   `json:"bulletin"`
	Version    int        `json:"version"`
	Term       string     `json:"term"`
	Watch      string     `json:"watch,omitempty"` // the watchlist entry's ID
	Note       string     `json:"note,omitempty"`  // the watchlist entry's note
	Others     []AlertRef `json:"others,omitempty"`
	OtherTotal int        `json:"other_total,omitempty"` // others held, listed or not
}

// AlertRef names a bulletin in an alert, with what the alert showed of it.
type AlertRef struct {
	ID         string   `json:"id"`
	Topic      [32]byte `json:"topic"`
	Title      string   `json:"title,omitempty"`
	Originator string   `json:"originator"` // member ID
	Country    string   `json:"country,omitempty"`
	Agency     string   `json:"agency,omitempty"`
}

// alertCursorKey holds the change-feed position up to which alerts were
// raised (see AlertCursor).
var alertCursorKey = key(pfxMeta, []byte("alert-cursor"))

// maxWatchEntries bounds a watchlist: every arriving bulletin is matched
// against all of it.
const maxWatchEntries = 10000

// PutWatch stores a new watchlist entry, giving it an ID and creation time.
func (s *Store) PutWatch(ctx context.Context, e WatchEntry) (WatchEntry, error) {
	var id [6]byte
	rand.Read(id[:])
	e.ID, e.Created = hex.EncodeToString(id[:]), time.Now().UTC()
	val, err := json.Marshal(e)
	if err != nil {
		return e, err
	}
	err = s.Update(ctx, func(txn *badger.Txn) error {
		n := 0
		if err := each(txn, []byte{pfxWatch}, func(_, _ []byte) error { n++; return nil }); err != nil {
			return err
		}
		if n >= maxWatchEntries {
			return fmt.Errorf("the watchlist holds %d entries, the most it may: remove some first (concord watchlist remove ID)", n)
		}
		return txn.Set(key(pfxWatch, []byte(e.ID)), val)
	})
	return e, err
}

// Watchlist returns every watchlist entry, oldest first.
func (s *Store) Watchlist() ([]WatchEntry, error) {
	out := []WatchEntry{}
	err := s.View(func(txn *badger.Txn) error {
		return each(txn, []byte{pfxWatch}, func(_, v []byte) error {
			var e WatchEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	sortWatch(out)
	return out, err
}

func sortWatch(es []WatchEntry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Created.Before(es[j-1].Created); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// DeleteWatch removes watchlist entry id; ErrNotFound if there is none.
// The alerts it raised stay.
func (s *Store) DeleteWatch(ctx context.Context, id string) error {
	return s.Update(ctx, func(txn *badger.Txn) error {
		k := key(pfxWatch, []byte(id))
		if _, err := txn.Get(k); errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		return txn.Delete(k)
	})
}

// AlertCursor returns the receive sequence (see Since) up to which alerts
// were raised, and false if alerts were never raised in this store.
func (s *Store) AlertCursor() (uint64, bool, error) {
	var cur uint64
	var ok bool
	err := s.View(func(txn *badger.Txn) error {
		var err error
		cur, ok, err = getUint64(txn, alertCursorKey, func(v []byte) error {
			return fmt.Errorf("alert cursor: %d bytes, want 8", len(v))
		})
		return err
	})
	return cur, ok, err
}

// PutAlerts records alerts and moves the alert cursor to cursor, in one
// transaction. An alert already recorded for the same bulletin version,
// kind and term is skipped, so raising again after a crash repeats
// nothing. It returns the alerts recorded, with their Seq.
func (s *Store) PutAlerts(ctx context.Context, cursor uint64, alerts []Alert) ([]Alert, error) {
	var stored []Alert
	err := s.Update(ctx, func(txn *badger.Txn) error {
		var err error
		if stored, err = putAlerts(txn, alerts); err != nil { // the group may be retried: stored is replaced
			return err
		}
		return txn.Set(alertCursorKey, u64(cursor))
	})
	return stored, err
}

// putAlerts records the alerts not recorded before and returns them.
func putAlerts(txn *badger.Txn, alerts []Alert) ([]Alert, error) {
	var stored []Alert
	seq, err := lastAlertSeq(txn)
	if err != nil {
		return nil, err
	}
	for _, a := range alerts {
		dk := alertDedupKey(a)
		if _, err := txn.Get(dk); err == nil {
			continue
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return nil, err
		}
		seq++
		a.Seq = seq
		val, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		if err := txn.Set(key(pfxAlert, u64(seq)), val); err != nil {
			return nil, err
		}
		if err := txn.Set(dk, u64(seq)); err != nil {
			return nil, err
		}
		stored = append(stored, a)
	}
	return stored, nil
}

// alertDedupKey identifies what an alert is about; hashed to keep keys
// short whatever the term's length.
func alertDedupKey(a Alert) []byte {
	h := sha256.Sum256([]byte(a.Kind + "\x00" + a.Bulletin.ID + "\x00" + strconv.Itoa(a.Version) + "\x00" + a.Watch + "\x00" + a.Term))
	return key(pfxAlertSeen, h[:])
}

func lastAlertSeq(txn *badger.Txn) (uint64, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxAlert}, Reverse: true})
	defer it.Close()
	it.Seek([]byte{pfxAlert, 0xff})
	if !it.Valid() {
		return 0, nil
	}
	k := it.Item().Key()
	if len(k) != 9 {
		return 0, fmt.Errorf("alert key of %d bytes, want 9", len(k))
	}
	return binary.BigEndian.Uint64(k[1:]), nil
}

// AlertQuery selects alerts: those after Seq After, at or after Since,
// up to Limit (0: all), oldest first.
type AlertQuery struct {
	After uint64
	Since time.Time
	Limit int
}

// Alerts returns the alerts q selects, in the order they were raised.
func (s *Store) Alerts(q AlertQuery) ([]Alert, error) {
	out := []Alert{}
	err := s.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pfxAlert}})
		defer it.Close()
		for it.Seek(key(pfxAlert, u64(q.After+1))); it.Valid(); it.Next() {
			var a Alert
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &a) }); err != nil {
				return err
			}
			if a.Time.Before(q.Since) {
				continue
			}
			out = append(out, a)
			if q.Limit > 0 && len(out) >= q.Limit {
				return nil
			}
		}
		return nil
	})
	return out, err
}

// LastAlertSeq returns the Seq of the newest alert (0 if none): where a
// stream of alerts that wants only news starts.
func (s *Store) LastAlertSeq() (uint64, error) {
	var seq uint64
	err := s.View(func(txn *badger.Txn) error {
		var err error
		seq, err = lastAlertSeq(txn)
		return err
	})
	return seq, err
}
