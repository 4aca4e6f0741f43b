package backup

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/crypto"
)

// rewrite copies a plain archive through edit, which returns an entry's
// new content, or nil to drop it.
func rewrite(t *testing.T, archive []byte, edit func(name string, data []byte) []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(archive)), tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if data = edit(hdr.Name, data); data == nil {
			continue
		}
		if err := writeEntry(tw, hdr.Name, data, hdr.ModTime); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	return out.Bytes()
}

// appendEntries writes more entries at the end of a plain archive.
func appendEntries(t *testing.T, archive []byte, hdrs ...*tar.Header) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		data, _ := io.ReadAll(tr)
		if err := writeEntry(tw, hdr.Name, data, hdr.ModTime); err != nil {
			t.Fatal(err)
		}
	}
	for _, hdr := range hdrs {
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(make([]byte, hdr.Size))
	}
	tw.Close()
	return out.Bytes()
}

// An archive cut short, out of order, or whose parts disagree with its
// manifest or db.json is refused with a reason.
func TestReadRefusesDamagedArchives(t *testing.T) {
	stream := make([]byte, chunkSize+10)
	plain := archive(t, stream)
	edited := func(edit func(name string, data []byte) []byte) []byte { return rewrite(t, plain, edit) }
	replaced := func(entry string, with func([]byte) []byte) []byte {
		return edited(func(name string, data []byte) []byte {
			if name == entry {
				return with(data)
			}
			return data
		})
	}
	drop := func([]byte) []byte { return nil }
	renamed := func(from, to string) []byte {
		var out bytes.Buffer
		tw, tr := tar.NewWriter(&out), tar.NewReader(bytes.NewReader(plain))
		for hdr, err := tr.Next(); err == nil; hdr, err = tr.Next() {
			data, _ := io.ReadAll(tr)
			if hdr.Name == from {
				hdr.Name = to
			}
			writeEntry(tw, hdr.Name, data, hdr.ModTime)
		}
		tw.Close()
		return out.Bytes()
	}
	for _, c := range []struct {
		name, want string
		file       []byte
	}{
		{"empty", "truncated", nil},
		{"truncated", "truncated", plain[:len(plain)*2/3]},
		{"newer format", "format 2, written by a newer concord (v0.1.0); this one (v0.0.9) reads format 1", replaced(manifestEntry, func(d []byte) []byte {
			return bytes.Replace(d, []byte(`"format": 1`), []byte(`"format": 2`), 1)
		})},
		{"format 0", "no valid format", replaced(manifestEntry, func(d []byte) []byte {
			return bytes.Replace(d, []byte(`"format": 1`), []byte(`"format": 0`), 1)
		})},
		{"manifest not json", "manifest.json", replaced(manifestEntry, func([]byte) []byte { return []byte("{") })},
		{"no member", "no valid member", replaced(manifestEntry, func(d []byte) []byte {
			return bytes.Replace(d, []byte(`"member_id": "`), []byte(`"member_id": "x`), 1)
		})},
		{"manifest too large", `entry "manifest.json" has`, replaced(manifestEntry, func(d []byte) []byte {
			return append(d, make([]byte, maxSmallEntry)...)
		})},
		{"no manifest", `it starts with "config.toml"`, replaced(manifestEntry, drop)},
		{"missing key", "keys/peer.key is missing", replaced("keys/"+crypto.PeerKeyFile, drop)},
		{"key twice", "keys/age.key appears twice", renamed("keys/"+crypto.PeerKeyFile, "keys/"+crypto.AgeKeyFile)},
		{"chunk missing", `chunk "db.backup.000001" where "db.backup.000000" was expected`, replaced(chunkName(0), drop)},
		{"chunk changed", "sha256", replaced(chunkName(1), func(d []byte) []byte { d[0] ^= 1; return d })},
		{"db.json not json", "db.json", replaced(dbEntry, func([]byte) []byte { return []byte("[") })},
		{"no db.json", "truncated", replaced(dbEntry, drop)},
		{"unknown entry", `unexpected entry "notes.txt" after the database`, renamed(dbEntry, "notes.txt")},
		{"entry after db.json", "entries follow db.json", appendEntries(t, plain, &tar.Header{Typeflag: tar.TypeReg, Name: "extra", Size: 1, Mode: 0o600})},
		{"not a regular file", `entry "keys" is not a regular file`, func() []byte {
			var out bytes.Buffer
			tw := tar.NewWriter(&out)
			writeEntry(tw, manifestEntry, bytes.Clone(firstEntry(t, plain)), time.Now())
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "keys", Mode: 0o700})
			tw.Close()
			return out.Bytes()
		}()},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Verify(bytes.NewReader(c.file), "v0.0.9")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}

// firstEntry returns the content of an archive's first entry.
func firstEntry(t *testing.T, archive []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(tr)
	return data
}
