package cli

import (
	"errors"
	"fmt"

	"github.com/dsim-dev/dsim/experiments"
)

func init() {
	register(&command{name: "validate", summary: "check experiment files without running them", run: runValidate})
}

// validateJSON is one file's verdict in `dsim validate --json`.
type validateJSON struct {
	Source   string        `json:"source"`
	OK       bool          `json:"ok"`
	Name     string        `json:"name,omitempty"`
	Points   int           `json:"sweep_points,omitempty"`
	Seeds    int           `json:"seeds,omitempty"`
	Runs     int           `json:"runs,omitempty"`
	Duration float64       `json:"duration_s,omitempty"`
	Problems []problemJSON `json:"problems,omitempty"`
}

// problemJSON is one problem of a file, located like the text output.
type problemJSON struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// problemsOf lists err's problems: each of a load error's, else err as one.
func problemsOf(src string, err error) []problemJSON {
	var le *experiments.LoadError
	if !errors.As(err, &le) {
		return []problemJSON{{File: src, Message: err.Error()}}
	}
	out := make([]problemJSON, len(le.Problems))
	for i, p := range le.Problems {
		out[i] = problemJSON{p.File, p.Line, p.Column, p.Path, p.Msg}
	}
	return out
}

func runValidate(c *cli, args []string) error {
	var sets multiFlag
	fs := c.newFlags("validate", "FILE|NAME... [--set path=value]... [--json]",
		"Check experiment files: YAML syntax, unknown fields, types and ranges,\n"+
			"every problem reported at once as file:line:column. Exits 2 on any problem.")
	fs.Var(&sets, "set", "override a config field, `path=value` (repeatable)")
	asJSON := fs.Bool("json", false, "print one JSON object per file (a list) on stdout instead of text")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want at least one experiment file or bundled name")
	}
	bad := 0
	var verdicts []validateJSON
	for _, src := range pos {
		x, err := experiments.Load(src, experiments.Options{Sets: sets})
		if err != nil {
			bad++
			if *asJSON {
				verdicts = append(verdicts, validateJSON{Source: src, Problems: problemsOf(src, err)})
			} else {
				fmt.Fprintln(c.stderr, err)
			}
			continue
		}
		c.warn(x)
		runs := len(x.Points) * x.Config.Seeds.N()
		if *asJSON {
			verdicts = append(verdicts, validateJSON{Source: src, OK: true, Name: x.Config.Name, Points: len(x.Points),
				Seeds: x.Config.Seeds.N(), Runs: runs, Duration: x.Config.Duration.Seconds()})
			continue
		}
		fmt.Fprintf(c.stdout, "%s: ok (%s: %d sweep points × %d seeds = %d runs of %v)\n",
			src, x.Config.Name, len(x.Points), x.Config.Seeds.N(), runs, x.Config.Duration)
	}
	if *asJSON {
		if err := writeJSON(c, verdicts); err != nil {
			return err
		}
	}
	if bad > 0 {
		return usagef("%d of %d files have problems", bad, len(pos))
	}
	return nil
}
