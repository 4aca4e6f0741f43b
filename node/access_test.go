package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/concordnet/concord/node/localapi"
)

// Every route the node serves beside the Service's has an access rule.
func TestEveryExtraRouteHasARule(t *testing.T) {
	n := &Node{metrics: newMetrics()}
	for pattern := range n.apiExtras() {
		if _, ok := localapi.RuleOf(pattern); !ok {
			t.Errorf("route %q has no access rule (node/localapi/access.go)", pattern)
		}
	}
}

// Roles written in config.toml load back, and mistakes are named.
func TestAPIConfigRoundTrip(t *testing.T) {
	c := DefaultConfig("Police nationale", "FRA")
	c.API = APIConfig{Group: "concord", Roles: map[string][]string{"reader": {"group:concord"}, "analyst": {"bob"}}}
	c.Audit.RetentionDays = 365
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, c.Render(), 0o600)
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.API.Group != "concord" || len(got.API.Roles) != 2 || got.API.Roles["analyst"][0] != "bob" || got.Audit.RetentionDays != 365 {
		t.Fatalf("loaded %+v %+v", got.API, got.Audit)
	}
	for _, bad := range []struct {
		mutate func(*Config)
		msg    string
	}{
		{func(c *Config) { c.API.Roles = map[string][]string{"root": {"bob"}} }, "api.roles"},
		{func(c *Config) { c.Audit.RetentionDays = -1 }, "audit.retention_days"},
	} {
		c := DefaultConfig("Police nationale", "FRA")
		bad.mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("Validate = %v, want %q", err, bad.msg)
		}
	}
}
