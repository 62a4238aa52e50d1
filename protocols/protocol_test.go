package protocols

import (
	"errors"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	nodes := []Placement{{"eu-1", "eu"}, {"eu-2", "eu"}, {"us-1", "us"}}
	for _, tc := range []struct {
		sel  []string
		want string
		err  bool
	}{
		{[]string{"*"}, "eu-1,eu-2,us-1", false},
		{[]string{"us"}, "us-1", false},
		{[]string{"us-1", "eu"}, "eu-1,eu-2,us-1", false},
		{[]string{"eu-2", "eu-2"}, "eu-2", false},
		{[]string{"asia"}, "", true},
		{[]string{"eu-*"}, "eu-1,eu-2", false},
		{[]string{"*-1"}, "eu-1,us-1", false},
		{[]string{"u?"}, "us-1", false}, // a glob over zone names
		{[]string{"c-*"}, "", true},
		{[]string{"eu-["}, "", true}, // malformed glob
		{nil, "", false},
	} {
		got, err := Select(nodes, tc.sel)
		if tc.err {
			if !errors.Is(err, ErrNoMatch) {
				t.Errorf("Select(%v): err %v, want ErrNoMatch", tc.sel, err)
			}
			continue
		}
		var names []string
		for _, n := range got {
			names = append(names, n.Name)
		}
		if strings.Join(names, ",") != tc.want || err != nil {
			t.Errorf("Select(%v) = %v, %v; want %s", tc.sel, names, err, tc.want)
		}
	}
}

func TestSetupHooks(t *testing.T) {
	s := &Setup{}
	var order []string
	s.AtEnd(func() { order = append(order, "a"); s.Report("x_ratio", 0.5) })
	s.AtEnd(func() { order = append(order, "b"); s.Report("x_ratio", 0.25) })
	s.Invariant("holds", func() error { return nil })
	s.Finish()
	if strings.Join(order, "") != "ab" {
		t.Errorf("order %v", order)
	}
	if sc := s.Scalars(); len(sc) != 1 || sc[0].Value != 0.25 {
		t.Errorf("scalars %v", sc)
	}
	if len(s.Invariants()) != 1 || s.Invariants()[0].Check() != nil {
		t.Error("invariants")
	}
}
