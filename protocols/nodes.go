package protocols

// NodeValidator is implemented by a Config that must be checked against
// the experiment's topology, which Validate cannot see: a crash point's
// node, a replica count larger than the nodes selected, a selector that
// matches nothing. The loader calls ValidateNodes after Validate with the
// experiment's nodes, so that a problem is reported at its line like any
// bad value rather than when a run starts.
type NodeValidator interface {
	// ValidateNodes reports settings naming nodes that are not in
	// nodes, as sim.FieldErrors with paths relative to the protocol
	// section.
	ValidateNodes(nodes []Placement) error
}
