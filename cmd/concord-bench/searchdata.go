package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// The search corpus: bulletins generated from their index alone, so that
// each run (indexed, unindexed, raw) writes the same bytes without
// holding them all in memory, and queries can regenerate the bulletin
// they start from.
const (
	searchTopics     = 8
	searchAuthors    = 16
	searchEntities   = 5     // per bulletin, of 5 different types
	searchVocabulary = 30000 // distinct words of the text
	searchBodyWords  = 250   // about 1.8 KB of Markdown
	searchPool       = 20000 // distinct values per entity type
	// zipfS is the Zipf exponent of words and entity values: a few values
	// (a port, a broker's phone) recur in thousands of bulletins, most in
	// one or two, as in real reporting.
	zipfS = 1.1
)

var (
	searchStart     = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	searchCountries = []string{"NGA", "ESP", "FRA", "PRT", "ITA", "GBR", "NLD", "BRA"}
	searchTypes     = []string{"phone", "email", "person", "organization", "vessel", "iban",
		"crypto-address", "vehicle", "passport", "location"}
	commonWords = strings.Fields(`the a of to and in on at for with from by was were is are has had
		vessel container shipment port cargo crew captain broker payment transfer account
		suspect suspects contact meeting route border cocaine heroin cannabis weapons cash
		company director network group members arrived departed expected seized reported
		customs police agency source information intelligence partner operation
		lagos santos rotterdam algeciras lisbon marseille genoa felixstowe abidjan dakar`)
	syllables  = strings.Fields("ka lo mi ne su ta ri po va de zu bo fe gi ha ju ke la mo nu pi ro sa te vi wa xe yo za ce")
	firstNames = strings.Fields("Juan Maria Jose Ana Pedro Luis Carmen Chinedu Ngozi Emeka Adaeze Pierre Marie Joao Giulia Marco Daan Sophie Tunde Femi")
	lastNames  = strings.Fields("García López Martínez Okafor Adeyemi Dubois Moreau Silva Santos Rossi Bianchi Jansen Smith Oliveira Eze Nwosu Fernández Pereira Costa Leroy")
)

// searchItem is one generated bulletin and where it goes.
type searchItem struct {
	bulletin *protocol.Bulletin
	ref      store.EnvelopeRef
	raw      []byte // stands for the envelope: incompressible, as ciphertext is
}

// searchRand is bulletin i's own random source.
func searchRand(i int) *rand.Rand { return rand.New(rand.NewPCG(0x5ea2c4, uint64(i))) }

// searchGen draws the words and entity values of one bulletin, with
// probability falling as (k+1)^-zipfS.
type searchGen struct {
	r             *rand.Rand
	words, values *rand.Zipf
}

func newSearchGen(i int) searchGen {
	r := searchRand(i)
	return searchGen{r: r, words: rand.NewZipf(r, zipfS, 1, searchVocabulary-1), values: rand.NewZipf(r, zipfS, 1, searchPool-1)}
}

// vocabulary holds the words by rank, built once.
var vocabulary = sync.OnceValue(func() []string {
	v := make([]string, searchVocabulary)
	for k := range v {
		v[k] = vocabularyWord(k)
	}
	return v
})

func searchTopic(t int) [32]byte { return sha256.Sum256([]byte{'t', byte(t)}) }

// searchEnvelopeID is the envelope ID of bulletin i (its chain's prev
// comes from it, so it must not depend on the bytes).
func searchEnvelopeID(i int) [32]byte {
	return sha256.Sum256(binary.BigEndian.AppendUint64([]byte("env"), uint64(i)))
}

// makeSearchItem generates bulletin i: bulletins go round robin over
// searchTopics × searchAuthors chains, one a minute.
func makeSearchItem(i int) searchItem {
	g := newSearchGen(i)
	chain := i % (searchTopics * searchAuthors)
	author, topic := chain%searchAuthors, chain/searchAuthors
	country := searchCountries[author%len(searchCountries)]
	created := searchStart.Add(time.Duration(i) * time.Minute)
	bu := &protocol.Bulletin{ID: benchBulletinID(i), Version: 1, Created: created, Modified: created,
		Originator: protocol.Originator{Member: benchMemberID(author), Country: country, Agency: fmt.Sprintf("Agency %d", author)}}
	bu.BulletinDraft = protocol.BulletinDraft{
		Category: searchCategory(topic), Title: g.sentence(8), Summary: g.sentence(25),
		Body:     "## Details\n\n" + g.sentence(searchBodyWords),
		Language: "en", TLP: "AMBER", Handling: protocol.Handling{Code: "H1"},
		SourceReliability: "B", InfoReliability: "2", Entities: g.entities(country),
	}
	ref := store.EnvelopeRef{Topic: searchTopic(topic), Author: bu.Originator.Member,
		Seq: uint64(i/(searchTopics*searchAuthors)) + 1, ID: searchEnvelopeID(i)}
	if ref.Seq > 1 {
		prev := searchEnvelopeID(i - searchTopics*searchAuthors)
		ref.Prev = prev[:]
	}
	return searchItem{bulletin: bu, ref: ref}
}

func searchCategory(topic int) string {
	return []string{"drug-trafficking", "human-trafficking", "firearms", "money-laundering"}[topic%4]
}

// withEnvelope adds the stand-in envelope bytes: the bulletin's size plus
// what sealing adds (hybrid age recipient, two signatures), as measured
// by the rss scenario (6.6 KB for a 4 KiB bulletin).
func (it *searchItem) withEnvelope(size int) {
	it.raw = make([]byte, size+2500)
	seed := it.ref.ID
	rand.NewChaCha8(seed).Read(it.raw)
}

// record is the record the node would store for the item: decrypted, or
// sealed (the same bytes, marked as outside the audience) so that the
// store writes no search index for it.
func (it *searchItem) record(sealed bool) (*store.BulletinRecord, error) {
	data, err := json.Marshal(it.bulletin)
	if err != nil {
		return nil, err
	}
	bu := it.bulletin
	return &store.BulletinRecord{ID: bu.ID, Topic: it.ref.Topic, Category: bu.Category, Envelope: it.ref.ID,
		Author: it.ref.Author, Seq: it.ref.Seq, Kind: protocol.KindBulletin, Version: 1, Created: bu.Created,
		Modified: bu.Modified, Received: bu.Created, Sealed: sealed, Bulletin: data}, nil
}

func (g searchGen) sentence(n int) string {
	vocab := vocabulary()
	words := make([]string, n)
	for k := range words {
		words[k] = vocab[g.words.Uint64()]
	}
	return strings.Join(words, " ")
}

// vocabularyWord is the k-th most frequent word: common English and
// domain words first, then made-up words of three syllables.
func vocabularyWord(k int) string {
	if k < len(commonWords) {
		return commonWords[k]
	}
	k -= len(commonWords)
	n := len(syllables)
	return syllables[k%n] + syllables[k/n%n] + syllables[k/n/n%n]
}

// entities gives a bulletin searchEntities entities of different
// types, each value drawn by Zipf from its type's pool.
func (g searchGen) entities(country string) []protocol.Entity {
	out := make([]protocol.Entity, searchEntities)
	for k, t := range g.r.Perm(len(searchTypes))[:searchEntities] {
		out[k] = searchEntity(g.r, searchTypes[t], int(g.values.Uint64()), country)
	}
	return out
}

// searchEntity is value v of type t, written in one of the ways
// analysts write it (normalisation must make them meet).
func searchEntity(r *rand.Rand, t string, v int, country string) protocol.Entity {
	e := protocol.Entity{Type: t}
	switch t {
	case "phone":
		e.Value = phoneWritten(r, v, country)
	case "email":
		e.Value = fmt.Sprintf("broker%d@Example-%d.org", v, v%50)
		if r.IntN(2) == 0 {
			e.Value = strings.ToUpper(e.Value)
		}
	case "person":
		first, last := firstNames[v%len(firstNames)], lastNames[v/len(firstNames)%len(lastNames)]
		e.Value = fmt.Sprintf("%s %s %d", first, last, v) // the number keeps the pool's values distinct
		if r.IntN(2) == 0 {
			e.Value = fmt.Sprintf("%s %d, %s", strings.ToUpper(last), v, first)
		}
	case "organization":
		e.Value = fmt.Sprintf("%s Freight %d Ltd", lastNames[v%len(lastNames)], v)
	case "vessel":
		e.Value = fmt.Sprintf("MV %s %d", strings.ToUpper(lastNames[v%len(lastNames)]), v)
		e.Fields = map[string]string{"imo": imoNumber(v), "mmsi": fmt.Sprintf("%09d", 200000000+v)}
	case "iban":
		e.Value = ibanNumber(v, r.IntN(2) == 0)
	case "crypto-address":
		e.Value = fmt.Sprintf("0x%040x", uint64(v)*0x9e3779b97f4a7c15)
	case "vehicle":
		e.Value = fmt.Sprintf("%c%c-%03d-%c%c", 'A'+v%26, 'A'+v/26%26, v%1000, 'A'+v/7%26, 'A'+v/11%26)
	case "passport":
		e.Value, e.Fields = fmt.Sprintf("X%07d", v), map[string]string{"country": country}
	default: // location
		w := vocabularyWord(len(commonWords) + v)
		e.Value = fmt.Sprintf("%s%s warehouse %d", strings.ToUpper(w[:1]), w[1:], v%100)
	}
	return e
}

// phoneWritten writes Nigerian mobile number v as +234 with spaces,
// without, or nationally (0…) when the originator is Nigerian.
func phoneWritten(r *rand.Rand, v int, country string) string {
	n := fmt.Sprintf("80%08d", v)
	switch r.IntN(3) {
	case 0:
		return "+234 " + n[:3] + " " + n[3:6] + " " + n[6:]
	case 1:
		if country == "NGA" {
			return "0" + n[:3] + " " + n[3:6] + " " + n[6:]
		}
	}
	return "+234" + n
}

// imoNumber is a valid IMO number: six digits and their check digit.
func imoNumber(v int) string {
	d := fmt.Sprintf("%06d", 100000+v%900000)
	sum := 0
	for k := range 6 {
		sum += int(d[k]-'0') * (7 - k)
	}
	return d + fmt.Sprint(sum%10)
}

// ibanNumber is a valid Spanish IBAN, grouped by four or not.
func ibanNumber(v int, grouped bool) string {
	bban := fmt.Sprintf("2100%016d", v)
	rem := 0
	for _, c := range bban + "142800" { // E=14, S=28, check digits 00
		rem = (rem*10 + int(c-'0')) % 97
	}
	iban := fmt.Sprintf("ES%02d%s", 98-rem, bban)
	if !grouped {
		return iban
	}
	var parts []string
	for k := 0; k < len(iban); k += 4 {
		parts = append(parts, iban[k:min(k+4, len(iban))])
	}
	return strings.Join(parts, " ")
}
