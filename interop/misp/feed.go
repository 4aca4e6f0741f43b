package misp

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ManifestEntry is one event in a feed's manifest.json, as MISP's feed
// fetcher reads it to decide which events to add or update.
type ManifestEntry struct {
	Info          string `json:"info"`
	Orgc          Org    `json:"Orgc"`
	Tag           []Tag  `json:"Tag"`
	Date          string `json:"date"`
	Analysis      string `json:"analysis"`
	ThreatLevelID string `json:"threat_level_id"`
	Timestamp     int64  `json:"timestamp"`
}

// File names of a MISP feed directory.
const (
	ManifestFile = "manifest.json"
	HashesFile   = "hashes.csv"
)

// WriteFeed adds events to the MISP feed directory dir (created if
// missing): one <uuid>.json per event, manifest.json and hashes.csv, each
// replaced atomically so that a fetch never reads half a file. Event files
// are written before the manifest that names them.
//
// Events already in the feed and absent from events are kept: MISP never
// deletes what a feed delivered. An event already in the feed is updated
// only by a newer one (its timestamp is later); the attributes, objects
// and reports the feed delivered before and the new version lacks are
// carried over marked deleted, so that MISP deletes them too (a revision
// that drops an entity, a revocation that erases all).
func WriteFeed(dir string, events []Event) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("misp feed: creating directory %s: %w", dir, err)
	}
	manifest, err := readManifest(dir)
	if err != nil {
		return err
	}
	hashes, err := readHashes(dir)
	if err != nil {
		return err
	}
	for _, e := range events {
		written, err := writeEvent(dir, e)
		if err != nil {
			return err
		}
		if written != nil {
			manifest[e.UUID] = manifestEntry(*written)
			hashes[e.UUID] = attributeHashes(*written)
		}
	}
	if err := writeHashes(dir, hashes); err != nil {
		return err
	}
	data, err := json.Marshal(manifest) // map keys sorted: stable output
	if err != nil {
		return fmt.Errorf("misp feed: encoding the manifest: %w", err)
	}
	return writeAtomic(dir, ManifestFile, data)
}

func readManifest(dir string) (map[string]ManifestEntry, error) {
	path := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]ManifestEntry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("misp feed: reading %s: %w", path, err)
	}
	var m map[string]ManifestEntry
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("misp feed: %s is not a MISP feed manifest (%v); point at an empty or Concord-written feed directory", path, err)
	}
	if m == nil {
		m = map[string]ManifestEntry{}
	}
	return m, nil
}

func readEvent(dir, uuid string) (*Event, error) {
	path := filepath.Join(dir, uuid+".json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("misp feed: reading %s: %w", path, err)
	}
	var e Event
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("misp feed: %s is not a MISP event (%v); remove it and export again", path, err)
	}
	return &e, nil
}

func manifestEntry(e Event) ManifestEntry {
	ts, _ := strconv.ParseInt(e.Timestamp, 10, 64)
	return ManifestEntry{Info: e.Info, Orgc: e.Orgc, Tag: e.Tag, Date: e.Date,
		Analysis: e.Analysis, ThreatLevelID: e.ThreatLevelID, Timestamp: ts}
}

// writeEvent writes e over its older version, merged (see WriteFeed). It
// returns the event written, or nil when the feed already holds a version
// at least as new.
func writeEvent(dir string, e Event) (*Event, error) {
	if !validUUID(e.UUID) {
		return nil, fmt.Errorf("misp feed: event %q has no valid uuid; build events with Events", e.Info)
	}
	old, err := readEvent(dir, e.UUID)
	if err != nil {
		return nil, err
	}
	if old != nil {
		if stamp(old.Timestamp) >= stamp(e.Timestamp) {
			return nil, nil
		}
		e = merge(*old, e)
	}
	data, err := json.MarshalIndent(e, "", " ")
	if err != nil {
		return nil, fmt.Errorf("misp feed: encoding event %s: %w", e.UUID, err)
	}
	return &e, writeAtomic(dir, e.UUID+".json", data)
}

func stamp(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// merge carries over, marked deleted, what old delivered and e lacks, and
// old's TLP tag when e (a revocation) has none.
func merge(old, e Event) Event {
	e.Attribute = slices.Clone(e.Attribute)
	for _, a := range old.Attribute {
		if !slices.ContainsFunc(e.Attribute, func(n Attribute) bool { return n.UUID == a.UUID }) {
			e.Attribute = append(e.Attribute, deletedAttr(a, e.Timestamp))
		}
	}
	e.Object = slices.Clone(e.Object)
	for _, o := range old.Object {
		if !slices.ContainsFunc(e.Object, func(n Object) bool { return n.UUID == o.UUID }) {
			o.Deleted, o.Timestamp = true, e.Timestamp
			o.Attribute = slices.Clone(o.Attribute)
			for i := range o.Attribute {
				o.Attribute[i] = deletedAttr(o.Attribute[i], e.Timestamp)
			}
			e.Object = append(e.Object, o)
		}
	}
	e.EventReport = slices.Clone(e.EventReport)
	for _, r := range old.EventReport {
		if !slices.ContainsFunc(e.EventReport, func(n EventReport) bool { return n.UUID == r.UUID }) {
			r.Deleted, r.Timestamp, r.Content = true, e.Timestamp, ""
			e.EventReport = append(e.EventReport, r)
		}
	}
	isTLP := func(t Tag) bool { return strings.HasPrefix(t.Name, "tlp:") }
	if !slices.ContainsFunc(e.Tag, isTLP) {
		if i := slices.IndexFunc(old.Tag, isTLP); i >= 0 {
			e.Tag = append(slices.Clone(e.Tag), old.Tag[i])
		}
	}
	return e
}

// deletedAttr is a, deleted: its value stays (MISP matches by UUID and
// keeps the value it has), its data goes.
func deletedAttr(a Attribute, ts string) Attribute {
	a.Deleted, a.Timestamp, a.Data = true, ts, ""
	return a
}

// attributeHashes returns the MD5 of every live attribute value, the
// quick-lookup cache MISP's feed correlation reads from hashes.csv.
func attributeHashes(e Event) []string {
	var hs []string
	add := func(a Attribute) {
		if !a.Deleted {
			sum := md5.Sum([]byte(a.Value))
			hs = append(hs, hex.EncodeToString(sum[:]))
		}
	}
	for _, a := range e.Attribute {
		add(a)
	}
	for _, o := range e.Object {
		for _, a := range o.Attribute {
			if !o.Deleted {
				add(a)
			}
		}
	}
	return hs
}

// readHashes reads hashes.csv by event: each line is "<md5>,<event uuid>",
// the order MISP's feed cache reads (Feed::getCache) and PyMISP writes.
func readHashes(dir string) (map[string][]string, error) {
	path := filepath.Join(dir, HashesFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string][]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("misp feed: reading %s: %w", path, err)
	}
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		hash, uuid, ok := strings.Cut(sc.Text(), ",")
		if !ok {
			return nil, fmt.Errorf("misp feed: %s line %d is not <md5>,<event uuid>; remove the file to rebuild it", path, n)
		}
		m[uuid] = append(m[uuid], hash)
	}
	return m, sc.Err()
}

func writeHashes(dir string, hashes map[string][]string) error {
	var b bytes.Buffer
	for _, uuid := range slices.Sorted(maps.Keys(hashes)) {
		for _, h := range hashes[uuid] {
			b.WriteString(h + "," + uuid + "\n")
		}
	}
	return writeAtomic(dir, HashesFile, b.Bytes())
}

// writeAtomic replaces dir/name with data: a temporary file in the same
// directory, synced, then renamed over the old one, so a reader sees the
// old file or the new one, never part of one.
func writeAtomic(dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("misp feed: writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644) // MISP's web server user reads the feed
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("misp feed: writing %s: %w", path, err)
	}
	return nil
}
