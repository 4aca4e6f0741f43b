package node

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/concordnet/concord/entity"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

func TestSearchParsesQueries(t *testing.T) {
	phone := entity.Key{Type: "phone", Value: "+2348012345678"}
	for _, tc := range []struct {
		query string
		want  store.TextQuery
	}{
		{"Cocaine  Aurora", store.TextQuery{Words: []string{"cocaine", "aurora"}}},
		{`"MV Aurora" crew`, store.TextQuery{Words: []string{"crew"}, Phrases: [][]string{{"mv", "aurora"}}}},
		{`"García"`, store.TextQuery{Words: []string{"garcia"}}},
		{"cocain* Lagos", store.TextQuery{Words: []string{"lagos"}, Prefixes: []string{"cocain"}}},
		{"e-mail", store.TextQuery{Phrases: [][]string{{"e", "mail"}}}},
		// The same number three ways, the national one read in the
		// searching node's country; the number goes on over its groups.
		{"phone:+234 801 234 5678", store.TextQuery{Entities: []entity.Key{phone}}},
		{"phone:0801 234 5678 shipment", store.TextQuery{Words: []string{"shipment"}, Entities: []entity.Key{phone}}},
		{`phone:"+234 (801) 234-5678"`, store.TextQuery{Entities: []entity.Key{phone}}},
		{`person:"GARCÍA LOPEZ, Juan"`, store.TextQuery{Entities: []entity.Key{mustTerm(t, "person:Juan Garcia Lopez")}}},
		// Not an entity type: plain words.
		{"10:30 http://example.org", store.TextQuery{Phrases: [][]string{{"10", "30"}, {"http", "example", "org"}}}},
	} {
		got, err := ParseSearch(tc.query, "NGA")
		if err != nil {
			t.Errorf("%q: %v", tc.query, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.query, got, tc.want)
		}
	}
}

func mustTerm(t *testing.T, term string) entity.Key {
	t.Helper()
	k, ok := entity.ParseTerm(term, "NGA")
	if !ok {
		t.Fatalf("%q is no entity term", term)
	}
	return k
}

func TestSearchRefusesEmptyAndBrokenQueries(t *testing.T) {
	for query, want := range map[string]string{
		"":             "holds no word",
		" ,;- ":        "holds no word",
		`"MV Aurora`:   "unclosed quote",
		`person:"Juan`: "unclosed quote",
		"c*":           `prefix "c*" is too short`,
		"mv-aur*":      "several words",
	} {
		if _, err := ParseSearch(query, "NGA"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", query, err, want)
		}
	}
}

func TestSearchExcerptShowsTheFirstMatch(t *testing.T) {
	b := &protocol.Bulletin{BulletinDraft: protocol.BulletinDraft{
		Title:    "Cocaine shipment expected",
		Summary:  "A container is expected.",
		Body:     strings.Repeat("Nothing to see here. ", 10) + "The crew of the MV Áurora was\narrested in Algeciras. " + strings.Repeat("More text. ", 10),
		Entities: []protocol.Entity{{Type: "phone", Value: "0801 234 5678"}},
	}}
	got := Excerpt(b, []string{"aurora"}, "NGA")
	if !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") || !strings.Contains(got, "MV Áurora was arrested") {
		t.Errorf("excerpt around a body word: %q", got)
	}
	if first := strings.Fields(strings.TrimPrefix(got, "…"))[0]; !strings.Contains(" "+b.Body, " "+first+" ") {
		t.Errorf("excerpt starts in the middle of a word: %q", got)
	}
	if got := Excerpt(b, []string{"alge*"}, "NGA"); !strings.Contains(got, "Algeciras") {
		t.Errorf("excerpt around a prefix: %q", got)
	}
	if got := Excerpt(b, []string{"phone:+2348012345678"}, "NGA"); got != "phone: 0801 234 5678" {
		t.Errorf("excerpt of an entity match: %q", got)
	}
	if got := Excerpt(b, []string{"expected"}, "NGA"); got != "A container is expected." {
		t.Errorf("excerpt of a summary match: %q", got)
	}
}

func TestSearchConfigValidates(t *testing.T) {
	c := DefaultConfig("Agency", "NGA")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Search.CommonThreshold = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "search.common_threshold") {
		t.Errorf("threshold 0: %v", err)
	}
	c.Search = SearchConfig{CommonThreshold: 10, Exclude: []string{"hotline 112"}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `search.exclude: "hotline 112" is not TYPE:VALUE`) {
		t.Errorf("bad exclude: %v", err)
	}
	c.Search.Exclude = []string{"phone:0801 234 5678"}
	if ex := c.Search.exclusions("NGA"); !ex["phone:+2348012345678"] {
		t.Errorf("exclusions read a national number in the member's country: %v", ex)
	}
}

// searchClient is n's API client, as the CLI uses it.
func searchClient(n *Node) *api.Client { return api.NewClient(string(n.home), n.home.Socket()) }

func searchAPI(t *testing.T, n *Node, query string) []api.SearchHit {
	t.Helper()
	hits, err := searchClient(n).Search(context.Background(), api.SearchQuery{Q: query, ListQuery: api.ListQuery{Limit: api.DefaultLimit}})
	if err != nil {
		t.Fatalf("search %q: %v", query, err)
	}
	return hits
}

func relatedAPI(t *testing.T, n *Node, id string) api.Related {
	t.Helper()
	rel, err := searchClient(n).Related(context.Background(), id, api.RelatedLimit)
	if err != nil {
		t.Fatalf("related %s: %v", id, err)
	}
	return rel
}

func hitIDs(hits []api.SearchHit) []string {
	ids := []string{}
	for _, h := range hits {
		ids = append(ids, h.ID)
	}
	return ids
}

func phoneDraft(title, phone string) *protocol.BulletinDraft {
	d := draft(title)
	d.Entities = []protocol.Entity{{Type: "phone", Value: phone}, {Type: "location", Value: "Lagos"}}
	return d
}

// One node through its API: the same number written three ways is found
// and related; a common value is counted; an excluded one is left out; a
// revoked bulletin leaves search and related.
func TestSearchAndRelatedThroughTheAPI(t *testing.T) {
	n, err := newNode(t, "Nigeria Police Force", "NGA", func(c *Config) {
		c.Search = SearchConfig{CommonThreshold: 2, Exclude: []string{"location:lagos"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.CreateTopic(context.Background(), "drug-trafficking", "Route", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	first := publish(t, n, s.ID, phoneDraft("Courier phone seized", "0801 234 5678"))
	second := publish(t, n, s.ID, phoneDraft("Zanzibarite shipment", "+234 801 234 5678"))
	third := publish(t, n, s.ID, phoneDraft("Broker contacted", "+2348012345678"))

	hits := searchAPI(t, n, "phone:+234 (801) 234 5678")
	if got := hitIDs(hits); len(got) != 3 {
		t.Fatalf("phone search found %v, want the three bulletins", got)
	}
	if hits[0].Content == nil || hits[0].Content.Title == "" || len(hits[0].Matches) == 0 {
		t.Errorf("a hit lacks its bulletin or matches: %+v", hits[0])
	}
	hits = searchAPI(t, n, "zanzibar*")
	if got := hitIDs(hits); !reflect.DeepEqual(got, []string{second.ID}) || !strings.Contains(hits[0].Excerpt, "Zanzibarite") {
		t.Fatalf("prefix search: %v, hits %+v", got, hits)
	}

	rel := relatedAPI(t, n, first.ID)
	if len(rel.Groups) != 1 || rel.Groups[0].Entity != "phone:+2348012345678" {
		t.Fatalf("related groups %+v, want the phone alone (location:lagos is excluded)", rel.Groups)
	}
	if g := rel.Groups[0]; g.Total != 2 || g.Common || len(g.Bulletins) != 2 || g.Bulletins[0].ID != third.ID {
		t.Fatalf("phone group %+v, want the two others, newest first", g)
	}

	// A third other bulletin holding it: above the threshold, counted only.
	fourth := publish(t, n, s.ID, phoneDraft("Fourth", "08012345678"))
	if g := relatedAPI(t, n, first.ID).Groups[0]; !g.Common || g.Total != 3 || len(g.Bulletins) != 0 {
		t.Fatalf("common phone group %+v, want a count of 3 and no list", g)
	}

	if _, err := n.Revoke(context.Background(), fourth.ID, "duplicate"); err != nil {
		t.Fatal(err)
	}
	if got := hitIDs(searchAPI(t, n, "phone:+2348012345678")); len(got) != 3 || strings.Contains(strings.Join(got, " "), fourth.ID) {
		t.Errorf("after the revocation search finds %v", got)
	}
	if g := relatedAPI(t, n, first.ID).Groups[0]; g.Common || g.Total != 2 {
		t.Errorf("after the revocation the phone group is %+v", g)
	}
	if rel := relatedAPI(t, n, fourth.ID); len(rel.Groups) != 0 {
		t.Errorf("a revoked bulletin has related groups: %+v", rel.Groups)
	}
}

func TestSearchAPIAnswersErrors(t *testing.T) {
	n := startNode(t, "Nigeria Police Force", "NGA")
	c, ctx := searchClient(n), context.Background()
	search := func(q api.SearchQuery) error { _, err := c.Search(ctx, q); return err }
	related := func(id string) error { _, err := c.Related(ctx, id, api.RelatedLimit); return err }
	for what, tc := range map[string]struct {
		err  error
		want api.Class
	}{
		"search with no query":       {search(api.SearchQuery{}), api.Invalid},
		"search in an unknown topic": {search(api.SearchQuery{Q: "x", ListQuery: api.ListQuery{Topic: "nope"}}), api.NotFound},
		"related to a too short ID":  {related("abc"), api.Invalid},
		"related to an unknown ID":   {related("abcdefgh"), api.NotFound},
		"related with a limit of x":  {rawGet(t, n, "/v1/bulletins/abcdefgh/related?limit=x"), api.Invalid},
	} {
		if got := api.ClassOf(tc.err); tc.err == nil || got != tc.want {
			t.Errorf("%s: %v (%s), want %s", what, tc.err, got, tc.want)
		}
	}
}

// rawGet sends GET path to n's socket, past the typed client, and returns
// the error it answers.
func rawGet(t *testing.T, n *Node, path string) error {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", n.home.Socket())
	}}}
	resp, err := hc.Get("http://concord" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return nil
	}
	var e api.Error
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("GET %s: %s, body: %v", path, resp.Status, err)
	}
	if e.Class.Status() != resp.StatusCode {
		t.Fatalf("GET %s: status %d for class %s", path, resp.StatusCode, e.Class)
	}
	return &e
}

func TestSearchReindexStreamsProgress(t *testing.T) {
	n := startNode(t, "Nigeria Police Force", "NGA")
	s, err := n.CreateTopic(context.Background(), "drug-trafficking", "Route", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	id := publish(t, n, s.ID, phoneDraft("Courier phone seized", "0801 234 5678")).ID
	stream, err := searchClient(n).Reindex(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var last api.ReindexProgress
	for {
		p, err := stream.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("progress line: %v", err)
		}
		last = p
	}
	if !last.Finished || last.Error != "" || last.Done != last.Total || last.Total < 1 {
		t.Fatalf("last progress line %+v", last)
	}
	if got := hitIDs(searchAPI(t, n, "courier")); !reflect.DeepEqual(got, []string{id}) {
		t.Errorf("after reindex search finds %v", got)
	}
}

// A query is bounded before it reads any posting: each term may read up
// to 10,000 of them.
func TestSearchQueryIsBounded(t *testing.T) {
	many := strings.Repeat("word ", maxQueryTerms+1)
	if _, err := ParseSearch(many, "FRA"); err == nil || !strings.Contains(err.Error(), "terms") {
		t.Fatalf("%d terms: %v", maxQueryTerms+1, err)
	}
	if _, err := ParseSearch(strings.Repeat("x", maxQueryBytes+1), "FRA"); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Fatalf("a query over %d bytes: %v", maxQueryBytes, err)
	}
	if _, err := ParseSearch(strings.Repeat("word ", maxQueryTerms), "FRA"); err != nil {
		t.Fatalf("%d terms refused: %v", maxQueryTerms, err)
	}
}
