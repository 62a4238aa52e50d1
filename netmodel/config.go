package netmodel

import (
	"fmt"
	"maps"
	"math"
	"path"
	"slices"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Config is the network section of an experiment (YAML "network:"). The
// inline LinkConfig is the default for every link; Zones place nodes;
// Links override properties per zone pair or node pair, in one or both
// directions; Clocks set node clocks. The fault schedule is separate
// (FaultsConfig, YAML "faults:") because it is about time, not topology.
//
//	network:
//	  latency: {dist: lognormal, median: 1ms, p99: 8ms}
//	  loss: 0.001
//	  zones: {eu: ["eu-*"], us: ["us-*"]}
//	  links:
//	    - {from: eu, to: us, latency: {dist: normal, mean: 40ms, stddev: 2ms}}
//	    - {from: us-1, to: eu-1, one_way: true, loss: 0.05}
//	  clocks:
//	    - {nodes: [eu-2], offset: 5ms, drift_ppm: 100, steps: [{at: 30s, jump: -2s}]}
type Config struct {
	// LinkConfig holds the default properties of every link.
	LinkConfig `yaml:",inline"`
	// Processing is the time a node spends handling each delivered
	// message before the next one (a FIFO single server per node). 0, the
	// default, means handling is instantaneous, as the engine assumes; a
	// slow fault multiplies it, so slow faults need Processing > 0.
	Processing Duration `yaml:"processing,omitempty"`
	// Zones places nodes: zone name -> node names or glob patterns
	// ("db-*", see path.Match). A node in no zone is in the unnamed zone.
	// Model.SetZone overrides placement from Go.
	Zones map[string][]string `yaml:"zones,omitempty"`
	// Links override link properties. A rule's From and To each name a
	// zone or a node (or a glob over node names). Zone rules apply first,
	// then node rules, each group in list order, later rules overriding
	// the fields earlier ones set.
	Links []LinkRule `yaml:"links,omitempty"`
	// Clocks sets node clocks; nodes not listed have perfect clocks.
	Clocks []ClockSpec `yaml:"clocks,omitempty"`
}

// LinkConfig holds the properties of one directed link.
type LinkConfig struct {
	// Latency is the one-way propagation delay of each message, drawn
	// independently per message, so messages can overtake each other
	// unless FIFO is set.
	Latency DistSpec `yaml:"latency"`
	// BandwidthMbps is the link rate in megabits per second: a message
	// of s bytes occupies the link for s*8/rate before it propagates.
	// 0 means infinite (no serialization delay, no queue).
	BandwidthMbps float64 `yaml:"bandwidth_mbps,omitempty"`
	// QueueBytes bounds the link's FIFO (bytes waiting plus the message
	// being sent); a message that does not fit is tail-dropped and counted
	// as congestion loss. 0 means unbounded. Only used with a bandwidth.
	QueueBytes int `yaml:"queue_bytes,omitempty"`
	// Loss is the probability that a message is lost (Bernoulli, i.i.d.).
	Loss float64 `yaml:"loss,omitempty"`
	// GilbertElliott adds bursty loss; the zero value disables it.
	GilbertElliott GilbertElliott `yaml:"gilbert_elliott,omitempty"`
	// Duplicate is the probability that a message is delivered twice.
	Duplicate float64 `yaml:"duplicate,omitempty"`
	// DuplicateDelay is how long after the original the copy arrives.
	DuplicateDelay Duration `yaml:"duplicate_delay,omitempty"`
	// Corrupt is the probability that a message arrives corrupted; the
	// receiver's checksum then drops it (counted as corruption).
	Corrupt float64 `yaml:"corrupt,omitempty"`
	// FIFO keeps the link's messages in send order: a message never
	// arrives before one sent earlier on the same link.
	FIFO bool `yaml:"fifo,omitempty"`
}

// GilbertElliott is the two-state bursty loss model of Gilbert (1960) and
// Elliott (1963): the link is Good or Bad; each message is lost with the
// state's loss probability, then the state changes with PGoodBad or
// PBadGood. With LossGood 0 and LossBad 1 the mean loss burst is
// 1/PBadGood messages and the stationary loss rate
// PGoodBad/(PGoodBad+PBadGood).
type GilbertElliott struct {
	// PGoodBad is the per-message probability of going from Good to Bad.
	// 0 disables the model.
	PGoodBad float64 `yaml:"p_good_bad"`
	// PBadGood is the per-message probability of going from Bad to Good.
	PBadGood float64 `yaml:"p_bad_good"`
	// LossGood is the loss probability in the Good state (often 0).
	LossGood float64 `yaml:"loss_good,omitempty"`
	// LossBad is the loss probability in the Bad state (often 1).
	LossBad float64 `yaml:"loss_bad"`
}

// Enabled reports whether the model is on.
func (g GilbertElliott) Enabled() bool { return g.PGoodBad > 0 }

// LinkRule overrides link properties between two sets of nodes.
type LinkRule struct {
	// From names a zone, a node or a glob over node names.
	From string `yaml:"from"`
	// To names a zone, a node or a glob over node names.
	To string `yaml:"to"`
	// OneWay applies the rule to From->To only; by default it applies to
	// both directions. Asymmetric links are two one-way rules.
	OneWay bool `yaml:"one_way,omitempty"`
	// LinkPatch holds the properties set; unset fields are inherited.
	LinkPatch `yaml:",inline"`
}

// LinkPatch is a partial LinkConfig: nil fields are left unchanged.
// Each field overrides the LinkConfig field of the same name.
type LinkPatch struct {
	// Latency overrides LinkConfig.Latency.
	Latency *DistSpec `yaml:"latency,omitempty"`
	// BandwidthMbps overrides LinkConfig.BandwidthMbps.
	BandwidthMbps *float64 `yaml:"bandwidth_mbps,omitempty"`
	// QueueBytes overrides LinkConfig.QueueBytes.
	QueueBytes *int `yaml:"queue_bytes,omitempty"`
	// Loss overrides LinkConfig.Loss.
	Loss *float64 `yaml:"loss,omitempty"`
	// GilbertElliott overrides LinkConfig.GilbertElliott.
	GilbertElliott *GilbertElliott `yaml:"gilbert_elliott,omitempty"`
	// Duplicate overrides LinkConfig.Duplicate.
	Duplicate *float64 `yaml:"duplicate,omitempty"`
	// DuplicateDelay overrides LinkConfig.DuplicateDelay.
	DuplicateDelay *Duration `yaml:"duplicate_delay,omitempty"`
	// Corrupt overrides LinkConfig.Corrupt.
	Corrupt *float64 `yaml:"corrupt,omitempty"`
	// FIFO overrides LinkConfig.FIFO.
	FIFO *bool `yaml:"fifo,omitempty"`
}

// Ptr returns a pointer to v, for filling LinkPatch from Go.
func Ptr[T any](v T) *T { return &v }

// Apply returns c with the fields set in p replaced.
func (p LinkPatch) Apply(c LinkConfig) LinkConfig {
	if p.Latency != nil {
		c.Latency = *p.Latency
	}
	if p.BandwidthMbps != nil {
		c.BandwidthMbps = *p.BandwidthMbps
	}
	if p.QueueBytes != nil {
		c.QueueBytes = *p.QueueBytes
	}
	if p.Loss != nil {
		c.Loss = *p.Loss
	}
	if p.GilbertElliott != nil {
		c.GilbertElliott = *p.GilbertElliott
	}
	if p.Duplicate != nil {
		c.Duplicate = *p.Duplicate
	}
	if p.DuplicateDelay != nil {
		c.DuplicateDelay = *p.DuplicateDelay
	}
	if p.Corrupt != nil {
		c.Corrupt = *p.Corrupt
	}
	if p.FIFO != nil {
		c.FIFO = *p.FIFO
	}
	return c
}

// ClockSpec sets the clock of the nodes it names (see Clock).
type ClockSpec struct {
	// Nodes names nodes or globs over node names.
	Nodes []string `yaml:"nodes"`
	// Offset is the local clock's reading minus true time at time 0.
	Offset Duration `yaml:"offset,omitempty"`
	// DriftPPM is the rate error in parts per million: +100 means the
	// local clock gains 100 µs per true second.
	DriftPPM float64 `yaml:"drift_ppm,omitempty"`
	// Steps are instantaneous jumps of the local clock (NTP steps, manual
	// resets); a negative jump sets it back.
	Steps []ClockStepSpec `yaml:"steps,omitempty"`
}

// ClockStepSpec is one clock jump.
type ClockStepSpec struct {
	// At is the true time of the jump.
	At Duration `yaml:"at"`
	// Jump is added to the local clock; negative goes backwards.
	Jump Duration `yaml:"jump"`
}

// DefaultLinkConfig returns a LAN-like link: log-normal latency with a
// 500 µs median and a 2 ms p99, no bandwidth limit, no loss, duplication
// or corruption, reordering allowed.
func DefaultLinkConfig() LinkConfig {
	return LinkConfig{
		Latency: DistSpec{Dist: DistLogNormal, Median: Duration(500 * time.Microsecond), P99: Duration(2 * time.Millisecond)},
	}
}

// DefaultConfig returns a network of DefaultLinkConfig links, one zone,
// perfect clocks and instantaneous message handling.
func DefaultConfig() Config {
	return Config{LinkConfig: DefaultLinkConfig()}
}

// MaxDriftPPM bounds |DriftPPM|; beyond it a clock would barely be a clock.
const MaxDriftPPM = 100_000

func checkProb(fe *sim.FieldErrors, path string, p float64) {
	if !(p >= 0 && p <= 1) {
		fe.Add(path, "must be a probability in [0, 1], got %v", p)
	}
}

// Validate checks every field that does not depend on the node list.
func (c Config) Validate() error {
	var fe sim.FieldErrors
	c.LinkConfig.validate(&fe, "")
	if c.Processing < 0 {
		fe.Add("processing", "must not be negative, got %v", c.Processing)
	}
	for _, z := range slices.Sorted(maps.Keys(c.Zones)) {
		p := "zones." + z
		if z == "" {
			fe.Add("zones", "zone name must not be empty")
		}
		if len(c.Zones[z]) == 0 {
			fe.Add(p, "zone has no nodes")
		}
		for i, pat := range c.Zones[z] {
			checkPattern(&fe, fmt.Sprintf("%s[%d]", p, i), pat)
		}
	}
	for i, r := range c.Links {
		p := fmt.Sprintf("links[%d]", i)
		if r.From == "" {
			fe.Add(p+".from", "missing: name a zone, a node or a glob")
		} else {
			checkPattern(&fe, p+".from", r.From)
		}
		if r.To == "" {
			fe.Add(p+".to", "missing: name a zone, a node or a glob")
		} else {
			checkPattern(&fe, p+".to", r.To)
		}
		r.LinkPatch.validate(&fe, p)
	}
	for i, cs := range c.Clocks {
		p := fmt.Sprintf("clocks[%d]", i)
		if len(cs.Nodes) == 0 {
			fe.Add(p+".nodes", "name at least one node")
		}
		for j, pat := range cs.Nodes {
			checkPattern(&fe, fmt.Sprintf("%s.nodes[%d]", p, j), pat)
		}
		if math.IsNaN(cs.DriftPPM) || math.Abs(cs.DriftPPM) > MaxDriftPPM {
			fe.Add(p+".drift_ppm", "must be within ±%d, got %v", MaxDriftPPM, cs.DriftPPM)
		}
		for j, st := range cs.Steps {
			if st.At < 0 {
				fe.Add(fmt.Sprintf("%s.steps[%d].at", p, j), "must not be negative, got %v", st.At)
			}
		}
	}
	return fe.Err()
}

func (l LinkConfig) validate(fe *sim.FieldErrors, prefix string) {
	var sub sim.FieldErrors
	if l.Latency.IsZero() {
		sub.Add("latency", "missing; e.g. {dist: lognormal, median: 1ms, p99: 8ms}")
	} else {
		sub.Merge("latency", l.Latency.Validate())
	}
	LinkPatch{
		BandwidthMbps: &l.BandwidthMbps, QueueBytes: &l.QueueBytes, Loss: &l.Loss,
		GilbertElliott: &l.GilbertElliott, Duplicate: &l.Duplicate,
		DuplicateDelay: &l.DuplicateDelay, Corrupt: &l.Corrupt,
	}.validate(&sub, "")
	fe.Merge(prefix, sub.Err())
}

func (p LinkPatch) validate(fe *sim.FieldErrors, prefix string) {
	var sub sim.FieldErrors
	if p.Latency != nil {
		sub.Merge("latency", p.Latency.Validate())
	}
	if p.BandwidthMbps != nil && !(*p.BandwidthMbps >= 0) || p.BandwidthMbps != nil && math.IsInf(*p.BandwidthMbps, 0) {
		sub.Add("bandwidth_mbps", "must be >= 0 (0 = unlimited), got %v", *p.BandwidthMbps)
	}
	if p.QueueBytes != nil && *p.QueueBytes < 0 {
		sub.Add("queue_bytes", "must be >= 0 (0 = unbounded), got %v", *p.QueueBytes)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"loss", p.Loss}, {"duplicate", p.Duplicate}, {"corrupt", p.Corrupt}} {
		if f.v != nil {
			checkProb(&sub, f.name, *f.v)
		}
	}
	if p.DuplicateDelay != nil && *p.DuplicateDelay < 0 {
		sub.Add("duplicate_delay", "must not be negative, got %v", *p.DuplicateDelay)
	}
	if g := p.GilbertElliott; g != nil && *g != (GilbertElliott{}) {
		checkProb(&sub, "gilbert_elliott.p_good_bad", g.PGoodBad)
		checkProb(&sub, "gilbert_elliott.p_bad_good", g.PBadGood)
		checkProb(&sub, "gilbert_elliott.loss_good", g.LossGood)
		checkProb(&sub, "gilbert_elliott.loss_bad", g.LossBad)
		if g.PGoodBad == 0 {
			sub.Add("gilbert_elliott.p_good_bad", "must be > 0 to enable the model (omit gilbert_elliott to disable it)")
		}
		if g.PBadGood == 0 {
			sub.Add("gilbert_elliott.p_bad_good", "must be > 0, or the link stays Bad forever")
		}
		if !(g.LossBad > g.LossGood) {
			sub.Add("gilbert_elliott.loss_bad", "must be > loss_good (%v), got %v; usually 1", g.LossGood, g.LossBad)
		}
	}
	fe.Merge(prefix, sub.Err())
}

func checkPattern(fe *sim.FieldErrors, p, pat string) {
	if _, err := path.Match(pat, ""); err != nil {
		fe.Add(p, "bad glob %q: %v", pat, err)
	}
}

// ValidateNodes checks the fields that refer to nodes against the node
// names of a run: every zone entry, link endpoint and clock entry must
// match a node, no node may sit in two zones or two clock entries, and no
// zone may share a node's name.
func (c Config) ValidateNodes(names []string) error { return c.validateNodes(names, nil) }

// validateNodes is ValidateNodes where extra also counts as zone names
// (zones set with Model.SetZone).
func (c Config) validateNodes(names []string, extra map[string]bool) error {
	var fe sim.FieldErrors
	zoneOf := map[string]string{}
	for _, z := range slices.Sorted(maps.Keys(c.Zones)) {
		if slices.Contains(names, z) {
			fe.Add("zones."+z, "zone name %q is also a node name; link rules would be ambiguous", z)
		}
		for i, pat := range c.Zones[z] {
			m := matchNames(pat, names)
			if len(m) == 0 {
				fe.Add(fmt.Sprintf("zones.%s[%d]", z, i), "%q matches no node", pat)
			}
			for _, n := range m {
				if prev, ok := zoneOf[n]; ok && prev != z {
					fe.Add(fmt.Sprintf("zones.%s[%d]", z, i), "node %q is already in zone %q", n, prev)
				}
				zoneOf[n] = z
			}
		}
	}
	for i, r := range c.Links {
		for _, end := range []struct{ f, v string }{{"from", r.From}, {"to", r.To}} {
			if _, isZone := c.Zones[end.v]; isZone || extra[end.v] || end.v == "" {
				continue
			}
			if len(matchNames(end.v, names)) == 0 {
				fe.Add(fmt.Sprintf("links[%d].%s", i, end.f), "%q names no zone and matches no node", end.v)
			}
		}
	}
	clockOf := map[string]int{}
	for i, cs := range c.Clocks {
		for j, pat := range cs.Nodes {
			m := matchNames(pat, names)
			if len(m) == 0 {
				fe.Add(fmt.Sprintf("clocks[%d].nodes[%d]", i, j), "%q matches no node", pat)
			}
			for _, n := range m {
				if prev, ok := clockOf[n]; ok && prev != i {
					fe.Add(fmt.Sprintf("clocks[%d].nodes[%d]", i, j), "node %q already has a clock from clocks[%d]", n, prev)
				}
				clockOf[n] = i
			}
		}
	}
	return fe.Err()
}

// ResolveFiles makes relative empirical file paths relative to dir.
func (c *Config) ResolveFiles(dir string) {
	c.Latency.ResolveFiles(dir)
	for i := range c.Links {
		if c.Links[i].Latency != nil {
			c.Links[i].Latency.ResolveFiles(dir)
		}
	}
}

// matchNames returns the names matched by pat (exactly or as a glob), in
// the order of names.
func matchNames(pat string, names []string) []string {
	var out []string
	for _, n := range names {
		if n == pat {
			out = append(out, n)
			continue
		}
		if ok, _ := path.Match(pat, n); ok {
			out = append(out, n)
		}
	}
	return out
}
