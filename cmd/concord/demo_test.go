package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The demo runs a real federation; it must converge and show, on every
// node, the three bulletins, with Brazil's restricted one sealed on Nigeria.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := runDemo(ctx, &out, false); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	text := out.String()
	views := strings.Split(text, "== what ")
	if len(views) != 4 {
		t.Fatalf("want three node views, got:\n%s", text)
	}
	title := regexp.MustCompile(`Santos port broker`)
	for _, v := range views[1:] {
		country := v[:3]
		if !strings.Contains(v, "Container of cocaine") || !strings.Contains(v, "Courier network") {
			t.Fatalf("%s view misses a bulletin:\n%s", country, v)
		}
		if readable := title.MatchString(v); readable == (country == "NGA") {
			t.Fatalf("%s view: restricted bulletin readable=%v:\n%s", country, readable, v)
		}
	}
	if !strings.Contains(views[2], "(restricted to another member)") {
		t.Fatalf("NGA view does not show the restricted bulletin as sealed:\n%s", views[2])
	}
}
