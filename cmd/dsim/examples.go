package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/dsim-dev/dsim/experiments"
)

func init() {
	register(&command{name: "examples", summary: "list the bundled experiments, or print one", run: runExamples})
}

func runExamples(c *cli, args []string) error {
	fs := c.newFlags("examples", "[NAME]",
		"List the bundled experiments, one line each. With NAME, print its YAML\n"+
			"(a starting point for your own). Run one with 'dsim run NAME'.")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
		tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
		for _, ex := range experiments.Examples() {
			fmt.Fprintf(tw, "%s\t%s\n", ex.Name, ex.Description)
		}
		return tw.Flush()
	case 1:
		ex, ok := experiments.Example(pos[0])
		if !ok {
			var names []string
			for _, e := range experiments.Examples() {
				names = append(names, e.Name)
			}
			return usagef("no bundled experiment %q (have: %v)", pos[0], names)
		}
		_, err := c.stdout.Write(ex.Data)
		return err
	}
	return usagef("want at most one name")
}
