package enum

import "testing"

func TestEnum(t *testing.T) {
	names := []string{"push", "pull", "push_pull"}
	type mode uint8
	var m mode
	if err := Set(&m, "gossip mode", "push_pull", names); err != nil || m != 2 {
		t.Fatalf("Set: %v %d", err, m)
	}
	err := Set(&m, "gossip mode", "pus", names)
	if err == nil || err.Error() != `unknown gossip mode "pus" (one of: push, pull, push_pull)` || m != 2 {
		t.Fatalf("bad value: %v, m %d", err, m)
	}
	for i, want := range map[int]string{0: "push", 2: "push_pull", 3: "unknown", -1: "unknown"} {
		if got := Name(names, i); got != want {
			t.Errorf("Name(%d) = %q", i, got)
		}
	}
}
