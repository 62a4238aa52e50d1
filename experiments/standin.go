package experiments

import (
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// NetworkConfig stands in for netmodel.Config until it lands.
type NetworkConfig struct {
	// Delay is the one-way delay of every message.
	Delay time.Duration `yaml:"delay"`
	// Zones places nodes: zone name -> node names or globs.
	Zones map[string][]string `yaml:"zones"`
}

// DefaultNetworkConfig is a 1 ms network.
func DefaultNetworkConfig() NetworkConfig { return NetworkConfig{Delay: time.Millisecond} }

// Validate checks the network.
func (n NetworkConfig) Validate() error {
	var fe sim.FieldErrors
	if n.Delay < 0 {
		fe.Add("delay", "must not be negative")
	}
	return fe.Err()
}

// ValidateNodes checks node references.
func (n NetworkConfig) ValidateNodes([]string) error { return nil }

// FaultsConfig stands in for netmodel.FaultsConfig.
type FaultsConfig struct {
	// Schedule lists faults.
	Schedule []struct {
		Kind     string        `yaml:"kind"`
		At       time.Duration `yaml:"at"`
		Duration time.Duration `yaml:"duration"`
	} `yaml:"schedule"`
}

// Validate checks the faults.
func (f FaultsConfig) Validate() error { return nil }
