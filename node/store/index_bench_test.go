package store

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/concordnet/concord/protocol"
)

// BenchmarkIndexCost puts 20,000 bulletins of 5 entities each, from 32
// writers at once (so the group committer batches them as in a busy
// node), with and without the search indexes; it reports records/s and
// the index's bytes per record (logical: keys and values; disk: the
// store's size difference is in the log). Run with -benchtime=1x.
func BenchmarkIndexCost(b *testing.B) {
	for _, indexed := range []bool{false, true} {
		b.Run(fmt.Sprintf("indexed=%v", indexed), func(b *testing.B) {
			for range b.N {
				benchPut(b, indexed, benchN)
			}
		})
	}
}

// benchN is the bulletins each run puts.
var benchN = 20000

func benchPut(b *testing.B, indexed bool, n int) {
	dir := b.TempDir()
	s, err := Open(dir, testKey(), quiet)
	if err != nil {
		b.Fatal(err)
	}
	s.SetIndexing(indexed)
	const writers = 32
	recs := benchRecords(n, writers)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				r := recs[i]
				ref := EnvelopeRef{Topic: r.Topic, Author: r.Author, Seq: r.Seq, ID: r.Envelope}
				if r.Seq > 1 {
					prev := envID(r.Topic, r.Author, r.Seq-1)
					ref.Prev = prev[:]
				}
				if _, err := s.PutEnvelope(context.Background(), ref, make([]byte, 1500), r); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(indexBytes(b, s))/float64(n), "index-B/record")
	s.Close()
	b.Logf("indexed=%v: %d records in %s, store on disk %d bytes", indexed, n, elapsed.Round(time.Millisecond), dirSize(dir))
}

// benchRecords makes n bulletins from writers authors: a 60-word body
// from a Zipf-distributed 5,000-word vocabulary, and 5 entities drawn
// from pools where some values recur in many bulletins.
func benchRecords(n, writers int) []*BulletinRecord {
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := func(max uint64) uint64 { return uint64(float64(max) * rng.Float64() * rng.Float64() * rng.Float64()) }
	recs := make([]*BulletinRecord, n)
	topic := [32]byte{7}
	for i := range n {
		words := make([]string, 60)
		for j := range words {
			words[j] = fmt.Sprintf("w%d", zipf(5000))
		}
		ents := []protocol.Entity{
			{Type: "phone", Value: fmt.Sprintf("+234 80%08d", zipf(50000))},
			{Type: "email", Value: fmt.Sprintf("user%d@example.org", zipf(50000))},
			{Type: "iban", Value: fmt.Sprintf("GB%02dNWBK6016131392%04d", zipf(99), zipf(9999))},
			{Type: "person", Value: fmt.Sprintf("Person%d Family%d", zipf(3000), zipf(3000))},
			{Type: "vehicle", Value: fmt.Sprintf("AB-%03d-CD", zipf(999))},
		}
		author := fmt.Sprintf("author%018d", i%writers)
		at := created.Add(time.Duration(i) * time.Second)
		recs[i] = bulletin(topic, author, uint64(i/writers+1), fmt.Sprintf("bulletin%018d", i), at, 1,
			content("NGA", "Report "+words[0]+" "+words[1], strings.Join(words, " "), ents...))
	}
	return recs
}

// indexBytes sums the keys and values of the search indexes.
func indexBytes(b *testing.B, s *Store) int {
	total := 0
	err := s.View(func(txn *badger.Txn) error {
		for _, p := range []byte{pfxEntity, pfxEntityCount, pfxWord, pfxDoc} {
			if err := each(txn, []byte{p}, func(k, v []byte) error { total += len(k) + len(v); return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return total
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
