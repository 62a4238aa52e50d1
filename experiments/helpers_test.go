package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// small is a quick experiment: 3 nodes, constant latency, 2 s runs.
const small = `name: small
duration: 2s
seeds: 2
nodes: ["n{1..3}"]
network:
  latency: {dist: constant, value: 1ms}
  loss: 0.01
protocol: {name: echo, timeout: 50ms}
workload: {rate: 200/s}
sweep:
  network.loss: [0, 0.05]
timeline: {run: 1, max_events: 50}
checks:
  - {metric: success_ratio, min: 0.9}
`

func mustParse(t testing.TB, src string, sets ...string) *Experiment {
	t.Helper()
	x, err := Parse("test.yaml", []byte(src), Options{Sets: sets})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return x
}

func mustRun(t testing.TB, x *Experiment, opts RunOptions) *Result {
	t.Helper()
	res, err := Run(context.Background(), x, opts)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

// readTree returns every file under dir by relative path.
func readTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree fails unless the two folders hold the same files with the same
// bytes.
func sameTree(t testing.TB, a, b string) {
	t.Helper()
	ta, tb := readTree(t, a), readTree(t, b)
	var names []string
	for k := range ta {
		names = append(names, k)
	}
	for k := range tb {
		if _, ok := ta[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var diffs []string
	for _, n := range names {
		x, okx := ta[n]
		y, oky := tb[n]
		switch {
		case !okx || !oky:
			diffs = append(diffs, n+" (only in one)")
		case !bytes.Equal(x, y):
			diffs = append(diffs, n)
		}
	}
	if len(diffs) > 0 {
		t.Fatalf("%s and %s differ: %s", a, b, strings.Join(diffs, ", "))
	}
	if len(ta) == 0 {
		t.Fatalf("%s is empty", a)
	}
}
