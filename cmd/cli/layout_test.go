package cli

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/dsim-dev/dsim"

// layer names the top-level part of the tree a package belongs to.
func layer(pkg string) string {
	rest := strings.TrimPrefix(pkg, module+"/")
	switch {
	case strings.HasPrefix(rest, "protocols"):
		return "protocols"
	case strings.HasPrefix(rest, "cmd/"):
		return "cmd"
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return rest
}

// allowed lists, for each layer, the layers its packages may depend on
// (DESIGN.md: sim ← netmodel, sim ← protocols/*, sim ← results,
// {sim, netmodel, protocols/*, results} ← experiments ← cmd/dsim).
var allowed = map[string][]string{
	"sim":         {"sim"},
	"netmodel":    {"sim", "netmodel"},
	"protocols":   {"sim", "protocols"},
	"results":     {"sim", "results"},
	"experiments": {"sim", "netmodel", "protocols", "results", "experiments"},
	"cmd":         {"sim", "netmodel", "protocols", "results", "experiments", "cmd"},
	// deploy holds scripts and manifests; its package is only their tests.
	"deploy": {},
}

// TestImportDirection fails when a package depends (directly or not) on a
// layer it must not, or when sim depends on anything outside the standard
// library.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}|{{join .Deps ","}}`, module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, "|")
		seen[pkg] = true
		from := layer(pkg)
		ok, known := allowed[from]
		if !known {
			t.Errorf("%s: package outside the fixed top-level layout", pkg)
			continue
		}
		for _, dep := range strings.Split(deps, ",") {
			if dep == "" {
				continue
			}
			if !strings.HasPrefix(dep, module+"/") && dep != module {
				first, _, _ := strings.Cut(dep, "/")
				if from == "sim" && strings.Contains(first, ".") {
					t.Errorf("%s imports %s: sim must use only the standard library", pkg, dep)
				}
				continue
			}
			to := layer(dep)
			permitted := false
			for _, a := range ok {
				permitted = permitted || a == to
			}
			if !permitted {
				t.Errorf("%s (%s) depends on %s (%s): against the import direction in DESIGN.md", pkg, from, dep, to)
			}
		}
	}
	for _, must := range []string{module + "/sim", module + "/cmd/dsim"} {
		if !seen[must] {
			t.Errorf("go list did not report %s", must)
		}
	}
}
