package experiments

import (
	"maps"
	"slices"
	"sync"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/delivery"
	"github.com/dsim-dev/dsim/protocols/detector"
	"github.com/dsim-dev/dsim/protocols/echo"
	"github.com/dsim-dev/dsim/protocols/gossip"
	"github.com/dsim-dev/dsim/protocols/quorum"
	"github.com/dsim-dev/dsim/protocols/rpc"
	"github.com/dsim-dev/dsim/protocols/swim"
)

// The protocol registry. Adding a protocol family is one package under
// protocols/ plus one line here.
func init() {
	Register(echo.Protocol{})
	Register(rpc.Protocol{})
	Register(delivery.Protocol{})
	Register(quorum.Protocol{})
	Register(detector.Protocol{})
	Register(swim.Protocol{})
	Register(gossip.Protocol{})
}

var (
	regMu    sync.RWMutex
	registry = map[string]protocols.Protocol{}
)

// Register makes a protocol family available to experiment files under
// its Name. It panics on a duplicate or empty name: registration happens
// in init and a clash is a programming error.
func Register(p protocols.Protocol) {
	regMu.Lock()
	defer regMu.Unlock()
	name := p.Name()
	if name == "" {
		panic("experiments: Register: empty protocol name")
	}
	if _, dup := registry[name]; dup {
		panic("experiments: Register: duplicate protocol " + name)
	}
	registry[name] = p
}

// LookupProtocol returns the registered protocol family with the name.
func LookupProtocol(name string) (protocols.Protocol, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	p, ok := registry[name]
	return p, ok
}

// ProtocolNames returns the registered protocol names, sorted.
func ProtocolNames() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	return slices.Sorted(maps.Keys(registry))
}
