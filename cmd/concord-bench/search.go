package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/concordnet/concord/entity"
	"github.com/concordnet/concord/node/nodetest"
	"github.com/concordnet/concord/node/store"
)

// Units of the search and un rows that the other scenarios do not use; both are
// better lower.
const (
	unitBytes = "bytes"
	unitCount = "count"
)

// searchQueries is how many random queries of each kind are timed.
const searchQueries = 300

// The goals (2-core machine).
const (
	goalIndexShare = 0.7 // indexing costs at most 30% of ingest throughput
	goalEntityP50  = 2 * time.Millisecond
	goalTextP50    = 20 * time.Millisecond
	goalRelatedP50 = 10 * time.Millisecond
)

// benchSearch measures the entity and full-text indexes of node/store on
// -search-bulletins generated bulletins with 5 entities each: the cost of
// building them (the same records put through the same store with and
// without the index, and as a plain Badger batch), their size on disk,
// query latency and memory, and the postings against the pairs a
// pairwise correlation table would hold.
func benchSearch(ctx context.Context, b *bench) error {
	n := b.cfg.searchBulletins
	dir := filepath.Join(b.dir, "search")
	b.progress("search: %d bulletins with %d entities each", n, searchEntities)
	plain, err := b.fillSearch(ctx, filepath.Join(dir, "plain"), n, true)
	if err != nil {
		return err
	}
	raw, err := b.rawSearch(filepath.Join(dir, "raw"), n)
	if err != nil {
		return err
	}
	indexed, err := b.fillSearch(ctx, filepath.Join(dir, "indexed"), n, false)
	if err != nil {
		return err
	}
	if err := b.querySearch(indexed.st, n, plain.mem); err != nil {
		indexed.st.Close()
		return err
	}
	// Sizes after Close: an open Badger has preallocated memtable and
	// value-log files.
	if err := indexed.st.Close(); err != nil {
		return err
	}
	indexed.bytes, _ = dirBytes(filepath.Join(dir, "indexed"))
	b.reportBuild(n, plain, indexed, raw)
	return nil
}

// querySearch measures the indexed store: latency, memory, postings.
func (b *bench) querySearch(st *store.Store, n int, plain procMem) error {
	if err := b.searchLatency(st, n); err != nil {
		return err
	}
	b.reportMemory(plain, memNow())
	return b.reportPairs(st, n)
}

// searchFill is one store filled with the corpus.
type searchFill struct {
	st    *store.Store // open, for the indexed fill only
	rate  float64      // bulletins per second
	bytes int64        // on disk, after Close for the unindexed one
	mem   procMem      // with the store open, after a GC
}

// fillSearch puts the n bulletins into a new store through PutEnvelope
// from -ingest-workers goroutines, as Node.Ingest does after decryption.
// Sealed records carry the same bytes but the store indexes no sealed
// record: that is the same store path without the search index.
func (b *bench) fillSearch(ctx context.Context, dir string, n int, sealed bool) (_ searchFill, err error) {
	what := map[bool]string{true: "without the search index (sealed records)", false: "with the search index"}[sealed]
	b.progress("  store %s", what)
	key := make([]byte, 32)
	rand.Read(key)
	st, err := store.Open(dir, key, slog.New(slog.DiscardHandler))
	if err != nil {
		return searchFill{}, err
	}
	var d time.Duration
	b.profile(map[bool]string{true: "search-plain", false: "search-indexed"}[sealed], func() {
		d, err = inChunks(n, sealed, func(items []searchPut) error { return b.putChunk(ctx, st, items) })
	})
	fill := searchFill{rate: float64(n) / d.Seconds()}
	if err != nil {
		st.Close()
		return fill, err
	}
	b.progress("    %.0f bulletins/s", fill.rate)
	fill.mem = memNow()
	if sealed {
		if err := checkUnindexed(st); err != nil {
			st.Close()
			return fill, err
		}
		err = st.Close()
	}
	fill.st = map[bool]*store.Store{false: st}[sealed]
	if sealed {
		fill.bytes, _ = dirBytes(dir)
	}
	return fill, err
}

// searchPut is one bulletin ready to be written.
type searchPut struct {
	item searchItem
	rec  *store.BulletinRecord
}

// searchChunk is how many bulletins are generated before being written:
// generating takes as long as a raw write, so it stays out of the timing.
const searchChunk = 2000

// inChunks generates the n bulletins a chunk at a time and returns the
// time write took over all chunks.
func inChunks(n int, sealed bool, write func([]searchPut) error) (time.Duration, error) {
	var total time.Duration
	for from := 0; from < n; from += searchChunk {
		items := make([]searchPut, min(searchChunk, n-from))
		for k := range items {
			it := makeSearchItem(from + k)
			rec, err := it.record(sealed)
			if err != nil {
				return total, err
			}
			it.withEnvelope(len(rec.Bulletin))
			items[k] = searchPut{it, rec}
		}
		start := time.Now()
		if err := write(items); err != nil {
			return total, err
		}
		total += time.Since(start)
	}
	return total, nil
}

// putChunk puts items through PutEnvelope from -ingest-workers goroutines.
func (b *bench) putChunk(ctx context.Context, st *store.Store, items []searchPut) error {
	var next atomic.Int64
	return nodetest.Parallel(b.cfg.ingestWorkers, b.cfg.ingestWorkers, func(int) error {
		for k := int(next.Add(1)) - 1; k < len(items); k = int(next.Add(1)) - 1 {
			p := items[k]
			res, err := st.PutEnvelope(ctx, p.item.ref, p.item.raw, p.rec)
			if err == nil && res != store.Stored {
				err = fmt.Errorf("store answered %d, not Stored", res)
			}
			if err != nil {
				return fmt.Errorf("putting bulletin %s: %w", p.rec.ID, err)
			}
		}
		return nil
	})
}

// checkUnindexed makes sure the baseline store holds no postings: if the
// store indexed sealed records, the comparison would be meaningless.
func checkUnindexed(st *store.Store) error {
	it := makeSearchItem(0)
	k := entity.Normalize(it.bulletin.Entities[0], it.bulletin.Originator.Country)
	if _, total, err := st.EntityPostings(k, 1); err != nil || total > 0 {
		return fmt.Errorf("the baseline store indexed sealed records (%d postings of %s, %v): the index-cost comparison needs a store path without the index", total, k, err)
	}
	return nil
}

// rawSearch writes the same envelope and record bytes in Badger
// WriteBatches of searchChunk, keyed as the store keys them, and returns
// bulletins/s.
func (b *bench) rawSearch(dir string, n int) (float64, error) {
	b.progress("  plain Badger WriteBatch of the same envelopes and records")
	db, err := openBadger(dir)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	d, err := inChunks(n, false, func(items []searchPut) error { return writeChunk(db, items) })
	if err != nil {
		return 0, err
	}
	rate := float64(n) / d.Seconds()
	b.progress("    %.0f bulletins/s", rate)
	return rate, nil
}

// writeChunk writes items in one WriteBatch, flushed.
func writeChunk(db *badger.DB, items []searchPut) error {
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	for _, p := range items {
		val, err := json.Marshal(p.rec) // as the store writes it
		if err != nil {
			return err
		}
		if err := wb.Set(append([]byte{'e'}, p.item.ref.ID[:]...), p.item.raw); err != nil {
			return err
		}
		if err := wb.Set(append([]byte{'b'}, p.rec.ID...), val); err != nil {
			return err
		}
	}
	return wb.Flush()
}

func (b *bench) reportBuild(n int, plain, indexed searchFill, raw float64) {
	b.rep.add("search-index-build", unitPerS, indexed.rate, plain.rate)
	b.rep.add("search-index-build-raw", unitPerS, indexed.rate, raw)
	perBulletin := func(f searchFill) float64 { return float64(f.bytes) / float64(n) }
	b.rep.add("search-index-bytes", unitBytes, perBulletin(indexed), perBulletin(plain))
	share := indexed.rate / plain.rate
	b.rep.note("search-index-build: %d bulletins (5 entities, ~%d words of text each) through store.PutEnvelope from %d goroutines; baseline: the same records sealed, which the store does not index; search-index-build-raw: baseline Badger WriteBatches of %d of the same envelope and record bytes (bulletins are generated %d at a time, outside the timing)",
		n, searchBodyWords+33, b.cfg.ingestWorkers, searchChunk, searchChunk)
	b.rep.note("search goal, indexing costs at most 30%% of ingest throughput: %s (%.0f/s with the index, %.0f/s without: %.0f%% kept; a raw WriteBatch: %.0f/s)",
		metOrMissed(share >= goalIndexShare), indexed.rate, plain.rate, 100*share, raw)
	b.rep.note("search-index-bytes: the database's files per bulletin; the index takes %.0f bytes per bulletin (%.1f MiB with, %.1f MiB without)",
		perBulletin(indexed)-perBulletin(plain), mib64(indexed.bytes), mib64(plain.bytes))
}

func metOrMissed(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func mib64(n int64) float64 { return float64(n) / (1 << 20) }

// dirBytes sums the sizes of the files under dir.
func dirBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return err
	})
	return total, err
}

// procMem is the Go heap in use and the process's memory, in MiB.
type procMem struct {
	heap float64
	proc memStat
}

// memNow collects garbage first, so that the heap is what is live.
func memNow() procMem {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := procMem{heap: float64(ms.HeapInuse) / (1 << 20)}
	m.proc, _ = readMem(os.Getpid()) // zero off Linux; the heap is still there
	return m
}

func (b *bench) reportMemory(plain, indexed procMem) {
	b.rep.add("search-heap", unitMiB, indexed.heap, plain.heap)
	b.rep.note("search-heap: Go heap in use (after a GC) of this process with the indexed store open after the queries; baseline: with the unindexed store open after its fill. Process RSS %.1f MiB (anonymous %.1f, mapped files %.1f) vs %.1f MiB; the systemd unit's cap is MemoryHigh=200M",
		indexed.proc.rss, indexed.proc.anon, indexed.proc.file, plain.proc.rss)
}

// searchLatency times random queries of each kind on the indexed store,
// against listing a topic's newest bulletins (what an analyst has without
// search), and reports them against the goals.
func (b *bench) searchLatency(st *store.Store, n int) error {
	b.progress("  %d random queries of each kind", searchQueries)
	kinds := []struct {
		name string
		goal time.Duration
		run  func(i int, pick int) error
	}{
		{"entity", goalEntityP50, func(i, pick int) error { return entityQuery(st, i, pick) }},
		{"text", goalTextP50, func(i, pick int) error { return textQuery(st, i, pick) }},
		{"related", goalRelatedP50, func(i, _ int) error { return relatedQuery(st, i) }},
	}
	list, err := timeQueries(n, func(i, _ int) error { return listQuery(st, i) })
	if err != nil {
		return err
	}
	for _, k := range kinds {
		var l latencies
		b.profile("search-"+k.name, func() { l, err = timeQueries(n, k.run) })
		if err != nil {
			return fmt.Errorf("%s queries: %w", k.name, err)
		}
		b.rep.add("search-"+k.name+"-p50", unitMs, ms(l.p50), ms(list.p50))
		b.rep.add("search-"+k.name+"-p99", unitMs, ms(l.p99), ms(list.p99))
		b.rep.note("search goal, %s p50 ≤ %v: %s (p50 %.2f ms, p99 %.2f ms, max %.2f ms)",
			k.name, k.goal, metOrMissed(l.p50 <= k.goal), ms(l.p50), ms(l.p99), ms(l.max))
	}
	b.rep.note("search-*-p50/p99: %d queries each, started from random bulletins (entity: one of its entities, EntityPostings limit 20; text: two of its words, Search limit 20; related: BulletinEntities then EntityPostings limit 10 per key); baseline: List of a topic's newest 20", searchQueries)
	return nil
}

// timeQueries runs searchQueries queries, each from a random bulletin
// and a random pick inside it, and summarises their latencies.
func timeQueries(n int, run func(i, pick int) error) (latencies, error) {
	r := searchRand(-1)
	samples := make([]time.Duration, 0, searchQueries)
	for range searchQueries {
		i, pick := r.IntN(n), r.IntN(1<<30)
		start := time.Now()
		if err := run(i, pick); err != nil {
			return latencies{}, err
		}
		samples = append(samples, time.Since(start))
	}
	return summarize(samples, searchQueries), nil
}

func entityQuery(st *store.Store, i, pick int) error {
	bu := makeSearchItem(i).bulletin
	k := entity.Normalize(bu.Entities[pick%len(bu.Entities)], bu.Originator.Country)
	ids, total, err := st.EntityPostings(k, 20)
	if err == nil && (total < 1 || len(ids) < 1) {
		err = fmt.Errorf("EntityPostings(%s) found nothing, but bulletin %d holds it", k, i)
	}
	return err
}

func textQuery(st *store.Store, i, pick int) error {
	bu := makeSearchItem(i).bulletin
	words := entity.Words(bu.Title + " " + bu.Summary + " " + bu.Body)
	w1, w2 := words[pick%len(words)], words[(pick/7+1)%len(words)]
	hits, err := st.Search(store.TextQuery{Words: []string{w1, w2}, Limit: 20})
	if err == nil && len(hits) == 0 {
		err = fmt.Errorf("Search(%q %q) found nothing, but bulletin %d holds both", w1, w2, i)
	}
	return err
}

func relatedQuery(st *store.Store, i int) error {
	keys, err := st.BulletinEntities(benchBulletinID(i))
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return fmt.Errorf("bulletin %d has no entities in the index", i)
	}
	for _, k := range keys {
		if _, _, err := st.EntityPostings(k, 10); err != nil {
			return err
		}
	}
	return nil
}

func listQuery(st *store.Store, i int) error {
	topic := searchTopic(i % searchTopics)
	recs, err := st.List(store.Query{Topic: &topic, Limit: 20})
	if err == nil && len(recs) == 0 {
		err = fmt.Errorf("topic %d lists nothing", i%searchTopics)
	}
	return err
}

// reportPairs counts what a pairwise correlation table would hold for
// the corpus (n·(n−1)/2 bulletin pairs per value shared by n bulletins)
// against the postings the store holds (one per value and bulletin),
// which it checks by asking the index for every value's total.
func (b *bench) reportPairs(st *store.Store, n int) error {
	b.progress("  postings vs pairs")
	counts := map[entity.Key]int{}
	for i := range n {
		bu := makeSearchItem(i).bulletin
		seen := map[entity.Key]bool{}
		for _, e := range bu.Entities {
			for _, k := range entity.Keys(e, bu.Originator.Country) {
				k.Flagged = false
				if !seen[k] {
					seen[k] = true
					counts[k]++
				}
			}
		}
	}
	var postings, stored, pairs, top int
	for k, c := range counts {
		postings += c
		pairs += c * (c - 1) / 2
		top = max(top, c)
		_, total, err := st.EntityPostings(k, 1)
		if err != nil {
			return err
		}
		stored += total
	}
	b.rep.add("search-correlations", unitCount, float64(stored), float64(pairs))
	b.rep.note("search-correlations: %d entity postings in the index (%d expected from %d distinct values, the most common in %d bulletins); baseline: %d pairs a pairwise correlation table would store for the same data",
		stored, postings, len(counts), top, pairs)
	return nil
}
