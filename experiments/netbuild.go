package experiments

import (
	"github.com/dsim-dev/dsim/results"
	"github.com/dsim-dev/dsim/sim"
)

// runNet is the network of one run, with what must happen once the
// protocol's nodes exist.
type runNet struct {
	start func() error
}

// buildNetwork sets the run's network and returns its fault windows.
func buildNetwork(e *sim.Engine, cfg *Config) (runNet, []results.FaultWindow, error) {
	e.SetNetwork(&sim.Direct{Delay: cfg.Network.Delay})
	return runNet{start: func() error { return nil }}, nil, nil
}
