package main

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/concordnet/concord/protocol"
)

func TestParseEntity(t *testing.T) {
	e, err := parseEntity("vessel=MV Aurora; imo=9321483 ;flag=PAN")
	want := protocol.Entity{Type: "vessel", Value: "MV Aurora", Fields: map[string]string{"imo": "9321483", "flag": "PAN"}}
	if err != nil || !reflect.DeepEqual(e, want) {
		t.Fatalf("got %+v, %v; want %+v", e, err, want)
	}
	// A value may hold "=": only the first one separates type and value.
	if e, err := parseEntity("other=a=b"); err != nil || e.Value != "a=b" {
		t.Fatalf("other=a=b: got %+v, %v", e, err)
	}
	for _, bad := range []string{"", "vessel", "vessel=", "=x", "boat=x", "phone=1;x", "phone=1;=y", "phone=1;a=1;a=2"} {
		var u usageError
		if _, err := parseEntity(bad); !errors.As(err, &u) {
			t.Errorf("%q: got %v, want a usage error", bad, err)
		}
	}
}

func TestAddReference(t *testing.T) {
	id := protocol.NewBulletinID(protocol.TopicID{}, "")
	var r protocol.References
	for _, s := range []string{"supersedes:" + id, "extends:" + id, "in_reply_to:" + id, "in-reply-to:" + id} {
		if err := addReference(&r, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if len(r.Supersedes) != 1 || len(r.Extends) != 1 || len(r.InReplyTo) != 2 {
		t.Fatalf("got %+v", r)
	}
	for _, bad := range []string{id, "follows:" + id, "extends:" + id[:10], "extends:"} {
		if err := addReference(&r, bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-05-01T08:00:00+02:00": time.Date(2026, 5, 1, 6, 0, 0, 0, time.UTC),
		"2026-05-01":                time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC),
		"24h":                       now.Add(-24 * time.Hour),
		"90m":                       now.Add(-90 * time.Minute),
		"7d":                        now.AddDate(0, 0, -7),
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-24h", "-1d", "2026-13-01"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseValidUntil(t *testing.T) {
	got, err := parseValidUntil("2026-12-31")
	if err != nil || !got.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("date: got %v, %v", got, err)
	}
	got, err = parseValidUntil("2026-12-31T18:00:00+01:00")
	if err != nil || got.Location() != time.UTC || got.Hour() != 17 {
		t.Fatalf("RFC 3339: got %v, %v", got, err)
	}
	if _, err := parseValidUntil("31/12/2026"); err == nil {
		t.Fatal("31/12/2026: no error")
	}
}

func TestWatchLine(t *testing.T) {
	got := watchLine([]string{"id", "12", "when", "a topic name longer than twenty-six", "AMBER", "ESP Policía Nacional", "title"})
	want := "id                          12   when              a topic name longer than…   AMBER         ESP Policía Nacional            title\n"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
