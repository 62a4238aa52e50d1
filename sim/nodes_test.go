package sim_test

import (
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/dsim-dev/dsim/sim"
)

// idle is a node that never does anything.
type idle struct{}

func (idle) Start(sim.Env)                            {}
func (idle) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (idle) Timer(sim.Env, uint64)                    {}

// TestIdleNodeOverhead bounds what the engine holds per idle node (its
// record, name, lookup entry and start event): at most 1 KiB, so a run
// of a million nodes fits in about a gigabyte whatever the protocol.
func TestIdleNodeOverhead(t *testing.T) {
	const n = 100_000
	factory := func() sim.Node { return idle{} }
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e := sim.New(sim.Config{Seed: 1})
	for i := 0; i < n; i++ {
		e.MustAddNode("node-"+strconv.Itoa(i), factory)
	}
	if err := e.Run(0); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes per idle node", per)
	if per > 1024 {
		t.Fatalf("%.0f bytes per idle node, want at most 1024", per)
	}
	if e.Events() != n || e.NumNodes() != n {
		t.Fatalf("%d events, %d nodes", e.Events(), e.NumNodes())
	}
	runtime.KeepAlive(e)
}

// TestNodeLimit checks the default bound: a run may have
// DefaultMaxNodes nodes and no more.
func TestNodeLimit(t *testing.T) {
	if sim.DefaultMaxNodes != 1_000_000 {
		t.Fatalf("DefaultMaxNodes = %d", sim.DefaultMaxNodes)
	}
	e := sim.New(sim.Config{MaxNodes: 3})
	for i := 0; i < 3; i++ {
		e.MustAddNode(strconv.Itoa(i), func() sim.Node { return idle{} })
	}
	if _, err := e.AddNode("x", func() sim.Node { return idle{} }); err == nil {
		t.Fatal("a fourth node was accepted with MaxNodes 3")
	}
}

// BenchmarkMillionIdleNodes adds 1,000,000 idle nodes, dispatches their
// start events and reports the engine's heap bytes per node (names
// included):
//
//	go test -run '^$' -bench MillionIdleNodes -benchtime 1x ./sim
func BenchmarkMillionIdleNodes(b *testing.B) {
	const n = 1_000_000
	factory := func() sim.Node { return idle{} }
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		e := sim.New(sim.Config{Seed: 1})
		for j := 0; j < n; j++ {
			e.MustAddNode("node-"+strconv.Itoa(j), factory)
		}
		if err := e.Run(0); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/node")
		runtime.KeepAlive(e)
		b.StartTimer()
	}
}

// drawer records the first draws of its node's stream when it starts.
type drawer struct{ got *[]uint64 }

func (d drawer) Start(env sim.Env) {
	for i := 0; i < 3; i++ {
		*d.got = append(*d.got, env.Rand().Uint64())
	}
}
func (drawer) Receive(sim.Env, sim.NodeID, sim.Message) {}
func (drawer) Timer(sim.Env, uint64)                    {}

// TestNodeDrawsDependOnlyOnName checks that a node's random stream is
// "node/<name>" of the run seed however many nodes were added before it
// and whether or not they drew: streams are made on first use, and adding
// a node must not change another node's draws.
func TestNodeDrawsDependOnlyOnName(t *testing.T) {
	draws := func(before int, othersDraw bool) []uint64 {
		e := sim.New(sim.Config{Seed: 9})
		var sink, got []uint64
		for i := 0; i < before; i++ {
			if othersDraw {
				e.MustAddNode("other-"+strconv.Itoa(i), func() sim.Node { return drawer{&sink} })
			} else {
				e.MustAddNode("other-"+strconv.Itoa(i), func() sim.Node { return idle{} })
			}
		}
		e.MustAddNode("target", func() sim.Node { return drawer{&got} })
		if err := e.Run(0); err != nil {
			t.Fatal(err)
		}
		return got
	}
	ref := sim.NewStream(9, "node/target")
	want := []uint64{ref.Uint64(), ref.Uint64(), ref.Uint64()}
	for _, tc := range []struct {
		before     int
		othersDraw bool
	}{{0, false}, {5, false}, {5, true}, {300, true}} {
		if got := draws(tc.before, tc.othersDraw); !slices.Equal(got, want) {
			t.Errorf("%d nodes before (drawing: %v): draws %v, want %v", tc.before, tc.othersDraw, got, want)
		}
	}
}
