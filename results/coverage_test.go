package results

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

func TestOpsCoverage(t *testing.T) {
	s := func(d int) sim.Time { return sim.Time(time.Duration(d) * time.Second) }
	part := sim.Window{Kind: "partition", Label: "{a}|{b}", Start: s(10), End: s(20)}
	crash := sim.Window{Kind: "crash", Label: "db-0", Start: s(5), End: sim.Never}
	ops := NewOps([]sim.Window{part, crash})
	for _, op := range []struct {
		start, end int
		out        sim.Outcome
	}{
		{1, 2, sim.OK},       // before both
		{4, 6, sim.TimedOut}, // overlaps the crash start
		{9, 10, sim.Failed},  // ends as the partition starts: both
		{15, 16, sim.OK},     // inside both
		{20, 21, sim.OK},     // starts as the partition ends: crash only
		{0, 3, sim.Failed},   // before both
		{3, 4, sim.TimedOut}, // before both
	} {
		ops.Op(s(op.start), s(op.end), op.out)
	}
	got := ops.Coverage()
	want := []Coverage{
		{Window: crash, Attempted: 4, Succeeded: 2, Failed: 1, TimedOut: 1},
		{Window: part, Attempted: 2, Succeeded: 1, Failed: 1},
		{Window: sim.Window{Kind: "none", Label: "outside faults", End: sim.Never}, Attempted: 3, Succeeded: 1, Failed: 1, TimedOut: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
