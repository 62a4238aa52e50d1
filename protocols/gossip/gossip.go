package gossip

import (
	"fmt"
	"math"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
	"gopkg.in/yaml.v3"
)

// Protocol is the gossip dissemination family; register it with
// experiments.Register(gossip.Protocol{}).
type Protocol struct{}

var _ protocols.Protocol = Protocol{}

// Name returns "gossip".
func (Protocol) Name() string { return "gossip" }

// Summary describes the family in one line.
func (Protocol) Summary() string {
	return "epidemic dissemination of a rumor: push, pull, push-pull, rumor mongering, anti-entropy"
}

// DefaultConfig returns DefaultConfig() as a protocols.Config.
func (Protocol) DefaultConfig() protocols.Config {
	c := DefaultConfig()
	return &c
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Mode,Stop -linecomment -output=gossip_string.go

// Mode is the direction in which a round's contacts carry the rumor.
type Mode uint8

// Modes.
const (
	// Push: each node spreading the rumor sends it to fanout random
	// nodes per round.
	Push Mode = iota // push
	// Pull: every node asks fanout random nodes per round for news; a
	// node spreading the rumor answers with it.
	Pull // pull
	// PushPull: every node contacts fanout random nodes per round; the
	// rumor crosses each contact in whichever direction it is needed.
	PushPull // push_pull
)

// UnmarshalYAML parses a mode name.
func (m *Mode) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(m, "gossip mode", n.Value)
}

// MarshalYAML writes the name.
func (m Mode) MarshalYAML() (any, error) { return m.String(), nil }

// Stop is when a node loses interest in a rumor (rumor mongering, Demers
// et al., "Epidemic algorithms for replicated database maintenance",
// PODC 1987, §1.4).
type Stop uint8

// Stopping rules.
const (
	// Never: nodes spread the rumor for the whole run (flooding, as in
	// the analysis of push rounds).
	Never Stop = iota // never
	// Counter: a node stops after k contacts (blind) or k unnecessary
	// contacts, with nodes that already knew (feedback).
	Counter // counter
	// Coin: after each contact (blind) or each unnecessary contact
	// (feedback), a node stops with probability 1/k.
	Coin // coin
)

// UnmarshalYAML parses a stopping rule.
func (s *Stop) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(s, "stopping rule", n.Value)
}

// MarshalYAML writes the name.
func (s Stop) MarshalYAML() (any, error) { return s.String(), nil }

// Config is the gossip family's section of an experiment.
type Config struct {
	// Members selects the nodes that take part: node or zone names ("*"
	// for all).
	Members []string `yaml:"members"`
	// GroupSize, when positive, keeps only the first group_size selected
	// members (in topology order); the other nodes stay idle. It lets a
	// sweep vary the group size over one node list.
	GroupSize int `yaml:"group_size"`
	// Mode is push, pull or push_pull.
	Mode Mode `yaml:"mode"`
	// Fanout is how many random nodes each node contacts per round.
	// Higher fanout reaches everyone in fewer rounds, for more messages.
	Fanout int `yaml:"fanout"`
	// Round is the length of a round. Rounds are aligned across nodes
	// (synchronous, as in the analyses); a round should exceed the
	// network's delay, or contacts of one round land in the next.
	Round time.Duration `yaml:"round"`
	// Stop is when a node stops spreading: never, counter or coin.
	Stop Stop `yaml:"stop"`
	// Feedback makes the stopping rule count only unnecessary contacts
	// (the other node already knew, which it says in its answer); without
	// it (blind) every contact counts.
	Feedback bool `yaml:"feedback"`
	// K is the counter limit, or the inverse of the coin's probability.
	K int `yaml:"k"`
	// AntiEntropy, when positive, makes every node exchange its whole
	// state with one random node at this interval (push-pull), which
	// eventually reaches the nodes rumor mongering missed. 0: off.
	AntiEntropy time.Duration `yaml:"anti_entropy"`
	// RumorAt is when the rumor starts at its origin; rounds are counted
	// from then.
	RumorAt time.Duration `yaml:"rumor_at"`
	// Origin names the node where the rumor starts ("": the first
	// member).
	Origin string `yaml:"origin"`
	// SizeBytes is the size of a message carrying the rumor; requests
	// and answers without it are 64 bytes.
	SizeBytes int `yaml:"size_bytes"`
}

// DefaultConfig: push, fanout 1, 100 ms rounds, spreading never stops,
// rumor at 1 s from the first member.
func DefaultConfig() Config {
	return Config{
		Members: []string{"*"}, Mode: Push, Fanout: 1, Round: 100 * time.Millisecond, Stop: Never,
		Feedback: true, K: 1, RumorAt: time.Second, SizeBytes: 128,
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
	if c.Mode > PushPull {
		fe.Add("mode", "must be push, pull or push_pull")
	}
	if c.Fanout < 1 || c.Fanout > 1000 {
		fe.Add("fanout", "must be in [1, 1000], got %d", c.Fanout)
	}
	if c.Round <= 0 {
		fe.Add("round", "must be positive, got %v", c.Round)
	}
	if c.Stop > Coin {
		fe.Add("stop", "must be never, counter or coin")
	}
	if c.K < 1 || c.K > 1_000_000 {
		fe.Add("k", "must be in [1, 1000000], got %d", c.K)
	}
	if c.AntiEntropy < 0 {
		fe.Add("anti_entropy", "must not be negative (0: off), got %v", c.AntiEntropy)
	}
	if c.RumorAt < 0 {
		fe.Add("rumor_at", "must not be negative, got %v", c.RumorAt)
	}
	if c.SizeBytes < 1 || c.SizeBytes > 1<<20 {
		fe.Add("size_bytes", "must be in [1, 1MiB], got %d", c.SizeBytes)
	}
	return fe.Err()
}

// members returns the selected members, cut to GroupSize.
func (c *Config) members(nodes []protocols.Placement) ([]protocols.Placement, error) {
	return protocols.SelectGroup(nodes, c.Members, c.GroupSize)
}

// ValidateNodes checks the settings that depend on the members.
func (c *Config) ValidateNodes(nodes []protocols.Placement) error {
	var fe sim.FieldErrors
	ms, ok := protocols.ValidateGroup(&fe, nodes, c.Members, c.GroupSize, "members", "group_size")
	if !ok {
		return fe.Err()
	}
	if c.Fanout > len(ms)-1 && len(ms) > 1 {
		fe.Add("fanout", "%d exceeds the %d other members", c.Fanout, len(ms)-1)
	}
	if c.Origin != "" {
		found := false
		for _, m := range ms {
			found = found || m.Name == c.Origin
		}
		if !found {
			fe.Add("origin", "%q is not a member", c.Origin)
		}
	}
	return fe.Err()
}

// Run scalars and counters recorded by gossip; the names are stable.
const (
	// MetricRoundsToAll is the number of rounds from the rumor's start
	// until every live member had it (NaN if some never did).
	MetricRoundsToAll = "rounds_to_all"
	// MetricTimeToAll is the same span in seconds.
	MetricTimeToAll = "time_to_all_s"
	// MetricResidue is the fraction of live members that never got the
	// rumor by the end of the run.
	MetricResidue = "residue"
	// MetricMsgsPerNode is the messages sent per member from the rumor's
	// start until every live member had it, or, if that never happened,
	// until nobody spread it any more (or the run ended).
	MetricMsgsPerNode = "msgs_per_node"
	// MetricMsgsPerNodeTotal is all messages of the run per member.
	MetricMsgsPerNodeTotal = "msgs_per_node_total"
	// MetricRoundsToStop is the number of rounds until nobody spread the
	// rumor any more, checked at round starts (NaN if spreading never
	// stopped).
	MetricRoundsToStop = "rounds_to_stop"
	// MetricMsgs counts messages sent (counter).
	MetricMsgs = "gossip_msgs"
)

// Rumor carries the rumor (push, an answer to a pull, an anti-entropy
// exchange).
type Rumor struct {
	Reply bool // an answer: do not answer back
	AE    bool // an anti-entropy exchange
	size  int
}

// Request asks for the rumor (pull) or offers contact without it
// (push-pull, anti-entropy): Has says whether the sender knows it.
type Request struct {
	Has  bool
	AE   bool
	size int
}

// Feedback tells a pusher that the rumor was not news.
type Feedback struct{ size int }

// Size returns the size on the wire.
func (m *Rumor) Size() int { return m.size }

// Size returns the size on the wire.
func (m *Request) Size() int { return m.size }

// Size returns the size on the wire.
func (m *Feedback) Size() int { return m.size }

const smallBytes = 64

// Node states.
const (
	susceptible uint8 = iota // has not heard the rumor
	infective                // knows it and spreads it
	removed                  // knows it and has stopped spreading
)

// run is the run-wide state: node states in one compact slice.
type run struct {
	cfg     Config
	e       *sim.Engine
	members []sim.NodeID
	pos     []int32 // NodeID -> member index, -1
	state   []uint8
	count   []int32 // per member: contacts counted by the stopping rule
	start   sim.Time
	known   int
	down    int // members currently crashed
	hot     int
	msgs    int64
	allAt   sim.Time
	msgsAll int64
	stopAt  sim.Time
	msgsEnd int64
	stopped bool
	msgsCtr sim.Counter
}

// Build adds every topology node; members gossip.
func (c *Config) Build(s *protocols.Setup) error {
	if err := c.ValidateNodes(s.Nodes); err != nil {
		return err
	}
	ms, _ := c.members(s.Nodes)
	r := &run{cfg: *c, e: s.Engine, start: sim.Time(c.RumorAt), allAt: sim.Never, stopAt: sim.Never}
	isMember := map[string]bool{}
	for _, m := range ms {
		isMember[m.Name] = true
	}
	r.pos = make([]int32, len(s.Nodes))
	origin := -1
	for _, p := range s.Nodes {
		id, err := s.AddNode(p.Name, func() sim.Node { return &node{r: r} })
		if err != nil {
			return err
		}
		r.pos[id] = -1
		if isMember[p.Name] {
			if p.Name == c.Origin || (c.Origin == "" && origin < 0) {
				origin = len(r.members)
			}
			r.pos[id] = int32(len(r.members))
			r.members = append(r.members, id)
		}
	}
	r.state = make([]uint8, len(r.members))
	r.count = make([]int32, len(r.members))
	r.msgsCtr = s.Engine.Metrics().Counter(MetricMsgs)
	e := s.Engine
	e.Observe(r)
	e.At(r.start, func() {
		id := r.members[origin]
		if e.Up(id) {
			r.learn(origin, false)
		}
	})
	if c.Stop != Never {
		r.watchStop(r.start.Add(c.Round))
	}
	s.AtEnd(func() { r.report(s) })
	s.Invariant("rumor_accounting", r.consistent)
	return nil
}

// learn marks member i as knowing the rumor; hot says it spreads it.
func (r *run) learn(i int, viaAE bool) {
	if r.state[i] != susceptible {
		return
	}
	r.known++
	if viaAE {
		r.state[i] = removed
	} else {
		r.state[i] = infective
		r.hot++
	}
	r.checkAll()
}

// checkAll records the moment every live member knows the rumor.
// Crashed members do not count; the scan runs only when the counts say
// it can succeed.
func (r *run) checkAll() {
	if r.allAt != sim.Never || r.known+r.down < len(r.members) {
		return
	}
	if r.known < len(r.members) {
		for i, id := range r.members {
			if r.state[i] == susceptible && r.e.Up(id) {
				return
			}
		}
	}
	r.allAt = r.e.Now()
	r.msgsAll = r.msgs
}

// OnEvent counts crashed members, so that rounds_to_all waits only for
// live ones.
func (r *run) OnEvent(ev *sim.Event) {
	if ev.Node < 0 || int(ev.Node) >= len(r.pos) || r.pos[ev.Node] < 0 {
		return
	}
	switch ev.Kind {
	case sim.KindCrash:
		r.down++
		r.checkAll()
	case sim.KindRestart:
		r.down--
	}
}

// retire makes member i stop spreading.
func (r *run) retire(i int) {
	if r.state[i] != infective {
		return
	}
	r.state[i] = removed
	r.hot--
}

// watchStop checks at the start of every round whether anybody still
// spreads the rumor. Checking at round boundaries, when the previous
// round's messages have landed, ignores the moment between a node's
// retiring and its last push arriving.
func (r *run) watchStop(at sim.Time) {
	r.e.At(at, func() {
		if r.hot == 0 {
			r.stopped = true
			r.stopAt = at
			r.msgsEnd = r.msgs
			return
		}
		r.watchStop(at.Add(r.cfg.Round))
	})
}

// contact applies the stopping rule to member i after a contact;
// unnecessary says the other side already knew.
func (r *run) contact(i int, unnecessary bool, env sim.Env) {
	c := &r.cfg
	if r.state[i] != infective || c.Stop == Never || (c.Feedback && !unnecessary) {
		return
	}
	switch c.Stop {
	case Counter:
		r.count[i]++
		if int(r.count[i]) >= c.K {
			r.retire(i)
		}
	case Coin:
		if env.Rand().IntN(c.K) == 0 {
			r.retire(i)
		}
	}
}

func (r *run) roundsOf(t sim.Time) float64 {
	return math.Ceil(float64(t.Sub(r.start)) / float64(r.cfg.Round))
}

func (r *run) report(s *protocols.Setup) {
	n := float64(len(r.members))
	live, missed := 0, 0
	for i, id := range r.members {
		if r.e.Up(id) {
			live++
			if r.state[i] == susceptible {
				missed++
			}
		}
	}
	rounds, tAll := math.NaN(), math.NaN()
	if r.allAt != sim.Never {
		rounds, tAll = r.roundsOf(r.allAt), r.allAt.Sub(r.start).Seconds()
	}
	s.Report(MetricRoundsToAll, rounds)
	s.Report(MetricTimeToAll, tAll)
	res := math.NaN()
	if live > 0 {
		res = float64(missed) / float64(live)
	}
	s.Report(MetricResidue, res)
	m := r.msgs
	switch {
	case r.allAt != sim.Never:
		m = r.msgsAll
	case r.stopped:
		m = r.msgsEnd
	}
	s.Report(MetricMsgsPerNode, float64(m)/n)
	s.Report(MetricMsgsPerNodeTotal, float64(r.msgs)/n)
	stop := math.NaN()
	if r.stopped {
		stop = r.roundsOf(r.stopAt)
	}
	s.Report(MetricRoundsToStop, stop)
}

// consistent recounts the states: a broken count would misreport every
// figure.
func (r *run) consistent() error {
	known, hot := 0, 0
	for _, st := range r.state {
		if st != susceptible {
			known++
		}
		if st == infective {
			hot++
		}
	}
	if known != r.known || hot != r.hot {
		return fmt.Errorf("%d members know the rumor and %d spread it, running counts say %d and %d", known, hot, r.known, r.hot)
	}
	return nil
}

// Timer tags.
const (
	tagRound = 0
	tagAE    = 1
)

// node is one member; its rumor state lives in run.state.
type node struct {
	r  *run
	me int
}

func (n *node) Start(env sim.Env) {
	r := n.r
	n.me = int(r.pos[env.ID()])
	if n.me < 0 {
		return
	}
	// Rounds are aligned: round j starts at rumor_at + j·round.
	now := env.Now()
	next := r.start
	if now > next {
		k := (now.Sub(r.start) + r.cfg.Round - 1) / r.cfg.Round
		next = r.start.Add(k * r.cfg.Round)
	}
	env.After(next.Sub(now), tagRound)
	if r.cfg.AntiEntropy > 0 {
		env.After(r.cfg.RumorAt+time.Duration(env.Rand().Int64N(int64(r.cfg.AntiEntropy))), tagAE)
	}
}

// peer picks a random other member.
func (n *node) peer(env sim.Env) sim.NodeID {
	m := len(n.r.members)
	j := env.Rand().IntN(m - 1)
	if j >= n.me {
		j++
	}
	return n.r.members[j]
}

func (n *node) send(env sim.Env, to sim.NodeID, msg sim.Message) {
	n.r.msgs++
	n.r.msgsCtr.Add(1)
	env.Send(to, msg)
}

func (n *node) Timer(env sim.Env, tag uint64) {
	r := n.r
	c := &r.cfg
	if len(r.members) < 2 {
		return
	}
	switch tag {
	case tagRound:
		env.After(c.Round, tagRound)
		st := r.state[n.me]
		switch c.Mode {
		case Push:
			if st != infective {
				return
			}
			for k := 0; k < c.Fanout; k++ {
				n.send(env, n.peer(env), &Rumor{size: c.SizeBytes})
			}
			if !c.Feedback {
				r.contact(n.me, false, env)
			}
		case Pull:
			for k := 0; k < c.Fanout; k++ {
				n.send(env, n.peer(env), &Request{Has: st != susceptible, size: smallBytes})
			}
		case PushPull:
			for k := 0; k < c.Fanout; k++ {
				if st == infective {
					n.send(env, n.peer(env), &Rumor{size: c.SizeBytes})
				} else {
					n.send(env, n.peer(env), &Request{Has: st != susceptible, size: smallBytes})
				}
			}
			if st == infective && !c.Feedback {
				r.contact(n.me, false, env)
			}
		}
	case tagAE:
		env.After(c.AntiEntropy, tagAE)
		if r.state[n.me] != susceptible {
			n.send(env, n.peer(env), &Rumor{AE: true, size: c.SizeBytes})
		} else {
			n.send(env, n.peer(env), &Request{AE: true, size: smallBytes})
		}
	}
}

func (n *node) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	r := n.r
	if n.me < 0 || r.e.Now() < r.start {
		return
	}
	c := &r.cfg
	st := r.state[n.me]
	fi := int(r.pos[from])
	switch m := msg.(type) {
	case *Rumor:
		if m.AE {
			r.learn(n.me, true)
			return
		}
		if st != susceptible {
			if !m.Reply && c.Feedback && c.Stop != Never {
				// Tell the pusher the rumor was not news.
				n.send(env, from, &Feedback{size: smallBytes})
			}
			return
		}
		r.learn(n.me, false)
	case *Request:
		if m.AE {
			if st != susceptible {
				n.send(env, from, &Rumor{AE: true, Reply: true, size: c.SizeBytes})
			}
			return
		}
		if st != infective {
			return
		}
		// A pull: serve the rumor to a node that lacks it; a node that
		// has it makes this an unnecessary contact.
		if m.Has {
			r.contact(n.me, true, env)
			return
		}
		n.send(env, from, &Rumor{Reply: true, size: c.SizeBytes})
		if !c.Feedback {
			r.contact(n.me, false, env)
		}
	case *Feedback:
		if fi >= 0 {
			r.contact(n.me, true, env)
		}
	}
}
