package results

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsOnlySim enforces the layout: results builds on the sim layer
// (sim and its packages, such as sim/enum) and libraries, never on
// netmodel, protocols, experiments or the CLI.
func TestImportsOnlySim(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/dsim-dev/dsim/"
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, mod) && p != mod+"sim" && !strings.HasPrefix(p, mod+"sim/") {
				t.Errorf("%s imports %s; results may only import %ssim", f, p, mod)
			}
		}
	}
}
