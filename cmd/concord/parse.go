package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/concordnet/concord/protocol"
)

// parseEntity reads --entity TYPE=VALUE[;KEY=VALUE...]. A value cannot
// hold ";": use a Markdown file's front matter for such values.
func parseEntity(s string) (protocol.Entity, error) {
	parts := strings.Split(s, ";")
	typ, val, ok := strings.Cut(parts[0], "=")
	typ, val = strings.TrimSpace(typ), strings.TrimSpace(val)
	if !ok || typ == "" || val == "" {
		return protocol.Entity{}, usageError{fmt.Errorf("--entity %q: want TYPE=VALUE, optionally followed by ;KEY=VALUE fields, e.g. \"vessel=MV Aurora;imo=9321483\"", s)}
	}
	if !slices.Contains(protocol.EntityTypes(), typ) {
		return protocol.Entity{}, usageError{fmt.Errorf("--entity %q: %q is not an entity type (%s)", s, typ, strings.Join(protocol.EntityTypes(), ", "))}
	}
	e := protocol.Entity{Type: typ, Value: val}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return e, usageError{fmt.Errorf("--entity %q: field %q is not KEY=VALUE", s, p)}
		}
		if _, dup := e.Fields[k]; dup {
			return e, usageError{fmt.Errorf("--entity %q: field %q is given twice", s, k)}
		}
		if e.Fields == nil {
			e.Fields = map[string]string{}
		}
		e.Fields[k] = v
	}
	return e, nil
}

// addReference reads --reference KIND:ID into refs.
func addReference(refs *protocol.References, s string) error {
	kind, id, _ := strings.Cut(s, ":")
	lists := map[string]*[]string{"supersedes": &refs.Supersedes, "extends": &refs.Extends, "in_reply_to": &refs.InReplyTo}
	list := lists[strings.ReplaceAll(kind, "-", "_")]
	if list == nil {
		return usageError{fmt.Errorf("--reference %q: want KIND:ID where KIND is supersedes, extends or in_reply_to", s)}
	}
	if !protocol.ValidBulletinID(id) {
		return usageError{fmt.Errorf("--reference %q: %q is not a bulletin ID (%d characters, as `concord list` shows)", s, id, protocol.BulletinIDLen)}
	}
	*list = append(*list, id)
	return nil
}

// parseValidUntil reads --valid-until: a date means 00:00 UTC that day,
// as in a Markdown file's front matter.
func parseValidUntil(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, usageError{fmt.Errorf("--valid-until %q is neither a date (YYYY-MM-DD) nor an RFC 3339 time (2026-12-31T18:00:00Z)", s)}
	}
	return t.UTC(), nil
}

// readAttachment reads --attach FILE; its media type comes from the
// extension, else from the content.
func readAttachment(path string) (protocol.Attachment, error) {
	f, err := os.Open(path)
	if err != nil {
		return protocol.Attachment{}, fmt.Errorf("attachment: %w", err)
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return protocol.Attachment{}, fmt.Errorf("attachment %s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, protocol.MaxAttachmentBytes+1))
	if err != nil {
		return protocol.Attachment{}, fmt.Errorf("attachment: %w", err)
	}
	if len(data) > protocol.MaxAttachmentBytes {
		return protocol.Attachment{}, fmt.Errorf("attachment %s is larger than the %d KiB a bulletin's attachments may hold together: share a smaller extract",
			path, protocol.MaxAttachmentBytes>>10)
	}
	return protocol.NewAttachment(filepath.Base(path), "", data), nil
}

// parseSince reads --since: an RFC 3339 time, a date (00:00 UTC), or a
// duration such as 24h, 90m or 7d meaning that long before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usageError{fmt.Errorf("--since %q is not an RFC 3339 time (2026-05-01T08:00:00Z), a date (2026-05-01) or a duration back from now (24h, 90m, 7d)", s)}
}
