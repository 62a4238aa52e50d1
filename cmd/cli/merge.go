package cli

import (
	"fmt"

	"github.com/dsim-dev/dsim/experiments"
)

func init() {
	register(&command{name: "merge", summary: "combine shard folders into one results folder", run: runMerge})
}

func runMerge(c *cli, args []string) error {
	fs := c.newFlags("merge", "DIR... --out DIR",
		"Combine the folders written by 'dsim run --shard I/N' into one results\n"+
			"folder, byte-identical to what a single 'dsim run' writes. The folders\n"+
			"must come from the same experiment and together hold every run.")
	out := fs.String("out", "", "merged results folder `DIR` (required)")
	force := fs.Bool("force", false, "replace the results in an existing --out folder")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want at least one shard folder")
	}
	if *out == "" {
		return usagef("--out is required")
	}
	res, err := experiments.Merge(pos, *out, *force)
	if err != nil {
		return inputErr(err)
	}
	if res.PlotErr != nil {
		fmt.Fprintf(c.stderr, "warning: %v\n", res.PlotErr)
	}
	fmt.Fprintf(c.stdout, "merged %d runs from %d folders into %s\n", len(res.Runs), len(pos), *out)
	return nil
}
