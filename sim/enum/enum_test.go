package enum

import (
	"strconv"
	"testing"
)

// mode is an enumeration with a stringer-style String.
type mode uint8

const (
	push     mode = iota // push
	pull                 // pull
	pushPull             // push_pull
)

func (m mode) String() string {
	switch m {
	case push:
		return "push"
	case pull:
		return "pull"
	case pushPull:
		return "push_pull"
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// kind starts at 1, as enumerations whose zero value means "unset" do.
type kind int

func (k kind) String() string {
	if k == 1 {
		return "crash"
	}
	if k == 2 {
		return "pause"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want mode
		err  string
	}{
		{"push", push, ""},
		{"push_pull", pushPull, ""},
		{"both", pushPull, ""}, // an alias
		{"pus", 0, `unknown gossip mode "pus" (did you mean "push"? one of: push, pull, push_pull, both)`},
		{"plul", 0, `unknown gossip mode "plul" (did you mean "pull"? one of: push, pull, push_pull, both)`},
		{"sideways", 0, `unknown gossip mode "sideways" (one of: push, pull, push_pull, both)`},
		{"mode(3)", 0, `unknown gossip mode "mode(3)" (one of: push, pull, push_pull, both)`},
		{"", 0, `unknown gossip mode "" (one of: push, pull, push_pull, both)`},
	} {
		got, err := Parse("gossip mode", tc.in, Alias[mode]{"both", pushPull})
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("Parse(%q): error %v, want %s", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestSet(t *testing.T) {
	m := pull
	if err := Set(&m, "gossip mode", "nope"); err == nil || m != pull {
		t.Errorf("bad name: %v, m %v", err, m)
	}
	if err := Set(&m, "gossip mode", "push_pull"); err != nil || m != pushPull {
		t.Errorf("good name: %v, m %v", err, m)
	}
	var k kind
	if err := Set(&k, "fault kind", "pause"); err != nil || k != 2 {
		t.Errorf("kind from 1: %v, %v", err, k)
	}
	if got := Names[kind](); len(got) != 2 || got[0] != "crash" {
		t.Errorf("Names skips the unnamed zero: %v", got)
	}
}

func TestClosest(t *testing.T) {
	known := []string{"duration", "description", "seeds", "seed", "mean", "max"}
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"duraton", "duration", true},
		{"seedz", "seed", true},
		{"maen", "mean", true}, // a swap is one edit
		{"Seeds", "seeds", true},
		{"xyzzy", "", false},
	} {
		got, ok := Closest(tc.in, known)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("Closest(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := Closest("x", nil); ok {
		t.Error("a suggestion from nothing")
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3},
		{"maen", "mean", 1}, {"ab", "ba", 1}, {"abc", "ca", 3}, {"Timeout", "timeout", 0},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
