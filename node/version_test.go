package node

import (
	"runtime/debug"
	"testing"
)

func TestDescribeBuild(t *testing.T) {
	vcs := func(mod, rev, modified string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Version: mod}}
		if rev != "" {
			bi.Settings = []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
		}
		return bi
	}
	const rev = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	for _, c := range []struct {
		name    string
		stamped string
		bi      *debug.BuildInfo
		want    string
	}{
		{"stamped wins", "v0.2.0", vcs("v0.0.0-20261129143000-a1b2c3d4e5f6+dirty", rev, "true"), "v0.2.0"},
		{"go install of a tag", "", vcs("v0.2.0", "", ""), "v0.2.0"},
		{"clean tagged checkout", "", vcs("v0.2.0", rev, "false"), "v0.2.0"},
		{"dirty tagged checkout", "", vcs("v0.2.0+dirty", rev, "true"), "dev (a1b2c3d, modified)"},
		{"untagged checkout", "", vcs("v0.0.0-20261129143000-a1b2c3d4e5f6", rev, "false"), "dev (a1b2c3d)"},
		{"modified checkout", "", vcs("(devel)", rev, "true"), "dev (a1b2c3d, modified)"},
		{"go install of a commit", "", vcs("v0.1.1-0.20261129143000-a1b2c3d4e5f6", "", ""), "v0.1.1-0.20261129143000-a1b2c3d4e5f6"},
		{"go run", "", vcs("(devel)", "", ""), "dev"},
		{"no build info", "", nil, "dev"},
	} {
		if got := describeBuild(c.stamped, c.bi).Version; got != c.want {
			t.Errorf("%s: version %q, want %q", c.name, got, c.want)
		}
	}
}
