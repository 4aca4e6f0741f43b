package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/concordnet/concord/entity"
)

// TestWatchlist checks entries are kept in the order they were added,
// survive a reopen, and are removed by ID.
func TestWatchlist(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := s.PutWatch(ctx, WatchEntry{Term: "phone:0801 234 5678", Key: &entity.Key{Type: "phone", Value: "+2348012345678"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.PutWatch(ctx, WatchEntry{Term: "mv aurora", Words: []string{"mv", "aurora"}, Note: "case 114"})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.ID == b.ID || a.Created.IsZero() {
		t.Fatalf("entries got IDs %q and %q, created %v", a.ID, b.ID, a.Created)
	}
	s.Close()
	if s, err = Open(dir, testKey(), quiet); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	es, err := s.Watchlist()
	if err != nil || len(es) != 2 || es[0].ID != a.ID || es[1].Note != "case 114" || es[0].Key.Value != "+2348012345678" {
		t.Fatalf("Watchlist after reopen = %+v, %v", es, err)
	}
	if err := s.DeleteWatch(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWatch(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteWatch: %v, want ErrNotFound", err)
	}
	if es, _ := s.Watchlist(); len(es) != 1 || es[0].ID != b.ID {
		t.Fatalf("Watchlist after delete = %+v", es)
	}
}

// TestAlerts checks alerts get increasing sequence numbers, are never
// recorded twice for the same bulletin version and term, move the cursor
// with them, and are selected by sequence, time and limit.
func TestAlerts(t *testing.T) {
	s, err := Open(t.TempDir(), testKey(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, ok, err := s.AlertCursor(); ok || err != nil {
		t.Fatalf("AlertCursor of a new store: ok %v, %v", ok, err)
	}
	old := time.Now().Add(-48 * time.Hour).UTC()
	first := []Alert{
		{Time: old, Kind: AlertWatchlist, Bulletin: AlertRef{ID: "b1"}, Version: 1, Term: "phone:+2348012345678", Watch: "w1"},
		{Time: time.Now().UTC(), Kind: AlertCorrelation, Bulletin: AlertRef{ID: "b1"}, Version: 1, Term: "phone:+2348012345678",
			Others: []AlertRef{{ID: "b0", Originator: "m2"}}},
	}
	stored, err := s.PutAlerts(ctx, 7, first)
	if err != nil || len(stored) != 2 || stored[0].Seq != 1 || stored[1].Seq != 2 {
		t.Fatalf("PutAlerts = %+v, %v", stored, err)
	}
	// The same again (a restart re-reads the feed), and a revision.
	again := append(first, Alert{Time: time.Now().UTC(), Kind: AlertWatchlist, Bulletin: AlertRef{ID: "b1"}, Version: 2, Term: "phone:+2348012345678", Watch: "w1"})
	stored, err = s.PutAlerts(ctx, 9, again)
	if err != nil || len(stored) != 1 || stored[0].Seq != 3 || stored[0].Version != 2 {
		t.Fatalf("PutAlerts again = %+v, %v", stored, err)
	}
	if cur, ok, err := s.AlertCursor(); cur != 9 || !ok || err != nil {
		t.Fatalf("AlertCursor = %d %v %v, want 9", cur, ok, err)
	}
	if last, err := s.LastAlertSeq(); last != 3 || err != nil {
		t.Fatalf("LastAlertSeq = %d, %v", last, err)
	}
	for _, c := range []struct {
		q    AlertQuery
		want []uint64
	}{
		{AlertQuery{}, []uint64{1, 2, 3}},
		{AlertQuery{After: 1}, []uint64{2, 3}},
		{AlertQuery{Since: time.Now().Add(-time.Hour)}, []uint64{2, 3}},
		{AlertQuery{Limit: 2}, []uint64{1, 2}},
	} {
		as, err := s.Alerts(c.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, a := range as {
			got = append(got, a.Seq)
		}
		if len(got) != len(c.want) || (len(got) > 0 && (got[0] != c.want[0] || got[len(got)-1] != c.want[len(c.want)-1])) {
			t.Errorf("Alerts(%+v) = %v, want %v", c.q, got, c.want)
		}
	}
	as, _ := s.Alerts(AlertQuery{After: 1, Limit: 1})
	if len(as) != 1 || as[0].Others[0].Originator != "m2" {
		t.Fatalf("the correlation alert lost its other bulletins: %+v", as)
	}
}
