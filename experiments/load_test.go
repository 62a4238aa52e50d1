package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols/echo"
)

func TestBundledExamplesLoad(t *testing.T) {
	exs := Examples()
	if len(exs) == 0 {
		t.Fatal("no bundled examples")
	}
	for _, ex := range exs {
		x, err := Load(ex.Name, Options{})
		if err != nil {
			t.Errorf("%s: %v", ex.Name, err)
			continue
		}
		if x.Config.Name != ex.Name {
			t.Errorf("%s: name field %q differs from the file name", ex.Name, x.Config.Name)
		}
		if ex.Description == "" {
			t.Errorf("%s: no description", ex.Name)
		}
	}
}

func TestDefaultsFill(t *testing.T) {
	x := mustParse(t, "protocol: {name: echo}\nnodes: [a, b]\n")
	c := x.Config
	d := DefaultConfig()
	if c.Duration != d.Duration || c.Seeds.N() != 1 || c.Workload.Rate != d.Workload.Rate || c.Metrics.Bucket != 100*time.Millisecond {
		t.Errorf("defaults not filled: %+v", c)
	}
	ec := c.Protocol.Config.(*echo.Config)
	if ec.Timeout != time.Second || ec.Servers[0] != "*" {
		t.Errorf("protocol defaults not filled: %+v", ec)
	}
	if len(x.Points) != 1 || len(x.Runs()) != 1 {
		t.Errorf("points %d runs %d", len(x.Points), len(x.Runs()))
	}
	// The resolved config loads back to the same experiment.
	y := mustParse(t, string(x.Resolved))
	if string(y.Resolved) != string(x.Resolved) {
		t.Errorf("resolved config is not a fixed point:\n%s\n---\n%s", x.Resolved, y.Resolved)
	}
}

// TestBadInput: every kind of bad input gives ErrBadInput and a message
// that names the place.
func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		sets []string
		want []string
	}{
		{"malformed", "name: [x\n", nil, []string{"test.yaml:1:", "did not find expected"}},
		{"tabs", "name: x\n\tduration: 1s\n", nil, []string{"test.yaml:2"}},
		{"empty", "", nil, []string{"empty file"}},
		{"not a mapping", "- a\n- b\n", nil, []string{"test.yaml:1:1", "want a mapping"}},
		{"two documents", "name: a\n---\nname: b\n", nil, []string{"more than one YAML document"}},
		{"unknown key", "durration: 1s\nprotocol: {name: echo}\nnodes: [a]\n", nil, []string{`test.yaml:1:1: durration: unknown field "durration" (did you mean "duration"?)`}},
		{"unknown nested key", "nodes: [a]\nprotocol:\n  name: echo\n  timout: 1s\n", nil, []string{`test.yaml:4:3: protocol.timout: unknown field "timout" (did you mean "timeout"?)`}},
		{"unknown deep key", "nodes: [a]\nprotocol: {name: echo}\nworkload: {bursts: [{at: 1s, duratoin: 1s, rate: 5/s}]}\n", nil, []string{`workload.bursts[0].duratoin: unknown field "duratoin" (did you mean "duration"?)`}},
		{"wrong type int", "nodes: [a]\nprotocol: {name: echo, size_bytes: big}\n", nil, []string{`test.yaml:2:36: protocol.size_bytes: want an integer, got "big"`}},
		{"wrong type duration", "duration: soon\nnodes: [a]\nprotocol: {name: echo}\n", nil, []string{`test.yaml:1:11: duration: "soon" is not a duration`}},
		{"wrong kind", "nodes: a\nprotocol: {name: echo}\n", nil, []string{"test.yaml:1:8: nodes: want a list"}},
		{"bad rate", "nodes: [a]\nprotocol: {name: echo}\nworkload: {rate: lots}\n", nil, []string{`workload.rate: bad rate "lots"`}},
		{"out of range", "nodes: [a]\nprotocol: {name: echo}\nnetwork:\n  loss: 1.5\n", nil, []string{"test.yaml:4:9: network.loss: must be a probability in [0, 1], got 1.5"}},
		{"negative", "nodes: [a]\nprotocol: {name: echo, timeout: -1s}\n", nil, []string{"test.yaml:2:33: protocol.timeout: must be positive"}},
		{"default out of range", "nodes: [a]\nprotocol: {name: echo}\nduration: 1s\nwarmup: 2s\n", nil, []string{"test.yaml:4:9: warmup: must be in [0, duration)"}},
		{"unknown protocol", "nodes: [a]\nprotocol: {name: ecko}\n", nil, []string{`test.yaml:2:18: protocol.name: unknown protocol "ecko" (did you mean "echo"?)`}},
		{"missing protocol", "nodes: [a]\n", nil, []string{"protocol.name: is required"}},
		{"no nodes", "protocol: {name: echo}\n", nil, []string{"nodes: list at least one node"}},
		{"duplicate node", "protocol: {name: echo}\nnodes: [a, \"a\"]\n", nil, []string{`node "a" is listed twice`}},
		{"zone of unknown node", "protocol: {name: echo}\nnodes: [a]\nnetwork: {zones: {eu: [b]}}\n", nil, []string{`network.zones.eu[0]: "b" matches no node`}},
		{"duplicate key", "nodes: [a]\nnodes: [b]\nprotocol: {name: echo}\n", nil, []string{"duplicate key"}},
		{"empty sweep list", "nodes: [a]\nprotocol: {name: echo}\nsweep:\n  protocol.timeout: []\n", nil, []string{"test.yaml:4:21: sweep.protocol.timeout: empty list"}},
		{"sweep bad path", "nodes: [a]\nprotocol: {name: echo}\nsweep:\n  protocol.timout: [1s]\n", nil, []string{`sweep.protocol.timout: protocol has no field "timout" (did you mean "timeout"?)`}},
		{"sweep bad value", "nodes: [a]\nprotocol: {name: echo}\nsweep:\n  protocol.timeout: [1s, never]\n", nil, []string{`test.yaml:4:26: sweep.protocol.timeout[1]: "never" is not a duration`}},
		{"sweep value out of range", "nodes: [a]\nprotocol: {name: echo}\nsweep:\n  network.loss: [0.1, 2]\n", nil, []string{"test.yaml:4:23: network.loss: must be a probability"}},
		{"zip lengths", "nodes: [a]\nprotocol: {name: echo}\nsweep_mode: zip\nsweep:\n  network.loss: [0.1, 0.2]\n  protocol.timeout: [1s]\n", nil, []string{"zip mode needs lists of equal length"}},
		{"check on unswept", "nodes: [a]\nprotocol: {name: echo}\nchecks: [{metric: x, max: 1, when: {network.los: 0}}]\n", nil, []string{`checks[0].when.network.los: "network.los" is not a swept parameter`}},
		{"check without bounds", "nodes: [a]\nprotocol: {name: echo}\nchecks: [{metric: x}]\n", nil, []string{"checks[0]: needs min, max or both"}},
		{"too many runs", "nodes: [a]\nprotocol: {name: echo}\nseeds: 10\nlimits: {max_runs: 5}\n", nil, []string{"exceed limits.max_runs 5"}},
		{"timeline run missing", "nodes: [a]\nprotocol: {name: echo}\nseeds: 2\ntimeline: {run: 2}\n", nil, []string{"test.yaml:4:17: timeline.run: run 2 does not exist: the experiment has 2 runs"}},
		{"set unknown path", "nodes: [a]\nprotocol: {name: echo}\n", []string{"protocol.timout=1s"}, []string{`--set: protocol.timout: protocol has no field "timout" (did you mean "timeout"?)`}},
		{"set unknown section", "nodes: [a]\nprotocol: {name: echo}\n", []string{"nosuch.x=1"}, []string{`--set: nosuch.x: the config has no field "nosuch"`}},
		{"set below a value", "nodes: [a]\nprotocol: {name: echo}\n", []string{"duration.x=1"}, []string{`duration is a value`}},
		{"set without =", "nodes: [a]\nprotocol: {name: echo}\n", []string{"duration"}, []string{"want path=value"}},
		{"set bad value", "nodes: [a]\nprotocol: {name: echo}\n", []string{"duration=later"}, []string{`duration: "later" is not a duration`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.src), Options{Sets: tc.sets})
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrBadInput) {
				t.Errorf("error %T does not match ErrBadInput", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestAllProblemsAtOnce: one file with many problems reports them all, in
// file order.
func TestAllProblemsAtOnce(t *testing.T) {
	src := `name: bad
duraton: 10s
seeds: many
nodes: [a, b]
network:
  loss: 1.5
protocol:
  name: echo
  timout: 1s
  pick: nearest
workload: {rate: fast}
sweep:
  protocol.timeout: []
`
	_, err := Parse("bad.yaml", []byte(src), Options{})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not a *LoadError", err)
	}
	want := []string{"2:1 duraton", "3:8 seeds", "6:9 network.loss", "9:3 protocol.timout", "10:9 protocol.pick", "11:18 workload.rate", "13:21 sweep.protocol.timeout"}
	var got []string
	for _, p := range le.Problems {
		got = append(got, strings.Join([]string{itoa(p.Line) + ":" + itoa(p.Column), p.Path}, " "))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%v\nwant\n%v\n%v", got, want, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestLoadFileErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), Options{})
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	dir := t.TempDir()
	_, err = Load(dir, Options{})
	if !errors.Is(err, ErrBadInput) {
		t.Errorf("folder as file: %v", err)
	}
	p := filepath.Join(dir, "x.yaml")
	if err := os.WriteFile(p, []byte(small), 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := Load(p, Options{})
	if err != nil || x.Source != p {
		t.Errorf("load file: %v", err)
	}
}

func TestSetOverrides(t *testing.T) {
	x := mustParse(t, small, "protocol.timeout=2s", "workload.rate=50/s", "duration=3s", "network.loss=0.2", "seeds=[5, 6, 7]", "workload.bursts=[{at: 1s, duration: 1s, rate: 10/s}]")
	c := x.Config
	if c.Protocol.Config.(*echo.Config).Timeout != 2*time.Second || c.Workload.Rate != 50 || c.Duration != 3*time.Second {
		t.Errorf("overrides not applied: %+v", c)
	}
	if len(c.Workload.Bursts) != 1 || c.Workload.Bursts[0].Rate != 10 {
		t.Errorf("bursts %+v", c.Workload.Bursts)
	}
	// Setting a swept path pins it: the sweep is gone.
	if len(x.Points) != 1 || len(c.Sweep) != 0 || c.Network.Loss != 0.2 {
		t.Errorf("pinning: %d points, sweep %v, loss %v", len(x.Points), c.Sweep, c.Network.Loss)
	}
	if got := x.Runs(); len(got) != 3 || got[0].Seed != 5 || got[2].Seed != 7 {
		t.Errorf("explicit seeds: %+v", got)
	}
	// A path into a section absent from the file is created.
	y := mustParse(t, "nodes: [a]\nprotocol: {name: echo}\n", "faults.schedule=[{kind: crash, at: 1s, duration: 1s, nodes: [a]}]", "metrics.bucket=1s")
	if len(y.Config.Faults.Schedule) != 1 || y.Config.Metrics.Bucket != time.Second {
		t.Errorf("created sections: %+v %v", y.Config.Faults, y.Config.Metrics.Bucket)
	}
}

func TestSweepGridAndZip(t *testing.T) {
	src := "nodes: [a, b]\nprotocol: {name: echo}\nseeds: 2\nsweep:\n  network.loss: [0, 0.1, 0.2]\n  protocol.timeout: [1s, 2s]\n"
	x := mustParse(t, src)
	if len(x.Points) != 6 || len(x.Runs()) != 12 {
		t.Fatalf("grid: %d points, %d runs", len(x.Points), len(x.Runs()))
	}
	// The last parameter varies fastest.
	var got []string
	for _, p := range x.Points {
		got = append(got, p.Params[0].Value+"/"+p.Params[1].Value)
	}
	if strings.Join(got, " ") != "0/1s 0/2s 0.1/1s 0.1/2s 0.2/1s 0.2/2s" {
		t.Errorf("grid order %v", got)
	}
	if x.Points[3].Config.Network.Loss != 0.1 || x.Points[3].Config.Protocol.Config.(*echo.Config).Timeout != 2*time.Second {
		t.Errorf("point 3 config not applied")
	}
	z := mustParse(t, "nodes: [a, b]\nprotocol: {name: echo}\nsweep_mode: zip\nsweep:\n  network.loss: [0, 0.1]\n  protocol.timeout: [1s, 2s]\n")
	if len(z.Points) != 2 || z.Points[1].Params[0].Value != "0.1" || z.Points[1].Params[1].Value != "2s" {
		t.Errorf("zip points %+v", z.Points)
	}
	// Lists and mappings as sweep values.
	m := mustParse(t, "nodes: [a, b]\nprotocol: {name: echo}\nsweep:\n  protocol.clients: [[a], [a, b]]\n")
	if m.Points[1].Params[0].Value != "[a, b]" || len(m.Points[1].Config.Protocol.Config.(*echo.Config).Clients) != 2 {
		t.Errorf("list sweep values: %+v", m.Points[1].Params)
	}
}

// TestSeedsIndependentOfSweepShape: adding a sweep value must not change
// the seeds of the other runs.
func TestSeedsIndependentOfSweepShape(t *testing.T) {
	a := mustParse(t, "nodes: [a]\nprotocol: {name: echo}\nseeds: 3\nsweep:\n  network.loss: [0, 0.1]\n")
	b := mustParse(t, "nodes: [a]\nprotocol: {name: echo}\nseeds: 3\nsweep:\n  network.loss: [0, 0.05, 0.1]\n")
	seeds := map[string]uint64{}
	for _, r := range a.Runs() {
		seeds[r.Point.Params[0].Value+"#"+itoa(r.SeedIndex)] = r.Seed
	}
	matched := 0
	all := map[uint64]bool{}
	for _, r := range b.Runs() {
		all[r.Seed] = true
		if s, ok := seeds[r.Point.Params[0].Value+"#"+itoa(r.SeedIndex)]; ok {
			matched++
			if s != r.Seed {
				t.Errorf("seed of %v #%d changed", r.Point.Params, r.SeedIndex)
			}
		}
	}
	if matched != 6 || len(all) != 9 {
		t.Errorf("matched %d runs, %d distinct seeds", matched, len(all))
	}
}

func TestExpandNodes(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
		err  bool
	}{
		{[]string{"a", "b"}, "a,b", false},
		{[]string{"eu-{1..3}"}, "eu-1,eu-2,eu-3", false},
		{[]string{"r{1..2}n{0..1}"}, "r1n0,r1n1,r2n0,r2n1", false},
		{[]string{"x{3..1}"}, "", true},
		{[]string{"x{0..1000000}"}, "", true}, // one more than a run may have
	} {
		got, err := ExpandNodes(tc.in)
		if (err != nil) != tc.err || strings.Join(got, ",") != tc.want {
			t.Errorf("ExpandNodes(%v) = %v, %v", tc.in, got, err)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"duration", "description", "seeds", "seed"}
	for in, want := range map[string]string{
		"duraton": `(did you mean "duration"?)`,
		"seedz":   `(did you mean "seed"?)`,
		"xyzzy":   "(known: description, duration, seed, seeds)",
	} {
		if got := Suggest(in, known); !strings.Contains(got, want) {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPathSegments(t *testing.T) {
	got := pathSegments("a.b[2].c[0][1]")
	if strings.Join(got, "|") != "a|b|[2]|c|[0]|[1]" {
		t.Errorf("%v", got)
	}
}

// FuzzLoad: no input makes the loader panic. The seed corpus is every
// bundled experiment plus the bad inputs above; `make fuzz` explores.
func FuzzLoad(f *testing.F) {
	for _, ex := range Examples() {
		f.Add(ex.Data, "")
	}
	f.Add([]byte(small), "protocol.timeout=1s")
	f.Add([]byte("nodes: [a]\nprotocol: {name: echo}\nsweep: {network.loss: [0, 1]}\n"), "network.loss=0.5")
	f.Add([]byte("a: &x [*x]\n"), "")
	f.Add([]byte("protocol: {name: echo, <<: {timeout: 1s}}\n"), "x=")
	// The hostile inputs: an alias bomb, integers given as fractions,
	// duplicate keys and seeds, unclosed flow collections, a billion
	// clients, selectors and fault nodes that match nothing.
	f.Add([]byte(aliasBomb(9)), "")
	f.Add([]byte(aliasBomb(3)), "description=&a [*a]")
	f.Add([]byte(hostileBase+"seed: 1.5\nseeds: [1, 1]\nduration: [1s]\n"), "limits.max_nodes=2.5")
	f.Add([]byte(hostileBase+"nodes: [x]\n"), "")
	f.Add([]byte("name: t\nnodes: [a, b\nprotocol: {name: echo\n"), "")
	f.Add([]byte(hostileBase+"workload: {kind: closed, clients: 1000000000}\n"), "protocol.clients=[\"zz*\"]")
	f.Fuzz(func(t *testing.T, data []byte, set string) {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		x, err := Parse("fuzz.yaml", data, Options{Sets: sets})
		if err != nil {
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("error does not match ErrBadInput: %v", err)
			}
			return
		}
		if len(x.Points) == 0 {
			t.Fatal("no points")
		}
		_ = x.Runs()
	})
}

// TestEmpiricalFiles: an empirical latency file is found relative to the
// experiment file, and a missing one is bad input before anything runs.
func TestEmpiricalFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "rtt.csv"), []byte("value\n1ms\n2ms\n3ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "nodes: [a, b]\nduration: 1s\nprotocol: {name: echo}\nnetwork:\n  latency: {dist: empirical, file: data/rtt.csv}\n"
	p := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := Load(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, x, RunOptions{})
	if v, _ := res.Runs[0].Run.Metric("rtt_max_ms"); v < 2 || v > 6.01 {
		t.Errorf("rtt max %v ms, want within 2..6", v)
	}
	bad := strings.Replace(src, "data/rtt.csv", "data/none.csv", 1)
	if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, Options{}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "none.csv") {
		t.Errorf("missing empirical file: %v", err)
	}
}
