package backup

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/concordnet/concord/crypto"
)

// A Reader reads a decrypted archive to its end and checks it against
// its manifest and db.json, handing its parts to its callbacks in order;
// a nil callback skips its part, which is still read and checked.
type Reader struct {
	// Build is this build's version, named when an archive has a newer
	// format.
	Build string
	// Home receives the checked manifest, then config.toml and the keys
	// by entry name, before the database.
	Home func(m Manifest, files map[string][]byte) error
	// DB reads the Badger backup stream; whatever it leaves is read and
	// checked after it.
	DB func(io.Reader) error
}

// Verify reads a decrypted archive to its end and checks its layout and
// the size and digest of its database stream. build is this build's
// version, for the error that refuses a newer format.
func Verify(r io.Reader, build string) (Manifest, DB, error) {
	return Reader{Build: build}.Read(r)
}

// errBadArchive qualifies every error due to the archive's content.
func errBadArchive(format string, a ...any) error {
	return fmt.Errorf("the backup is damaged or not a concord backup: "+format, a...)
}

// archiveReadError explains a failure to read or decrypt the file.
func archiveReadError(err error) error {
	return fmt.Errorf("reading the backup: %w (the file is truncated or has been altered)", err)
}

// Read walks the archive in r and returns its manifest and db.json once
// all of it has been read and checked.
func (rd Reader) Read(r io.Reader) (Manifest, DB, error) {
	var m Manifest
	var db DB
	tr := tar.NewReader(r)
	hdr, err := nextEntry(tr)
	if err != nil {
		return m, db, err
	}
	if err := rd.readManifest(tr, hdr, &m); err != nil {
		return m, db, err
	}
	files, hdr, err := readHomeFiles(tr)
	if err != nil {
		return m, db, err
	}
	if rd.Home != nil {
		if err := rd.Home(m, files); err != nil {
			return m, db, err
		}
	}
	if db, err = rd.readDB(tr, hdr); err != nil {
		return m, db, err
	}
	if _, err := tr.Next(); err != io.EOF {
		return m, db, errBadArchive("entries follow %s", dbEntry)
	}
	// Reading to the very end lets age authenticate the last chunk.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return m, db, archiveReadError(err)
	}
	return m, db, nil
}

// nextEntry returns the next regular entry; the archive must have one.
func nextEntry(tr *tar.Reader) (*tar.Header, error) {
	hdr, err := tr.Next()
	if err == io.EOF {
		return nil, errBadArchive("the archive ends before %s: the file is truncated", dbEntry)
	}
	if err != nil {
		return nil, archiveReadError(err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, errBadArchive("entry %q is not a regular file", hdr.Name)
	}
	return hdr, nil
}

func readSmall(tr *tar.Reader, hdr *tar.Header) ([]byte, error) {
	if hdr.Size > maxSmallEntry {
		return nil, errBadArchive("entry %q has %d bytes", hdr.Name, hdr.Size)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return nil, archiveReadError(err)
	}
	return data, nil
}

func (rd Reader) readManifest(tr *tar.Reader, hdr *tar.Header, m *Manifest) error {
	if hdr.Name != manifestEntry {
		return errBadArchive("it starts with %q, not %s", hdr.Name, manifestEntry)
	}
	data, err := readSmall(tr, hdr)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, m); err != nil {
		return errBadArchive("%s: %v", manifestEntry, err)
	}
	switch {
	case m.Format > Format:
		return fmt.Errorf("this backup has format %d, written by a newer concord (%s); this one (%s) reads format %d: restore it with a concord at least as new", m.Format, m.Version, rd.Build, Format)
	case m.Format != Format:
		return errBadArchive("%s has no valid format", manifestEntry)
	case !crypto.ValidMemberID(m.MemberID) || m.Created.IsZero():
		return errBadArchive("%s names no valid member or creation time", manifestEntry)
	}
	return nil
}

// readHomeFiles reads config.toml and the keys, each exactly once, and
// returns them with the header of the entry after them.
func readHomeFiles(tr *tar.Reader) (map[string][]byte, *tar.Header, error) {
	files := map[string][]byte{}
	for {
		hdr, err := nextEntry(tr)
		if err != nil {
			return nil, nil, err
		}
		if !slices.Contains(homeFiles, hdr.Name) {
			for _, name := range homeFiles {
				if files[name] == nil {
					return nil, nil, errBadArchive("%s is missing (found %q)", name, hdr.Name)
				}
			}
			return files, hdr, nil
		}
		if files[hdr.Name] != nil {
			return nil, nil, errBadArchive("%s appears twice", hdr.Name)
		}
		if files[hdr.Name], err = readSmall(tr, hdr); err != nil {
			return nil, nil, err
		}
	}
}

// readDB hands the chunks from hdr on to rd.DB, reads the rest of them,
// and checks the stream against db.json, the entry after them.
func (rd Reader) readDB(tr *tar.Reader, hdr *tar.Header) (DB, error) {
	var db DB
	cr := &chunkReader{tr: tr, hdr: hdr, hash: sha256.New()}
	if rd.DB != nil {
		if err := rd.DB(cr); err != nil {
			return db, err
		}
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return db, err
	}
	if cr.hdr.Name != dbEntry {
		return db, errBadArchive("unexpected entry %q after the database", cr.hdr.Name)
	}
	data, err := readSmall(tr, cr.hdr)
	if err != nil {
		return db, err
	}
	if err := json.Unmarshal(data, &db); err != nil {
		return db, errBadArchive("%s: %v", dbEntry, err)
	}
	if sum := hex.EncodeToString(cr.hash.Sum(nil)); db.Bytes != cr.total || db.Chunks != cr.chunks || db.SHA256 != sum {
		return db, errBadArchive("the database stream has %d bytes in %d chunks (sha256 %s), %s says %d in %d (sha256 %s)",
			cr.total, cr.chunks, sum, dbEntry, db.Bytes, db.Chunks, db.SHA256)
	}
	return db, nil
}
