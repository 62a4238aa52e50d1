package swim

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/simtest"
)

// The golden files in testdata/ hold the traces of scripted runs. After an
// intended change of behaviour, regenerate them (sim/simtest's -rewrite
// flag) and review the diff:
//
//	go test ./protocols/swim -run Golden -rewrite

func updates(us []Update) string {
	var b strings.Builder
	for _, u := range us {
		fmt.Fprintf(&b, " %s(n%d,%d by n%d)", u.State, u.Member+1, u.Inc, u.From+1)
	}
	return b.String()
}

// TestGoldenSuspectThenDead scripts five aligned members with suspicion
// and no Lifeguard: n5 crashes at 2.5 s. The trace shows a direct ping to
// n5 timing out after 500 ms, the ping-reqs to the other members and
// their unanswered pings, the suspicion at the end of the period spreading
// on acks, and the declaration when the suspicion times out (4 periods for
// a group of 5); then n2 is paused for 3 s, suspected, and refutes with
// incarnation 1 once it runs again.
func TestGoldenSuspectThenDead(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Variant, cfg.Stagger, cfg.PushPullInterval, cfg.Target = Suspicion, false, 0, RoundRobin
	dur := 16 * time.Second
	var b strings.Builder
	e, s := build(t, cfg, 5, 1, time.Millisecond, dur, func(e *sim.Engine) {
		e.At(sim.Time(2500*time.Millisecond), func() { e.Crash(4) })
		e.At(sim.Time(8200*time.Millisecond), func() { e.Pause(1) })
		e.At(sim.Time(11200*time.Millisecond), func() { e.Resume(1) })
	})
	e.Observe(sim.ObserverFunc(func(ev *sim.Event) {
		at := time.Duration(ev.At)
		switch ev.Kind {
		case sim.KindCrash, sim.KindPause, sim.KindResume:
			fmt.Fprintf(&b, "%-8v %s n%d\n", at, ev.Kind, ev.Node+1)
		case sim.KindDeliver:
			var what string
			switch m := ev.Msg.(type) {
			case *Ping:
				what = fmt.Sprintf("ping #%d for n%d%s", m.Seq, m.Target+1, updates(m.Piggy))
			case *Ack:
				what = fmt.Sprintf("ack #%d from n%d%s", m.Seq, m.From+1, updates(m.Piggy))
			case *PingReq:
				what = fmt.Sprintf("ping-req #%d for n%d%s", m.Seq, m.Target+1, updates(m.Piggy))
			default:
				what = fmt.Sprintf("%T", m)
			}
			fmt.Fprintf(&b, "%-8v n%d -> n%d %s\n", at, ev.From+1, ev.Node+1, what)
		case sim.KindDrop:
			fmt.Fprintf(&b, "%-8v n%d -> n%d dropped (%s)\n", at, ev.From+1, ev.Node+1, ev.Cause)
		}
	}))
	runFor(t, e, s, dur)
	simtest.Golden(t, filepath.Join("testdata", "suspect_then_dead.txt"), b.String())
}
