package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"
)

func TestDbgTopics(t *testing.T) {
	ctx := context.Background()
	b := &bench{log: os.Stderr, start: time.Now(), nodeLog: slog.New(slog.DiscardHandler), rep: newReport()}
	for _, nt := range []int{1, 16, 1, 16} {
		dir, _ := os.MkdirTemp("", "cbt-")
		m, err := newMember(dir, 0, b.nodeLog)
		if err != nil {
			t.Fatal(err)
		}
		var topics []string
		for i := range nt {
			id, err := createTopic(ctx, m, fmt.Sprintf("t%d", i))
			if err != nil {
				t.Fatal(err)
			}
			topics = append(topics, id)
		}
		start := time.Now()
		if err := b.publishMany(ctx, m, topics, 3000, 16); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d topics: %.0f/s", nt, 3000/time.Since(start).Seconds())
		m.node.Close()
		os.RemoveAll(dir)
	}
}
