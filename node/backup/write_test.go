package backup

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/crypto"
)

// replay is a Snapshotter whose snapshot is a fixed stream.
type replay struct {
	stream  []byte
	version uint64
	err     error
}

func (r replay) Backup(w io.Writer) (uint64, error) {
	if r.err != nil {
		return 0, r.err
	}
	_, err := w.Write(r.stream)
	return r.version, err
}

func testManifest(t *testing.T) Manifest {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return Manifest{Format: Format, Created: time.Date(2026, 5, 1, 12, 30, 45, 0, time.UTC),
		MemberID: id.MemberID(), PeerID: id.PeerID().String(), Name: "Agency", Country: "KEN", Version: "v0.1.0"}
}

func testHome() map[string][]byte {
	home := map[string][]byte{}
	for _, name := range HomeFiles() {
		home[name] = []byte("contents of " + name + "\n")
	}
	return home
}

// archive writes an archive of the test home around stream.
func archive(t *testing.T, stream []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Write(&buf, testManifest(t), testHome(), replay{stream: stream, version: 9}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// entries lists an archive's entry names, in order.
func entries(t *testing.T, archive []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
}

// A snapshot larger than a chunk is cut into numbered chunks, and read
// back whole, with the home's files, through a Reader.
func TestWriteAndReadInChunks(t *testing.T) {
	stream := make([]byte, 2*chunkSize+12345)
	for i := range stream {
		stream[i] = byte(i * 7)
	}
	plain := archive(t, stream)
	want := append([]string{manifestEntry}, HomeFiles()...)
	want = append(want, chunkName(0), chunkName(1), chunkName(2), dbEntry)
	if got := entries(t, plain); !slices.Equal(got, want) {
		t.Fatalf("entries %q, want %q", got, want)
	}
	m, db, home, read := readWhole(t, plain)
	sum := sha256.Sum256(stream)
	if db.Chunks != 3 || db.Bytes != int64(len(stream)) || db.BadgerVersion != 9 || db.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("db.json says %+v", db)
	}
	if !bytes.Equal(read, stream) {
		t.Fatal("the stream read back differs from the one written")
	}
	for name, data := range testHome() {
		if !bytes.Equal(home[name], data) {
			t.Errorf("%s read back as %q", name, home[name])
		}
	}
	if m.Name != "Agency" || m.Format != Format {
		t.Fatalf("manifest read back as %+v", m)
	}
}

// readWhole reads a plain archive with a Reader that keeps the home files
// and the database stream it is given.
func readWhole(t *testing.T, plain []byte) (m Manifest, db DB, home map[string][]byte, stream []byte) {
	t.Helper()
	m, db, err := Reader{
		Home: func(_ Manifest, files map[string][]byte) error { home = files; return nil },
		DB: func(r io.Reader) (err error) {
			stream, err = io.ReadAll(r)
			return err
		},
	}.Read(bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	return m, db, home, stream
}

// A database that leaves what it was given unread is still checked to
// its end.
func TestReadChecksWhatTheDatabaseLeaves(t *testing.T) {
	plain := archive(t, []byte("the whole stream"))
	_, db, err := Reader{DB: func(r io.Reader) error {
		_, err := r.Read(make([]byte, 3))
		return err
	}}.Read(bytes.NewReader(plain))
	if err != nil || db.Bytes != int64(len("the whole stream")) {
		t.Fatalf("got %+v, %v", db, err)
	}
}

// An empty snapshot makes an archive of no chunks, which reads back.
func TestEmptySnapshot(t *testing.T) {
	plain := archive(t, nil)
	if _, db, err := Verify(bytes.NewReader(plain), "test"); err != nil || db.Chunks != 0 || db.Bytes != 0 {
		t.Fatalf("got %+v, %v", db, err)
	}
}

func TestWriteFailures(t *testing.T) {
	home := testHome()
	delete(home, "keys/"+crypto.StoreKeyFile)
	if _, err := Write(io.Discard, testManifest(t), home, replay{}); err == nil || !strings.Contains(err.Error(), "no keys/store.key") {
		t.Fatalf("a home without store.key: %v", err)
	}
	broken := errors.New("disk on fire")
	if _, err := Write(io.Discard, testManifest(t), testHome(), replay{err: broken}); !errors.Is(err, broken) || !strings.Contains(err.Error(), "backing up the database") {
		t.Fatalf("a failing snapshot: %v", err)
	}
}

// testdata/format1.tar was written by the code before this package: an
// archive of format 1 reads the same, and writing its parts again gives
// it byte for byte.
func TestFormat1ByteForByte(t *testing.T) {
	old, err := os.ReadFile("testdata/format1.tar")
	if err != nil {
		t.Fatal(err)
	}
	m, db, home, stream := readWhole(t, old)
	if m.Format != 1 || m.Name != "Test Agency" || m.Country != "KEN" || m.Version != "v0.1.0" ||
		!m.Created.Equal(time.Date(2026, 5, 1, 12, 30, 45, 0, time.UTC)) {
		t.Fatalf("manifest %+v", m)
	}
	if db != (DB{BadgerVersion: 3, Bytes: 77, Chunks: 1, SHA256: "75b5ef8303b122d162de50132357089895e7678397dfe908ee95ae3f84d17e1e"}) {
		t.Fatalf("db.json %+v", db)
	}
	if string(home[ConfigFile]) != "contents of config.toml\n" || len(home) != len(HomeFiles()) {
		t.Fatalf("home files %q", home)
	}
	var again bytes.Buffer
	if _, err := Write(&again, m, home, replay{stream: stream, version: db.BadgerVersion}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), old) {
		t.Fatal("writing testdata/format1.tar's parts again gives other bytes")
	}
}
