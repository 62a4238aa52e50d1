package experiments

import (
	"fmt"
	"strconv"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/results"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
	"gopkg.in/yaml.v3"
)

// Config is one experiment file. Every field has a default (see
// DefaultConfig) except protocol.name; docs/config.md documents them all
// and a test keeps it in step with this struct.
type Config struct {
	// Name names the experiment; the default output folder is out/<name>/.
	// Letters, digits, '-', '_' and '.'.
	Name string `yaml:"name"`
	// Description is one or two sentences shown by `dsim examples` and in
	// report.html.
	Description string `yaml:"description"`
	// Duration is the simulated length of each run, e.g. "60s". Longer
	// runs narrow confidence intervals and cost proportionally more time.
	Duration time.Duration `yaml:"duration"`
	// Warmup is the span at the start of each run excluded from the
	// scalar metrics (percentiles, totals, rates); time series still
	// cover it.
	Warmup time.Duration `yaml:"warmup"`
	// Seed is the base seed from which each run's seed derives.
	Seed uint64 `yaml:"seed"`
	// Seeds is how many seeds each sweep point runs (a count, e.g. 10), or
	// the exact run seeds as a list (e.g. [1, 7, 42]), used as is for
	// every sweep point.
	Seeds Seeds `yaml:"seeds"`
	// Nodes lists the run's node names; "eu-{1..3}" stands for eu-1,
	// eu-2, eu-3. The network's zones place them and the protocol gives
	// them roles.
	Nodes []string `yaml:"nodes"`
	// Network is the topology and the links: latency distributions,
	// loss, duplication, bandwidth, zones, per-link overrides, clocks
	// (package netmodel).
	Network NetworkConfig `yaml:"network"`
	// Faults is the fault schedule (partitions, crashes, pauses, ...) and
	// the random fault generator (package netmodel).
	Faults FaultsConfig `yaml:"faults"`
	// Protocol picks the protocol family by name and sets its
	// parameters, which sit next to the name:
	// {name: echo, timeout: 500ms}.
	Protocol ProtocolSpec `yaml:"protocol"`
	// Workload is what the protocol's clients send.
	Workload workload.Config `yaml:"workload"`
	// Metrics tunes the metric recorder (time-series bucket, histogram
	// precision). Its warmup is set from the top-level warmup.
	Metrics results.Config `yaml:"metrics"`
	// Sweep maps config paths to lists of values, e.g.
	// {protocol.timeout: [100ms, 1s]}. Runs = sweep points × seeds.
	Sweep Sweep `yaml:"sweep"`
	// SweepMode is grid (every combination of the lists) or zip (the
	// i-th values of every list together; lists of equal length).
	SweepMode SweepMode `yaml:"sweep_mode"`
	// Plots are drawn into plots/ and report.html; see package results
	// for the kinds.
	Plots []results.PlotSpec `yaml:"plots"`
	// Checks bound metrics; `dsim check` fails when one is violated.
	Checks []Check `yaml:"checks"`
	// Results says what the results folder holds beyond its defaults:
	// per-run raw time series (timeseries: per_run) and the plot image
	// formats (formats: [png, svg, pdf]).
	Results results.OutputConfig `yaml:"results"`
	// Report tunes report.html: headline lists the metrics of its
	// headline table (default: the protocol family's headline metrics).
	Report results.ReportConfig `yaml:"report"`
	// Timeline, when set, records one run's events as a message sequence
	// diagram (timeline.svg, shown in report.html) and a Chrome/Perfetto
	// trace (trace.json). Meant for short runs with few nodes.
	Timeline *TimelineSpec `yaml:"timeline"`
	// Limits bound every run so that a mistake fails fast instead of
	// running forever or exhausting memory.
	Limits Limits `yaml:"limits"`
}

// TimelineSpec picks the run whose timeline is recorded.
type TimelineSpec struct {
	// Run is the index of the recorded run (the "run" column of
	// runs.csv; 0 is the first run).
	Run int `yaml:"run"`
	// MaxEvents caps the events kept (default 10000); the rest are
	// counted and the outputs say how many were left out.
	MaxEvents int `yaml:"max_events"`
	// Timers includes timer firings in the diagram and trace.
	Timers bool `yaml:"timers"`
}

// Limits bound the cost of an experiment.
type Limits struct {
	// MaxEvents is the most events one run may dispatch.
	MaxEvents uint64 `yaml:"max_events"`
	// MaxPending is the most events one run may have queued at once (at
	// most 16777215); closed-loop clients may not exceed it.
	MaxPending int `yaml:"max_pending"`
	// MaxNodes is the most nodes one run may have, at most 1,000,000.
	// An idle node costs the engine a few hundred bytes.
	MaxNodes int `yaml:"max_nodes"`
	// MaxRuns is the most runs (sweep points × seeds) an experiment may
	// have, at most 10000000; sweep points are bounded at 10000 whatever
	// it says.
	MaxRuns int `yaml:"max_runs"`
}

// DefaultConfig returns the defaults that fill whatever a file leaves out.
func DefaultConfig() Config {
	return Config{
		Name:     "experiment",
		Duration: 10 * time.Second,
		Seed:     1,
		Seeds:    Seeds{Count: 1},
		Network:  DefaultNetworkConfig(),
		Workload: workload.DefaultConfig(),
		Metrics:  results.DefaultConfig(),
		Results:  results.DefaultOutputConfig(),
		Limits: Limits{
			MaxEvents:  100_000_000,
			MaxPending: 10_000_000,
			MaxNodes:   10_000,
			MaxRuns:    100_000,
		},
	}
}

// MaxClients bounds workload.clients: a closed-loop client's state is
// allocated when the run is built, before the engine's limits apply.
const MaxClients = 1_000_000

// MaxRuns bounds limits.max_runs: the runs of an experiment are listed in
// memory before the first one starts.
const MaxRuns = 10_000_000

// MaxBuckets bounds metrics.max_buckets: each time series of a run may
// grow to that many buckets.
const MaxBuckets = 1_000_000

// MaxDuration bounds Duration.
const MaxDuration = 1000 * time.Hour

// Validate reports every problem of the config at once; paths are YAML
// field paths from the top of the file.
func (c *Config) Validate() error {
	var fe sim.FieldErrors
	if !validName(c.Name) {
		fe.Add("name", "must be 1-100 letters, digits, '-', '_' or '.', not starting with '.'; got %q", c.Name)
	}
	if c.Duration <= 0 || c.Duration > MaxDuration {
		fe.Add("duration", "must be positive and at most %v, got %v", MaxDuration, c.Duration)
	}
	if c.Warmup < 0 || (c.Duration > 0 && c.Warmup >= c.Duration) {
		fe.Add("warmup", "must be in [0, duration), got %v", c.Warmup)
	}
	if c.Metrics.Warmup != 0 {
		fe.Add("metrics.warmup", "set the top-level warmup instead")
	}
	if c.Seeds.List == nil && (c.Seeds.Count < 1 || c.Seeds.Count > 1_000_000) {
		fe.Add("seeds", "must be a count in [1, 1000000] or a non-empty list of seeds, got %d", c.Seeds.Count)
	}
	if c.Seeds.List != nil && len(c.Seeds.List) == 0 {
		fe.Add("seeds", "the list of seeds is empty")
	}
	seen := make(map[uint64]int, len(c.Seeds.List))
	for i, s := range c.Seeds.List {
		if j, dup := seen[s]; dup {
			fe.Add(fmt.Sprintf("seeds[%d]", i), "seed %d is listed twice (seeds[%d]): the runs would be identical", s, j)
		}
		seen[s] = i
	}
	if c.Workload.Kind == workload.Closed && c.Workload.Clients > MaxClients {
		fe.Add("workload.clients", "%d closed-loop clients exceed %d (each client is set up before the run starts)", c.Workload.Clients, MaxClients)
	} else if c.Workload.Kind == workload.Closed && c.Workload.Clients > c.Limits.MaxPending {
		// Each closed-loop client keeps at least one event pending, and
		// the protocols set the loops up before the engine's bounds apply:
		// refuse here, before anything is allocated.
		fe.Add("workload.clients", "%d closed-loop clients exceed limits.max_pending %d (each client keeps an event pending)", c.Workload.Clients, c.Limits.MaxPending)
	}
	fe.Merge("network", c.Network.Validate())
	fe.Merge("faults", c.Faults.Validate())
	c.validateNodes(&fe)
	if c.Protocol.Config == nil {
		fe.Add("protocol.name", "is required (one of: %v)", ProtocolNames())
	} else {
		fe.Merge("protocol", c.Protocol.Config.Validate())
		if nv, ok := c.Protocol.Config.(protocols.NodeValidator); ok {
			if names, err := ExpandNodes(c.Nodes); err == nil && len(names) > 0 && len(names) <= c.Limits.MaxNodes {
				fe.Merge("protocol", nv.ValidateNodes(c.placements()))
			}
		}
	}
	fe.Merge("workload", c.Workload.Validate())
	m := c.Metrics
	m.Warmup = 0
	fe.Merge("metrics", m.Validate())
	if c.Metrics.MaxBuckets > MaxBuckets {
		// Every time series may grow to this many buckets.
		fe.Add("metrics.max_buckets", "must be at most %d, got %d", MaxBuckets, c.Metrics.MaxBuckets)
	}
	if c.SweepMode > Zip {
		fe.Add("sweep_mode", "must be grid or zip")
	}
	for i, p := range c.Plots {
		fe.Merge(fmt.Sprintf("plots[%d]", i), p.Validate())
	}
	for i, ch := range c.Checks {
		fe.Merge(fmt.Sprintf("checks[%d]", i), ch.Validate())
	}
	fe.Merge("results", c.Results.Validate())
	for i, h := range c.Report.Headline {
		if h == "" {
			fe.Add(fmt.Sprintf("report.headline[%d]", i), "must name a metric")
		}
	}
	if t := c.Timeline; t != nil {
		if t.Run < 0 {
			fe.Add("timeline.run", "must not be negative, got %d", t.Run)
		}
		if t.MaxEvents < 0 || t.MaxEvents > 1_000_000 {
			fe.Add("timeline.max_events", "must be in [0, 1000000] (0: the default 10000), got %d", t.MaxEvents)
		}
	}
	if c.Limits.MaxEvents < 1 {
		fe.Add("limits.max_events", "must be at least 1")
	}
	if c.Limits.MaxPending < 1 || c.Limits.MaxPending > sim.DefaultMaxPending {
		fe.Add("limits.max_pending", "must be in [1, %d]", sim.DefaultMaxPending)
	}
	if c.Limits.MaxNodes < 1 || c.Limits.MaxNodes > sim.DefaultMaxNodes {
		fe.Add("limits.max_nodes", "must be in [1, %d]", sim.DefaultMaxNodes)
	}
	if c.Limits.MaxRuns < 1 || c.Limits.MaxRuns > MaxRuns {
		fe.Add("limits.max_runs", "must be in [1, %d]", MaxRuns)
	}
	return fe.Err()
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 100 || s[0] == '.' {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// Seeds is either a count of seeds per sweep point or an explicit list of
// run seeds.
type Seeds struct {
	// Count is the number of seeds per sweep point (when List is nil).
	Count int
	// List holds explicit run seeds; nil means "use Count".
	List []uint64
}

// N returns the number of seeds per sweep point.
func (s Seeds) N() int {
	if s.List != nil {
		return len(s.List)
	}
	return s.Count
}

// UnmarshalYAML accepts a count (10) or a list ([1, 7, 42]).
func (s *Seeds) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := strconv.Atoi(n.Value)
		if err != nil {
			return fmt.Errorf("want a count of seeds or a list of seeds, got %q", n.Value)
		}
		*s = Seeds{Count: v}
		return nil
	case yaml.SequenceNode:
		list := make([]uint64, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := strconv.ParseUint(e.Value, 0, 64)
			if err != nil || e.Kind != yaml.ScalarNode {
				return fmt.Errorf("want a seed (a non-negative integer), got %q", e.Value)
			}
			list = append(list, v)
		}
		*s = Seeds{List: list}
		return nil
	}
	return fmt.Errorf("want a count of seeds or a list of seeds")
}

// MarshalYAML writes the count or the list.
func (s Seeds) MarshalYAML() (any, error) {
	if s.List != nil {
		return s.List, nil
	}
	return s.Count, nil
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=SweepMode,CheckOf -linecomment -output=config_string.go

// SweepMode is how sweep lists combine.
type SweepMode uint8

// Sweep modes.
const (
	// Grid runs every combination of the sweep lists.
	Grid SweepMode = iota // grid
	// Zip runs the i-th value of every list together.
	Zip // zip
)

// UnmarshalYAML parses "grid" or "zip".
func (m *SweepMode) UnmarshalYAML(n *yaml.Node) error { return enum.Set(m, "sweep mode", n.Value) }

// MarshalYAML writes the name.
func (m SweepMode) MarshalYAML() (any, error) { return m.String(), nil }

// Sweep is the ordered list of swept parameters.
type Sweep []SweepParam

// SweepParam is one swept config path and its values as YAML nodes (so
// each value keeps its place in the file for error messages).
type SweepParam struct {
	Path   string
	Values []*yaml.Node
}

// UnmarshalYAML reads a mapping of paths to lists, keeping file order.
func (s *Sweep) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("want a mapping of config paths to lists of values")
	}
	var out Sweep
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if v == nil || v.Kind != yaml.SequenceNode {
			return fmt.Errorf("sweep %s: want a list of values", k.Value)
		}
		out = append(out, SweepParam{Path: k.Value, Values: v.Content})
	}
	*s = out
	return nil
}

// MarshalYAML writes the mapping in order.
func (s Sweep) MarshalYAML() (any, error) {
	if len(s) == 0 {
		return nil, nil
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, p := range s {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, v := range p.Values {
			seq.Content = append(seq.Content, cleanCopy(v))
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: p.Path}, seq)
	}
	return m, nil
}

// ProtocolSpec is the protocol section: a registered protocol's name and
// its config, whose fields sit next to the name in YAML.
type ProtocolSpec struct {
	// Name is the registered protocol name.
	Name string
	// Config is the protocol's config, defaults filled.
	Config protocols.Config
}

// UnmarshalYAML looks the protocol up and decodes the other keys into its
// config.
func (p *ProtocolSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("want a mapping with the protocol name and settings")
	}
	nameNode := mapValue(n, "name")
	if nameNode == nil {
		return fmt.Errorf("missing protocol name")
	}
	proto, ok := LookupProtocol(nameNode.Value)
	if !ok {
		return fmt.Errorf("unknown protocol %q", nameNode.Value)
	}
	rest := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "name" {
			rest.Content = append(rest.Content, n.Content[i], n.Content[i+1])
		}
	}
	cfg := proto.DefaultConfig()
	if p.Name == proto.Name() && p.Config != nil {
		cfg = p.Config
	}
	if err := rest.Decode(cfg); err != nil {
		return err
	}
	p.Name, p.Config = proto.Name(), cfg
	return nil
}

// MarshalYAML writes the name followed by the config's fields.
func (p ProtocolSpec) MarshalYAML() (any, error) {
	out := &yaml.Node{Kind: yaml.MappingNode}
	out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "name"}, &yaml.Node{Kind: yaml.ScalarNode, Value: p.Name})
	if p.Config == nil {
		return out, nil
	}
	var body yaml.Node
	if err := body.Encode(p.Config); err != nil {
		return nil, err
	}
	if body.Kind == yaml.MappingNode {
		out.Content = append(out.Content, body.Content...)
	}
	return out, nil
}

// Check bounds one metric. Without `when` it applies to every sweep
// point.
type Check struct {
	// Metric is a run metric name, e.g. "rtt_p99_ms" or "success_ratio",
	// with a value of every label of its metric ("attempts_rps{tier=db}").
	Metric string `yaml:"metric"`
	// Min is the smallest allowed value (inclusive).
	Min *float64 `yaml:"min"`
	// Max is the largest allowed value (inclusive).
	Max *float64 `yaml:"max"`
	// When limits the check to the sweep points whose parameters have
	// these values, written as in the sweep list: {protocol.timeout: 1s}.
	When map[string]string `yaml:"when"`
	// Of is what is bounded: "run" (every run on its own, the default)
	// or "mean" (each sweep point's mean over its seeds).
	Of CheckOf `yaml:"of"`
}

// Validate checks the bounds.
func (c Check) Validate() error {
	var fe sim.FieldErrors
	if c.Metric == "" {
		fe.Add("metric", "is required")
	}
	if c.Min == nil && c.Max == nil {
		fe.Add("", "needs min, max or both")
	}
	if c.Min != nil && c.Max != nil && *c.Min > *c.Max {
		fe.Add("min", "must not exceed max (%g > %g)", *c.Min, *c.Max)
	}
	if c.Of > OfMean {
		fe.Add("of", "must be run or mean")
	}
	return fe.Err()
}

// CheckOf says what a check bounds.
type CheckOf uint8

// What a check bounds.
const (
	// OfRun bounds the metric of every run.
	OfRun CheckOf = iota // run
	// OfMean bounds the mean over the seeds of every sweep point.
	OfMean // mean
)

// UnmarshalYAML parses "run" or "mean".
func (o *CheckOf) UnmarshalYAML(n *yaml.Node) error { return enum.Set(o, "value", n.Value) }

// MarshalYAML writes the name.
func (o CheckOf) MarshalYAML() (any, error) { return o.String(), nil }
