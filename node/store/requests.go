package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Requests for information (node/requests.go): what this node asked and
// was asked, and where each request stands. Local state, derived from
// bulletins and receipts, never shared.
//
//	'R' 'q' requestID                       → nothing            requests this member made (outgoing)
//	'R' 'i' requestID                       → nothing            requests addressed to this member (incoming)
//	'R' 'o' requestID 0x00 addressee        → ReceiptState (JSON) where an outgoing request stands with one addressee
//	'R' 's' requestID 0x00 state            → time (RFC 3339)    receipts this member sent, and its answer ("answered")
//	'm' "request-cursor"                    → recvSeq(8)         change feed position requests were followed up to
const pfxRequest = 'R'

const (
	reqOutgoing = 'q'
	reqIncoming = 'i'
	reqState    = 'o'
	reqSent     = 's'
)

var requestCursorKey = key(pfxMeta, []byte("request-cursor"))

// ErrAlreadySent reports a receipt this member already sent for a request.
var ErrAlreadySent = errors.New("this receipt was already sent for the request")

// ReceiptState is where an outgoing request stands with one addressee:
// the first time each state was reported.
type ReceiptState struct {
	Delivered    time.Time `json:"delivered,omitzero"`
	Acknowledged time.Time `json:"acknowledged,omitzero"`
	Declined     time.Time `json:"declined,omitzero"`
	Reason       string    `json:"reason,omitempty"` // the decline's
	Answered     time.Time `json:"answered,omitzero"`
	Answer       string    `json:"answer,omitempty"` // the first answer's bulletin ID
}

// ReceiptEvent is one state an addressee reported, by receipt or answer.
type ReceiptEvent struct {
	Request   string
	Addressee string
	State     string // delivered, acknowledged, declined or answered
	Reason    string
	Answer    string
	At        time.Time
}

// apply folds e into st, keeping the first report of each state: events
// arrive in any order and more than once, and the result is the same.
func (st *ReceiptState) apply(e ReceiptEvent) {
	first := func(t *time.Time) bool {
		if t.IsZero() || e.At.Before(*t) {
			*t = e.At.UTC()
			return true
		}
		return false
	}
	switch e.State {
	case "delivered":
		first(&st.Delivered)
	case "acknowledged":
		first(&st.Acknowledged)
	case "declined":
		if first(&st.Declined) {
			st.Reason = e.Reason
		}
	case "answered":
		if first(&st.Answered) {
			st.Answer = e.Answer
		}
	}
}

func requestStateKey(req, addressee string) []byte {
	return key(pfxRequest, []byte{reqState}, []byte(req), []byte{0}, []byte(addressee))
}

func sentKey(req, state string) []byte {
	return key(pfxRequest, []byte{reqSent}, []byte(req), []byte{0}, []byte(state))
}

func applyEvent(txn *badger.Txn, e ReceiptEvent) error {
	k := requestStateKey(e.Request, e.Addressee)
	var st ReceiptState
	v, err := getValue(txn, k)
	switch {
	case err == nil:
		if err := json.Unmarshal(v, &st); err != nil {
			return fmt.Errorf("request %s state of %s: %w", e.Request, e.Addressee, err)
		}
	case !errors.Is(err, badger.ErrKeyNotFound):
		return err
	}
	st.apply(e)
	val, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return txn.Set(k, val)
}

// PutReceipt stores a receipt envelope in its author's chain, as
// PutEnvelope does without a bulletin record, and, when e is not nil and
// the envelope is new, folds e into its request's state in the same
// transaction.
func (s *Store) PutReceipt(ctx context.Context, ref EnvelopeRef, raw []byte, e *ReceiptEvent) (PutResult, error) {
	var res PutResult
	err := s.update(ctx, len(raw), func(txn *badger.Txn) error {
		out, err := s.putEnvelope(txn, ref, raw, nil)
		if err != nil {
			return err
		}
		res = out.result
		if res != Stored || e == nil {
			return nil
		}
		return applyEvent(txn, *e)
	})
	return res, err
}

// PutSentReceipt stores this member's own receipt envelope (see
// PutEnvelope) and records that it sent state for req, in one
// transaction; ErrAlreadySent, and nothing stored, if it did before.
func (s *Store) PutSentReceipt(ctx context.Context, ref EnvelopeRef, raw []byte, req, state string, at time.Time) (PutResult, error) {
	var res PutResult
	err := s.update(ctx, len(raw), func(txn *badger.Txn) error {
		k := sentKey(req, state)
		if _, err := txn.Get(k); err == nil {
			return ErrAlreadySent
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		out, err := s.putEnvelope(txn, ref, raw, nil)
		if err != nil {
			return err
		}
		if res = out.result; res != Stored {
			return nil
		}
		return txn.Set(k, []byte(at.UTC().Format(time.RFC3339Nano)))
	})
	return res, err
}

// RequestFollow is what one pass over the change feed found: requests
// made and received, answers received, and answers this member sent.
type RequestFollow struct {
	Outgoing, Incoming []string
	Answers            []ReceiptEvent // answers to outgoing requests
	Answered           []ReceiptEvent // this member's answers to incoming requests
}

// PutRequestFollow records f and moves the request cursor to cursor, in
// one transaction: following again after a crash repeats nothing.
func (s *Store) PutRequestFollow(ctx context.Context, cursor uint64, f RequestFollow) error {
	return s.Update(ctx, func(txn *badger.Txn) error {
		for _, id := range f.Outgoing {
			if err := txn.Set(key(pfxRequest, []byte{reqOutgoing}, []byte(id)), nil); err != nil {
				return err
			}
		}
		for _, id := range f.Incoming {
			if err := txn.Set(key(pfxRequest, []byte{reqIncoming}, []byte(id)), nil); err != nil {
				return err
			}
		}
		for _, e := range f.Answers {
			if err := applyEvent(txn, e); err != nil {
				return err
			}
		}
		for _, e := range f.Answered {
			k := sentKey(e.Request, "answered")
			if _, err := txn.Get(k); errors.Is(err, badger.ErrKeyNotFound) {
				if err := txn.Set(k, []byte(e.At.UTC().Format(time.RFC3339Nano))); err != nil {
					return err
				}
			}
		}
		return txn.Set(requestCursorKey, u64(cursor))
	})
}

// AddOutgoing records a request this member made, ahead of the change
// feed, so that it lists at once.
func (s *Store) AddOutgoing(ctx context.Context, id string) error {
	return s.Update(ctx, func(txn *badger.Txn) error {
		return txn.Set(key(pfxRequest, []byte{reqOutgoing}, []byte(id)), nil)
	})
}

// RequestCursor returns the change-feed position requests were followed
// up to, and false if they never were in this store.
func (s *Store) RequestCursor() (uint64, bool, error) {
	var cur uint64
	var ok bool
	err := s.View(func(txn *badger.Txn) error {
		var err error
		cur, ok, err = getUint64(txn, requestCursorKey, func(v []byte) error {
			return fmt.Errorf("request cursor: %d bytes, want 8", len(v))
		})
		return err
	})
	return cur, ok, err
}

// Requests returns the IDs of the requests this member made (outgoing)
// or received.
func (s *Store) Requests(outgoing bool) ([]string, error) {
	which := byte(reqIncoming)
	if outgoing {
		which = reqOutgoing
	}
	prefix := key(pfxRequest, []byte{which})
	var out []string
	err := s.View(func(txn *badger.Txn) error {
		return each(txn, prefix, func(k, _ []byte) error {
			out = append(out, string(k[len(prefix):]))
			return nil
		})
	})
	return out, err
}

// RequestStates returns where an outgoing request stands with each
// addressee that reported anything.
func (s *Store) RequestStates(req string) (map[string]ReceiptState, error) {
	prefix := key(pfxRequest, []byte{reqState}, []byte(req), []byte{0})
	out := map[string]ReceiptState{}
	err := s.View(func(txn *badger.Txn) error {
		return each(txn, prefix, func(k, v []byte) error {
			var st ReceiptState
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
			out[string(k[len(prefix):])] = st
			return nil
		})
	})
	return out, err
}

// SentReceipts returns the states this member reported for an incoming
// request, and when.
func (s *Store) SentReceipts(req string) (map[string]time.Time, error) {
	prefix := key(pfxRequest, []byte{reqSent}, []byte(req), []byte{0})
	out := map[string]time.Time{}
	err := s.View(func(txn *badger.Txn) error {
		return each(txn, prefix, func(k, v []byte) error {
			t, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil {
				return fmt.Errorf("request %s: sent receipt time: %w", req, err)
			}
			out[string(k[len(prefix):])] = t
			return nil
		})
	})
	return out, err
}

// RaiseAlerts records alerts not raised before (see PutAlerts), leaving
// the alert cursor where it is: alerts that come from a clock, not from
// the change feed.
func (s *Store) RaiseAlerts(ctx context.Context, alerts []Alert) ([]Alert, error) {
	var stored []Alert
	err := s.Update(ctx, func(txn *badger.Txn) error {
		var err error
		stored, err = putAlerts(txn, alerts)
		return err
	})
	return stored, err
}
