package experiments

import (
	"github.com/dsim-dev/dsim/netmodel"
	"github.com/dsim-dev/dsim/sim"
)

// NetworkConfig is the network section: netmodel's topology and links.
type NetworkConfig = netmodel.Config

// FaultsConfig is the faults section: netmodel's fault schedule and chaos
// generator.
type FaultsConfig = netmodel.FaultsConfig

// DefaultNetworkConfig returns netmodel's default network.
func DefaultNetworkConfig() NetworkConfig { return netmodel.DefaultConfig() }

// installNetwork builds the run's network model and installs it on e,
// whose nodes the protocol has added. It returns the run's fault windows
// for plots and fault coverage.
func installNetwork(e *sim.Engine, cfg *Config) ([]sim.Window, error) {
	m, err := netmodel.New(cfg.Network, cfg.Faults)
	if err != nil {
		return nil, err
	}
	if err := m.Install(e); err != nil {
		return nil, err
	}
	ws := m.Windows()
	out := make([]sim.Window, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.Window)
	}
	sim.SortWindows(out)
	return out, nil
}
