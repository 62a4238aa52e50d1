package rpc

import (
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/netmodel"
	"github.com/dsim-dev/dsim/sim"
)

// reuseRun is one run's outcome as far as message reuse could change it.
type reuseRun struct {
	hash   uint64
	events uint64
	stats  *Stats
	reused int
}

// runReuse runs cfg for span on the network net makes, with message reuse
// on or off; fault, if set, is called on the engine before the run.
func runReuse(t *testing.T, cfg Config, net func(*testing.T, *sim.Engine), span time.Duration, fault func(*sim.Engine, *Deployment), reuse bool) reuseRun {
	t.Helper()
	noReuse = !reuse
	defer func() { noReuse = false }()
	e := sim.New(sim.Config{Seed: 7})
	d, err := Build(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	net(t, e)
	if fault != nil {
		fault(e, d)
	}
	if err := e.Run(sim.Time(span)); err != nil {
		t.Fatal(err)
	}
	return reuseRun{hash: e.Hash(), events: e.Events(), stats: d.Stats(), reused: d.msgs.reused()}
}

// hostileNet installs a netmodel network that reorders, loses,
// duplicates (sometimes late) and corrupts messages.
func hostileNet(t *testing.T, e *sim.Engine) {
	c := netmodel.DefaultConfig()
	c.Latency = netmodel.DistSpec{Dist: "exponential", Mean: netmodel.Duration(time.Millisecond)}
	c.Loss = 0.05
	c.Duplicate = 0.2
	c.DuplicateDelay = netmodel.Duration(3 * time.Millisecond)
	c.Corrupt = 0.02
	m, err := netmodel.New(c, netmodel.DefaultFaultsConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Install(e); err != nil {
		t.Fatal(err)
	}
}

// echoTwice delivers every message twice without telling the message
// (no sim.Retain): a network that breaks the reuse contract.
type echoTwice struct{ e *sim.Engine }

func (n *echoTwice) Attach(e *sim.Engine) { n.e = e }
func (n *echoTwice) Send(from, to sim.NodeID, msg sim.Message) {
	at := n.e.Now().Add(time.Millisecond)
	n.e.Deliver(at, from, to, msg, 0)
	n.e.Deliver(at.Add(time.Millisecond), from, to, msg, 0)
}
func (n *echoTwice) Arrive(_, _ sim.NodeID, _ sim.Message, _ uint32) bool    { return true }
func (n *echoTwice) Dropped(_, _ sim.NodeID, _ sim.Message, _ sim.DropCause) {}

// TestMessageReuseChangesNothing runs bundled rpc experiments, and one on
// a hostile network with a crashing replica, with message reuse on and
// off: every event, and every figure, must be the same. The last case
// shows the comparison can fail: a network that delivers a value twice
// without sim.Retain sees the reused value the second time.
func TestMessageReuseChangesNothing(t *testing.T) {
	direct := func(_ *testing.T, e *sim.Engine) { e.SetNetwork(&sim.Direct{Delay: 500 * time.Microsecond}) }
	twice := func(_ *testing.T, e *sim.Engine) { e.SetNetwork(&echoTwice{}) }
	crash := func(e *sim.Engine, d *Deployment) {
		for _, svc := range slices.Sorted(maps.Keys(d.Replicas)) {
			id := d.Replicas[svc][0]
			e.At(sim.Time(3*time.Second), func() { e.Crash(id) })
			e.At(sim.Time(4*time.Second), func() { e.Restart(id) })
		}
	}
	cases := []struct {
		name  string
		file  string
		net   func(*testing.T, *sim.Engine)
		fault func(*sim.Engine, *Deployment)
		same  bool
	}{
		{"retry-storm", "retry-storm.yaml", direct, nil, true},
		{"timeouts", "timeouts.yaml", direct, nil, true},
		{"jitter", "jitter.yaml", direct, nil, true},
		{"fan-out", "fan-out.yaml", direct, nil, true},
		{"real-clients-pushback", "real-clients-pushback.yaml", direct, nil, true},
		{"retry-storm/hostile", "retry-storm.yaml", hostileNet, crash, true},
		{"fan-out/hostile", "fan-out.yaml", hostileNet, crash, true},
		{"retry-storm/no-retain", "retry-storm.yaml", twice, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, wl := exampleConfig(t, "../../experiments/examples/"+tc.file)
			cfg.Workload = wl
			span := 8 * time.Second
			on := runReuse(t, cfg, tc.net, span, tc.fault, true)
			off := runReuse(t, cfg, tc.net, span, tc.fault, false)
			if on.reused == 0 || off.reused != 0 {
				t.Fatalf("messages reused: %d with reuse on, %d off; want some, none", on.reused, off.reused)
			}
			same := on.hash == off.hash && on.events == off.events && reflect.DeepEqual(on.stats, off.stats)
			if same != tc.same {
				t.Errorf("reuse on: hash %x, %d events, %+v\nreuse off: hash %x, %d events, %+v\nsame = %v, want %v",
					on.hash, on.events, *on.stats, off.hash, off.events, *off.stats, same, tc.same)
			}
		})
	}
}

// TestMessageReuseOff: an observed engine sees every message as it was
// sent, so nothing is reused; neither is a message a transport carries.
func TestMessageReuseOff(t *testing.T) {
	cfg, wl := exampleConfig(t, "../../experiments/examples/retry-storm.yaml")
	cfg.Workload = wl
	e := sim.New(sim.Config{Seed: 1})
	e.SetNetwork(&sim.Direct{Delay: 500 * time.Microsecond})
	var seen []*Request
	e.Observe(sim.ObserverFunc(func(ev *sim.Event) {
		if r, ok := ev.Msg.(*Request); ok && ev.Kind == sim.KindDeliver {
			seen = append(seen, r)
		}
	}))
	d, err := Build(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(sim.Time(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if d.msgs.reused() != 0 {
		t.Errorf("observed engine: %d messages reused", d.msgs.reused())
	}
	vals := map[*Request]bool{}
	for _, r := range seen {
		if r.ID == staleID || vals[r] {
			t.Fatalf("request %v seen after reuse", r)
		}
		vals[r] = true
	}
	if len(seen) == 0 {
		t.Fatal("no request observed")
	}

	cfg, wl = exampleConfig(t, "../../experiments/examples/grpc-vs-rest.yaml")
	cfg.Workload = wl
	e = sim.New(sim.Config{Seed: 1})
	e.SetNetwork(&sim.Direct{Delay: 500 * time.Microsecond})
	if d, err = Build(e, cfg); err != nil {
		t.Fatal(err)
	}
	if d.tx == nil {
		t.Fatal("grpc-vs-rest: no transport")
	}
	if err := e.Run(sim.Time(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if d.Stats().Requests == 0 || d.msgs.reused() != 0 {
		t.Errorf("transport: %d requests, %d messages reused; want some, none", d.Stats().Requests, d.msgs.reused())
	}
}
