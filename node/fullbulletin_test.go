package node

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/concordnet/concord/protocol"
)

// attachment returns an attachment of size pseudo-random bytes: nothing
// else in a store looks like them.
func attachment(size int, seed uint64) protocol.Attachment {
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	return protocol.NewAttachment("capture.bin", "application/octet-stream", data)
}

// Records keep attachments without their bytes; show and revise get them
// whole from the envelope, on the publisher's node and on a receiver's.
func TestRecordsHoldNoAttachmentBytes(t *testing.T) {
	ctx := context.Background()
	nodes, id := federation(t, 2, "drug-trafficking")
	a, b := nodes[0], nodes[1]
	att := attachment(48<<10, 7)
	d := draft("with a capture")
	d.Attachments = []protocol.Attachment{att}
	orig := publish(t, a, id, d)
	eventually(t, 20*time.Second, "b misses the bulletin", func() bool { return readable(b, orig.ID) })

	encoded := []byte(base64.StdEncoding.EncodeToString(att.Data)[:64])
	for _, n := range nodes {
		rec := record(n, orig.ID)
		raw, _ := json.Marshal(rec)
		if bytes.Contains(raw, encoded) || bytes.Contains(raw, att.Data[:64]) {
			t.Fatalf("%s: the record holds the attachment's bytes", n.cfg.Member.Name)
		}
		var held protocol.Bulletin
		if err := json.Unmarshal(rec.Bulletin, &held); err != nil || len(held.Attachments) != 1 || held.Attachments[0].SHA256 != att.SHA256 || held.Attachments[0].Size != att.Size {
			t.Fatalf("%s: the record lost the attachment's description: %+v, %v", n.cfg.Member.Name, held.Attachments, err)
		}
		v := show(t, n, orig.ID)
		if len(v.Content.Attachments) != 1 || !bytes.Equal(v.Content.Attachments[0].Data, att.Data) {
			t.Fatalf("%s: show does not return the attachment's bytes", n.cfg.Member.Name)
		}
	}

	// Revise starts from the whole current version.
	cur, err := a.currentVersion(orig.ID)
	if err != nil || len(cur.Attachments) != 1 || !bytes.Equal(cur.Attachments[0].Data, att.Data) {
		t.Fatalf("current version without its attachment's bytes: %v", err)
	}
	next := cur.Draft()
	next.Title = "with a capture, revised"
	if _, err := a.Revise(ctx, orig.ID, next); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "b misses version 2", func() bool { return record(b, orig.ID).Version == 2 })
	if v := show(t, b, orig.ID); len(v.Content.Attachments) != 1 || !bytes.Equal(v.Content.Attachments[0].Data, att.Data) {
		t.Fatal("version 2 shows without the attachment's bytes")
	}
}

// BenchmarkDiskPerAttachmentBulletin reports the database's size on disk
// per bulletin carrying a 256 KiB attachment.
func BenchmarkDiskPerAttachmentBulletin(bm *testing.B) {
	const n = 40
	for range bm.N {
		nd := startNode(bm, "Agency", "FRA")
		s, err := nd.CreateTopic(context.Background(), "drug-trafficking", "Test topic", protocol.Policy{})
		if err != nil {
			bm.Fatal(err)
		}
		for i := range n {
			d := draft("capture")
			d.Attachments = []protocol.Attachment{attachment(256<<10, uint64(i))}
			publish(bm, nd, s.ID, d)
		}
		if err := nd.Close(); err != nil {
			bm.Fatal(err)
		}
		var size int64
		filepath.WalkDir(nd.home.DB(), func(_ string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				if info, err := e.Info(); err == nil {
					size += info.Size()
				}
			}
			return nil
		})
		bm.ReportMetric(float64(size)/n, "disk-bytes/bulletin")
	}
}
