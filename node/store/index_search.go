package store

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/concordnet/concord/entity"
)

// Bounds on the work of one query, whatever the store holds.
const (
	// maxTermPostings bounds the postings read per term. A term found in
	// more bulletins is common: it does not select candidates, and its
	// ranking weight takes this as its document count.
	maxTermPostings = 10000
	// maxPrefixWords bounds the words a prefix* term expands to, in
	// alphabetical order: "a*" does not read the whole word index.
	maxPrefixWords = 64
	// maxCandidates bounds the bulletins checked when every term is
	// common: the newest of those the filter lists.
	maxCandidates = 10000
)

// BM25 parameters (the usual ones).
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// TextQuery is a search: every word, phrase, prefix and entity must
// match (AND), within Filter (its Limit is ignored: see Limit).
type TextQuery struct {
	Words    []string
	Phrases  [][]string
	Prefixes []string // with or without the trailing '*'
	Entities []entity.Key
	Filter   Query
	Limit    int // 0: Filter.Limit, then no limit
}

// Hit is a bulletin found by Search. Matches holds the folded words, the
// words a prefix matched, the phrases and the TYPE:VALUE terms it matched.
type Hit struct {
	Record  BulletinRecord
	Score   float64
	Matches []string
}

// term is one required part of a query: one of words, or an entity key.
type term struct {
	label  string   // reported in Matches ("" for a phrase's or prefix's words)
	words  []string // any of them (a prefix's expansions)
	key    *entity.Key
	ids    []string // postings read, at most maxTermPostings
	capped bool
}

func (t *term) df() int { return max(len(t.ids), 1) }

// parsed is a TextQuery in index form.
type parsed struct {
	terms     []*term
	byWord    map[string]int   // word → its word term
	wordTerms map[string][]int // word → the terms it satisfies (set by load: a prefix's expansions too)
	phrases   [][]string
	prefix    []int // terms that are prefixes, their stem in words[0] until load
}

// Search returns the readable bulletins matching every part of q, best
// first (BM25 over the matched words and entities), then newest created.
// See maxTermPostings, maxPrefixWords and maxCandidates for its bounds.
func (s *Store) Search(q TextQuery) ([]Hit, error) {
	p, err := parseQuery(q)
	if err != nil {
		return nil, err
	}
	limit := cmp.Or(q.Limit, q.Filter.Limit)
	var hits []Hit
	err = s.View(func(txn *badger.Txn) error {
		hits, err = p.run(txn, q.Filter, limit)
		return err
	})
	return hits, err
}

// parseQuery folds q's words as the index does.
func parseQuery(q TextQuery) (*parsed, error) {
	p := &parsed{byWord: map[string]int{}}
	word := func(w, label string) {
		if i, ok := p.byWord[w]; ok {
			p.terms[i].label = cmp.Or(p.terms[i].label, label)
			return
		}
		p.byWord[w] = len(p.terms)
		p.terms = append(p.terms, &term{label: label, words: []string{w}})
	}
	for _, w := range q.Words {
		for _, f := range clipWords(entity.Words(w)) {
			word(f, f)
		}
	}
	for _, ph := range q.Phrases {
		words := clipWords(entity.Words(strings.Join(ph, " ")))
		if len(words) == 1 {
			word(words[0], words[0])
			continue
		}
		for _, w := range words {
			word(w, "") // the phrase is reported, not its words
		}
		if len(words) > 1 {
			p.phrases = append(p.phrases, words)
		}
	}
	for _, pre := range q.Prefixes {
		words := clipWords(entity.Words(strings.TrimSuffix(pre, "*")))
		if len(words) == 0 {
			return nil, fmt.Errorf("the prefix %q has no letters or digits: give at least one before the *", pre)
		}
		for _, w := range words[:len(words)-1] {
			word(w, w)
		}
		p.prefix = append(p.prefix, len(p.terms))
		p.terms = append(p.terms, &term{words: words[len(words)-1:]})
	}
	for _, k := range q.Entities {
		k.Value = clipValue(k.Value, maxValueBytes)
		if k.Type == "" || k.Value == "" {
			return nil, fmt.Errorf("the entity term %q has no value: write TYPE:VALUE", k.String())
		}
		p.terms = append(p.terms, &term{label: k.String(), key: &k})
	}
	if len(p.terms) == 0 {
		return nil, errors.New("the search has no terms: give words, a \"phrase\", a prefix* or TYPE:VALUE")
	}
	return p, nil
}

// run answers the query in one snapshot.
func (p *parsed) run(txn *badger.Txn, filter Query, limit int) ([]Hit, error) {
	if err := p.load(txn); err != nil {
		return nil, err
	}
	rarest := slices.MinFunc(p.terms, func(a, b *term) int {
		return cmp.Or(cmp.Compare(btoi(a.capped), btoi(b.capped)), cmp.Compare(len(a.ids), len(b.ids)))
	})
	if !rarest.capped && len(rarest.ids) == 0 {
		return []Hit{}, nil
	}
	candidates := rarest.ids
	if rarest.capped {
		candidates = listCandidates(txn, filter)
	}
	scored, err := p.score(txn, candidates, filter)
	if err != nil {
		return nil, err
	}
	return p.hits(txn, scored, limit)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// load expands prefixes and reads each term's postings.
func (p *parsed) load(txn *badger.Txn) error {
	for _, i := range p.prefix {
		p.terms[i].words = expandPrefix(txn, p.terms[i].words[0])
	}
	p.wordTerms = map[string][]int{}
	for i, t := range p.terms {
		for _, w := range t.words {
			p.wordTerms[w] = append(p.wordTerms[w], i)
		}
	}
	for _, t := range p.terms {
		if t.key != nil {
			t.ids, t.capped = postingIDs(txn, entityPrefix(*t.key), createdLen)
			continue
		}
		seen := map[string]bool{}
		for _, w := range t.words {
			ids, capped := postingIDs(txn, wordPrefix(w), 0)
			for _, id := range ids {
				if !seen[id] && len(t.ids) < maxTermPostings {
					seen[id] = true
					t.ids = append(t.ids, id)
				}
			}
			t.capped = t.capped || capped || len(seen) >= maxTermPostings
		}
	}
	return nil
}

// expandPrefix returns up to maxPrefixWords indexed words starting with
// stem, skipping each word's postings with one seek.
func expandPrefix(txn *badger.Txn, stem string) []string {
	var words []string
	prefix := key(pfxWord, []byte(stem))
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Seek(prefix); it.Valid() && len(words) < maxPrefixWords; {
		k := it.Item().Key()[1:]
		end := bytes.IndexByte(k, 0)
		if end < 0 {
			it.Next()
			continue
		}
		words = append(words, string(k[:end]))
		it.Seek(key(pfxWord, k[:end], []byte{1}))
	}
	return words
}

// postingIDs returns the bulletin IDs under prefix (each after skip
// bytes), at most maxTermPostings, and whether there were more.
func postingIDs(txn *badger.Txn, prefix []byte, skip int) ([]string, bool) {
	var ids []string
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if len(ids) == maxTermPostings {
			return ids, true
		}
		k := it.Item().Key()[len(prefix):]
		if len(k) > skip {
			ids = append(ids, string(k[skip:]))
		}
	}
	return ids, false
}

// listCandidates returns the newest bulletins filter lists, at most
// maxCandidates: the candidates when every term is common.
func listCandidates(txn *badger.Txn, filter Query) []string {
	var ids []string
	prefix := filter.listPrefix()
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
	defer it.Close()
	for it.Seek(append(slices.Clone(prefix), 0xff)); it.Valid() && len(ids) < maxCandidates; it.Next() {
		created, id, ok := splitIndexKey(it.Item().Key()[len(prefix):])
		if ok && created.Before(filter.Since) {
			break
		}
		if ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// scoredDoc is a candidate that matched every term.
type scoredDoc struct {
	id      string
	doc     *docInfo
	score   float64
	matches []string
}

// score checks each candidate's reverse entry against the terms and the
// filter, and ranks those that match, best first.
func (p *parsed) score(txn *badger.Txn, candidates []string, filter Query) ([]scoredDoc, error) {
	docs, words, err := readTextStats(txn)
	if err != nil {
		return nil, err
	}
	n := float64(max(docs, 1))
	avg := max(float64(words)/n, 1)
	var out []scoredDoc
	for _, id := range candidates {
		doc, err := readDoc(txn, id)
		if err != nil {
			return nil, err
		}
		if doc == nil || !filter.admits(doc) {
			continue
		}
		if sd, ok := p.match(doc, n, avg); ok {
			sd.id = id
			out = append(out, sd)
		}
	}
	slices.SortFunc(out, func(a, b scoredDoc) int {
		return cmp.Or(cmp.Compare(b.score, a.score), b.doc.Created.Compare(a.doc.Created), strings.Compare(a.id, b.id))
	})
	return out, nil
}

func (q Query) admits(d *docInfo) bool {
	return (q.Topic == nil || *q.Topic == d.Topic) && (q.Category == "" || q.Category == d.Category) &&
		(q.Originator == "" || q.Originator == d.Author) && !d.Created.Before(q.Since)
}

// match scores doc if it holds every term.
func (p *parsed) match(doc *docInfo, n, avg float64) (scoredDoc, bool) {
	tf := make([]int, len(p.terms))
	found := make([][]string, len(p.terms))
	for _, w := range doc.Words {
		for _, i := range p.wordTerms[w.Word] {
			tf[i] += w.TF
			found[i] = append(found[i], w.Word)
		}
	}
	for i, t := range p.terms {
		if t.key != nil && slices.ContainsFunc(doc.Entities, func(k entity.Key) bool { return k.Type == t.key.Type && k.Value == t.key.Value }) {
			tf[i] = 1
		}
	}
	sd := scoredDoc{doc: doc}
	norm := bm25K1 * (1 - bm25B + bm25B*float64(doc.Length)/avg)
	for i, t := range p.terms {
		if tf[i] == 0 {
			return sd, false
		}
		if t.label != "" {
			sd.matches = append(sd.matches, t.label)
		} else if slices.Contains(p.prefix, i) {
			sd.matches = append(sd.matches, found[i]...)
		}
		df := float64(t.df())
		idf := math.Log(1 + (max(n, df)-df+0.5)/(df+0.5))
		if t.key != nil {
			sd.score += idf // an entity is there or not: no length to weigh
			continue
		}
		sd.score += idf * float64(tf[i]) * (bm25K1 + 1) / (float64(tf[i]) + norm)
	}
	return sd, true
}

// hits reads the records of the ranked candidates, checks their phrases
// and that they are still readable, up to limit.
func (p *parsed) hits(txn *badger.Txn, scored []scoredDoc, limit int) ([]Hit, error) {
	hits := []Hit{}
	for _, sd := range scored {
		if limit > 0 && len(hits) >= limit {
			break
		}
		rec, err := findRecord(txn, sd.id)
		if err != nil {
			return nil, err
		}
		if rec == nil || !indexable(rec) {
			continue
		}
		ok, err := p.phrasesIn(rec)
		if err != nil {
			return nil, err
		}
		if ok {
			hits = append(hits, Hit{Record: *rec, Score: sd.score, Matches: append(sd.matches, p.phraseLabels()...)})
		}
	}
	return hits, nil
}

// phrasesIn reports whether rec's text holds every phrase, each within
// one field (title, summary, body or an entity value).
func (p *parsed) phrasesIn(rec *BulletinRecord) (bool, error) {
	if len(p.phrases) == 0 {
		return true, nil
	}
	b, err := parseIndexed(rec)
	if err != nil {
		return false, err
	}
	fields := b.textFields()
	for _, ph := range p.phrases {
		if !slices.ContainsFunc(fields, func(f []string) bool { return containsRun(f, ph) }) {
			return false, nil
		}
	}
	return true, nil
}

func containsRun(words, run []string) bool {
	for i := 0; i+len(run) <= len(words); i++ {
		if slices.Equal(words[i:i+len(run)], run) {
			return true
		}
	}
	return false
}

func (p *parsed) phraseLabels() []string {
	var out []string
	for _, ph := range p.phrases {
		out = append(out, strings.Join(ph, " "))
	}
	return out
}

// EntityPostings returns the readable bulletins holding k (its Flagged is
// ignored), newest created first, at most limit of them (limit <= 0:
// maxTermPostings), and how many there are in all: callers list a common
// value's count, not its bulletins.
func (s *Store) EntityPostings(k entity.Key, limit int) (ids []string, total int, err error) {
	if limit <= 0 {
		limit = maxTermPostings
	}
	prefix := entityPrefix(k)
	err = s.View(func(txn *badger.Txn) error {
		n, err := readCount(txn, entityCountKey(k))
		if err != nil {
			return err
		}
		total = int(n)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		for it.Seek(append(slices.Clone(prefix), 0xff)); it.Valid() && len(ids) < limit; it.Next() {
			if k := it.Item().Key()[len(prefix):]; len(k) > createdLen {
				ids = append(ids, string(k[createdLen:]))
			}
		}
		return nil
	})
	return ids, total, err
}

// BulletinEntities returns the normalised entity keys of bulletin id, as
// indexed: none for a bulletin that is not readable here. ErrNotFound if
// the store has no such bulletin.
func (s *Store) BulletinEntities(id string) ([]entity.Key, error) {
	var keys []entity.Key
	err := s.View(func(txn *badger.Txn) error {
		doc, err := readDoc(txn, id)
		if err != nil {
			return err
		}
		if doc != nil {
			keys = doc.Entities
			return nil
		}
		_, err = txn.Get(key(pfxBulletin, []byte(id)))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("bulletin %s: %w", id, ErrNotFound)
		}
		return err
	})
	return keys, err
}
