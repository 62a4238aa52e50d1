package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/dsim-dev/dsim/results"
)

func init() {
	register(&command{name: "plot", summary: "re-render plots and report.html of a results folder", run: runPlot})
}

func runPlot(c *cli, args []string) error {
	fs := c.newFlags("plot", "DIR...",
		"Re-render plots/ and report.html from the CSV files of results folders,\n"+
			"without re-running anything.")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want at least one results folder")
	}
	for _, dir := range pos {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return usagef("%s is not a folder", dir)
		}
		// A folder that cannot be read back (a truncated or edited CSV, a
		// damaged manifest) is bad input; only rendering is the tool's.
		// A file that is not a regular file (a named pipe would block, a
		// device never end) or is too large is refused before it is
		// read.
		if _, err := results.Read(dir); err != nil {
			switch {
			case errors.Is(err, results.ErrNotResults):
				return usagef("%s: %w", dir, err)
			case errors.Is(err, results.ErrBadFile):
				return usagef("%v", err)
			}
			return usagef("%s is damaged: %w", dir, err)
		}
		if err := results.Replot(dir); err != nil {
			if errors.Is(err, results.ErrBadFile) {
				return usagef("%v", err)
			}
			return err
		}
		fmt.Fprintf(c.stdout, "re-rendered %s\n", dir)
	}
	return nil
}
