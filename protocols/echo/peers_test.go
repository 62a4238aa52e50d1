package echo

import (
	"slices"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// TestServerAt checks the by-index view of the shared server table: a
// client that is one of several servers skips itself, and any other
// client sees every server, in selection order.
func TestServerAt(t *testing.T) {
	w := &world{servers: []sim.NodeID{4, 7, 9}}
	for _, tc := range []struct {
		self int
		want []sim.NodeID
	}{
		{-1, []sim.NodeID{4, 7, 9}},
		{0, []sim.NodeID{7, 9}},
		{1, []sim.NodeID{4, 9}},
		{2, []sim.NodeID{4, 7}},
	} {
		n := &node{world: w, self: tc.self}
		var got []sim.NodeID
		for k := 0; k < n.numServers(); k++ {
			got = append(got, n.serverAt(k))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("self %d: servers %v, want %v", tc.self, got, tc.want)
		}
	}
}

// TestEveryNodePingsEveryOtherNode runs the default roles (every node a
// client and a server) with round-robin picks and checks that each node
// pings each other node and never itself: the by-index view replaces a
// per-node copy of the server list without changing who is pinged.
func TestEveryNodePingsEveryOtherNode(t *testing.T) {
	const n = 5
	var names []string
	for i := 0; i < n; i++ {
		names = append(names, "n"+string(rune('1'+i)))
	}
	cfg := DefaultConfig()
	e := sim.New(sim.Config{Seed: 3})
	seen := map[[2]sim.NodeID]int{}
	e.Observe(sim.ObserverFunc(func(ev *sim.Event) {
		if ev.Kind == sim.KindDeliver {
			if _, ok := ev.Msg.(*Ping); ok {
				seen[[2]sim.NodeID{ev.From, ev.Node}]++
			}
		}
	}))
	var nodes []protocols.Placement
	for _, name := range names {
		nodes = append(nodes, protocols.Placement{Name: name})
	}
	wl := workload.Config{Kind: workload.Open, Rate: 100, Arrival: workload.Constant}
	s := &protocols.Setup{Engine: e, Nodes: nodes, Workload: wl, Duration: time.Second, Ops: &fakeOps{}}
	if err := cfg.Build(s); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(sim.Time(time.Second)); err != nil {
		t.Fatal(err)
	}
	for a := sim.NodeID(0); a < n; a++ {
		if seen[[2]sim.NodeID{a, a}] > 0 {
			t.Errorf("node %d pinged itself", a)
		}
		for b := sim.NodeID(0); b < n; b++ {
			if a != b && seen[[2]sim.NodeID{a, b}] == 0 {
				t.Errorf("node %d never pinged node %d", a, b)
			}
		}
	}
}
