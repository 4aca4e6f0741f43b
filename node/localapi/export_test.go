package localapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/concordnet/concord/node/api"
)

// exporter sends count entries, then fails with err (if not nil).
type exporter struct {
	fake
	count  int
	author string
}

func (f *exporter) TopicLog(_ context.Context, ref string, send func(api.LogEntry) error) error {
	f.topic = ref
	for i := range f.count {
		if err := send(api.LogEntry{Index: uint64(i), Raw: []byte{byte(i)}}); err != nil {
			return err
		}
	}
	return f.err
}

func (f *exporter) Envelopes(_ context.Context, ref string, q api.EnvelopeQuery, send func(api.RawEnvelope) error) error {
	f.topic, f.author = ref, q.Author
	for i := range f.count {
		if err := send(api.RawEnvelope{Seq: uint64(i + 1)}); err != nil {
			return err
		}
	}
	return f.err
}

func lines[T any](t *testing.T, body string) []T {
	t.Helper()
	var out []T
	dec := json.NewDecoder(strings.NewReader(body))
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		out = append(out, v)
	}
	return out
}

func TestExportIsLinesOfRawBytes(t *testing.T) {
	f := &exporter{count: 2}
	w := do(t, f, "GET", "/v1/topics/drug%20route/log", "")
	got := lines[api.LogEntry](t, w.Body.String())
	if w.Code != http.StatusOK || f.topic != "drug route" || len(got) != 2 || got[1].Raw[0] != 1 || !strings.Contains(w.Body.String(), `"raw":"AQ=="`) {
		t.Errorf("log export answered %d %q for topic %q", w.Code, w.Body, f.topic)
	}
	w = do(t, f, "GET", "/v1/topics/t/envelopes?author=FRA", "")
	if envs := lines[api.RawEnvelope](t, w.Body.String()); w.Code != http.StatusOK || f.author != "FRA" || len(envs) != 2 {
		t.Errorf("envelope export answered %d %q for author %q", w.Code, w.Body, f.author)
	}
	// Nothing to export is an empty stream, not an error.
	if w := do(t, &exporter{}, "GET", "/v1/topics/t/log", ""); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("an empty export answered %d %q", w.Code, w.Body)
	}
}

func TestExportErrors(t *testing.T) {
	// Before the first line: the error's status, as any route answers.
	f := &exporter{fake: fake{err: api.Errorf(api.NotFound, "no topic t")}}
	if e := answered(t, do(t, f, "GET", "/v1/topics/t/envelopes", "")); e.Class != api.NotFound {
		t.Errorf("an unknown topic answered %+v", e)
	}
	// After it: a last line saying the export is incomplete.
	f = &exporter{fake: fake{err: api.Errorf(api.Internal, "the store broke")}, count: 1}
	w := do(t, f, "GET", "/v1/topics/t/log", "")
	got := lines[api.LogEntry](t, w.Body.String())
	if w.Code != http.StatusOK || len(got) != 2 || got[1].Error != "the store broke" || got[0].Error != "" {
		t.Errorf("a failed export answered %d %q", w.Code, w.Body)
	}
}
