package sim_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// script is a Node whose handlers are set per test.
type script struct {
	start   func(env sim.Env)
	receive func(env sim.Env, from sim.NodeID, msg sim.Message)
	timer   func(env sim.Env, tag uint64)
}

func (s *script) Start(env sim.Env) {
	if s.start != nil {
		s.start(env)
	}
}

func (s *script) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	if s.receive != nil {
		s.receive(env, from, msg)
	}
}

func (s *script) Timer(env sim.Env, tag uint64) {
	if s.timer != nil {
		s.timer(env, tag)
	}
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }
func at(n int) sim.Time      { return sim.Time(ms(n)) }

func TestTimersFireInOrderAndCancel(t *testing.T) {
	e := sim.New(sim.Config{Seed: 1})
	var fired []string
	var cancelOK, cancelAgain bool
	e.MustAddNode("a", func() sim.Node {
		return &script{
			start: func(env sim.Env) {
				env.After(ms(30), 3)
				env.After(ms(10), 1)
				id := env.After(ms(20), 2)
				env.After(ms(10), 11) // same time as tag 1: fires after it (Seq order)
				cancelOK = env.Cancel(id)
				cancelAgain = env.Cancel(id)
				env.Cancel(0)
			},
			timer: func(env sim.Env, tag uint64) {
				fired = append(fired, fmt.Sprintf("%d@%v", tag, env.Now()))
			},
		}
	})
	if err := e.Run(sim.Never); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(fired, " "), "1@10ms 11@10ms 3@30ms"; got != want {
		t.Errorf("fired %q, want %q", got, want)
	}
	if !cancelOK || cancelAgain {
		t.Errorf("cancel: first %v (want true), second %v (want false)", cancelOK, cancelAgain)
	}
}

// TestStaleTimerIDDoesNotCancelReusedSlot checks that a TimerID kept after
// its timer fired cannot cancel a newer timer that reuses the slot.
func TestStaleTimerIDDoesNotCancelReusedSlot(t *testing.T) {
	e := sim.New(sim.Config{})
	var first sim.TimerID
	var fired []uint64
	e.MustAddNode("a", func() sim.Node {
		return &script{
			start: func(env sim.Env) { first = env.After(ms(1), 1) },
			timer: func(env sim.Env, tag uint64) {
				fired = append(fired, tag)
				if tag == 1 {
					env.After(ms(1), 2)
					if env.Cancel(first) {
						t.Error("stale TimerID cancelled a live timer")
					}
				}
			},
		}
	})
	if err := e.Run(sim.Never); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(fired) != "[1 2]" {
		t.Errorf("fired %v, want [1 2]", fired)
	}
}

func TestRunUntilAdvancesClock(t *testing.T) {
	e := sim.New(sim.Config{})
	n := 0
	e.MustAddNode("a", func() sim.Node {
		return &script{
			start: func(env sim.Env) { env.After(ms(100), 0) },
			timer: func(env sim.Env, _ uint64) { n++; env.After(ms(100), 0) },
		}
	})
	if err := e.Run(at(250)); err != nil {
		t.Fatal(err)
	}
	if n != 2 || e.Now() != at(250) {
		t.Fatalf("after Run(250ms): %d timers, now %v; want 2, 250ms", n, e.Now())
	}
	// Scheduling between runs at a time before the next pending event
	// must keep the order.
	var order []string
	e.At(at(260), func() { order = append(order, "control@260ms") })
	if err := e.Run(at(300)); err != nil {
		t.Fatal(err)
	}
	if n != 3 || len(order) != 1 {
		t.Fatalf("after Run(300ms): %d timers, %v", n, order)
	}
}

func TestStop(t *testing.T) {
	e := sim.New(sim.Config{})
	e.MustAddNode("a", func() sim.Node {
		return &script{
			start: func(env sim.Env) { env.After(ms(1), 0) },
			timer: func(env sim.Env, _ uint64) { env.After(ms(1), 0) },
		}
	})
	stopAt := at(5)
	err := e.RunUntil(sim.Never, func() bool { return e.Now() >= stopAt })
	if err != nil || e.Now() != stopAt {
		t.Fatalf("RunUntil: err %v, now %v; want nil, %v", err, e.Now(), stopAt)
	}
	e.At(at(8), e.Stop)
	if err := e.Run(sim.Never); err != nil || e.Now() != at(8) {
		t.Fatalf("Stop: err %v, now %v", err, e.Now())
	}
}

func TestBounds(t *testing.T) {
	forever := func() sim.Node {
		return &script{
			start: func(env sim.Env) { env.After(0, 0) },
			timer: func(env sim.Env, _ uint64) { env.After(ms(1), 0) },
		}
	}
	e := sim.New(sim.Config{MaxEvents: 100})
	e.MustAddNode("a", forever)
	if err := e.Run(sim.Never); !errors.Is(err, sim.ErrEventLimit) {
		t.Errorf("event bound: got %v, want ErrEventLimit", err)
	}

	bomb := func() sim.Node {
		return &script{
			start: func(env sim.Env) { env.After(0, 0) },
			timer: func(env sim.Env, _ uint64) { env.After(ms(1), 0); env.After(ms(1), 0) },
		}
	}
	e = sim.New(sim.Config{MaxPending: 1000})
	e.MustAddNode("a", bomb)
	if err := e.Run(sim.Never); !errors.Is(err, sim.ErrQueueLimit) {
		t.Errorf("queue bound: got %v, want ErrQueueLimit", err)
	}

	e = sim.New(sim.Config{MaxNodes: 2})
	e.MustAddNode("a", forever)
	e.MustAddNode("b", forever)
	if _, err := e.AddNode("c", forever); !errors.Is(err, sim.ErrNodeLimit) {
		t.Errorf("node bound: got %v, want ErrNodeLimit", err)
	}
	if _, err := e.AddNode("a", forever); !errors.Is(err, sim.ErrDuplicateNode) {
		t.Errorf("duplicate: got %v, want ErrDuplicateNode", err)
	}
}

// counter is a node whose volatile count is lost on crash but whose
// durable count survives.
type counter struct {
	volatile int
	log      *[]string
}

func (c *counter) Start(env sim.Env) {
	durable := 0
	if v, ok := env.Storage().Get("n"); ok {
		durable = int(v[0])
	}
	*c.log = append(*c.log, fmt.Sprintf("start@%v volatile=%d durable=%d", env.Now(), c.volatile, durable))
	env.After(ms(10), 0)
}

func (c *counter) Receive(env sim.Env, from sim.NodeID, msg sim.Message) {
	*c.log = append(*c.log, fmt.Sprintf("recv@%v %v", env.Now(), msg))
}

func (c *counter) Timer(env sim.Env, _ uint64) {
	c.volatile++
	v, _ := env.Storage().Get("n")
	if v == nil {
		v = []byte{0}
	}
	v[0]++
	env.Storage().Put("n", v)
	*c.log = append(*c.log, fmt.Sprintf("tick@%v volatile=%d durable=%d", env.Now(), c.volatile, v[0]))
	env.After(ms(10), 0)
}

type dropLog struct {
	sim.Direct
	drops []string
}

func (d *dropLog) Dropped(from, to sim.NodeID, msg sim.Message, cause sim.DropCause) {
	d.drops = append(d.drops, fmt.Sprintf("%v %d->%d %s", msg, from, to, cause))
}

func TestCrashRestartKeepsOnlyDurableState(t *testing.T) {
	var log []string
	e := sim.New(sim.Config{})
	net := &dropLog{}
	net.Delay = ms(1)
	e.SetNetwork(net)
	a := e.MustAddNode("a", func() sim.Node { return &counter{log: &log} })
	b := e.MustAddNode("b", func() sim.Node {
		return &script{start: func(env sim.Env) {
			env.After(ms(34), 0)
		}, timer: func(env sim.Env, _ uint64) { env.Send(a, "hello") }}
	})
	_ = b
	e.At(at(25), func() { e.Crash(a) })
	e.At(at(45), func() { e.Restart(a) })
	if err := e.Run(at(60)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"start@0s volatile=0 durable=0",
		"tick@10ms volatile=1 durable=1",
		"tick@20ms volatile=2 durable=2",
		// crashed at 25ms: the timer due at 30ms is gone, the message
		// arriving at 35ms is dropped.
		"start@45ms volatile=0 durable=2",
		"tick@55ms volatile=1 durable=3",
	}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	if fmt.Sprint(net.drops) != "[hello 1->0 crashed_receiver]" {
		t.Errorf("drops %v", net.drops)
	}
}

// TestInputsWaitForStart: a restarted node handles nothing before its
// Start. Messages queued before the restart that arrive in its instant
// wait for Start, then arrive in order.
func TestInputsWaitForStart(t *testing.T) {
	var log []string
	e := sim.New(sim.Config{})
	e.SetNetwork(&sim.Direct{Delay: ms(5)})
	var a sim.NodeID
	e.MustAddNode("b", func() sim.Node {
		return &script{
			start: func(env sim.Env) { env.After(ms(5), 0) },
			timer: func(env sim.Env, _ uint64) {
				env.Send(a, "m1") // due at 10ms, queued before the restart's Start
				env.Send(a, "m2")
			},
		}
	})
	a = e.MustAddNode("a", func() sim.Node {
		started := false
		return &script{
			start: func(env sim.Env) {
				started = true
				log = append(log, fmt.Sprintf("start@%v", env.Now()))
			},
			receive: func(env sim.Env, _ sim.NodeID, msg sim.Message) {
				log = append(log, fmt.Sprintf("recv %v@%v started=%v", msg, env.Now(), started))
			},
		}
	})
	e.At(at(7), func() { e.Crash(a) })
	e.At(at(10), func() { e.Restart(a) })
	if err := e.Run(at(20)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"start@0s",
		"start@10ms",
		"recv m1@10ms started=true",
		"recv m2@10ms started=true",
	}
	if got := strings.Join(log, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestPauseDefersInputsInOrder(t *testing.T) {
	var log []string
	e := sim.New(sim.Config{})
	e.SetNetwork(&sim.Direct{Delay: ms(1)})
	a := e.MustAddNode("a", func() sim.Node {
		return &script{
			start: func(env sim.Env) { env.After(ms(15), 7) },
			receive: func(env sim.Env, from sim.NodeID, msg sim.Message) {
				log = append(log, fmt.Sprintf("recv %v@%v", msg, env.Now()))
			},
			timer: func(env sim.Env, tag uint64) { log = append(log, fmt.Sprintf("timer %d@%v", tag, env.Now())) },
		}
	})
	e.MustAddNode("b", func() sim.Node {
		return &script{start: func(env sim.Env) {
			env.After(ms(9), 1)
			env.After(ms(19), 2)
		}, timer: func(env sim.Env, tag uint64) { env.Send(a, fmt.Sprintf("m%d", tag)) }}
	})
	e.At(at(5), func() { e.Pause(a) })
	e.At(at(30), func() { e.Resume(a) })
	if err := e.Run(at(40)); err != nil {
		t.Fatal(err)
	}
	want := "recv m1@30ms|timer 7@30ms|recv m2@30ms"
	if got := strings.Join(log, "|"); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// skewed runs twice as fast as true time, offset by one second.
type skewed struct{}

func (skewed) Local(t sim.Time) sim.Time                      { return sim.Time(time.Second) + 2*t }
func (skewed) Span(_ sim.Time, d time.Duration) time.Duration { return d / 2 }

func TestClock(t *testing.T) {
	e := sim.New(sim.Config{})
	var local, fired sim.Time
	a := e.MustAddNode("a", func() sim.Node {
		return &script{
			start: func(env sim.Env) { env.After(ms(100), 0) },
			timer: func(env sim.Env, _ uint64) { fired, local = env.Now(), env.Local() },
		}
	})
	e.SetClock(a, skewed{})
	if err := e.Run(sim.Never); err != nil {
		t.Fatal(err)
	}
	if fired != at(50) || local != at(1100) {
		t.Errorf("timer fired at true %v local %v; want 50ms, 1.1s", fired, local)
	}
}

func TestObserverSeesEventsAndTrace(t *testing.T) {
	e := sim.New(sim.Config{})
	var kinds []string
	e.Observe(sim.ObserverFunc(func(ev *sim.Event) { kinds = append(kinds, ev.Kind.String()) }))
	b := sim.NodeID(1)
	e.MustAddNode("a", func() sim.Node {
		return &script{start: func(env sim.Env) { env.Send(b, 1) }}
	})
	e.MustAddNode("b", func() sim.Node { return &script{} })
	if err := e.Run(sim.Never); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(kinds, " "); got != "start send start deliver" {
		t.Errorf("observed %q", got)
	}
}

func TestStreamsAreIndependent(t *testing.T) {
	a1 := sim.NewStream(1, "node/a")
	a2 := sim.NewStream(1, "node/a")
	b := sim.NewStream(1, "node/b")
	c := sim.NewStream(2, "node/a")
	var same, diffName, diffSeed int
	for i := 0; i < 100; i++ {
		x := a1.Uint64()
		if x == a2.Uint64() {
			same++
		}
		if x == b.Uint64() {
			diffName++
		}
		if x == c.Uint64() {
			diffSeed++
		}
	}
	if same != 100 || diffName != 0 || diffSeed != 0 {
		t.Errorf("same stream equal %d/100, other name %d, other seed %d", same, diffName, diffSeed)
	}
}

func TestMemoryStorage(t *testing.T) {
	s := sim.NewMemoryStorage()
	v := []byte("x")
	s.Put("b", v)
	v[0] = 'y' // Put copies
	s.Put("a", []byte("1"))
	if got, _ := s.Get("b"); string(got) != "x" {
		t.Errorf("Get(b) = %q", got)
	}
	s.Delete("a")
	if _, ok := s.Get("a"); ok {
		t.Error("a survived Delete")
	}
	if fmt.Sprint(s.Keys()) != "[b]" {
		t.Errorf("Keys = %v", s.Keys())
	}
}

// TestCancelledTimersAtScale arms and cancels timers at random, from
// many handlers, with long and short delays, and checks every fire and
// every Cancel result against a plain model: a timer fires at its time,
// ties in arming order, unless cancelled first; Cancel reports true
// exactly once, only for a pending timer. The queue discards cancelled
// timers on the way, which must not show.
func TestCancelledTimersAtScale(t *testing.T) {
	type armed struct {
		id    sim.TimerID
		at    sim.Time
		n     int // arming order
		state int // 0 pending, 1 fired, 2 cancelled
	}
	var all []*armed
	byTag := map[uint64]*armed{}
	r := rand.New(rand.NewPCG(1, 2))
	var lastFire *armed
	var fails int
	e := sim.New(sim.Config{Seed: 1})
	arm := func(env sim.Env) {
		for k := r.IntN(4); k > 0; k-- {
			var d time.Duration
			switch r.IntN(3) {
			case 0:
				d = time.Duration(r.IntN(1000)) * time.Microsecond
			case 1:
				d = time.Duration(r.IntN(2000)) * time.Millisecond
			default:
				d = time.Duration(r.IntN(3)) * time.Millisecond
			}
			a := &armed{at: env.Now().Add(d), n: len(all)}
			a.id = env.After(d, uint64(a.n))
			all = append(all, a)
			byTag[uint64(a.n)] = a
		}
		for k := r.IntN(4); k > 0 && len(all) > 0; k-- {
			a := all[r.IntN(len(all))]
			got := env.Cancel(a.id)
			if want := a.state == 0; got != want && fails < 5 {
				fails++
				t.Errorf("at %v: Cancel of timer %d (state %d) = %v", env.Now(), a.n, a.state, got)
			}
			if a.state == 0 {
				a.state = 2
			}
		}
	}
	e.MustAddNode("a", func() sim.Node {
		return &script{
			start: func(env sim.Env) {
				for i := 0; i < 20; i++ {
					arm(env)
				}
			},
			timer: func(env sim.Env, tag uint64) {
				a := byTag[tag]
				if (a.state != 0 || a.at != env.Now()) && fails < 5 {
					fails++
					t.Errorf("at %v: timer %d fired (state %d, due %v)", env.Now(), a.n, a.state, a.at)
				}
				if p := lastFire; p != nil && (p.at > a.at || p.at == a.at && p.n > a.n) && fails < 5 {
					fails++
					t.Errorf("timer %d fired after timer %d", a.n, p.n)
				}
				a.state, lastFire = 1, a
				if len(all) < 200_000 {
					arm(env)
					if r.IntN(2) == 0 {
						arm(env)
					}
				}
			},
		}
	})
	if err := e.Run(sim.Never); err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.state == 0 {
			t.Fatalf("timer %d (due %v) never fired", a.n, a.at)
		}
	}
	if len(all) < 100_000 {
		t.Fatalf("only %d timers armed", len(all))
	}
}

// TestRunAfterOnlyCancelledTimersLeft runs until the queue holds only
// a cancelled timer, later than the last event, then schedules more:
// the queue must take times before the discarded timer's again.
func TestRunAfterOnlyCancelledTimersLeft(t *testing.T) {
	e := sim.New(sim.Config{Seed: 1})
	var env sim.Env
	e.MustAddNode("a", func() sim.Node {
		return &script{start: func(v sim.Env) {
			env = v
			env.Cancel(env.After(ms(500), 1))
		}}
	})
	if err := e.Run(sim.Never); err != nil {
		t.Fatal(err)
	}
	var got []sim.Time
	for _, d := range []int{499, 1, 2} {
		e.At(e.Now().Add(ms(d)), func() { got = append(got, e.Now()) })
	}
	if err := e.Run(sim.Never); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1ms 2ms 499ms]" || e.Pending() != 0 {
		t.Fatalf("fired at %v, %d pending; want [1ms 2ms 499ms], 0", got, e.Pending())
	}
}
