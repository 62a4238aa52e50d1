package netmodel

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"gopkg.in/yaml.v3"
)

func TestBadInputRejected(t *testing.T) {
	nodes := []string{"n1", "n2", "n3"}
	tests := []struct {
		name   string
		cfg    func(*Config)
		faults FaultsConfig
		want   string // substring of the error
	}{
		{"loss > 1", func(c *Config) { c.Loss = 1.5 }, FaultsConfig{}, "network.loss: must be a probability in [0, 1], got 1.5"},
		{"negative latency", func(c *Config) { c.Latency = Const(-time.Millisecond) }, FaultsConfig{}, "network.latency.value: must not be negative"},
		{"mixture weights", func(c *Config) {
			c.Latency = DistSpec{Dist: DistMixture, Of: []DistSpec{{Weight: 0.6, Dist: DistConstant, Value: ms}, {Weight: 0.6, Dist: DistConstant, Value: ms}}}
		}, FaultsConfig{}, "network.latency.of: weights must sum to 1, got 1.2"},
		{"negative bandwidth", func(c *Config) { c.BandwidthMbps = -1 }, FaultsConfig{}, "network.bandwidth_mbps"},
		{"rule loss", func(c *Config) { c.Links = []LinkRule{{From: "n1", To: "n2", LinkPatch: LinkPatch{Loss: Ptr(2.0)}}} }, FaultsConfig{}, "network.links[0].loss"},
		{"rule endpoint", func(c *Config) { c.Links = []LinkRule{{From: "n1"}} }, FaultsConfig{}, "network.links[0].to: missing"},
		{"ge loss_bad", func(c *Config) { c.GilbertElliott = GilbertElliott{PGoodBad: 0.1, PBadGood: 0.1} }, FaultsConfig{}, "network.gilbert_elliott.loss_bad"},
		{"drift", func(c *Config) { c.Clocks = []ClockSpec{{Nodes: []string{"n1"}, DriftPPM: 2e6}} }, FaultsConfig{}, "network.clocks[0].drift_ppm"},
		{"slow without processing", nil, FaultsConfig{Schedule: []Fault{{Kind: FaultSlow, Nodes: []string{"n1"}, Factor: 2, Duration: sec(1)}}},
			"network.processing: slow faults need network.processing > 0"},
		{"no kind", nil, FaultsConfig{Schedule: []Fault{{At: sec(1)}}}, "faults.schedule[0].kind: missing"},
		{"field of other kind", nil, FaultsConfig{Schedule: []Fault{{Kind: FaultCrash, Nodes: []string{"n1"}, Groups: [][]string{{"n1"}}}}},
			"faults.schedule[0].groups: does not apply to kind crash"},
		{"partition without groups", nil, FaultsConfig{Schedule: []Fault{{Kind: FaultPartition}}}, "faults.schedule[0]: a partition needs groups or pairs"},
		{"pair of 3", nil, FaultsConfig{Schedule: []Fault{{Kind: FaultPartition, Pairs: [][]string{{"n1", "n2", "n3"}}}}}, "faults.schedule[0].pairs[0]: a pair has 2 nodes"},
		{"overlapping repeats", nil, FaultsConfig{Schedule: []Fault{{Kind: FaultPause, Nodes: []string{"n1"}, Duration: sec(2), Repeat: 3, Every: sec(1)}}},
			"faults.schedule[0].every: repeats would overlap"},
		{"negative start", nil, FaultsConfig{Schedule: []Fault{{Kind: FaultCrash, Nodes: []string{"n1"}, At: sec(-1)}}}, "faults.schedule[0].at: must not be negative"},
		{"nested", nil, FaultsConfig{Schedule: []Fault{{Kind: FaultSequence, Faults: []Fault{{Kind: FaultSlow, Nodes: []string{"n1"}, Factor: 0.5}}}}},
			"faults.schedule[0].faults[0].factor: must be >= 1"},
		{"chaos safety", nil, FaultsConfig{Chaos: &ChaosConfig{}}, "faults.chaos.safety: must be > 0"},
		{"chaos duration", nil, FaultsConfig{Chaos: &ChaosConfig{Safety: sec(10), Crash: ChaosRate{PerMin: 1}}}, "faults.chaos.crash.duration: missing"},
		{"huge schedule", nil, FaultsConfig{Schedule: []Fault{{Kind: FaultSequence, Repeat: 2000, Every: sec(10),
			Faults: []Fault{{Kind: FaultClock, Nodes: []string{"n1"}, Jump: sec(1), Repeat: 1000, Every: sec(0.001)}}}}}, "expands to more than"},
		// Errors that need the node list, reported by Install.
		{"partition names unknown node", nil, FaultsConfig{Schedule: []Fault{{Kind: FaultPartition, Groups: [][]string{{"n1"}, {"zz"}}}}},
			`faults.schedule[0].groups[1][0]: "zz" matches no node`},
		{"crash glob matches nothing", nil, FaultsConfig{Schedule: []Fault{{Kind: FaultCrash, Nodes: []string{"db-*"}}}}, `faults.schedule[0].nodes[0]: "db-*" matches no node`},
		{"overlapping groups", nil, FaultsConfig{Schedule: []Fault{{Kind: FaultPartition, Groups: [][]string{{"n*"}, {"n2"}}}}}, `node "n2" is already in groups[0]`},
		{"zone unknown node", func(c *Config) { c.Zones = map[string][]string{"eu": {"n1", "x"}} }, FaultsConfig{}, `network.zones.eu[1]: "x" matches no node`},
		{"node in two zones", func(c *Config) { c.Zones = map[string][]string{"eu": {"n1"}, "us": {"n*"}} }, FaultsConfig{}, `node "n1" is already in zone "eu"`},
		{"link names nothing", func(c *Config) { c.Links = []LinkRule{{From: "asia", To: "n1"}} }, FaultsConfig{}, `network.links[0].from: "asia" names no zone and matches no node`},
		{"chaos clock duration", nil, FaultsConfig{Chaos: &ChaosConfig{Safety: sec(10), Clock: ChaosRate{PerMin: 1, Duration: Const(time.Second)}}}, "faults.chaos.clock.jump: missing"},
		{"chaos backwards", nil, FaultsConfig{Chaos: &ChaosConfig{Safety: sec(10), Clock: ChaosRate{PerMin: 1, Jump: Const(time.Second), Backwards: 2}}}, "faults.chaos.clock.backwards"},
		{"chaos nodes", nil, FaultsConfig{Chaos: &ChaosConfig{Safety: sec(1), Nodes: []string{"q"}}}, `faults.chaos.nodes[0]: "q" matches no node`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			m, err := New(cfg, tt.faults)
			if err == nil {
				e := sim.New(sim.Config{})
				for _, n := range nodes {
					e.MustAddNode(n, func() sim.Node { return &sink{log: &[]delivery{}} })
				}
				err = m.Install(e)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tt.want)
			}
			var fe sim.FieldErrors
			if !errors.As(err, &fe) {
				t.Errorf("error is %T, want sim.FieldErrors", err)
			}
		})
	}
}

const exampleYAML = `
network:
  latency: {dist: lognormal, median: 1ms, p99: 8ms}
  loss: 0.001
  bandwidth_mbps: 1000
  queue_bytes: 1000000
  gilbert_elliott: {p_good_bad: 0.001, p_bad_good: 0.3, loss_bad: 1}
  duplicate: 0.0001
  duplicate_delay: 2ms
  corrupt: 0.0001
  processing: 50us
  zones: {eu: ["eu-*"], us: ["us-*"]}
  links:
    - {from: eu, to: us, latency: {dist: normal, mean: 40ms, stddev: 2ms}}
    - {from: us-1, to: eu-1, one_way: true, loss: 0.05, fifo: true}
  clocks:
    - {nodes: [eu-2], offset: 5ms, drift_ppm: 100, steps: [{at: 30s, jump: -2s}]}
faults:
  schedule:
    - {kind: partition, at: 10s, duration: 5s, groups: [[eu-1, eu-2], [us-1]], in_flight: deliver}
    - {kind: partition, at: 20s, duration: 5s, pairs: [[eu-1, us-1]], one_way: true}
    - {kind: isolate, at: 30s, duration: 2s, nodes: [us-2]}
    - {kind: crash, at: 40s, duration: 3s, nodes: [eu-1]}
    - {kind: pause, at: 50s, duration: 300ms, nodes: ["us-*"], repeat: 5, every: 2s}
    - {kind: slow, at: 60s, duration: 10s, nodes: [eu-2], factor: 20}
    - {kind: clock, at: 70s, nodes: [us-1], jump: -2s}
    - kind: sequence
      label: rolling-restart
      at: 80s
      repeat: 2
      every: 10s
      faults:
        - {kind: crash, duration: 1s, nodes: [eu-1]}
        - {kind: crash, at: 500ms, duration: 1s, nodes: [eu-2]}
  chaos:
    start: 100s
    safety: 60s
    liveness: 30s
    crash: {per_min: 2, duration: {dist: uniform, min: 1s, max: 5s}}
    partition: {per_min: 1, duration: {dist: exponential, mean: 5s, min: 1s}}
    slow: {per_min: 1, duration: 2s, factor: 5}
    clock: {per_min: 1, jump: {dist: uniform, min: 10ms, max: 1s}, backwards: 0.5}
`

// experiment mirrors how the experiment loader embeds the two sections.
type experiment struct {
	Network Config       `yaml:"network"`
	Faults  FaultsConfig `yaml:"faults"`
}

func decodeExample(t *testing.T) experiment {
	t.Helper()
	x := experiment{Network: DefaultConfig()}
	dec := yaml.NewDecoder(strings.NewReader(exampleYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&x); err != nil {
		t.Fatal(err)
	}
	return x
}

func TestYAMLRoundTrip(t *testing.T) {
	x := decodeExample(t)
	e := sim.New(sim.Config{Seed: 4})
	for _, n := range []string{"eu-1", "eu-2", "us-1", "us-2"} {
		e.MustAddNode(n, func() sim.Node { return &sink{log: &[]delivery{}} })
	}
	mustInstall(t, e, x.Network, x.Faults)
	if got := x.Network.Links[1].LinkPatch; got.Loss == nil || *got.Loss != 0.05 || got.FIFO == nil || !*got.FIFO || got.Latency != nil {
		t.Errorf("links[1] = %+v", got)
	}
	if x.Faults.Schedule[0].InFlight != InFlightDeliver || x.Faults.Schedule[7].Kind != FaultSequence {
		t.Errorf("schedule decoded as %+v", x.Faults.Schedule)
	}
	out, err := yaml.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var y experiment
	if err := yaml.Unmarshal(out, &y); err != nil {
		t.Fatalf("re-reading marshalled config: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(x, y) {
		t.Errorf("round trip changed the config:\n%s", out)
	}
	bad := strings.Replace(exampleYAML, "kind: isolate", "kind: isolation", 1)
	dec := yaml.NewDecoder(strings.NewReader(bad))
	if err := dec.Decode(&experiment{}); err == nil || !strings.Contains(err.Error(), `unknown fault kind "isolation"`) {
		t.Errorf("bad kind: %v", err)
	}
}

func TestScheduleWindows(t *testing.T) {
	x := decodeExample(t)
	x.Faults.Chaos = nil
	e := sim.New(sim.Config{Seed: 4})
	for _, n := range []string{"eu-1", "eu-2", "us-1", "us-2"} {
		e.MustAddNode(n, func() sim.Node { return &sink{log: &[]delivery{}} })
	}
	m := mustInstall(t, e, x.Network, x.Faults)
	var got []string
	for _, w := range m.Windows() {
		got = append(got, fmt.Sprintf("%s %s %v %v-%v", w.Label, w.Kind, w.NodeNames, w.Start, w.End))
	}
	want := []string{
		"schedule[0] partition [eu-1 eu-2 us-1] 10s-15s",
		"schedule[1] partition [eu-1 us-1] 20s-25s",
		"schedule[2] isolate [us-2] 30s-32s",
		"schedule[3] crash [eu-1] 40s-43s",
		"schedule[4]#1 pause [us-1 us-2] 50s-50.3s",
		"schedule[4]#2 pause [us-1 us-2] 52s-52.3s",
		"schedule[4]#3 pause [us-1 us-2] 54s-54.3s",
		"schedule[4]#4 pause [us-1 us-2] 56s-56.3s",
		"schedule[4]#5 pause [us-1 us-2] 58s-58.3s",
		"schedule[5] slow [eu-2] 1m0s-1m10s",
		"schedule[6] clock [us-1] 1m10s-1m10s",
		"rolling-restart#1.faults[0] crash [eu-1] 1m20s-1m21s",
		"rolling-restart#1.faults[1] crash [eu-2] 1m21.5s-1m22.5s",
		"rolling-restart#2.faults[0] crash [eu-1] 1m30s-1m31s",
		"rolling-restart#2.faults[1] crash [eu-2] 1m31.5s-1m32.5s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("windows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// FuzzConfig: any YAML either fails with an error before the run starts
// or runs without panicking.
func FuzzConfig(f *testing.F) {
	f.Add(exampleYAML)
	f.Add("network: {latency: 1ms, loss: 0.5}\nfaults: {schedule: [{kind: crash, nodes: [a], at: 1ms, duration: 2ms}]}")
	f.Add("network: {latency: {dist: uniform, min: 0s, max: 3ms}, fifo: true, bandwidth_mbps: 0.01, queue_bytes: 100}\nfaults: {chaos: {safety: 50ms, partition: {per_min: 600, duration: 5ms}}}")
	f.Fuzz(func(t *testing.T, in string) {
		x := experiment{Network: DefaultConfig()}
		dec := yaml.NewDecoder(strings.NewReader(in))
		dec.KnownFields(true)
		if err := dec.Decode(&x); err != nil {
			return
		}
		m, err := New(x.Network, x.Faults)
		if err != nil {
			return
		}
		e := sim.New(sim.Config{Seed: 1, MaxEvents: 20000})
		for _, n := range []string{"a", "b", "c"} {
			e.MustAddNode(n, func() sim.Node { return &allToAll{peers: 3, log: &[]delivery{}} })
		}
		if err := m.Install(e); err != nil {
			return
		}
		_ = e.Run(sim.Time(100 * time.Millisecond))
	})
}
