package sim_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/simtest"
)

// gossiper sends to random peers after random delays: a workload whose
// event order depends on every random draw.
type gossiper struct {
	peers []sim.NodeID
	seen  int
}

func (g *gossiper) Start(env sim.Env) {
	env.After(time.Duration(env.Rand().IntN(1000))*time.Microsecond, 0)
}

func (g *gossiper) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	g.seen++
	if g.seen%3 == 0 {
		env.After(time.Duration(env.Rand().IntN(500))*time.Microsecond, 1)
	}
}

func (g *gossiper) Timer(env sim.Env, tag uint64) {
	env.Send(g.peers[env.Rand().IntN(len(g.peers))], "rumour")
	if tag == 0 {
		env.After(time.Duration(1+env.Rand().IntN(2000))*time.Microsecond, 0)
	}
}

func buildGossip(seed uint64, nodes int) func() (*sim.Engine, error) {
	return func() (*sim.Engine, error) {
		e := sim.New(sim.Config{Seed: seed})
		e.SetNetwork(&sim.Direct{Delay: 500 * time.Microsecond})
		ids := make([]sim.NodeID, nodes)
		for i := range ids {
			ids[i] = sim.NodeID(i)
		}
		for i := 0; i < nodes; i++ {
			if _, err := e.AddNode(fmt.Sprintf("n%d", i), func() sim.Node { return &gossiper{peers: ids} }); err != nil {
				return nil, err
			}
		}
		e.At(sim.Time(200*time.Millisecond), func() { e.Crash(3) })
		e.At(sim.Time(300*time.Millisecond), func() { e.Restart(3) })
		e.At(sim.Time(100*time.Millisecond), func() { e.Pause(5) })
		e.At(sim.Time(150*time.Millisecond), func() { e.Resume(5) })
		return e, nil
	}
}

func runHash(t *testing.T, build func() (*sim.Engine, error)) uint64 {
	t.Helper()
	e, err := build()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(sim.Time(time.Second)); err != nil {
		t.Fatal(err)
	}
	return e.Hash()
}

func TestSameSeedSameHash(t *testing.T) {
	h, err := sim.CheckDeterminism(buildGossip(42, 20), sim.Time(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if h2 := runHash(t, buildGossip(42, 20)); h2 != h {
		t.Fatalf("hash %016x then %016x", h, h2)
	}
}

func TestDifferentSeedsDiffer(t *testing.T) {
	seen := map[uint64]uint64{}
	for seed := uint64(1); seed <= 10; seed++ {
		h := runHash(t, buildGossip(seed, 20))
		if prev, dup := seen[h]; dup {
			t.Fatalf("seeds %d and %d gave the same hash %016x", prev, seed, h)
		}
		seen[h] = seed
	}
}

// TestHashIndependentOfGOMAXPROCS runs the same seed with one and with two
// procs, and as several concurrent runs: the hash must not change.
func TestHashIndependentOfGOMAXPROCS(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	want := runHash(t, buildGossip(9, 16))
	runtime.GOMAXPROCS(2)
	if got := runHash(t, buildGossip(9, 16)); got != want {
		t.Fatalf("GOMAXPROCS=2: hash %016x, GOMAXPROCS=1: %016x", got, want)
	}
	var wg sync.WaitGroup
	got := make([]uint64, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, _ := buildGossip(9, 16)()
			if err := e.Run(sim.Time(time.Second)); err == nil {
				got[i] = e.Hash()
			}
		}()
	}
	wg.Wait()
	for i, h := range got {
		if h != want {
			t.Fatalf("concurrent run %d: hash %016x, want %016x", i, h, want)
		}
	}
}

// mapPicker is deliberately non-deterministic: it picks the peer to send
// to from Go's randomised map iteration order.
type mapPicker struct{ peers map[string]sim.NodeID }

func (m *mapPicker) Start(env sim.Env)                        { env.After(time.Millisecond, 0) }
func (m *mapPicker) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (m *mapPicker) Timer(env sim.Env, _ uint64) {
	for _, id := range m.peers {
		env.Send(id, "x")
		break
	}
	env.After(time.Millisecond, 0)
}

// TestNondeterministicNodeIsCaught shows the self-check can fail: a node
// that lets map iteration order reach behaviour is detected.
func TestNondeterministicNodeIsCaught(t *testing.T) {
	build := func() (*sim.Engine, error) {
		e := sim.New(sim.Config{Seed: 1})
		e.SetNetwork(&sim.Direct{Delay: time.Duration(0)})
		peers := map[string]sim.NodeID{}
		for i := 0; i < 16; i++ {
			peers[fmt.Sprint(i)] = sim.NodeID(i)
		}
		for i := 0; i < 16; i++ {
			e.MustAddNode(fmt.Sprintf("n%d", i), func() sim.Node {
				if i == 0 {
					return &mapPicker{peers: peers}
				}
				return &gossiper{peers: []sim.NodeID{0}}
			})
		}
		return e, nil
	}
	_, err := sim.CheckDeterminism(build, sim.Time(100*time.Millisecond))
	if !errors.Is(err, sim.ErrNondeterministic) {
		t.Fatalf("CheckDeterminism = %v, want ErrNondeterministic", err)
	}
}

// traceLines renders every event and trace record as one line.
func traceLines(e *sim.Engine) *[]string {
	var lines []string
	e.Observe(sim.ObserverFunc(func(ev *sim.Event) {
		s := fmt.Sprintf("%-8v %-8s", ev.At, ev.Kind)
		if ev.Node != sim.None {
			s += " node=" + e.NodeName(ev.Node)
		}
		if ev.From != sim.None {
			s += " from=" + e.NodeName(ev.From)
		}
		if ev.Kind == sim.KindTimer {
			s += fmt.Sprintf(" tag=%d", ev.Tag)
		}
		if ev.Msg != nil {
			s += fmt.Sprintf(" msg=%v", ev.Msg)
		}
		if ev.Cause != "" {
			s += " cause=" + ev.Cause
		}
		lines = append(lines, s)
	}))
	return &lines
}

// pinger sends "ping" every 10ms to its peer, which answers "pong".
type pinger struct {
	peer string
	n    int
}

func (p *pinger) Start(env sim.Env) {
	if p.peer != "" {
		env.After(10*time.Millisecond, 0)
	}
}

func (p *pinger) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	if msg == "ping" {
		env.Send(from, "pong")
	}
}

func (p *pinger) Timer(env sim.Env, _ uint64) {
	p.n++
	id, _ := env.Lookup(p.peer)
	env.Send(id, "ping")
	env.After(10*time.Millisecond, 0)
}

// TestGoldenPingPongWithFaults checks the exact interaction trace of a
// ping-pong pair through a pause and a crash/restart against
// testdata/pingpong.golden. Regenerate with
//
//	go test ./sim -run Golden -rewrite
//
// after an intended change and review the diff.
func TestGoldenPingPongWithFaults(t *testing.T) {
	e := sim.New(sim.Config{Seed: 1})
	e.SetNetwork(&sim.Direct{Delay: 3 * time.Millisecond})
	lines := traceLines(e)
	e.MustAddNode("client", func() sim.Node { return &pinger{peer: "server"} })
	srv := e.MustAddNode("server", func() sim.Node { return &pinger{} })
	e.At(sim.Time(22*time.Millisecond), func() { e.Pause(srv) })
	e.At(sim.Time(35*time.Millisecond), func() { e.Resume(srv) })
	e.At(sim.Time(48*time.Millisecond), func() { e.Crash(srv) })
	e.At(sim.Time(61*time.Millisecond), func() { e.Restart(srv) })
	if err := e.Run(sim.Time(75 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(*lines, "\n") + "\n"
	simtest.Golden(t, filepath.Join("testdata", "pingpong.golden"), got)
}
