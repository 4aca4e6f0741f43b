package node

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/concordnet/concord/protocol"
)

// version is set at link time for release builds:
//
//	go build -ldflags "-X github.com/concordnet/concord/node.version=v0.2.0" ./cmd/concord
var version = ""

// BuildInfo is what `concord version` reports of this binary.
type BuildInfo struct {
	Version  string `json:"version"`            // stamped, module or "dev (rev, modified)"
	Revision string `json:"revision,omitempty"` // commit of the checkout built, if known
	Modified bool   `json:"modified,omitempty"` // the checkout had uncommitted changes
	Protocol int    `json:"protocol"`           // wire formats (protocol.ProtocolVersion)
	Go       string `json:"go"`                 // Go toolchain that built it
	Platform string `json:"platform"`           // GOOS/GOARCH
}

// Build describes this binary.
func Build() BuildInfo { return build() }

var build = sync.OnceValue(func() BuildInfo {
	bi, _ := debug.ReadBuildInfo()
	b := describeBuild(version, bi)
	b.Protocol, b.Go, b.Platform = protocol.ProtocolVersion, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH
	return b
})

// Version returns the build's version (see describeBuild).
func Version() string { return Build().Version }

// pseudoVersion matches a Go pseudo-version's tail: a commit, not a tag.
var pseudoVersion = regexp.MustCompile(`\d{14}-[0-9a-f]{12}(\+dirty)?$`)

// describeBuild picks the version: a stamped one; else a released module
// version (go install …@v0.2.0, or a clean build of a tagged checkout);
// else, built from a checkout, "dev (a1b2c3d)" with ", modified" when it
// had uncommitted changes; else the module's pseudo-version; else "dev".
func describeBuild(stamped string, bi *debug.BuildInfo) BuildInfo {
	var b BuildInfo
	mod := ""
	if bi != nil {
		mod = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	released := mod != "" && mod != "(devel)" && !pseudoVersion.MatchString(mod) && !strings.HasSuffix(mod, "+dirty")
	switch {
	case stamped != "":
		b.Version = stamped
	case released:
		b.Version = mod
	case b.Revision != "":
		b.Version = fmt.Sprintf("dev (%s%s)", b.Revision[:min(7, len(b.Revision))], map[bool]string{true: ", modified"}[b.Modified])
	case mod != "" && mod != "(devel)":
		b.Version = mod
	default:
		b.Version = "dev"
	}
	return b
}
