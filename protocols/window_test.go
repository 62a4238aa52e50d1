package protocols

import (
	"testing"
	"time"
)

// TestWatchWindows: windows declared in Build are listed; those declared
// once the runner watches (during the run) reach the watcher as well.
func TestWatchWindows(t *testing.T) {
	s := &Setup{}
	s.Window("errors", "db", time.Second, 2*time.Second)
	var got []Window
	s.WatchWindows(func(w Window) { got = append(got, w) })
	s.Window("crash_point", "server/on_deliver", 3*time.Second, 3300*time.Millisecond)
	if len(s.Windows()) != 2 {
		t.Errorf("windows %v", s.Windows())
	}
	want := Window{Kind: "crash_point", Label: "server/on_deliver", Start: 3 * time.Second, End: 3300 * time.Millisecond}
	if len(got) != 1 || got[0] != want {
		t.Errorf("watched %v, want [%v]", got, want)
	}
}
