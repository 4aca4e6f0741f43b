package backup

import (
	"archive/tar"
	"hash"
	"io"
	"strings"
)

// chunkReader joins the db.backup.NNNNNN entries into one stream. At its
// end, hdr is the header of the entry after them.
type chunkReader struct {
	tr      *tar.Reader
	hdr     *tar.Header
	inChunk bool
	done    bool
	chunks  int
	total   int64
	hash    hash.Hash
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for !c.done {
		if !c.inChunk {
			if err := c.enter(); err != nil || c.done {
				return 0, err
			}
		}
		n, err := c.tr.Read(p)
		c.hash.Write(p[:n])
		c.total += int64(n)
		switch {
		case err == io.EOF:
			c.inChunk = false
			if c.hdr, err = nextEntry(c.tr); err != nil {
				return n, err
			}
		case err != nil:
			return n, archiveReadError(err)
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, io.EOF
}

// enter starts reading the entry at hdr if it is the next chunk, and
// marks the stream done if it is not a chunk.
func (c *chunkReader) enter() error {
	switch {
	case c.hdr.Name == chunkName(c.chunks):
		c.inChunk = true
		c.chunks++
	case strings.HasPrefix(c.hdr.Name, chunkPrefix):
		return errBadArchive("chunk %q where %q was expected", c.hdr.Name, chunkName(c.chunks))
	default:
		c.done = true
	}
	return nil
}
