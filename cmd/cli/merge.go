package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

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
	shards := fs.Int("shards", 0, "merge `N` shard folders DIR/shard-0 … DIR/shard-(N-1) of the one DIR given, refusing any other shard-* folder there")
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
	if *shards != 0 {
		if pos, err = shardDirs(pos, *shards); err != nil {
			return err
		}
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

// shardDirs expands `--shards N DIR` into DIR/shard-0 … DIR/shard-(N-1). A
// shard-* folder in DIR outside that range is left over from a sweep with
// another shard count: merging around it silently would hide the mix-up.
func shardDirs(pos []string, n int) ([]string, error) {
	if n < 1 {
		return nil, usagef("--shards must be at least 1, got %d", n)
	}
	if len(pos) != 1 {
		return nil, usagef("--shards takes exactly one folder (the one holding shard-0 … shard-%d), got %d", n-1, len(pos))
	}
	entries, err := os.ReadDir(pos[0])
	if err != nil {
		return nil, usagef("--shards: %w", err)
	}
	var stale []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "shard-")
		if !ok || !e.IsDir() {
			continue
		}
		if i, err := strconv.Atoi(rest); err != nil || i < 0 || i >= n || strconv.Itoa(i) != rest {
			stale = append(stale, e.Name())
		}
	}
	if len(stale) > 0 {
		return nil, usagef("%s holds %s, which is not one of the %d shards asked for: left over from a sweep with another shard count? Remove it or merge into a fresh folder", pos[0], strings.Join(stale, ", "), n)
	}
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = filepath.Join(pos[0], "shard-"+strconv.Itoa(i))
	}
	return dirs, nil
}
