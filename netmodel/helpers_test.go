package netmodel

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// msg is a test message with a sequence number and a wire size.
type msg struct {
	seq  int
	size int
}

func (m *msg) Size() int {
	if m.size == 0 {
		return sim.DefaultMessageSize
	}
	return m.size
}

// delivery is one message handed to a node.
type delivery struct {
	at    sim.Time
	local sim.Time
	from  sim.NodeID
	seq   int
}

// sink records every delivery and timer into a log that survives
// restarts.
type sink struct {
	log    *[]delivery
	timers *[]sim.Time
}

func (s *sink) Start(sim.Env) {}
func (s *sink) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	if s.log == nil {
		return
	}
	*s.log = append(*s.log, delivery{at: env.Now(), local: env.Local(), from: from, seq: m.(*msg).seq})
}
func (s *sink) Timer(env sim.Env, tag uint64) {
	if s.timers != nil {
		*s.timers = append(*s.timers, env.Now())
	}
}

// ticker sends n messages (of size bytes) to each target, one round every
// interval of its local clock, starting one interval after boot.
type ticker struct {
	to    []sim.NodeID
	every time.Duration
	n     int
	size  int
	sent  int
	log   *[]delivery
}

func (t *ticker) Start(env sim.Env) { env.After(t.every, 0) }
func (t *ticker) Receive(env sim.Env, from sim.NodeID, m sim.Message) {
	if t.log != nil {
		*t.log = append(*t.log, delivery{at: env.Now(), from: from, seq: m.(*msg).seq})
	}
}
func (t *ticker) Timer(env sim.Env, _ uint64) {
	for _, to := range t.to {
		env.Send(to, &msg{seq: t.sent, size: t.size})
	}
	t.sent++
	if t.sent < t.n {
		env.After(t.every, 0)
	}
}

// world is a small run: named nodes with logs, and a model.
type world struct {
	e    *sim.Engine
	m    *Model
	logs map[string]*[]delivery
	ids  map[string]sim.NodeID
}

// newWorld adds sink nodes named names (and a ticker "src" sending to
// every sink if n > 0), installs a model and returns the world.
func newWorld(t testing.TB, seed uint64, cfg Config, faults FaultsConfig, n int, every time.Duration, size int, names ...string) *world {
	t.Helper()
	w := &world{e: sim.New(sim.Config{Seed: seed}), logs: map[string]*[]delivery{}, ids: map[string]sim.NodeID{}}
	var targets []sim.NodeID
	if n > 0 {
		src := &[]delivery{}
		w.logs["src"] = src
		// src is added first so its ID is 0; targets are filled in below.
		tk := &ticker{every: every, n: n, size: size, log: src}
		w.ids["src"] = w.e.MustAddNode("src", func() sim.Node { tk.sent = 0; return tk })
		defer func() { tk.to = targets }()
	}
	for _, name := range names {
		log := &[]delivery{}
		w.logs[name] = log
		id := w.e.MustAddNode(name, func() sim.Node { return &sink{log: log} })
		w.ids[name] = id
		targets = append(targets, id)
	}
	m := mustInstall(t, w.e, cfg, faults)
	w.m = m
	return w
}

func (w *world) run(t testing.TB, until time.Duration) {
	t.Helper()
	mustRun(t, w.e, sim.Time(until))
}

// mustInstall builds the model of cfg and faults and installs it on e,
// whose nodes are added, failing the test on an error.
func mustInstall(t testing.TB, e *sim.Engine, cfg Config, faults FaultsConfig) *Model {
	t.Helper()
	m, err := New(cfg, faults)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Install(e); err != nil {
		t.Fatal(err)
	}
	return m
}

// mustRun runs e until the given time, failing the test on an error.
func mustRun(t testing.TB, e *sim.Engine, until sim.Time) {
	t.Helper()
	if err := e.Run(until); err != nil {
		t.Fatal(err)
	}
}

func constCfg(lat time.Duration) Config {
	c := DefaultConfig()
	c.Latency = Const(lat)
	return c
}

func sec(f float64) Duration { return Duration(f * float64(time.Second)) }
