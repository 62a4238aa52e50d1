package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}}
	dirty := append(append([]debug.BuildSetting(nil), rev...), debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"go install of a tag", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: rev}, "v1.2.3"},
		{"pseudo-version", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261130120000-0123456789ab"}}, "v0.0.0-20261130120000-0123456789ab"},
		{"checkout build", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev}, "devel+0123456789ab"},
		{"dirty checkout", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: dirty}, "devel+0123456789ab-dirty"},
		{"no information", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{"another module's binary", debug.BuildInfo{Main: debug.Module{Path: "example.com/mysim", Version: "(devel)"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v1.4.0"}}}, "v1.4.0 in example.com/mysim"},
		{"another module's binary with a replace", debug.BuildInfo{Main: debug.Module{Path: "example.com/mysim"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.0.0", Replace: &debug.Module{Path: "../.."}}}}, "devel (replaced by ../..) in example.com/mysim"},
	}
	for _, tc := range tests {
		if got := versionFrom(&tc.bi); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
