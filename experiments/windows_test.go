package experiments

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// TestCrashPointWindows: a delivery crash point opens a fault window when
// it fires, from the crash until the restart, and fault coverage counts
// the operations in flight during it, as for a scheduled crash.
func TestCrashPointWindows(t *testing.T) {
	ex, _ := Example("delivery-crash-before-processing")
	x, err := Parse(ex.File, ex.Data, Options{Sets: []string{"seeds=1", "protocol.semantics=at_least_once"}})
	if err != nil {
		t.Fatal(err)
	}
	rr, err := RunOne(x, x.Runs()[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	// 50 messages a second for 12s before the liveness phase: the 20th
	// delivery and every 40th after it crash the server, about 15 times.
	var n int
	for i, w := range rr.Run.Faults {
		if w.Kind != "crash_point" || w.Label != "server/on_deliver" {
			t.Errorf("window %v", w)
			continue
		}
		n++
		if d := w.End - w.Start; d != sim.Time(300*time.Millisecond) {
			t.Errorf("window %v lasts %v, want down_for 300ms", w, time.Duration(d))
		}
		if i > 0 && w.Start < rr.Run.Faults[i-1].End {
			t.Errorf("window %v overlaps the one before: the node was down", w)
		}
	}
	if n < 10 || n > 20 {
		t.Errorf("%d crash point windows, want about 15", n)
	}
	var in, none int64
	for _, c := range rr.Run.Coverage {
		if c.Window.Kind == "none" {
			none = c.Attempted
		} else {
			in += c.Attempted
		}
	}
	if len(rr.Run.Coverage) != n+1 || in == 0 || none == 0 {
		t.Errorf("coverage: %d rows for %d windows, %d operations in windows, %d outside", len(rr.Run.Coverage), n, in, none)
	}
}
