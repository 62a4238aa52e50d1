package sim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

func sec(n int) sim.Time { return sim.Time(time.Duration(n) * time.Second) }

func TestWindowActive(t *testing.T) {
	span := sim.Window{Kind: "partition", Start: sec(10), End: sec(20)}
	open := sim.Window{Kind: "crash", Start: sec(10), End: sim.Never}
	step := sim.Window{Kind: "clock", Start: sec(10), End: sec(10)}
	for _, c := range []struct {
		name string
		w    sim.Window
		at   sim.Time
		want bool
	}{
		{"before", span, sec(9), false},
		{"at start", span, sec(10), true},
		{"inside", span, sec(15), true},
		{"at end", span, sec(20), false},
		{"never healed", open, sec(1000), true},
		{"instant at its time", step, sec(10), true},
		{"instant after", step, sec(10) + 1, false},
		{"instant before", step, sec(10) - 1, false},
	} {
		if got := c.w.Active(c.at); got != c.want {
			t.Errorf("%s: Active(%v) = %v, want %v", c.name, c.at, got, c.want)
		}
	}
}

func TestWindowOverlaps(t *testing.T) {
	w := sim.Window{Start: sec(10), End: sec(20)}
	for _, c := range []struct {
		name       string
		start, end int
		want       bool
	}{
		{"before", 1, 2, false},
		{"ends as it starts", 9, 10, true},
		{"inside", 15, 16, true},
		{"around", 5, 25, true},
		{"starts as it ends", 20, 21, false},
		{"after", 21, 22, false},
	} {
		if got := w.Overlaps(sec(c.start), sec(c.end)); got != c.want {
			t.Errorf("%s: Overlaps = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSortWindows(t *testing.T) {
	ws := []sim.Window{
		{Kind: "slow", Label: "b", Start: sec(5), End: sec(6)},
		{Kind: "crash", Label: "z", Start: sec(1), End: sim.Never},
		{Kind: "slow", Label: "a", Start: sec(5), End: sec(6)},
		{Kind: "errors", Label: "a", Start: sec(5), End: sec(6)},
		{Kind: "crash", Label: "z", Start: sec(1), End: sec(2)},
	}
	sim.SortWindows(ws)
	want := []string{"crash z [1s, 2s)", "crash z [1s, never)", "errors a [5s, 6s)", "slow a [5s, 6s)", "slow b [5s, 6s)"}
	var got []string
	for _, w := range ws {
		got = append(got, w.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("sorted:\n%q\nwant\n%q", got, want)
	}
}
