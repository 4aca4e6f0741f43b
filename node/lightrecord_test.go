package node

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
)

// Records keep no body: list and watch leave it out and give its size,
// show opens the envelope for it, and search finds and cuts excerpts
// from it, after a reindex too, on the publisher's node and a receiver's.
func TestRecordsHoldNoBody(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 2, "drug-trafficking")
	d := draft("with a body")
	d.Body = strings.Repeat("Nothing here. ", 20) + "The quokka was seen in Fremantle."
	orig := publish(t, nodes[0], id, d)
	eventually(t, 20*time.Second, "b misses the bulletin", func() bool { return readable(nodes[1], orig.ID) })

	for _, n := range nodes {
		name := n.cfg.Member.Name
		rec := record(n, orig.ID)
		if bytes.Contains(rec.Bulletin, []byte("quokka")) || rec.BodySize != len(d.Body) {
			t.Fatalf("%s: the record holds %s, body size %d", name, rec.Bulletin, rec.BodySize)
		}
		listed, err := n.Service().List(ctx, api.ListQuery{})
		if err != nil || len(listed) != 1 || listed[0].Content.Body != "" || listed[0].Content.BodySize != len(d.Body) {
			t.Fatalf("%s: list gives %+v, %v", name, listed, err)
		}
		if v := show(t, n, orig.ID); v.Content.Body != d.Body {
			t.Fatalf("%s: show gives the body %q", name, v.Content.Body)
		}
		searchQuokka(t, n)
		if err := n.Service().Reindex(ctx, func(api.ReindexProgress) {}); err != nil {
			t.Fatal(err)
		}
		searchQuokka(t, n)
	}
}

// searchQuokka checks that n finds the bulletin by a word of its body,
// with the excerpt around it.
func searchQuokka(t *testing.T, n *Node) {
	t.Helper()
	hits, err := n.Search(store.TextQuery{Words: []string{"quokka"}})
	if err != nil || len(hits) != 1 || !strings.Contains(hits[0].Excerpt, "quokka") || !slices.Contains(hits[0].Matches, "quokka") {
		t.Fatalf("%s: search quokka = %+v, %v", n.cfg.Member.Name, hits, err)
	}
}

// A watchlist entry of words matches a word of the body, which the
// record does not hold.
func TestWatchWordsMatchTheBody(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 2, "drug-trafficking")
	if _, err := nodes[1].AddWatch(ctx, "quokka", ""); err != nil {
		t.Fatal(err)
	}
	d := draft("nothing in the title")
	d.Body = "The quokka was seen in Fremantle."
	b := publish(t, nodes[0], id, d)
	waitFor(t, 20*time.Second, func() (bool, string) {
		as := alertsOf(t, nodes[1])
		return find(as, store.AlertWatchlist, b.ID) != nil, fmt.Sprintf("no watchlist alert for a word of the body: %+v", as)
	})
}
