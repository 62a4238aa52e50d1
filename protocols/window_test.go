package protocols

import (
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// TestWatchWindows: windows declared in Build are listed; those declared
// once the runner watches (during the run) reach the watcher as well.
func TestWatchWindows(t *testing.T) {
	s := &Setup{}
	s.Window("errors", "db", time.Second, 2*time.Second)
	var got []sim.Window
	s.WatchWindows(func(w sim.Window) { got = append(got, w) })
	s.Window("crash_point", "server/on_deliver", 3*time.Second, 3300*time.Millisecond)
	if len(s.Windows()) != 2 {
		t.Errorf("windows %v", s.Windows())
	}
	want := sim.Window{Kind: "crash_point", Label: "server/on_deliver", Start: sim.Time(3 * time.Second), End: sim.Time(3300 * time.Millisecond)}
	if len(got) != 1 || got[0] != want {
		t.Errorf("watched %v, want [%v]", got, want)
	}
}
