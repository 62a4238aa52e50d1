package counter

import (
	"fmt"
	"slices"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// Protocol is the counter family; pass it to cli.Main (or
// experiments.Register).
type Protocol struct{}

var _ protocols.Protocol = Protocol{}

// Name returns "counter", the value of protocol.name in experiment files.
func (Protocol) Name() string { return "counter" }

// Summary describes the family in one line.
func (Protocol) Summary() string {
	return "clients increment a counter on one server and time the answer"
}

// DefaultConfig returns DefaultConfig() as a protocols.Config.
func (Protocol) DefaultConfig() protocols.Config { c := DefaultConfig(); return &c }

// Config is the counter protocol's section of an experiment.
type Config struct {
	// Clients selects the nodes that send increments: node or zone names
	// ("*" for all but the server).
	Clients []string `yaml:"clients"`
	// Server names the node that holds the counter.
	Server string `yaml:"server"`
	// Timeout is how long a client waits for an answer. Shorter timeouts
	// react sooner to loss but give up on slow answers.
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultConfig: every node is a client of node "server", 1 s timeout.
func DefaultConfig() Config {
	return Config{Clients: []string{"*"}, Server: "server", Timeout: time.Second}
}

// Validate reports every impossible setting at once.
func (c *Config) Validate() error {
	var fe sim.FieldErrors
	if c.Timeout <= 0 {
		fe.Add("timeout", "must be positive, got %v", c.Timeout)
	}
	if c.Server == "" {
		fe.Add("server", "must name a node")
	}
	return fe.Err()
}

// request and answer are the protocol's messages.
type (
	request struct{ id uint64 }
	answer  struct {
		id    uint64
		value int64
	}
)

// Timer tags: a client's next send, or the timeout of request tag-tagTimeout.
const (
	tagSend    = 0
	tagTimeout = 1
)

// stats are run-wide tallies for the scalars and the invariant.
type stats struct{ sent, ok, timedOut int64 }

// Build adds the server and the clients for one run.
func (c *Config) Build(s *protocols.Setup) error {
	clients, err := s.Select(c.Clients)
	if err != nil {
		return fmt.Errorf("clients: %w", err)
	}
	if _, err := s.Select([]string{c.Server}); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	var share float64
	for _, n := range clients {
		if n.Name != c.Server {
			share++
		}
	}
	st := &stats{}
	cfg := *c
	for _, n := range s.Nodes {
		n := n
		client := n.Name != cfg.Server && slices.ContainsFunc(clients, func(c protocols.Placement) bool { return c.Name == n.Name })
		factory := func() sim.Node {
			return &node{cfg: &cfg, st: st, ops: s.Ops, wl: s.Workload, client: client,
				share: 1 / share, warmup: sim.Time(s.Warmup), pending: map[uint64]sim.Time{}}
		}
		if _, err := s.AddNode(n.Name, factory); err != nil {
			return err
		}
	}
	s.AtEnd(func() {
		if done := st.ok + st.timedOut; done > 0 {
			s.Report("success_ratio", float64(st.ok)/float64(done))
		}
	})
	s.Invariant("answers_match_requests", func() error {
		if st.ok > st.sent {
			return fmt.Errorf("%d answers for %d requests", st.ok, st.sent)
		}
		return nil
	})
	return nil
}

// node is a client or the server (or idle).
type node struct {
	cfg    *Config
	st     *stats
	ops    protocols.Ops
	wl     workload.Config
	client bool
	share  float64
	warmup sim.Time

	gen     *workload.Generator
	server  sim.NodeID
	next    uint64
	pending map[uint64]sim.Time // request id → send time
	value   int64               // the counter, on the server

	sent, ok, timedOut sim.Counter
	latency            sim.Histogram
}

func (n *node) Start(env sim.Env) {
	m := env.Metrics()
	n.sent, n.ok, n.timedOut = m.Counter("increments_sent"), m.Counter("increments_ok"), m.Counter("increments_timed_out")
	n.latency = m.Histogram("latency")
	if !n.client {
		return
	}
	n.server, _ = env.Lookup(n.cfg.Server)
	n.gen = workload.NewGenerator(n.wl, n.share, env.Rand())
	n.arm(env)
}

func (n *node) arm(env sim.Env) {
	if next := n.gen.Next(env.Now()); next != sim.Never {
		env.After(time.Duration(next-env.Now()), tagSend)
	}
}

func (n *node) Timer(env sim.Env, tag uint64) {
	if tag == tagSend {
		n.next++
		id := n.next
		n.pending[id] = env.Now()
		env.Send(n.server, request{id: id})
		n.sent.Add(1)
		n.st.sent++
		env.After(n.cfg.Timeout, tagTimeout+2*id)
		n.arm(env)
		return
	}
	id := (tag - tagTimeout) / 2
	if start, ok := n.pending[id]; ok {
		delete(n.pending, id)
		n.timedOut.Add(1)
		n.st.timedOut++
		n.ops.Op(start, env.Now(), sim.TimedOut)
	}
}

func (n *node) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	switch m := msg.(type) {
	case request:
		n.value++
		env.Send(from, answer{id: m.id, value: n.value})
	case answer:
		start, ok := n.pending[m.id]
		if !ok {
			return // late (already timed out) or a network duplicate
		}
		delete(n.pending, m.id)
		n.ok.Add(1)
		n.st.ok++
		if start >= n.warmup {
			n.latency.Record(time.Duration(env.Now() - start))
		}
		n.ops.Op(start, env.Now(), sim.OK)
	}
}
