package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/concordnet/concord/entity"
	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

// Alerts follow the store's change feed rather than hooks in the ingest
// paths: every way a bulletin is stored or revised (gossip, sync, our own
// publications and imports) passes through the feed, the feed survives a
// crash (the cursor is stored with the alerts it raised, and raising
// again repeats nothing), and ingest never waits for alert work. Our own
// publications raise alerts too: a colleague's bulletin naming a watched
// phone, or an entity a partner reported before, is news to the analyst.

const (
	alertBatch = 256 // records of the change feed read at once
	// alertCursorEvery bounds the records re-read after a restart when
	// none raised an alert: the cursor is stored only with alerts, or
	// after this many records.
	alertCursorEvery = 1000
	alertOthers      = 10 // other bulletins listed in a correlation alert
	alertPostings    = 50 // postings read per shared entity
	alertExecTimeout = 10 * time.Second
	alertExecSlots   = 4 // alert commands running at once
)

// alertLoop raises alerts for what the change feed brings, from where it
// stopped last time (from now on, the first time), until the node stops.
func (n *Node) alertLoop() {
	cursor, ok, err := n.store.AlertCursor()
	if err == nil && !ok {
		cursor, err = n.store.LastRecvSeq()
	}
	if err != nil {
		n.log.Error("alerts: reading where they stopped; no alert will be raised until restart", "err", err)
		return
	}
	sink := newAlertSink(n)
	unsaved := 0
	for {
		wake := n.changes()
		recs, err := n.store.Since(cursor, alertBatch)
		if err == nil && len(recs) > 0 {
			var next uint64
			if next, unsaved, err = n.raiseAlerts(sink, recs, unsaved); err == nil {
				cursor = next
			}
		}
		if err == nil && len(recs) == alertBatch {
			continue
		}
		if !n.alertWait(wake, err) {
			return
		}
	}
}

// alertWait waits for news, or after err a while before retrying; false
// once the node stops.
func (n *Node) alertWait(wake <-chan struct{}, err error) bool {
	var retry <-chan time.Time
	switch {
	case err != nil && n.ctx.Err() != nil:
		return false // stopping: the feed is read again from the stored cursor
	case errors.Is(err, store.ErrDiskFull):
		n.log.Debug("alerts: disk full; raising them once space returns", "err", err)
	case err != nil:
		n.log.Error("alerts: raising alerts; retrying", "err", err)
	}
	if err != nil {
		wake, retry = nil, time.After(5*time.Second)
	}
	select {
	case <-wake:
	case <-retry:
	case <-n.ctx.Done():
		return false
	}
	return true
}

// raiseAlerts records and delivers the alerts of recs, returning the new
// cursor and how many records were read since the cursor was stored.
func (n *Node) raiseAlerts(sink *alertSink, recs []store.BulletinRecord, unsaved int) (uint64, int, error) {
	watch, err := n.store.Watchlist()
	if err != nil {
		return 0, 0, err
	}
	var alerts []store.Alert
	for _, rec := range recs {
		as, err := n.alertsFor(rec, watch)
		if err != nil { // one unreadable record must not stop every alert after it
			n.log.Error("alerts: skipping a bulletin", "bulletin", rec.ID, "err", err)
			continue
		}
		alerts = append(alerts, as...)
	}
	last := recs[len(recs)-1].RecvSeq
	unsaved += len(recs)
	if len(alerts) == 0 && unsaved < alertCursorEvery {
		return last, unsaved, nil
	}
	stored, err := n.store.PutAlerts(n.ctx, last, alerts)
	if err != nil {
		return 0, 0, err
	}
	if len(stored) > 0 {
		n.notify() // wakes alert streams (watch --alerts)
		sink.deliverStored(stored)
	}
	return last, 0, nil
}

// alertsFor returns the alerts bulletin rec raises: one per watchlist
// entry it matches, one per entity it shares with bulletins of other
// originators held before it. Only bulletins this node reads count.
func (n *Node) alertsFor(rec store.BulletinRecord, watch []store.WatchEntry) ([]store.Alert, error) {
	if rec.Sealed || rec.Revoked || rec.Expired || len(rec.Bulletin) == 0 {
		return nil, nil
	}
	b, err := n.alertBulletin(rec, watch)
	if err != nil {
		return nil, err
	}
	keys, err := n.store.BulletinEntities(rec.ID)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	base := store.Alert{Time: now, Bulletin: alertRef(rec, b), Version: rec.Version}
	var out []store.Alert
	words := bulletinWords(b)
	for _, e := range watch {
		if term, ok := watchMatches(e, keys, words); ok {
			a := base
			a.Kind, a.Term, a.Watch, a.Note = store.AlertWatchlist, term, e.ID, e.Note
			out = append(out, a)
		}
	}
	for _, k := range keys {
		a, ok, err := n.correlation(rec, k)
		if err != nil {
			return nil, err
		}
		if ok {
			c := base
			c.Kind, c.Term, c.Others, c.OtherTotal = store.AlertCorrelation, k.String(), a.Others, a.OtherTotal
			out = append(out, c)
		}
	}
	return out, nil
}

// alertBulletin returns rec's bulletin, with its body (opened from the
// envelope) only if a watchlist entry looks for words: entity keys and
// correlation need no body.
func (n *Node) alertBulletin(rec store.BulletinRecord, watch []store.WatchEntry) (*protocol.Bulletin, error) {
	if slices.ContainsFunc(watch, func(e store.WatchEntry) bool { return len(e.Words) > 0 }) {
		return n.fullBulletin(rec)
	}
	return recordBulletin(rec)
}

// watchMatches says whether entry e matches a bulletin of these entity
// keys and words, and on what.
func watchMatches(e store.WatchEntry, keys []entity.Key, words map[string]bool) (string, bool) {
	if e.Key != nil {
		for _, k := range keys {
			if k.Type == e.Key.Type && k.Value == e.Key.Value {
				return k.String(), true
			}
		}
		return "", false
	}
	if len(e.Words) == 0 {
		return "", false
	}
	for _, w := range e.Words {
		if !words[w] {
			return "", false
		}
	}
	return strings.Join(e.Words, " "), true
}

// bulletinWords is the set of folded words of what full-text search
// covers: title, summary, body and entity values.
func bulletinWords(b *protocol.Bulletin) map[string]bool {
	texts := []string{b.Title, b.Summary, b.Body}
	for _, e := range b.Entities {
		texts = append(texts, e.Value)
		for _, v := range e.Fields {
			texts = append(texts, v)
		}
	}
	set := map[string]bool{}
	for _, t := range texts {
		for _, w := range entity.Words(t) {
			set[w] = true
		}
	}
	return set
}

// correlation returns the bulletins of other originators holding k that
// were stored before rec (lower in the change feed: the later of two
// bulletins raises the alert, once), unless k is too common or excluded.
func (n *Node) correlation(rec store.BulletinRecord, k entity.Key) (store.Alert, bool, error) {
	var a store.Alert
	if n.searchExcluded(k) { // [search] exclude: known noise
		return a, false, nil
	}
	ids, total, err := n.store.EntityPostings(k, alertPostings)
	// total counts rec itself; above [search] common_threshold others, k
	// is too common to mean anything (as in related).
	if err != nil || total-1 > n.cfg.Search.CommonThreshold {
		return a, false, err
	}
	for i, id := range ids {
		if len(a.Others) == alertOthers {
			// Enough to show: the rest are counted, not read. Each read
			// decodes a whole record, and this runs for every bulletin
			// stored, on every member.
			a.OtherTotal += len(ids[i:]) - count(ids[i:], rec.ID)
			break
		}
		if id == rec.ID {
			continue
		}
		other, err := n.store.Bulletin(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return a, false, err
		}
		if other.Author == rec.Author || other.RecvSeq >= rec.RecvSeq || other.Sealed || other.Tombstone() {
			continue
		}
		a.OtherTotal++
		a.Others = append(a.Others, alertRef(other, alertHead(other.Bulletin)))
	}
	if len(ids) < total { // beyond what was read: counted, not checked
		a.OtherTotal += total - len(ids)
	}
	return a, len(a.Others) > 0, nil
}

// alertHead decodes of a record's bulletin what an alert shows of it:
// its title and originator, not its body. What fails to decode is shown
// by ID alone.
func alertHead(data []byte) *protocol.Bulletin {
	var head struct {
		Title      string              `json:"title"`
		Originator protocol.Originator `json:"originator"`
	}
	json.Unmarshal(data, &head)
	b := &protocol.Bulletin{Originator: head.Originator}
	b.Title = head.Title
	return b
}

func count(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

func alertRef(rec store.BulletinRecord, b *protocol.Bulletin) store.AlertRef {
	return store.AlertRef{ID: rec.ID, Topic: rec.Topic, Title: b.Title, Originator: rec.Author,
		Country: b.Originator.Country, Agency: b.Originator.Agency}
}

// alertViews renders stored alerts with each bulletin's current state.
func (n *Node) alertViews(as []store.Alert) []api.Alert {
	out := make([]api.Alert, len(as))
	for i, a := range as {
		out[i] = n.alertView(a)
	}
	return out
}

func (n *Node) alertView(a store.Alert) api.Alert {
	v := api.Alert{Seq: a.Seq, Time: a.Time, Kind: a.Kind, Bulletin: n.alertRefView(a.Bulletin), Version: a.Version,
		Term: a.Term, Watch: a.Watch, Note: a.Note}
	for _, o := range a.Others {
		v.Others = append(v.Others, n.alertRefView(o))
	}
	if a.OtherTotal > len(a.Others) {
		v.OtherTotal = a.OtherTotal
	}
	return v
}

func (n *Node) alertRefView(r store.AlertRef) api.AlertRef {
	v := api.AlertRef{ID: r.ID, Topic: protocol.TopicID(r.Topic).String(), Title: r.Title, Originator: r.Originator,
		Country: r.Country, Agency: r.Agency}
	if t := n.topicByID(r.Topic); t != nil {
		s, _ := t.snapshot()
		v.TopicName = s.Name
	}
	if rec, err := n.store.Bulletin(r.ID); err == nil {
		v.Revoked, v.Expired = rec.Revoked, rec.Expired
		if v.Expired || v.Revoked {
			v.Title = "" // erased here: its alert keeps no more of it than list does
		}
	}
	return v
}

// AddWatch adds a watchlist entry: a TYPE:VALUE term, normalised as the
// index normalises entities (a phone without + is read in this node's
// country), or words that must all appear.
func (n *Node) AddWatch(ctx context.Context, term, note string) (store.WatchEntry, error) {
	term = strings.TrimSpace(term)
	e := store.WatchEntry{Term: term, Note: strings.TrimSpace(note)}
	switch {
	case term == "":
		return e, api.Errorf(api.Invalid, "the watchlist term is empty: give TYPE:VALUE (e.g. phone:+234 801 234 5678) or words")
	case len(term) > 1024 || len(e.Note) > 1024:
		return e, api.Errorf(api.Invalid, "the watchlist term and note are limited to 1024 bytes each")
	}
	if k, ok := entity.ParseTerm(term, n.cfg.Member.Country); ok {
		e.Key = &k
	} else {
		e.Words = dedupe(entity.Words(term))
		if len(e.Words) == 0 {
			return e, api.Errorf(api.Invalid, "the watchlist term %q has no word to match: give TYPE:VALUE or words", term)
		}
	}
	return n.store.PutWatch(ctx, e)
}

func dedupe(words []string) []string {
	var out []string
	for _, w := range words {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// AlertsConfig is the [alerts] section: where alerts are handed to the
// agency's own systems, besides concord alerts and watch --alerts.
type AlertsConfig struct {
	// Exec is a command (split like a shell would, but run without one)
	// given each alert as one JSON object on its stdin; "" is none.
	Exec string `toml:"exec"`
	// File is a JSON-lines file each alert is appended to; "" is none.
	File string `toml:"file"`
}

func (a AlertsConfig) validate() error {
	if a.Exec != "" {
		args, err := splitArgs(a.Exec)
		if err != nil {
			return fmt.Errorf("alerts.exec: %w", err)
		}
		if len(args) == 0 {
			return errors.New(`alerts.exec: no command; give a program and its arguments, or "" for none`)
		}
		if _, err := exec.LookPath(args[0]); err != nil {
			return fmt.Errorf("alerts.exec: program %q not found or not executable: give its absolute path", args[0])
		}
	}
	if a.File != "" && !filepath.IsAbs(a.File) {
		return fmt.Errorf("alerts.file: %q is not an absolute path", a.File)
	}
	return nil
}

// splitArgs splits a command line into words as a POSIX shell would for
// plain words, 'single' and "double" quotes and backslashes; nothing
// else (no variables, globs or pipes) is interpreted.
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote == '\'' && r != '\'', quote == '"' && r != '"' && r != '\\':
			cur.WriteRune(r)
		case quote != 0 && r == quote:
			quote = 0
		case r == '\\':
			if i+1 == len(runes) {
				return nil, fmt.Errorf("%q ends with a lone backslash", s)
			}
			i++
			cur.WriteRune(runes[i])
			inWord = true
		case quote == 0 && (r == '\'' || r == '"'):
			quote, inWord = r, true
		case quote == 0 && (r == ' ' || r == '\t' || r == '\n'):
			if inWord {
				args, inWord = append(args, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q has an unclosed %c quote", s, quote)
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}

// alertSink hands alerts to [alerts] exec and file.
type alertSink struct {
	n     *Node
	args  []string
	file  string
	slots chan struct{}
}

func newAlertSink(n *Node) *alertSink {
	s := &alertSink{n: n, file: n.cfg.Alerts.File, slots: make(chan struct{}, alertExecSlots)}
	s.args, _ = splitArgs(n.cfg.Alerts.Exec) // validated with the config
	return s
}

// deliverStored renders stored alerts and delivers them, when alerts go
// anywhere: rendering reads every bulletin an alert names again.
func (s *alertSink) deliverStored(stored []store.Alert) {
	if s.file != "" || len(s.args) > 0 {
		s.deliver(s.n.alertViews(stored))
	}
}

func (s *alertSink) deliver(alerts []api.Alert) {
	if s.file == "" && len(s.args) == 0 {
		return
	}
	lines := make([][]byte, len(alerts))
	for i, a := range alerts {
		lines[i], _ = json.Marshal(a)
		lines[i] = append(lines[i], '\n')
	}
	if s.file != "" {
		if err := appendLines(s.file, lines); err != nil {
			s.n.log.Error("alerts: appending to alerts.file; the alerts are kept in the store (concord alerts)", "file", s.file, "err", err)
		}
	}
	for _, line := range lines {
		if len(s.args) > 0 && !s.run(line) {
			return // stopping
		}
	}
}

func appendLines(path string, lines [][]byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(bytes.Join(lines, nil)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// run starts the alert command with line on its stdin once one of its
// slots is free (the alert loop waits meanwhile); false if the node stops.
func (s *alertSink) run(line []byte) bool {
	select {
	case s.slots <- struct{}{}:
	case <-s.n.ctx.Done():
		return false
	}
	s.n.spawn(func() {
		defer func() { <-s.slots }()
		ctx, cancel := context.WithTimeout(s.n.ctx, alertExecTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, s.args[0], s.args[1:]...)
		cmd.Stdin = bytes.NewReader(line)
		var out limitedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.WaitDelay = time.Second // a child keeping the pipes open must not hold the slot
		if err := cmd.Run(); err != nil {
			if ctx.Err() == context.DeadlineExceeded {
				err = fmt.Errorf("killed after %s", alertExecTimeout)
			}
			s.n.log.Error("alerts: alerts.exec failed; the alert is kept in the store (concord alerts)",
				"command", s.args[0], "err", err, "output", strings.TrimSpace(out.String()))
		}
	})
	return true
}

// limitedBuffer keeps the first 4 KiB written to it: enough of a failing
// command's output for the log.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4<<10 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
