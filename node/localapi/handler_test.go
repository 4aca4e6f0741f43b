package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/concordnet/concord/node/api"
)

// fake is a Service whose every method answers err, recording what it
// was asked.
type fake struct {
	Service // methods a test does not use panic
	err     error
	topic   string
	list    api.ListQuery
	publish api.PublishRequest
	backup  string // bytes Backup writes before failing with err
}

func (f *fake) Topic(_ context.Context, ref string) (api.Topic, error) {
	f.topic = ref
	return api.Topic{ID: ref}, f.err
}

func (f *fake) List(_ context.Context, q api.ListQuery) ([]api.Bulletin, error) {
	f.list = q
	return []api.Bulletin{}, f.err
}

func (f *fake) Publish(_ context.Context, req api.PublishRequest) (api.PublishResponse, error) {
	f.publish = req
	return api.PublishResponse{ID: "new"}, f.err
}

func (f *fake) Backup(_ context.Context, w io.Writer) error {
	io.WriteString(w, f.backup)
	return f.err
}

func (f *fake) Watch(ctx context.Context, _ api.WatchQuery, send func(api.Bulletin) error) error {
	for _, id := range []string{"a", "b"} {
		if err := send(api.Bulletin{ID: id}); err != nil {
			return err
		}
	}
	return f.err
}

func do(t *testing.T, svc Service, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	Handler(svc).ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(body)))
	return w
}

// answered decodes an error answer, checking its status is its class's.
func answered(t *testing.T, w *httptest.ResponseRecorder) api.Error {
	t.Helper()
	var e api.Error
	if err := json.NewDecoder(w.Body).Decode(&e); err != nil {
		t.Fatalf("error body: %v", err)
	}
	if w.Code != e.Class.Status() {
		t.Fatalf("status %d for class %s", w.Code, e.Class)
	}
	return e
}

func TestErrorClassIsStatus(t *testing.T) {
	for _, c := range []api.Class{api.Invalid, api.NotFound, api.Forbidden, api.Conflict, api.Unavailable, api.Internal} {
		f := &fake{err: api.Errorf(c, "topic %q: %s", "t", c)}
		w := do(t, f, "GET", "/v1/topics/t", "")
		if e := answered(t, w); e.Class != c || e.Message != `topic "t": `+string(c) {
			t.Errorf("%s answered %d %+v", c, w.Code, e)
		}
	}
	w := do(t, &fake{err: errors.New("the store broke")}, "GET", "/v1/topics/t", "")
	if e := answered(t, w); w.Code != http.StatusInternalServerError || e.Class != api.Internal || e.Message != "the store broke" {
		t.Errorf("an unclassified error answered %d %+v", w.Code, e)
	}
}

func TestPathAndQueryDecoded(t *testing.T) {
	f := &fake{}
	if w := do(t, f, "GET", "/v1/topics/drug%20route", ""); w.Code != http.StatusOK || f.topic != "drug route" {
		t.Errorf("topic path: %d, service got %q", w.Code, f.topic)
	}
	if w := do(t, f, "GET", "/v1/bulletins?topic=x&category=fraud&originator=FRA", ""); w.Code != http.StatusOK ||
		f.list != (api.ListQuery{Topic: "x", Category: "fraud", Originator: "FRA", Limit: api.DefaultLimit}) {
		t.Errorf("list query: %d, service got %+v", w.Code, f.list)
	}
	for _, path := range []string{"/v1/bulletins?limit=x", "/v1/bulletins?limit=-1", "/v1/bulletins?since=yesterday",
		"/v1/bulletins/abcd/related?limit=x", "/v1/alerts?after=-2", "/v1/watch?after=x"} {
		if e := answered(t, do(t, f, "GET", path, "")); e.Class != api.Invalid {
			t.Errorf("%s: %+v, want invalid", path, e)
		}
	}
}

func TestBodyDecoded(t *testing.T) {
	f := &fake{}
	w := do(t, f, "POST", "/v1/publish", `{"topic":"t","draft":{"title":"x"}}`)
	if w.Code != http.StatusCreated || f.publish.Topic != "t" || f.publish.Draft.Title != "x" {
		t.Errorf("publish: %d, service got %+v", w.Code, f.publish)
	}
	for what, body := range map[string]string{
		"an unknown field": `{"topic":"t","title":"x"}`,
		"not JSON":         `topic=t`,
		"too large":        `{"topic":"` + strings.Repeat("x", maxBody) + `"}`,
	} {
		if e := answered(t, do(t, f, "POST", "/v1/publish", body)); e.Class != api.Invalid || !strings.HasPrefix(e.Message, "malformed request: ") {
			t.Errorf("%s: %+v, want invalid", what, e)
		}
	}
}

func TestUnknownRoute(t *testing.T) {
	if w := do(t, &fake{}, "GET", "/v1/nothing", ""); w.Code != http.StatusNotFound {
		t.Errorf("unknown route: %d", w.Code)
	}
	if w := do(t, &fake{}, "DELETE", "/v1/topics", ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("wrong method: %d", w.Code)
	}
}

func TestStreamIsLines(t *testing.T) {
	w := do(t, &fake{}, "GET", "/v1/watch", "")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/x-ndjson" || w.Body.String() != "{\"id\":\"a\",\"topic\":\"\",\"topic_name\":\"\",\"category\":\"\",\"author\":\"\",\"envelope\":\"\",\"seq\":0,\"created\":\"0001-01-01T00:00:00Z\",\"received\":\"0001-01-01T00:00:00Z\",\"sealed\":false,\"revoked\":false}\n"+
		"{\"id\":\"b\",\"topic\":\"\",\"topic_name\":\"\",\"category\":\"\",\"author\":\"\",\"envelope\":\"\",\"seq\":0,\"created\":\"0001-01-01T00:00:00Z\",\"received\":\"0001-01-01T00:00:00Z\",\"sealed\":false,\"revoked\":false}\n" {
		t.Errorf("watch answered %d %q", w.Code, w.Body)
	}
	if !w.Flushed {
		t.Error("watch lines were not flushed")
	}
}

func TestBackupErrors(t *testing.T) {
	w := do(t, &fake{err: api.Errorf(api.Internal, "no keys")}, "GET", "/v1/backup", "")
	if e := answered(t, w); e.Message != "no keys" {
		t.Errorf("a backup failing before its first byte: %+v", e)
	}
	w = do(t, &fake{backup: "tar"}, "GET", "/v1/backup", "")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/x-tar" || w.Body.String() != "tar" {
		t.Errorf("backup answered %d %q", w.Code, w.Body)
	}
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("a backup failing after its first byte: %v, want the connection cut", r)
		}
	}()
	do(t, &fake{backup: "ta", err: errors.New("disk read")}, "GET", "/v1/backup", "")
}
