package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/dsim-dev/dsim/experiments"
)

func init() {
	register(&command{name: "examples", summary: "list the bundled experiments, or print one", run: runExamples})
}

// exampleJSON is one bundled experiment in `dsim examples --json`.
type exampleJSON struct {
	Name        string `json:"name"`
	Summary     string `json:"summary"`
	Description string `json:"description"`
	File        string `json:"file"`
}

func runExamples(c *cli, args []string) error {
	fs := c.newFlags("examples", "[NAME] [--json]",
		"List the bundled experiments, one short line each. With NAME, print its\n"+
			"description and YAML (a starting point for your own). Run one with\n"+
			"'dsim run NAME'.")
	asJSON := fs.Bool("json", false, "print the list (or NAME's entry) as JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	all := experiments.Examples()
	switch len(pos) {
	case 0:
		if *asJSON {
			list := make([]exampleJSON, len(all))
			for i, ex := range all {
				list[i] = exampleJSON{ex.Name, ex.Summary, ex.Description, ex.File}
			}
			return writeJSON(c, list)
		}
		// One line each, at most listWidth columns.
		const listWidth = 100
		nameWidth := 0
		for _, ex := range all {
			nameWidth = max(nameWidth, len(ex.Name))
		}
		tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
		for _, ex := range all {
			fmt.Fprintf(tw, "%s\t%s\n", ex.Name, experiments.Summarize(ex.Description, max(30, listWidth-nameWidth-2)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		// The hint goes to stderr, so that the list on stdout stays one
		// name per line for scripts (make demo reads it).
		fmt.Fprintln(c.stderr, "\nRun 'dsim examples NAME' for one's description and YAML, 'dsim run NAME' to run it.")
		return nil
	case 1:
		ex, ok := experiments.Example(pos[0])
		if !ok {
			names := make([]string, len(all))
			for i, e := range all {
				names[i] = e.Name
			}
			return usagef("no bundled experiment %q%s\nRun 'dsim examples' for the list.", pos[0], experiments.Suggest(pos[0], names))
		}
		if *asJSON {
			return writeJSON(c, exampleJSON{ex.Name, ex.Summary, ex.Description, ex.File})
		}
		_, err := c.stdout.Write(ex.Data)
		return err
	}
	return usagef("want at most one name")
}

// writeJSON prints v as indented JSON on stdout, leaving <, > and &
// unescaped (the output is for tools and people, not for HTML).
func writeJSON(c *cli, v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
