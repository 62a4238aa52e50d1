package protocols

import (
	"strings"
	"testing"

	"github.com/dsim-dev/dsim/sim"
)

func TestGroup(t *testing.T) {
	nodes := []Placement{{"a", "eu"}, {"b", "eu"}, {"c", "us"}}
	tests := []struct {
		sel     []string
		size    int
		want    string
		problem string
	}{
		{[]string{"*"}, 0, "a b c", ""},
		{[]string{"*"}, 2, "a b", ""},
		{[]string{"us", "a"}, 0, "a c", ""},
		{[]string{"*"}, 5, "a b c", "size: 5 exceeds the 3 selected members"},
		{[]string{"zz"}, 0, "", "sel: "},
	}
	for _, tc := range tests {
		var fe sim.FieldErrors
		g, ok := ValidateGroup(&fe, nodes, tc.sel, tc.size, "sel", "size")
		var names []string
		for _, p := range g {
			names = append(names, p.Name)
		}
		err := fe.Err()
		if strings.Join(names, " ") != tc.want || ok != (tc.want != "") || (tc.problem == "") != (err == nil) ||
			(err != nil && !strings.Contains(err.Error(), tc.problem)) {
			t.Errorf("ValidateGroup(%v, %d) = %v, %v, %v", tc.sel, tc.size, names, ok, err)
		}
		if s, err := SelectGroup(nodes, tc.sel, tc.size); tc.want != "" && (err != nil || len(s) != len(g)) {
			t.Errorf("SelectGroup(%v, %d) = %v, %v", tc.sel, tc.size, s, err)
		}
	}
}
