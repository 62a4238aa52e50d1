// Package enum names and parses the small enumerations of protocol
// configs (iota types whose YAML form is a snake_case word), so that every
// family spells an unknown value the same way:
//
//	var modeNames = []string{"push", "pull", "push_pull"}
//	func (m Mode) String() string { return enum.Name(modeNames, int(m)) }
//	func (m *Mode) UnmarshalYAML(n *yaml.Node) error {
//		return enum.Set(m, "gossip mode", n.Value, modeNames)
//	}
package enum

import (
	"fmt"
	"slices"
	"strings"
)

// Name returns names[i], or "unknown" when i is out of range.
func Name(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return "unknown"
}

// Parse returns the index of s in names, or an error naming what was
// asked for and every allowed value: `unknown gossip mode "pus" (one of:
// push, pull, push_pull)`.
func Parse(what, s string, names []string) (int, error) {
	if i := slices.Index(names, s); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("unknown %s %q (one of: %s)", what, s, strings.Join(names, ", "))
}

// Set parses s with Parse and stores the index in out.
func Set[T ~uint8 | ~int](out *T, what, s string, names []string) error {
	i, err := Parse(what, s, names)
	if err != nil {
		return err
	}
	*out = T(i)
	return nil
}
