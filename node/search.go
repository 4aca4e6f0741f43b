package node

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/concordnet/concord/entity"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// minPrefix is the shortest prefix* a query may hold: a one-letter prefix
// would expand to most of the vocabulary.
const minPrefix = 2

// A search reads up to 10,000 postings per term: these bound one query.
const (
	maxQueryBytes = 1 << 10
	maxQueryTerms = 16
)

// ParseSearch reads a search query into the store's terms: words,
// "quoted phrases", prefix* and TYPE:VALUE entity terms, all of which must
// match. region (ISO 3166-1 alpha-3) is the default region of a phone
// number written without "+": the searching node's own country. An
// unquoted TYPE:VALUE goes on over the following tokens made of digits
// and number punctuation only, so that `phone:+234 801 234 5678` is one
// term; a value with other spaces is quoted: person:"Juan Perez".
func ParseSearch(query, region string) (store.TextQuery, error) {
	var q store.TextQuery
	if len(query) > maxQueryBytes {
		return q, fmt.Errorf("the query is %d bytes, more than the %d a search takes: search for fewer, more distinctive terms", len(query), maxQueryBytes)
	}
	tokens, err := splitQuery(query)
	if err != nil {
		return q, err
	}
	for i := 0; i < len(tokens); i++ {
		tok := tokens[i]
		if !tok.quoted {
			if typ, value, ok := strings.Cut(tok.text, ":"); ok && typ != "" && (value != "" || tok.valueQuoted) {
				for !tok.valueQuoted && i+1 < len(tokens) && numberPart(tokens[i+1]) {
					i++
					value += " " + tokens[i].text
				}
				if k, ok := entity.ParseTerm(typ+":"+value, region); ok {
					q.Entities = append(q.Entities, k)
					continue
				}
			}
		}
		if err := addWords(&q, tok); err != nil {
			return q, err
		}
	}
	if n := len(q.Words) + len(q.Phrases) + len(q.Prefixes) + len(q.Entities); n > maxQueryTerms {
		return q, fmt.Errorf("the query has %d terms, more than the %d a search takes (each term reads up to 10,000 postings): search for fewer, more distinctive terms", n, maxQueryTerms)
	}
	if len(q.Words)+len(q.Phrases)+len(q.Prefixes)+len(q.Entities) == 0 {
		return q, fmt.Errorf("search query %q holds no word to look for: give words, \"a phrase\", a prefix* or TYPE:VALUE (e.g. phone:+2348012345678)", query)
	}
	return q, nil
}

// addWords adds a token's words: one word, a phrase when quoted or when
// it folds into several words (as "e-mail" does), or a prefix.
func addWords(q *store.TextQuery, tok queryToken) error {
	text := tok.text
	prefix := !tok.quoted && strings.HasSuffix(text, "*")
	if prefix {
		text = strings.TrimRight(text, "*")
	}
	words := entity.Words(text)
	switch {
	case prefix && len(words) == 1:
		if utf8.RuneCountInString(words[0]) < minPrefix {
			return fmt.Errorf("prefix %q is too short: give at least %d letters before *", tok.text, minPrefix)
		}
		q.Prefixes = append(q.Prefixes, words[0])
	case prefix && len(words) > 1:
		return fmt.Errorf("prefix %q holds several words: a * may only end a single word", tok.text)
	case len(words) == 1:
		q.Words = append(q.Words, words[0])
	case len(words) > 1:
		q.Phrases = append(q.Phrases, words)
	}
	return nil
}

type queryToken struct {
	text        string
	quoted      bool // "a phrase"
	valueQuoted bool // type:"a value"
}

// splitQuery splits on spaces outside double quotes. A quote opening after
// TYPE: quotes the term's value.
func splitQuery(s string) ([]queryToken, error) {
	var out []queryToken
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("search query has an unclosed quote before %q: close the phrase with \"", s)
			}
			out = append(out, queryToken{text: s[1 : end+1], quoted: true})
			s = s[end+2:]
			continue
		}
		end := strings.IndexFunc(s, unicode.IsSpace)
		if end < 0 {
			end = len(s)
		}
		tok := queryToken{text: s[:end]}
		if i := strings.Index(tok.text, `:"`); i > 0 {
			close := strings.IndexByte(s[i+2:], '"')
			if close < 0 {
				return nil, fmt.Errorf("search term %q has an unclosed quote: close its value with \"", s)
			}
			end = i + 2 + close + 1
			tok = queryToken{text: s[:i+1] + s[i+2:end-1], valueQuoted: true}
		}
		out = append(out, tok)
		s = s[end:]
	}
	return out, nil
}

// numberPart reports whether tok continues a number written with spaces:
// digits and the punctuation of phone numbers and IBANs' digit groups.
func numberPart(tok queryToken) bool {
	if tok.quoted || tok.valueQuoted || !strings.ContainsFunc(tok.text, unicode.IsDigit) {
		return false
	}
	return !strings.ContainsFunc(tok.text, func(r rune) bool {
		return !unicode.IsDigit(r) && !strings.ContainsRune("+-().", r)
	})
}

// excerptRunes is about how much text an excerpt shows.
const excerptRunes = 80

// Excerpt returns a short piece of b's summary, body or title around the
// first of the matched words, else the entity that matched, else the
// start of the summary or body. region is the originator's country, with
// which the bulletin's entities were normalised.
func Excerpt(b *protocol.Bulletin, matches []string, region string) string {
	words := map[string]bool{}
	var prefixes []string
	for _, m := range matches {
		if strings.Contains(m, ":") {
			continue // an entity term
		}
		for _, w := range entity.Words(m) {
			words[w] = true
		}
		if strings.HasSuffix(m, "*") {
			prefixes = append(prefixes, entity.Fold(strings.TrimSuffix(m, "*")))
		}
	}
	for _, text := range []string{b.Summary, b.Body, b.Title} {
		if at, ok := firstWord(text, words, prefixes); ok {
			return cutAround(text, at)
		}
	}
	for _, e := range b.Entities {
		for _, k := range entity.Keys(e, region) {
			if slices.Contains(matches, k.String()) {
				return e.Type + ": " + e.Value
			}
		}
	}
	for _, text := range []string{b.Summary, b.Body} {
		if strings.TrimSpace(text) != "" {
			return cutAround(text, 0)
		}
	}
	return ""
}

// firstWord returns the byte offset of the first word of text that folds
// into one of words or starts with one of prefixes.
func firstWord(text string, words map[string]bool, prefixes []string) (int, bool) {
	inWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) }
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !inWord(r) {
			i += size
			continue
		}
		end := strings.IndexFunc(text[i:], func(r rune) bool { return !inWord(r) })
		if end < 0 {
			end = len(text) - i
		}
		w := entity.Fold(text[i : i+end])
		if words[w] || slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(w, p) }) {
			return i, true
		}
		i += end
	}
	return 0, false
}

// cutAround returns about excerptRunes runes of text on one line, starting
// a few words before byte offset at, cut between words and marked "…".
func cutAround(text string, at int) string {
	runes := []rune(text)
	pos := utf8.RuneCountInString(text[:at])
	start := max(0, min(pos-excerptRunes/4, len(runes)-excerptRunes))
	for start > 0 && start < pos && !unicode.IsSpace(runes[start-1]) {
		start++ // not in the middle of a word
	}
	end := min(len(runes), start+excerptRunes)
	for end < len(runes) && end > pos && !unicode.IsSpace(runes[end]) {
		end--
	}
	s := strings.Join(strings.Fields(string(runes[start:end])), " ")
	if start > 0 {
		s = "…" + s
	}
	if end < len(runes) {
		s += "…"
	}
	return s
}

// Search answers a query with the readable bulletins that match it, best
// first, each with an excerpt.
func (n *Node) Search(q store.TextQuery) ([]api.SearchHit, error) {
	hits, err := n.store.Search(q)
	if err != nil {
		return nil, err
	}
	out := make([]api.SearchHit, 0, len(hits))
	for _, h := range hits {
		if h.Record.Sealed || h.Record.Tombstone() {
			continue // the index never holds them; a second guard costs nothing
		}
		v, err := n.bulletinView(h.Record, false)
		if err != nil {
			return nil, err
		}
		hit := api.SearchHit{Bulletin: v, Score: h.Score, Matches: h.Matches}
		if hit.Matches == nil {
			hit.Matches = []string{}
		}
		if v.Content != nil {
			hit.Excerpt = Excerpt(n.excerptSource(h.Record, &v), h.Matches, v.Content.Originator.Country)
		}
		out = append(out, hit)
	}
	return out, nil
}

// excerptSource is the bulletin an excerpt is cut from: v's, with the
// body its record leaves in the envelope opened again. Only the hits
// returned pay for it. If the envelope does not open, the excerpt comes
// from what the record holds.
func (n *Node) excerptSource(rec store.BulletinRecord, v *api.Bulletin) *protocol.Bulletin {
	b := v.Protocol()
	if v.Content.BodySize == 0 || b.Body != "" {
		return b
	}
	full, err := n.fullBulletin(rec)
	if err != nil {
		n.log.Warn("search: a hit's body is not readable; its excerpt leaves it out", "bulletin", rec.ID, "err", err)
		return b
	}
	return full
}

// ErrSealed reports a bulletin this member may not read.
var ErrSealed = errors.New("restricted to its audience")

// Related returns, for each normalised entity of bulletin id (ID or
// unique prefix), the other readable bulletins holding it, newest first,
// at most limit of them per entity (0: all). Entities in [search] exclude
// are left out; those held by more than [search] common_threshold other
// bulletins are counted, not listed.
func (n *Node) Related(id string, limit int) (api.Related, error) {
	rec, err := n.store.Bulletin(id)
	if err != nil {
		return api.Related{}, err
	}
	out := api.Related{ID: rec.ID, Groups: []api.RelatedGroup{}}
	if rec.Sealed {
		return out, fmt.Errorf("bulletin %s is %w: this node cannot read its entities", rec.ID, ErrSealed)
	}
	keys, err := n.store.BulletinEntities(rec.ID)
	if err != nil {
		return out, err
	}
	excluded := n.searchExclusions()
	for _, k := range keys {
		if excluded[k.Type+":"+k.Value] {
			continue
		}
		g, err := n.relatedGroup(rec.ID, k, limit)
		if err != nil {
			return out, err
		}
		if g.Total > 0 {
			out.Groups = append(out.Groups, g)
		}
	}
	slices.SortStableFunc(out.Groups, func(a, b api.RelatedGroup) int {
		if a.Total != b.Total {
			return b.Total - a.Total
		}
		return strings.Compare(a.Entity, b.Entity)
	})
	return out, nil
}

// relatedGroup lists the bulletins other than self that hold k.
func (n *Node) relatedGroup(self string, k entity.Key, limit int) (api.RelatedGroup, error) {
	g := api.RelatedGroup{Entity: k.String(), Type: k.Type, Value: k.Value, Flagged: k.Flagged, Bulletins: []api.RelatedBulletin{}}
	threshold := n.cfg.Search.CommonThreshold
	want := limit + 1 // self is among them
	if limit <= 0 || limit > threshold {
		want = threshold + 2 // beyond the threshold nothing is listed
	}
	ids, total, err := n.store.EntityPostings(k, want)
	if err != nil {
		return g, err
	}
	// k came from self's postings, so self is counted in total.
	g.Total = max(0, total-1)
	if g.Total > threshold {
		g.Common = true
		return g, nil
	}
	for _, id := range ids {
		if id == self || (limit > 0 && len(g.Bulletins) >= limit) {
			continue
		}
		rec, err := n.store.Bulletin(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return g, err
		}
		if b, ok := n.relatedBulletin(rec); ok {
			g.Bulletins = append(g.Bulletins, b)
		}
	}
	return g, nil
}

// relatedBulletin describes a related record; false if it is not
// readable (the index never holds such a record: a second guard).
func (n *Node) relatedBulletin(rec store.BulletinRecord) (api.RelatedBulletin, bool) {
	if rec.Sealed || rec.Tombstone() {
		return api.RelatedBulletin{}, false
	}
	v, err := n.bulletinView(rec, false)
	if err != nil || v.Content == nil {
		return api.RelatedBulletin{}, false
	}
	return api.RelatedBulletin{
		ID: v.ID, Topic: v.Topic, TopicName: v.TopicName, Category: v.Category, Author: v.Author,
		Originator: v.Content.Originator, Created: v.Created, TLP: v.Content.TLP, Title: v.Content.Title,
	}, true
}

// searchExclusions is [search] exclude as a set of normalised TYPE:VALUE
// (without the flag), read with this node's country as phone region.
func (n *Node) searchExclusions() map[string]bool {
	return n.cfg.Search.exclusions(n.cfg.Member.Country)
}

// searchExcluded reports whether [search] exclude names k: related and
// alerts leave such an entity out.
func (n *Node) searchExcluded(k entity.Key) bool {
	return n.searchExclusions()[k.Type+":"+k.Value]
}

// SearchConfig tunes what related and alerts report ([search]).
type SearchConfig struct {
	CommonThreshold int      `toml:"common_threshold"`
	Exclude         []string `toml:"exclude"`
}

// DefaultSearch counts, rather than lists, values held by more than 1,000
// bulletins, and excludes nothing.
func DefaultSearch() SearchConfig {
	return SearchConfig{CommonThreshold: 1000, Exclude: []string{}}
}

func (c SearchConfig) validate(country string) error {
	if c.CommonThreshold < 1 {
		return fmt.Errorf("search.common_threshold: %d must be at least 1 (bulletins holding one value)", c.CommonThreshold)
	}
	for _, term := range c.Exclude {
		if _, ok := entity.ParseTerm(term, country); !ok {
			return fmt.Errorf("search.exclude: %q is not TYPE:VALUE with an entity type (%s), e.g. \"phone:+33 1 40 97 20 00\"", term, strings.Join(protocol.EntityTypes(), ", "))
		}
	}
	return nil
}

// exclusions normalises Exclude, phones without + read in region.
func (c SearchConfig) exclusions(region string) map[string]bool {
	out := make(map[string]bool, len(c.Exclude))
	for _, term := range c.Exclude {
		if k, ok := entity.ParseTerm(term, region); ok {
			out[k.Type+":"+k.Value] = true
		}
	}
	return out
}
