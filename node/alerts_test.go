package node

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/node/store"
	"github.com/concordnet/concord/protocol"
)

func TestSplitArgs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "/usr/bin/logger -t concord", want: []string{"/usr/bin/logger", "-t", "concord"}},
		{in: `  notify  "a b"  'c "d"' e\ f "g\"h" ''`, want: []string{"notify", "a b", `c "d"`, "e f", `g"h`, ""}},
		{in: "sh -c 'cat >> /tmp/x; echo $HOME'", want: []string{"sh", "-c", "cat >> /tmp/x; echo $HOME"}},
		{in: "", want: nil},
		{in: `say "unclosed`, bad: true},
		{in: `trailing\`, bad: true},
	} {
		got, err := splitArgs(c.in)
		if c.bad != (err != nil) || !slices.Equal(got, c.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q (error: %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestAlertsConfigValidation(t *testing.T) {
	for _, c := range []struct {
		cfg  AlertsConfig
		want string // in the error; "" for none
	}{
		{AlertsConfig{}, ""},
		{AlertsConfig{Exec: "/bin/sh -c 'cat'", File: "/var/log/concord/alerts.jsonl"}, ""},
		{AlertsConfig{Exec: "   "}, "alerts.exec: no command"},
		{AlertsConfig{Exec: "/nonexistent/notify --x"}, `alerts.exec: program "/nonexistent/notify" not found`},
		{AlertsConfig{Exec: "notify 'x"}, "alerts.exec"},
		{AlertsConfig{File: "alerts.jsonl"}, `alerts.file: "alerts.jsonl" is not an absolute path`},
	} {
		err := c.cfg.validate()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("validate(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}
}

func alertDraft(title, phone string) *protocol.BulletinDraft {
	d := draft(title)
	d.Entities = []protocol.Entity{{Type: "phone", Value: phone}}
	return d
}

func alertsOf(t *testing.T, n *Node) []api.Alert {
	t.Helper()
	as, err := n.store.Alerts(store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return n.alertViews(as)
}

func find(as []api.Alert, kind, bulletin string) *api.Alert {
	for i := range as {
		if as[i].Kind == kind && as[i].Bulletin.ID == bulletin {
			return &as[i]
		}
	}
	return nil
}

// TestAlerts follows the issue: a watchlist entry on a third node for a
// phone written differently than in two States' bulletins alerts on both,
// the second bulletin raises a correlation alert naming the first, the
// alerts reach [alerts] file and exec, and a revoked bulletin stays in the
// alerts, marked revoked.
func TestAlerts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file, execOut := filepath.Join(dir, "alerts.jsonl"), filepath.Join(dir, "exec.out")
	a := startNode(t, "Nigeria Police Force", "NGA")
	b := startNode(t, "Guardia Civil", "ESP")
	c := startNodeWith(t, "Police nationale", "FRA", func(cfg *Config) {
		cfg.Alerts = AlertsConfig{File: file, Exec: fmt.Sprintf("/bin/sh -c 'cat >> %s; echo >> %s'", execOut, execOut)}
	})
	s, err := a.CreateTopic(ctx, "drug-trafficking", "Test topic", protocol.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	invite(t, a, b, s.ID)
	invite(t, a, c, s.ID)
	waitMesh(t, []*Node{a, b, c}, s.ID)

	w, err := c.AddWatch(ctx, "phone:+234 801 234 5678", "case 114")
	if err != nil || w.Key == nil || w.Key.Value != "+2348012345678" {
		t.Fatalf("AddWatch = %+v, %v", w, err)
	}
	if _, err := c.AddWatch(ctx, "  ", ""); err == nil {
		t.Fatal("AddWatch accepted an empty term")
	}
	words, err := c.AddWatch(ctx, "LAGOS Cocaïne", "")
	if err != nil || !slices.Equal(words.Words, []string{"lagos", "cocaine"}) {
		t.Fatalf("AddWatch of words = %+v, %v", words, err)
	}
	first := publish(t, a, s.ID, alertDraft("Cocaine shipment to Lagos", "0801 234 5678"))
	waitFor(t, 20*time.Second, func() (bool, string) {
		as := alertsOf(t, c)
		return find(as, store.AlertWatchlist, first.ID) != nil, fmt.Sprintf("no watchlist alert for the first bulletin: %+v", as)
	})
	second := publish(t, b, s.ID, alertDraft("Crew phone", "+234-801-234-5678"))
	waitFor(t, 20*time.Second, func() (bool, string) {
		as := alertsOf(t, c)
		return find(as, store.AlertCorrelation, second.ID) != nil && find(as, store.AlertWatchlist, second.ID) != nil,
			fmt.Sprintf("no watchlist and correlation alerts for the second bulletin: %+v", as)
	})
	as := alertsOf(t, c)
	if n := len(as); n != 4 { // first: phone and words; second: phone and correlation
		t.Fatalf("%d alerts, want 4: %+v", n, as)
	}
	corr := find(as, store.AlertCorrelation, second.ID)
	if corr.Term != "phone:+2348012345678" || len(corr.Others) != 1 || corr.Others[0].ID != first.ID || corr.Others[0].Country != "NGA" || corr.Bulletin.Country != "ESP" {
		t.Fatalf("correlation alert = %+v", corr)
	}
	if find(as, store.AlertCorrelation, first.ID) != nil {
		t.Fatal("the first bulletin raised a correlation alert: only the later of two does")
	}
	if wa := find(as, store.AlertWatchlist, first.ID); wa.Note != "case 114" && wa.Watch != words.ID {
		t.Fatalf("watchlist alert = %+v", wa)
	}
	// a and b have no watchlist; b's bulletin still correlates there.
	waitFor(t, 20*time.Second, func() (bool, string) {
		as := alertsOf(t, a)
		return find(as, store.AlertCorrelation, second.ID) != nil && len(as) == 1, fmt.Sprintf("a's alerts: %+v", as)
	})

	checkDelivered(t, file, execOut, first.ID, second.ID)

	if _, err := a.Revoke(ctx, first.ID, "duplicate"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() (bool, string) {
		as := alertsOf(t, c)
		wa, corr := find(as, store.AlertWatchlist, first.ID), find(as, store.AlertCorrelation, second.ID)
		return len(as) == 4 && wa.Bulletin.Revoked && wa.Bulletin.Title == "" && corr.Others[0].Revoked && !corr.Bulletin.Revoked,
			fmt.Sprintf("alerts after the revocation: %+v", as)
	})
}

// checkDelivered waits for the alerts of both bulletins in the alert
// file (mode 0600) and in what the alert command received.
func checkDelivered(t *testing.T, file, execOut string, ids ...string) {
	t.Helper()
	for _, path := range []string{file, execOut} {
		waitFor(t, 20*time.Second, func() (bool, string) {
			lines := jsonLines(path)
			seen := map[string]bool{}
			for _, l := range lines {
				seen[l.Bulletin.ID] = true
			}
			return len(lines) == 4 && seen[ids[0]] && seen[ids[1]], fmt.Sprintf("%s holds %d alerts: %+v", path, len(lines), lines)
		})
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("alert file: %v, %v; want mode 0600", fi.Mode(), err)
	}
}

func jsonLines(path string) []api.Alert {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []api.Alert
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a api.Alert
		if strings.TrimSpace(sc.Text()) != "" && json.Unmarshal(sc.Bytes(), &a) == nil {
			out = append(out, a)
		}
	}
	return out
}

// A correlation with more other bulletins than an alert lists shows the
// first alertOthers and counts the rest.
func TestCorrelationListsSomeAndCountsTheRest(t *testing.T) {
	nodes, id := federation(t, 2, "drug-trafficking")
	a, b := nodes[0], nodes[1]
	for i := range alertOthers + 2 {
		publish(t, a, id, alertDraft(fmt.Sprintf("Crew phone %d", i), "+234 801 234 5678"))
	}
	waitFor(t, 20*time.Second, func() (bool, string) {
		return len(listing(t, b, id)) == alertOthers+2, "b misses a's bulletins"
	})
	last := publish(t, b, id, alertDraft("Same phone", "+234 801 234 5678"))
	waitFor(t, 20*time.Second, func() (bool, string) {
		as := alertsOf(t, a)
		c := find(as, store.AlertCorrelation, last.ID)
		return c != nil && len(c.Others) == alertOthers && c.OtherTotal == alertOthers+2 && c.Others[0].Country == a.cfg.Member.Country,
			fmt.Sprintf("a's alerts: %+v", as)
	})
}
