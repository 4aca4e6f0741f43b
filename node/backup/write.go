package backup

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"time"
)

// A Snapshotter writes a consistent snapshot of a database in Badger's
// backup format and returns the highest version it holds: the node's
// store.
type Snapshotter interface {
	Backup(w io.Writer) (version uint64, err error)
}

// Write writes an archive to w: m, the home's files (home holds each of
// HomeFiles by entry name), then db's snapshot in chunks, then db.json,
// which it returns. It buffers one chunk and never the whole snapshot.
func Write(w io.Writer, m Manifest, home map[string][]byte, db Snapshotter) (DB, error) {
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return DB{}, err
	}
	tw := tar.NewWriter(w)
	if err := writeEntry(tw, manifestEntry, manifest, m.Created); err != nil {
		return DB{}, err
	}
	for _, name := range homeFiles {
		data, ok := home[name]
		if !ok {
			return DB{}, fmt.Errorf("no %s to back up", name)
		}
		if err := writeEntry(tw, name, data, m.Created); err != nil {
			return DB{}, err
		}
	}
	return writeDB(tw, db, m.Created)
}

// writeDB writes the snapshot in chunks, then db.json, and ends the tar.
func writeDB(tw *tar.Writer, db Snapshotter, created time.Time) (DB, error) {
	cw := &chunkWriter{tw: tw, created: created, hash: sha256.New(), buf: make([]byte, 0, chunkSize)}
	version, err := db.Backup(cw)
	if err == nil {
		err = cw.flush()
	}
	if err != nil {
		return DB{}, fmt.Errorf("backing up the database: %w", err)
	}
	sum := DB{BadgerVersion: version, Bytes: cw.total, Chunks: cw.chunks, SHA256: hex.EncodeToString(cw.hash.Sum(nil))}
	data, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return sum, err
	}
	if err := writeEntry(tw, dbEntry, data, created); err != nil {
		return sum, err
	}
	return sum, tw.Close()
}

func writeEntry(tw *tar.Writer, name string, data []byte, mtime time.Time) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o600, ModTime: mtime}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func chunkName(i int) string { return fmt.Sprintf("%s%06d", chunkPrefix, i) }

// chunkWriter cuts the Badger stream into db.backup.NNNNNN entries.
type chunkWriter struct {
	tw      *tar.Writer
	created time.Time
	buf     []byte
	hash    hash.Hash
	total   int64
	chunks  int
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := min(len(p), cap(c.buf)-len(c.buf))
		c.buf = append(c.buf, p[:n]...)
		p, written = p[n:], written+n
		if len(c.buf) == cap(c.buf) {
			if err := c.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	if err := writeEntry(c.tw, chunkName(c.chunks), c.buf, c.created); err != nil {
		return err
	}
	c.hash.Write(c.buf)
	c.total += int64(len(c.buf))
	c.chunks++
	c.buf = c.buf[:0]
	return nil
}
