package swim

import (
	"fmt"
	"math"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/detector"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
	"gopkg.in/yaml.v3"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Variant,Target,Preset -linecomment -output=config_string.go

// Variant selects which of SWIM's mechanisms run.
type Variant uint8

// Variants.
const (
	// Lifeguard is SWIM with suspicion plus the Lifeguard extensions
	// (Dadgar, Phillips, Currey, "Lifeguard: Local Health Awareness for
	// More Accurate Failure Detection", 2018) that the lifeguard section
	// switches on: local health, dynamic suspicion timeouts, buddy system.
	Lifeguard Variant = iota // lifeguard
	// Suspicion is SWIM with the suspicion mechanism (DSN 2002 §4.2): a
	// failed probe makes the target a suspect, which can refute with a
	// higher incarnation before its suspicion times out.
	Suspicion // suspicion
	// Basic is SWIM without suspicion (DSN 2002 §3): a failed probe
	// declares the target dead at once.
	Basic // basic
	// Heartbeat is not SWIM but its baseline (DSN 2002 §1): every member
	// heartbeats every other one each period, as configured by the
	// heartbeat section (the detector family's heartbeat detector, with
	// this section's members, group_size and period).
	Heartbeat // heartbeat
)

// UnmarshalYAML parses a variant name.
func (v *Variant) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(v, "swim variant", n.Value)
}

// MarshalYAML writes the name.
func (v Variant) MarshalYAML() (any, error) { return v.String(), nil }

// Target is how a member picks whom to probe each period.
type Target uint8

// Target choices.
const (
	// RoundRobin walks the members in a fresh random order each pass, so
	// every member is probed once per pass: a crashed member is probed
	// within 2N−1 periods at worst (DSN 2002 §4.3).
	RoundRobin Target = iota // round_robin
	// Random picks a member uniformly at random each period, as in the
	// paper's analysis (§3.1).
	Random // random
)

// UnmarshalYAML parses "round_robin" or "random".
func (t *Target) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(t, "target choice", n.Value)
}

// MarshalYAML writes the name.
func (t Target) MarshalYAML() (any, error) { return t.String(), nil }

// Preset names a set of values for the timing and Lifeguard fields.
type Preset uint8

// Presets.
const (
	// NoPreset: the fields are used as given.
	NoPreset Preset = iota // none
	// PresetMemberlistLAN is hashicorp/memberlist's DefaultLANConfig
	// (see MemberlistLAN).
	PresetMemberlistLAN // memberlist_lan
)

// UnmarshalYAML parses "none" or "memberlist_lan".
func (p *Preset) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(p, "swim preset", n.Value)
}

// MarshalYAML writes the name.
func (p Preset) MarshalYAML() (any, error) { return p.String(), nil }

// LifeguardConfig switches and tunes the Lifeguard extensions; they act
// only in the lifeguard variant.
type LifeguardConfig struct {
	// LocalHealth makes a member that misses acks and nacks, or has to
	// refute suspicions of itself, slow down: its probe period and probe
	// timeout are multiplied by (health score + 1). A member that is
	// itself slow (overloaded, paused) then accuses others less.
	LocalHealth bool `yaml:"local_health"`
	// MaxHealth is the largest multiplier local health applies (the
	// score runs from 0 to MaxHealth−1). memberlist: 8.
	MaxHealth int `yaml:"max_health"`
	// DynamicSuspicion starts each suspicion timeout at SuspicionMaxMult
	// times the base timeout and shrinks it towards the base, on a log
	// scale, as independent members confirm the suspicion
	// (suspicion_mult − 2 confirmations reach the base).
	DynamicSuspicion bool `yaml:"dynamic_suspicion"`
	// SuspicionMaxMult is the longest suspicion timeout, as a multiple of
	// the base one. memberlist: 6.
	SuspicionMaxMult int `yaml:"suspicion_max_mult"`
	// Buddy makes a member that probes a member it suspects tell it so in
	// the ping itself, so that the suspect can refute at once.
	Buddy bool `yaml:"buddy"`
}

// Membership is a change of group membership at a point in time: nodes
// that join, or leave gracefully.
type Membership struct {
	// Nodes selects the nodes: node or zone names.
	Nodes []string `yaml:"nodes"`
	// At is when they join or leave.
	At time.Duration `yaml:"at"`
	// Every spaces the listed nodes by this much (0: all at once).
	Every time.Duration `yaml:"every"`
}

// Config is the swim family's section of an experiment.
type Config struct {
	// Members selects the nodes that form the group at the start: node
	// or zone names ("*" for all). They know each other from the start,
	// as if they had joined before the run. Nodes listed in joins are
	// not initial members even if selected here: they join later
	// through one of the initial members.
	Members []string `yaml:"members"`
	// GroupSize, when positive, keeps only the first group_size selected
	// members (in topology order); the other nodes stay idle. It lets a
	// sweep vary the group size over one node list.
	GroupSize int `yaml:"group_size"`
	// Variant is lifeguard, suspicion, basic, or heartbeat (the
	// all-to-all heartbeat baseline).
	Variant Variant `yaml:"variant"`
	// Preset, when memberlist_lan, sets period, probe_timeout,
	// indirect_checks, suspicion_mult, retransmit_mult, push_pull_interval
	// and the lifeguard section to memberlist's DefaultLANConfig; giving
	// one of them a different value alongside the preset is an error.
	Preset Preset `yaml:"preset"`
	// Period is the protocol period T: each member probes one member per
	// period. Shorter periods detect sooner; traffic grows as 1/T.
	Period time.Duration `yaml:"period"`
	// ProbeTimeout is how long a member waits for a direct ack before
	// asking others to probe indirectly. It must be shorter than the
	// period; it should exceed the round trip, or live members get
	// probed indirectly for nothing.
	ProbeTimeout time.Duration `yaml:"probe_timeout"`
	// IndirectChecks is k, how many members are asked to probe a target
	// that missed its direct ack (ping-req). More checks make false
	// suspicions under loss rarer; at most N−2.
	IndirectChecks int `yaml:"indirect_checks"`
	// Target is round_robin (a random order each pass) or random.
	Target Target `yaml:"target"`
	// Stagger spreads the members' period starts uniformly over one
	// period (true, as real members booted at different times); false
	// aligns them, as in the paper's synchronous analysis.
	Stagger bool `yaml:"stagger"`
	// SuspicionMult scales the suspicion timeout: suspicion_mult ×
	// max(1, log10 N) × period, N the members the suspecting member
	// knows. Longer timeouts give a slow member more time to refute.
	SuspicionMult int `yaml:"suspicion_mult"`
	// RetransmitMult is λ: each membership update is piggybacked on
	// λ × ⌈log10(N+1)⌉ messages before the member stops sending it.
	RetransmitMult int `yaml:"retransmit_mult"`
	// MaxPiggyback is the most updates one message carries (memberlist
	// fills a 1400-byte packet; 8 compact updates is the same order).
	MaxPiggyback int `yaml:"max_piggyback"`
	// PushPullInterval is how often a member exchanges its whole
	// membership list with a random known member (dead ones included),
	// so that the two sides of a healed partition find each other. 0
	// turns it off.
	PushPullInterval time.Duration `yaml:"push_pull_interval"`
	// Lifeguard tunes the Lifeguard extensions (lifeguard variant).
	Lifeguard LifeguardConfig `yaml:"lifeguard"`
	// Heartbeat configures the heartbeat variant: kind, monitors,
	// timeout, misses (members, group_size and the interval come from
	// this section: the interval is the period).
	Heartbeat detector.Config `yaml:"heartbeat"`
	// Joins are nodes that join the running group (through a random
	// initial member); converge_s measures how long until all agree.
	Joins []Membership `yaml:"joins"`
	// Leaves are members that leave gracefully: they announce their
	// departure and fall silent two periods later.
	Leaves []Membership `yaml:"leaves"`
	// HeaderBytes is the size of a message without updates (UDP/IP
	// headers, type, sequence number, target).
	HeaderBytes int `yaml:"header_bytes"`
	// UpdateBytes is the size of one piggybacked update (member,
	// incarnation, state, origin).
	UpdateBytes int `yaml:"update_bytes"`
}

// MemberlistLAN returns hashicorp/memberlist's DefaultLANConfig values
// (config.go: ProbeInterval 1s, ProbeTimeout 500ms, IndirectChecks 3,
// SuspicionMult 4, SuspicionMaxTimeoutMult 6, RetransmitMult 4,
// AwarenessMaxMultiplier 8, PushPullInterval 30s) with every Lifeguard
// extension on: the defaults of a production SWIM deployment on a LAN.
func MemberlistLAN() Config {
	return Config{
		Members: []string{"*"}, Variant: Lifeguard, Period: time.Second, ProbeTimeout: 500 * time.Millisecond,
		IndirectChecks: 3, Target: RoundRobin, Stagger: true, SuspicionMult: 4, RetransmitMult: 4,
		MaxPiggyback: 8, PushPullInterval: 30 * time.Second,
		Lifeguard:   LifeguardConfig{LocalHealth: true, MaxHealth: 8, DynamicSuspicion: true, SuspicionMaxMult: 6, Buddy: true},
		HeaderBytes: 40, UpdateBytes: 24, Heartbeat: detector.DefaultConfig(),
	}
}

// heartbeat returns the detector config of the heartbeat variant.
func (c *Config) heartbeat() detector.Config {
	h := c.Heartbeat
	h.Members, h.GroupSize, h.Interval = c.Members, c.GroupSize, c.Period
	if h.Interval <= 0 {
		h.Interval = time.Second // reported at period
	}
	return h
}

// DefaultConfig is MemberlistLAN without the preset name: the same values,
// free to change one by one.
func DefaultConfig() Config { return MemberlistLAN() }

// Validate reports every impossible setting at once.
func (c *Config) Validate() error {
	var fe sim.FieldErrors
	if len(c.Members) == 0 {
		fe.Add("members", "must select at least one node")
	}
	if c.GroupSize < 0 {
		fe.Add("group_size", "must not be negative (0: every selected member), got %d", c.GroupSize)
	}
	if c.Variant > Heartbeat {
		fe.Add("variant", "must be lifeguard, suspicion, basic or heartbeat")
	}
	hb := c.heartbeat()
	fe.Merge("heartbeat", hb.Validate())
	if c.Target > Random {
		fe.Add("target", "must be round_robin or random")
	}
	if c.Period <= 0 {
		fe.Add("period", "must be positive, got %v", c.Period)
	}
	if c.ProbeTimeout <= 0 {
		fe.Add("probe_timeout", "must be positive, got %v", c.ProbeTimeout)
	} else if c.Period > 0 && c.ProbeTimeout >= c.Period {
		fe.Add("probe_timeout", "must be shorter than the period %v (indirect probes need the rest of it), got %v", c.Period, c.ProbeTimeout)
	}
	if c.IndirectChecks < 0 {
		fe.Add("indirect_checks", "must not be negative, got %d", c.IndirectChecks)
	}
	if c.SuspicionMult < 1 || c.SuspicionMult > 1000 {
		fe.Add("suspicion_mult", "must be in [1, 1000], got %d", c.SuspicionMult)
	}
	if c.RetransmitMult < 1 || c.RetransmitMult > 1000 {
		fe.Add("retransmit_mult", "must be in [1, 1000], got %d", c.RetransmitMult)
	}
	if c.MaxPiggyback < 1 || c.MaxPiggyback > 1000 {
		fe.Add("max_piggyback", "must be in [1, 1000], got %d", c.MaxPiggyback)
	}
	if c.PushPullInterval < 0 {
		fe.Add("push_pull_interval", "must not be negative (0: off), got %v", c.PushPullInterval)
	}
	if c.Lifeguard.MaxHealth < 1 || c.Lifeguard.MaxHealth > 100 {
		fe.Add("lifeguard.max_health", "must be in [1, 100], got %d", c.Lifeguard.MaxHealth)
	}
	if c.Lifeguard.SuspicionMaxMult < 1 || c.Lifeguard.SuspicionMaxMult > 1000 {
		fe.Add("lifeguard.suspicion_max_mult", "must be in [1, 1000], got %d", c.Lifeguard.SuspicionMaxMult)
	}
	if c.HeaderBytes < 1 || c.HeaderBytes > 1<<16 {
		fe.Add("header_bytes", "must be in [1, 65536], got %d", c.HeaderBytes)
	}
	if c.UpdateBytes < 1 || c.UpdateBytes > 1<<16 {
		fe.Add("update_bytes", "must be in [1, 65536], got %d", c.UpdateBytes)
	}
	for _, l := range []struct {
		name string
		ms   []Membership
	}{{"joins", c.Joins}, {"leaves", c.Leaves}} {
		for i, m := range l.ms {
			p := fmt.Sprintf("%s[%d]", l.name, i)
			if len(m.Nodes) == 0 {
				fe.Add(p+".nodes", "must select at least one node")
			}
			if m.At < 0 {
				fe.Add(p+".at", "must not be negative, got %v", m.At)
			}
			if m.Every < 0 {
				fe.Add(p+".every", "must not be negative, got %v", m.Every)
			}
		}
	}
	if c.Preset == PresetMemberlistLAN {
		p := MemberlistLAN()
		for _, d := range []struct {
			path      string
			got, want any
		}{
			{"period", c.Period, p.Period}, {"probe_timeout", c.ProbeTimeout, p.ProbeTimeout},
			{"indirect_checks", c.IndirectChecks, p.IndirectChecks}, {"suspicion_mult", c.SuspicionMult, p.SuspicionMult},
			{"retransmit_mult", c.RetransmitMult, p.RetransmitMult}, {"push_pull_interval", c.PushPullInterval, p.PushPullInterval},
			{"lifeguard", c.Lifeguard, p.Lifeguard},
		} {
			if d.got != d.want {
				fe.Add(d.path, "is %v, but preset memberlist_lan sets %v: drop one of them", d.got, d.want)
			}
		}
	} else if c.Preset > PresetMemberlistLAN {
		fe.Add("preset", "must be none or memberlist_lan")
	}
	return fe.Err()
}

// members returns the selected members, cut to GroupSize.
func (c *Config) members(nodes []protocols.Placement) ([]protocols.Placement, error) {
	return protocols.SelectGroup(nodes, c.Members, c.GroupSize)
}

// ValidateNodes checks the settings that depend on the member count:
// k indirect checks need k members besides the prober and its target.
func (c *Config) ValidateNodes(nodes []protocols.Placement) error {
	var fe sim.FieldErrors
	ms, ok := protocols.ValidateGroup(&fe, nodes, c.Members, c.GroupSize, "members", "group_size")
	if !ok {
		return fe.Err()
	}
	in := map[string]bool{}
	for _, m := range ms {
		in[m.Name] = true
	}
	initial := len(in)
	for i, j := range c.Joins {
		js, err := protocols.Select(nodes, j.Nodes)
		if err != nil {
			fe.Add(fmt.Sprintf("joins[%d].nodes", i), "%v", err)
			continue
		}
		for _, m := range js {
			if in[m.Name] {
				initial--
			}
			in[m.Name] = true
		}
	}
	n := len(in)
	if initial < 1 {
		fe.Add("members", "every member is listed in joins: nobody is there to join")
	}
	for i, l := range c.Leaves {
		if _, err := protocols.Select(nodes, l.Nodes); err != nil {
			fe.Add(fmt.Sprintf("leaves[%d].nodes", i), "%v", err)
		}
	}
	if c.Variant == Heartbeat {
		h := c.heartbeat()
		fe.Merge("heartbeat", h.ValidateNodes(nodes))
	}
	if c.IndirectChecks > max(n-2, 0) {
		fe.Add("indirect_checks", "%d indirect checks need %d other members besides the prober and its target; the group has %d members (at most %d)",
			c.IndirectChecks, c.IndirectChecks, n, max(n-2, 0))
	}
	return fe.Err()
}

// suspicionTimeout is the base suspicion timeout for a group of n known
// members: mult × max(1, log10 n) × period (memberlist's suspicionTimeout).
func suspicionTimeout(mult, n int, period time.Duration) time.Duration {
	f := math.Max(1, math.Log10(math.Max(1, float64(n))))
	return time.Duration(float64(mult) * f * float64(period))
}

// retransmitLimit is how many messages carry one update in a group of n
// known members: λ × ⌈log10(n+1)⌉ (memberlist's retransmitLimit).
func retransmitLimit(mult, n int) int {
	return mult * int(math.Ceil(math.Log10(float64(n+1))))
}

// dynamicTimeout is Lifeguard's suspicion timeout after c independent
// confirmations, when k are expected: it falls from max to min on a log
// scale, max − (max−min)·log(c+1)/log(k+1), never below min.
func dynamicTimeout(min, max time.Duration, c, k int) time.Duration {
	if k < 1 || c >= k {
		return min
	}
	frac := math.Log(float64(c)+1) / math.Log(float64(k)+1)
	t := time.Duration(float64(max) - frac*float64(max-min))
	if t < min {
		return min
	}
	return t
}
