package protocols

import "github.com/dsim-dev/dsim/sim"

// SelectGroup returns the nodes matching selectors (see Select), cut to
// the first size of them when 0 < size < their number. Membership
// families use it so that one node list can be swept over group sizes.
func SelectGroup(nodes []Placement, selectors []string, size int) ([]Placement, error) {
	ms, err := Select(nodes, selectors)
	if err != nil {
		return nil, err
	}
	if size > 0 && size < len(ms) {
		ms = ms[:size]
	}
	return ms, nil
}

// ValidateGroup is SelectGroup for a config's ValidateNodes: problems go
// to fe under the given field names (selectors at selField, the size at
// sizeField), and the group is returned for further checks; ok is false
// when the selectors match nothing.
func ValidateGroup(fe *sim.FieldErrors, nodes []Placement, selectors []string, size int, selField, sizeField string) (group []Placement, ok bool) {
	ms, err := Select(nodes, selectors)
	if err != nil {
		fe.Add(selField, "%v", err)
		return nil, false
	}
	if size > len(ms) {
		fe.Add(sizeField, "%d exceeds the %d selected members", size, len(ms))
	}
	if size > 0 && size < len(ms) {
		ms = ms[:size]
	}
	return ms, true
}
