package echo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
	"gopkg.in/yaml.v3"
)

// Protocol is the echo protocol family; register it with
// experiments.Register(echo.Protocol{}).
type Protocol struct{}

var _ protocols.Protocol = Protocol{}

// Name returns "echo".
func (Protocol) Name() string { return "echo" }

// Summary describes the protocol in one line.
func (Protocol) Summary() string {
	return "clients ping servers and time the echo: round trips, loss and timeouts"
}

// DefaultConfig returns DefaultConfig() as a protocols.Config.
func (Protocol) DefaultConfig() protocols.Config {
	c := DefaultConfig()
	return &c
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Pick -linecomment -output=echo_string.go

// Pick is how a client chooses the server of each ping.
type Pick uint8

// Server choices.
const (
	// RoundRobin cycles through the servers in order.
	RoundRobin Pick = iota // round_robin
	// Random picks a server uniformly at random for each ping.
	Random // random
)

// UnmarshalYAML parses "round_robin" or "random".
func (p *Pick) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	return enum.Set(p, "value", s)
}

// MarshalYAML writes the name.
func (p Pick) MarshalYAML() (any, error) { return p.String(), nil }

// Config is the echo protocol's section of an experiment.
type Config struct {
	// Clients selects the nodes that send pings: node or zone names of
	// the topology, or globs over them ("*" for all, "c-*").
	Clients []string `yaml:"clients" dsim:"nodes"`
	// Servers selects the nodes that answer pings: node or zone names or
	// globs. A node may be both client and server.
	Servers []string `yaml:"servers" dsim:"nodes"`
	// Timeout is how long a client waits for the echo before counting
	// the ping as timed out. Shorter timeouts detect loss sooner but
	// misclassify slow round trips.
	Timeout time.Duration `yaml:"timeout"`
	// Pick is how a client chooses each ping's server: round_robin or
	// random.
	Pick Pick `yaml:"pick"`
	// SizeBytes is the size on the wire of a ping and of its echo; it
	// matters when links have a bandwidth.
	SizeBytes int `yaml:"size_bytes"`
}

// DefaultConfig pings every node from every node with a 1 s timeout.
func DefaultConfig() Config {
	return Config{Clients: []string{"*"}, Servers: []string{"*"}, Timeout: time.Second, SizeBytes: 64}
}

// Validate reports impossible settings.
func (c *Config) Validate() error {
	var fe sim.FieldErrors
	if len(c.Clients) == 0 {
		fe.Add("clients", "must select at least one node")
	}
	if len(c.Servers) == 0 {
		fe.Add("servers", "must select at least one node")
	}
	for i, s := range c.Clients {
		if s == "" {
			fe.Add(fmt.Sprintf("clients[%d]", i), "must not be empty")
		}
	}
	for i, s := range c.Servers {
		if s == "" {
			fe.Add(fmt.Sprintf("servers[%d]", i), "must not be empty")
		}
	}
	if c.Timeout <= 0 {
		fe.Add("timeout", "must be positive, got %v", c.Timeout)
	}
	if c.Pick > Random {
		fe.Add("pick", "must be round_robin or random")
	}
	if c.SizeBytes < 1 || c.SizeBytes > 1<<30 {
		fe.Add("size_bytes", "must be in [1, 1GiB], got %d", c.SizeBytes)
	}
	return fe.Err()
}

// Metric names recorded by echo.
const (
	// MetricSent counts pings sent.
	MetricSent = "pings_sent"
	// MetricOK counts pings answered before their timeout.
	MetricOK = "pings_ok"
	// MetricTimeouts counts pings not answered within the timeout.
	MetricTimeouts = "pings_timed_out"
	// MetricLate counts echoes that arrived after their ping timed out.
	MetricLate = "echoes_late"
	// MetricDuplicates counts extra echoes of pings already answered (the
	// network duplicated the ping or the echo).
	MetricDuplicates = "echoes_duplicate"
	// MetricRTT is the round-trip time histogram of answered pings.
	MetricRTT = "rtt"
	// MetricRTTSameZone is the RTT histogram of pings within a zone.
	MetricRTTSameZone = "rtt_same_zone"
	// MetricRTTCrossZone is the RTT histogram of pings between zones.
	MetricRTTCrossZone = "rtt_cross_zone"
	// MetricSuccessRatio is pings_ok / (pings_ok + pings_timed_out),
	// reported at the end.
	MetricSuccessRatio = "success_ratio"
	// MetricLossRatio is the share of resolved pings that timed out and
	// were never answered (the ping or its echo was lost), reported at
	// the end.
	MetricLossRatio = "loss_ratio"
	// MetricTimeoutRatio is the share of resolved pings that timed out,
	// reported at the end.
	MetricTimeoutRatio = "timeout_ratio"
)

// Ping is the request.
type Ping struct {
	ID   uint64
	Sent sim.Time
	size int
}

// Size returns the configured size on the wire.
func (p *Ping) Size() int { return p.size }

// Echo is the answer to a Ping.
type Echo struct {
	ID   uint64
	Sent sim.Time
	size int
}

// Size returns the configured size on the wire.
func (e *Echo) Size() int { return e.size }

// stats are the run-wide tallies shared by the nodes of one run; they
// back the end-of-run ratios and invariants. Counting in plain fields
// keeps the invariants independent of the metrics recorder.
type stats struct {
	sent, ok, timeouts, late, dups, stray uint64
	// The same counts for pings sent after the warm-up, for the ratios.
	sentWarm, okWarm, timeoutsWarm, lateWarm uint64
}

// Build places servers and clients on the topology's nodes.
func (c *Config) Build(s *protocols.Setup) error {
	clients, err := s.Select(c.Clients)
	if err != nil {
		return fmt.Errorf("clients: %w", err)
	}
	servers, err := s.Select(c.Servers)
	if err != nil {
		return fmt.Errorf("servers: %w", err)
	}
	if s.Workload.Kind == workload.Closed && s.Workload.Clients < 1 {
		return errors.New("closed workload needs at least one client")
	}
	// One table of server IDs and one of zones by node ID serve every
	// node of the run: nothing per node grows with the number of nodes.
	w := &world{servers: make([]sim.NodeID, len(servers))}
	st := &stats{}
	m := s.Engine.Metrics()
	h := handles{
		sent: m.Counter(MetricSent), ok: m.Counter(MetricOK), timeouts: m.Counter(MetricTimeouts),
		late: m.Counter(MetricLate), dups: m.Counter(MetricDuplicates), rtt: m.Histogram(MetricRTT),
		same: m.Histogram(MetricRTTSameZone), cross: m.Histogram(MetricRTTCrossZone),
	}
	cfg := *c
	// Select keeps the topology's order, so one pass over the nodes
	// meets the clients and the servers in order: ci and si count them.
	ci, si := 0, 0
	for _, n := range s.Nodes {
		// Every topology node is added, so that the network's zones and
		// faults can name any of them; nodes with no role stay idle.
		isClient := ci < len(clients) && clients[ci].Name == n.Name
		isServer := si < len(servers) && servers[si].Name == n.Name
		var loops []int
		if isClient && s.Workload.Kind == workload.Closed {
			loops = s.Workload.Loops(ci, len(clients))
		}
		// A client pings the other servers; it pings itself only when
		// it is the only server.
		self := -1
		if isServer && len(servers) > 1 {
			self = si
		}
		share := 1 / float64(len(clients))
		factory := func() sim.Node {
			return &node{
				cfg: &cfg, wl: s.Workload, st: st, h: &h, ops: s.Ops, warmup: sim.Time(s.Warmup),
				client: isClient, server: isServer, share: share, loops: loops,
				world: w, self: self,
			}
		}
		id, err := s.AddNode(n.Name, factory)
		if err != nil {
			return err
		}
		if int(id) >= len(w.zone) {
			w.zone = append(w.zone, make([]string, int(id)+1-len(w.zone))...)
		}
		w.zone[id] = n.Zone
		if isServer {
			w.servers[si] = id
			si++
		}
		if isClient {
			ci++
		}
	}
	s.AtEnd(func() {
		// Pings still in flight when the run stops have no outcome yet:
		// the ratios are over resolved pings.
		sent := float64(st.okWarm + st.timeoutsWarm)
		if sent == 0 {
			sent = math.NaN()
		}
		s.Report(MetricSuccessRatio, float64(st.okWarm)/sent)
		s.Report(MetricTimeoutRatio, float64(st.timeoutsWarm)/sent)
		s.Report(MetricLossRatio, float64(st.timeoutsWarm-min(st.lateWarm, st.timeoutsWarm))/sent)
	})
	s.Invariant("echo_matches_ping", func() error {
		if st.stray > 0 {
			return fmt.Errorf("%d echoes answered no ping their client sent", st.stray)
		}
		return nil
	})
	s.Invariant("echo_accounting", func() error {
		if st.ok+st.timeouts > st.sent {
			return fmt.Errorf("ok %d + timed out %d > sent %d", st.ok, st.timeouts, st.sent)
		}
		if st.late > st.timeouts {
			return fmt.Errorf("late echoes %d > timeouts %d", st.late, st.timeouts)
		}
		return nil
	})
	return nil
}

// world is what every echo node of a run shares: the servers' IDs in
// the order of the servers selection and each node's zone by ID.
type world struct {
	servers []sim.NodeID
	zone    []string
}

// zoneOf returns node id's zone.
func (w *world) zoneOf(id sim.NodeID) string {
	if int(id) < len(w.zone) {
		return w.zone[id]
	}
	return ""
}

type handles struct {
	sent, ok, timeouts, late, dups sim.Counter
	rtt, same, cross               sim.Histogram
}

// Timer tags: the low two bits say what the timer is for.
const (
	tagArrival = 0 // open loop: send the next ping
	tagTimeout = 1 // tag>>2 is the ping ID
	tagThink   = 2 // closed loop: tag>>2 is the loop index
)

type pending struct {
	sent   sim.Time
	timer  sim.TimerID
	server sim.NodeID
	loop   int // closed-loop index, -1 for open loop
}

// node is one echo node: a server, a client, or both.
type node struct {
	cfg    *Config
	wl     workload.Config
	st     *stats
	h      *handles
	ops    protocols.Ops
	warmup sim.Time
	client bool
	server bool
	share  float64
	loops  []int
	world  *world
	// self is this node's index in world.servers when it must skip
	// itself, else -1.
	self int

	gen      *workload.Generator
	next     uint64
	rr       int
	out      map[uint64]pending
	timedOut map[uint64]sim.Time
	epoch    uint64
}

func (n *node) Start(env sim.Env) {
	if !n.client {
		return
	}
	n.rr = int(env.ID()) % n.numServers()
	// out and timedOut are made on first use: most clients of a large
	// run may never send.
	// Ping IDs carry a boot counter kept in durable storage, so echoes of
	// pings sent before a crash are recognised after the restart.
	if b, ok := env.Storage().Get("echo/epoch"); ok && len(b) == 8 {
		n.epoch = binary.BigEndian.Uint64(b)
	}
	n.epoch++
	env.Storage().Put("echo/epoch", binary.BigEndian.AppendUint64(nil, n.epoch))
	n.next = n.epoch << 32
	n.gen = workload.NewGenerator(n.wl, n.share, env.Rand())
	if n.wl.Kind == workload.Open {
		n.armArrival(env)
		return
	}
	start := sim.Time(n.wl.Start)
	for _, l := range n.loops {
		env.After(start.Sub(env.Now())+n.gen.Think(), uint64(l)<<2|tagThink)
	}
}

// numServers returns how many servers this client pings.
func (n *node) numServers() int {
	if n.self >= 0 {
		return len(n.world.servers) - 1
	}
	return len(n.world.servers)
}

// serverAt returns the k-th server this client pings: the servers in
// selection order, skipping this node when self says so.
func (n *node) serverAt(k int) sim.NodeID {
	if n.self >= 0 && k >= n.self {
		k++
	}
	return n.world.servers[k]
}

func (n *node) armArrival(env sim.Env) {
	next := n.gen.Next(env.Now())
	if next == sim.Never {
		return
	}
	env.After(next.Sub(env.Now()), tagArrival)
}

func (n *node) send(env sim.Env, loop int) {
	var to sim.NodeID
	if n.cfg.Pick == Random {
		to = n.serverAt(env.Rand().IntN(n.numServers()))
	} else {
		to = n.serverAt(n.rr)
		n.rr = (n.rr + 1) % n.numServers()
	}
	n.next++
	id := n.next
	now := env.Now()
	t := env.After(n.cfg.Timeout, id<<2|tagTimeout)
	if n.out == nil {
		n.out = make(map[uint64]pending)
	}
	n.out[id] = pending{sent: now, timer: t, server: to, loop: loop}
	n.st.sent++
	if now >= n.warmup {
		n.st.sentWarm++
	}
	n.h.sent.Add(1)
	env.Send(to, &Ping{ID: id, Sent: now, size: n.cfg.SizeBytes})
}

func (n *node) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	switch m := msg.(type) {
	case *Ping:
		if n.server {
			env.Send(from, &Echo{ID: m.ID, Sent: m.Sent, size: m.Size()})
		}
	case *Echo:
		n.echo(env, from, m)
	}
}

func (n *node) echo(env sim.Env, from sim.NodeID, m *Echo) {
	if !n.client {
		n.st.stray++
		return
	}
	p, ok := n.out[m.ID]
	if !ok {
		switch {
		case m.ID>>32 != n.epoch:
			// An echo of a ping sent before this node restarted.
		case m.ID <= n.epoch<<32 || m.ID > n.next:
			n.st.stray++ // never sent
		default:
			if sent, late := n.timedOut[m.ID]; late {
				delete(n.timedOut, m.ID)
				n.st.late++
				if sent >= n.warmup {
					n.st.lateWarm++
				}
				n.h.late.Add(1)
				return
			}
			// Answered already: the network duplicated the ping or
			// its echo.
			n.st.dups++
			n.h.dups.Add(1)
		}
		return
	}
	if p.server != from {
		n.st.stray++
		return
	}
	delete(n.out, m.ID)
	env.Cancel(p.timer)
	now := env.Now()
	n.st.ok++
	n.ops.Op(p.sent, now, sim.OK)
	if p.sent >= n.warmup {
		n.st.okWarm++
	}
	rtt := now.Sub(p.sent)
	n.h.ok.Add(1)
	n.h.rtt.Record(rtt)
	if n.world.zoneOf(from) == n.world.zoneOf(env.ID()) {
		n.h.same.Record(rtt)
	} else {
		n.h.cross.Record(rtt)
	}
	n.done(env, p.loop)
}

func (n *node) Timer(env sim.Env, tag uint64) {
	switch tag & 3 {
	case tagArrival:
		n.send(env, -1)
		n.armArrival(env)
	case tagThink:
		n.send(env, int(tag>>2))
	case tagTimeout:
		id := tag >> 2
		p, ok := n.out[id]
		if !ok {
			return
		}
		delete(n.out, id)
		if n.timedOut == nil {
			n.timedOut = make(map[uint64]sim.Time)
		}
		n.timedOut[id] = p.sent
		n.st.timeouts++
		n.ops.Op(p.sent, env.Now(), sim.TimedOut)
		if p.sent >= n.warmup {
			n.st.timeoutsWarm++
		}
		n.h.timeouts.Add(1)
		n.done(env, p.loop)
	}
}

// done starts a closed-loop client's think time after an answer or a
// timeout.
func (n *node) done(env sim.Env, loop int) {
	if loop < 0 {
		return
	}
	env.After(n.gen.Think(), uint64(loop)<<2|tagThink)
}
