package protocols

// NodeValidator is implemented by a Config that names topology nodes in
// settings Validate cannot check on its own (a crash point's node). The
// loader calls ValidateNodes after Validate with the experiment's nodes,
// so that an unknown name is reported at its line like any bad value.
type NodeValidator interface {
	// ValidateNodes reports settings naming nodes that are not in
	// nodes, as sim.FieldErrors with paths relative to the protocol
	// section.
	ValidateNodes(nodes []Placement) error
}
