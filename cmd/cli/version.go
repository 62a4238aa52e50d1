package cli

import (
	"runtime/debug"
)

// buildVersion returns the version Go recorded in the binary: the module
// version for `go install github.com/dsim-dev/dsim/cmd/dsim@v1.2.3`, else
// the VCS revision of a build from a checkout ("devel+abc123def456", with
// "-dirty" when the tree had uncommitted changes), else "devel".
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionFrom(bi)
}

// modulePath is dsim's module.
const modulePath = "github.com/dsim-dev/dsim"

// versionFrom is buildVersion over given build information.
func versionFrom(bi *debug.BuildInfo) string {
	if bi.Main.Path != "" && bi.Main.Path != modulePath {
		// A binary of another module built around package cli: dsim is
		// one of its dependencies.
		for _, d := range bi.Deps {
			if d.Path != modulePath {
				continue
			}
			v := d.Version
			if d.Replace != nil {
				v = "devel (replaced by " + d.Replace.Path + ")"
				if d.Replace.Version != "" && d.Replace.Version != "(devel)" {
					v = d.Replace.Version
				}
			}
			return v + " in " + bi.Main.Path
		}
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v := "devel+" + rev
	if dirty {
		v += "-dirty"
	}
	return v
}
