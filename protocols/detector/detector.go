package detector

import (
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
	"gopkg.in/yaml.v3"
)

// Protocol is the heartbeat failure-detector family; register it with
// experiments.Register(detector.Protocol{}).
type Protocol struct{}

var _ protocols.Protocol = Protocol{}

// Name returns "detector".
func (Protocol) Name() string { return "detector" }

// Summary describes the family in one line.
func (Protocol) Summary() string {
	return "heartbeat failure detectors (fixed timeout or phi accrual): detection time, mistakes, load"
}

// DefaultConfig returns DefaultConfig() as a protocols.Config.
func (Protocol) DefaultConfig() protocols.Config {
	c := DefaultConfig()
	return &c
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Kind -linecomment -output=detector_string.go

// Kind is how a monitor decides that a member failed.
type Kind uint8

// Detector kinds.
const (
	// Heartbeat suspects a member after Timeout without a heartbeat and
	// declares it dead after Misses consecutive misses.
	Heartbeat Kind = iota // heartbeat
	// Phi declares a member dead when the phi accrual suspicion level
	// reaches the threshold.
	Phi // phi
)

// UnmarshalYAML parses "heartbeat" or "phi".
func (k *Kind) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(k, "detector kind", n.Value)
}

// MarshalYAML writes the name.
func (k Kind) MarshalYAML() (any, error) { return k.String(), nil }

// Config is the detector family's section of an experiment.
type Config struct {
	// Members selects the nodes that send and monitor heartbeats: node or
	// zone names ("*" for all).
	Members []string `yaml:"members"`
	// GroupSize, when positive, keeps only the first group_size selected
	// members (in topology order); the other nodes stay idle. It lets a
	// sweep vary the group size over one node list.
	GroupSize int `yaml:"group_size"`
	// Kind is heartbeat (fixed timeout, k misses) or phi (phi accrual).
	Kind Kind `yaml:"kind"`
	// Monitors is how many members watch each member: 0 means all of
	// them (all-to-all, N−1 heartbeats per member per interval); k means
	// the k members that follow it in member order, on a ring, so each
	// member sends k heartbeats per interval.
	Monitors int `yaml:"monitors"`
	// Interval is the heartbeat period (the protocol period of the
	// per-period figures). Shorter intervals detect sooner and cost
	// proportionally more messages.
	Interval time.Duration `yaml:"interval"`
	// Timeout is how long a monitor waits after a heartbeat before
	// counting a miss (heartbeat kind); each further Interval without a
	// heartbeat is another miss. Short timeouts mistake delay for death.
	Timeout time.Duration `yaml:"timeout"`
	// Misses is how many consecutive misses make a monitor declare the
	// member dead (heartbeat kind); the first miss makes it a suspect.
	Misses int `yaml:"misses"`
	// Phi configures the phi accrual detector (phi kind).
	Phi PhiConfig `yaml:"phi"`
	// SizeBytes is the size of a heartbeat on the wire.
	SizeBytes int `yaml:"size_bytes"`
}

// DefaultConfig: all-to-all heartbeats every second, a miss after 2 s of
// silence, dead after 3 misses (at 4 s); the phi detector's defaults are
// DefaultPhiConfig.
func DefaultConfig() Config {
	return Config{
		Members: []string{"*"}, Kind: Heartbeat, Interval: time.Second, Timeout: 2 * time.Second,
		Misses: 3, Phi: DefaultPhiConfig(), SizeBytes: 64,
	}
}

// Validate reports every impossible setting at once.
func (c *Config) Validate() error {
	var fe sim.FieldErrors
	if len(c.Members) == 0 {
		fe.Add("members", "must select at least one node")
	}
	if c.GroupSize < 0 {
		fe.Add("group_size", "must not be negative (0: every selected member), got %d", c.GroupSize)
	}
	if c.Kind > Phi {
		fe.Add("kind", "must be heartbeat or phi")
	}
	if c.Monitors < 0 {
		fe.Add("monitors", "must not be negative (0: all-to-all), got %d", c.Monitors)
	}
	if c.Interval <= 0 {
		fe.Add("interval", "must be positive, got %v", c.Interval)
	}
	if c.Timeout <= 0 {
		fe.Add("timeout", "must be positive, got %v", c.Timeout)
	}
	if c.Misses < 1 || c.Misses > 1000 {
		fe.Add("misses", "must be in [1, 1000], got %d", c.Misses)
	}
	c.Phi.validate(fe.Add)
	if c.SizeBytes < 1 || c.SizeBytes > 1<<20 {
		fe.Add("size_bytes", "must be in [1, 1MiB], got %d", c.SizeBytes)
	}
	return fe.Err()
}

// members returns the selected members, cut to GroupSize.
func (c *Config) members(nodes []protocols.Placement) ([]protocols.Placement, error) {
	return protocols.SelectGroup(nodes, c.Members, c.GroupSize)
}

// ValidateNodes checks the settings that depend on the member count.
func (c *Config) ValidateNodes(nodes []protocols.Placement) error {
	var fe sim.FieldErrors
	ms, ok := protocols.ValidateGroup(&fe, nodes, c.Members, c.GroupSize, "members", "group_size")
	if !ok {
		return fe.Err()
	}
	if c.Monitors > len(ms)-1 {
		fe.Add("monitors", "%d monitors per member, but only %d other members", c.Monitors, len(ms)-1)
	}
	return fe.Err()
}

// HeartbeatMsg is the message a member sends to its monitors every interval.
type HeartbeatMsg struct {
	Seq  uint64
	size int
}

// Size returns the configured size on the wire.
func (h *HeartbeatMsg) Size() int { return h.size }

// run is the state shared by the nodes of one run.
type run struct {
	cfg *Config
	tr  *Tracker
	pos []int32 // NodeID -> member position, -1 for non-members
	ids []sim.NodeID
}

// watches reports whether member position i monitors member position t.
func (r *run) watches(i, t int) bool {
	n := len(r.ids)
	if i == t {
		return false
	}
	k := r.cfg.Monitors
	if k == 0 || k >= n-1 {
		return true
	}
	d := (i - t + n) % n
	return d >= 1 && d <= k
}

// Build adds every topology node; the selected members heartbeat.
func (c *Config) Build(s *protocols.Setup) error {
	if err := c.ValidateNodes(s.Nodes); err != nil {
		return err
	}
	ms, _ := c.members(s.Nodes)
	r := &run{cfg: c, pos: make([]int32, len(s.Nodes))}
	isMember := map[string]bool{}
	for _, m := range ms {
		isMember[m.Name] = true
	}
	cfg := *c
	r.cfg = &cfg
	for _, p := range s.Nodes {
		p := p
		id, err := s.AddNode(p.Name, func() sim.Node { return &node{r: r} })
		if err != nil {
			return err
		}
		r.pos[id] = -1
		if isMember[p.Name] {
			r.pos[id] = int32(len(r.ids))
			r.ids = append(r.ids, id)
		}
	}
	n := len(s.Nodes)
	r.tr = NewTracker(s.Engine, n, func(i, t int) bool {
		pi, pt := r.pos[i], r.pos[t]
		return pi >= 0 && pt >= 0 && r.watches(int(pi), int(pt))
	}, s.Warmup)
	var boot []int
	for _, id := range r.ids {
		boot = append(boot, int(id))
	}
	r.tr.Bootstrap(boot)
	s.AtEnd(func() { r.tr.Report(s, c.Interval) })
	s.Invariant("membership_accounting", r.tr.Consistent)
	return nil
}

// Timer tags: the low two bits say what the timer is for; for deadlines
// the rest is the monitored member's position.
const (
	tagTick     = 0
	tagDeadline = 1
	tagPoll     = 2
)

// slot is what a monitor knows of one monitored member.
type slot struct {
	last    sim.Time // local time of the last heartbeat, -1 before the first
	timer   sim.TimerID
	misses  int32
	opinion Opinion
	win     *Window
}

// node is one member: it heartbeats its monitors and monitors others.
type node struct {
	r      *run
	me     int // member position, -1 for a non-member
	seq    uint64
	to     []sim.NodeID
	watch  []int32 // positions this node monitors
	slots  []slot  // parallel to watch
	slotOf []int32 // member position -> index in slots, -1
}

func (n *node) Start(env sim.Env) {
	r := n.r
	n.me = int(r.pos[env.ID()])
	if n.me < 0 {
		return
	}
	if env.Now() > 0 {
		// A restart: the fresh instance rejoins with an empty view.
		r.tr.Join(int(env.ID()))
	}
	m := len(r.ids)
	n.slotOf = make([]int32, m)
	for t := 0; t < m; t++ {
		n.slotOf[t] = -1
		if r.watches(t, n.me) {
			n.to = append(n.to, r.ids[t])
		}
		if r.watches(n.me, t) {
			n.slotOf[t] = int32(len(n.watch))
			n.watch = append(n.watch, int32(t))
		}
	}
	n.slots = make([]slot, len(n.watch))
	cfg := r.cfg
	for i := range n.slots {
		s := &n.slots[i]
		s.last = -1
		s.opinion = Alive
		if env.Now() > 0 {
			s.opinion = Unknown
		}
		if cfg.Kind == Heartbeat {
			// The first heartbeat comes within one interval.
			s.timer = env.After(cfg.Interval+cfg.Timeout, uint64(i)<<2|tagDeadline)
		} else {
			s.win = NewWindow(cfg.Phi.WindowSize, cfg.Phi.FirstHeartbeatEstimate)
		}
	}
	// A random phase keeps members from heartbeating in lockstep.
	env.After(time.Duration(env.Rand().Int64N(int64(cfg.Interval))), tagTick)
	if cfg.Kind == Phi && cfg.Phi.CheckInterval > 0 {
		env.After(cfg.Phi.CheckInterval, tagPoll)
	}
}

func (n *node) setOpinion(env sim.Env, i int, o Opinion) {
	s := &n.slots[i]
	if s.opinion == o {
		return
	}
	s.opinion = o
	n.r.tr.View(int(env.ID()), int(n.r.ids[n.watch[i]]), o)
}

func (n *node) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	if _, ok := msg.(*HeartbeatMsg); !ok || n.me < 0 {
		return
	}
	p := n.r.pos[from]
	if p < 0 || n.slotOf[p] < 0 {
		return
	}
	i := int(n.slotOf[p])
	s := &n.slots[i]
	now := env.Local()
	cfg := n.r.cfg
	env.Cancel(s.timer)
	s.timer = 0
	switch {
	case s.win != nil && s.opinion == Dead:
		// A member declared dead that heartbeats again (restarted, or
		// wrongly declared) starts a fresh history, as a new member
		// would: the silence is not an inter-arrival time.
		s.win = NewWindow(cfg.Phi.WindowSize, cfg.Phi.FirstHeartbeatEstimate)
	case s.last >= 0 && s.win != nil:
		s.win.Add(now.Sub(s.last))
	}
	s.last = now
	s.misses = 0
	n.setOpinion(env, i, Alive)
	switch cfg.Kind {
	case Heartbeat:
		s.timer = env.After(cfg.Timeout, uint64(i)<<2|tagDeadline)
	case Phi:
		if cfg.Phi.CheckInterval == 0 {
			s.timer = env.After(cfg.Phi.Crossing(s.win.Mean(), s.win.StdDev()), uint64(i)<<2|tagDeadline)
		}
	}
}

func (n *node) Timer(env sim.Env, tag uint64) {
	cfg := n.r.cfg
	switch tag & 3 {
	case tagTick:
		n.seq++
		for _, to := range n.to {
			n.r.tr.Sent(int(env.ID()), cfg.SizeBytes)
			env.Send(to, &HeartbeatMsg{Seq: n.seq, size: cfg.SizeBytes})
		}
		env.After(cfg.Interval, tagTick)
	case tagDeadline:
		i := int(tag >> 2)
		s := &n.slots[i]
		s.timer = 0
		if cfg.Kind == Phi {
			n.setOpinion(env, i, Dead)
			return
		}
		s.misses++
		if int(s.misses) >= cfg.Misses {
			n.setOpinion(env, i, Dead)
			return
		}
		n.setOpinion(env, i, Suspect)
		s.timer = env.After(cfg.Interval, uint64(i)<<2|tagDeadline)
	case tagPoll:
		now := env.Local()
		for i := range n.slots {
			s := &n.slots[i]
			if s.last < 0 || s.opinion == Dead {
				continue
			}
			if cfg.Phi.Phi(now.Sub(s.last), s.win.Mean(), s.win.StdDev()) >= cfg.Phi.Threshold {
				n.setOpinion(env, i, Dead)
			}
		}
		env.After(cfg.Phi.CheckInterval, tagPoll)
	}
}
