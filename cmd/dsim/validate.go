package main

import (
	"fmt"

	"github.com/dsim-dev/dsim/experiments"
)

func init() {
	register(&command{name: "validate", summary: "check experiment files without running them", run: runValidate})
}

func runValidate(c *cli, args []string) error {
	var sets multiFlag
	fs := c.newFlags("validate", "FILE|NAME... [--set path=value]...",
		"Check experiment files: YAML syntax, unknown fields, types and ranges,\n"+
			"every problem reported at once as file:line:column. Exits 2 on any problem.")
	fs.Var(&sets, "set", "override a config field, `path=value` (repeatable)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want at least one experiment file or bundled name")
	}
	bad := 0
	for _, src := range pos {
		x, err := experiments.Load(src, experiments.Options{Sets: sets})
		if err != nil {
			bad++
			fmt.Fprintln(c.stderr, err)
			continue
		}
		c.warn(x)
		runs := len(x.Points) * x.Config.Seeds.N()
		fmt.Fprintf(c.stdout, "%s: ok (%s: %d sweep points × %d seeds = %d runs of %v)\n",
			src, x.Config.Name, len(x.Points), x.Config.Seeds.N(), runs, x.Config.Duration)
	}
	if bad > 0 {
		return usagef("%d of %d files have problems", bad, len(pos))
	}
	return nil
}
