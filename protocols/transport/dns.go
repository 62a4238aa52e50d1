package transport

import (
	"fmt"
	"slices"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Window is a span of simulated time.
type Window struct {
	// From is when the window opens.
	From time.Duration `yaml:"from"`
	// To is when it closes.
	To time.Duration `yaml:"to"`
}

// Move is the fault action that moves a service to new replicas: from At
// on, the name resolves to the nodes To selects, and the old replicas
// stop answering at their addresses.
type Move struct {
	// Service is the name that moves.
	Service string `yaml:"service"`
	// At is when it moves.
	At time.Duration `yaml:"at"`
	// To selects the new replicas (node or zone names, among the
	// service's nodes); before At the name resolves to the others.
	To []string `yaml:"to"`
}

// DNSConfig is service discovery by name. Clients resolve a service's
// name through a resolver and cache the answer for the record's TTL; a
// fraction of them keep it longer. While a cached answer names replicas
// that no longer answer, requests fail until the cache expires.
type DNSConfig struct {
	// Enabled turns resolution on; without it callers know every replica
	// from the start and nothing moves.
	Enabled bool `yaml:"enabled"`
	// TTL is the records' time to live: how long a client may use an
	// answer. Short TTLs follow moves quickly and cost more lookups.
	TTL time.Duration `yaml:"ttl"`
	// NegativeTTL is how long a failed lookup is cached: requests fail at
	// once until it expires.
	NegativeTTL time.Duration `yaml:"negative_ttl"`
	// LookupTime is the time a lookup takes (a round trip to the
	// resolver); requests wait for it.
	LookupTime time.Duration `yaml:"lookup_time"`
	// StaleFraction is the fraction of client nodes that cache answers
	// beyond the TTL (a JVM's networkaddress.cache.ttl, a stub resolver
	// that ignores TTLs), in [0, 1].
	StaleFraction float64 `yaml:"stale_fraction"`
	// StaleCap is how long those clients keep an answer.
	StaleCap time.Duration `yaml:"stale_cap"`
	// Outages are spans when the resolver does not answer: lookups fail.
	Outages []Window `yaml:"outages"`
	// Moves are the services moved to new replicas during the run.
	Moves []Move `yaml:"moves"`
}

// DefaultDNSConfig returns resolution off, with a 60s TTL, 5s negative
// caching, 1ms lookups and no stale clients (StaleCap 1h once a fraction
// is set).
func DefaultDNSConfig() DNSConfig {
	return DNSConfig{TTL: 60 * time.Second, NegativeTTL: 5 * time.Second, LookupTime: time.Millisecond, StaleCap: time.Hour}
}

// Validate reports impossible settings.
func (c DNSConfig) Validate() error {
	var fe sim.FieldErrors
	if c.TTL < 0 {
		fe.Add("ttl", "must not be negative, got %v", c.TTL)
	}
	if c.NegativeTTL < 0 {
		fe.Add("negative_ttl", "must not be negative, got %v", c.NegativeTTL)
	}
	if c.LookupTime < 0 {
		fe.Add("lookup_time", "must not be negative, got %v", c.LookupTime)
	}
	if !(c.StaleFraction >= 0 && c.StaleFraction <= 1) {
		fe.Add("stale_fraction", "must be in [0, 1], got %v", c.StaleFraction)
	}
	if c.StaleCap < 0 {
		fe.Add("stale_cap", "must not be negative, got %v", c.StaleCap)
	}
	for i, w := range c.Outages {
		if w.From < 0 || w.To <= w.From {
			fe.Add(fmt.Sprintf("outages[%d]", i), "needs 0 ≤ from < to, got from %v to %v", w.From, w.To)
		}
	}
	for i, m := range c.Moves {
		p := fmt.Sprintf("moves[%d]", i)
		if m.Service == "" {
			fe.Add(p+".service", "is required")
		}
		if m.At < 0 {
			fe.Add(p+".at", "must not be negative, got %v", m.At)
		}
		if len(m.To) == 0 {
			fe.Add(p+".to", "must select the new replicas")
		}
	}
	return fe.Err()
}

// Authority is the run's DNS: the current records of every name, and the
// resolver's outages.
type Authority struct {
	cfg     DNSConfig
	records map[string][]sim.NodeID
}

// NewAuthority makes the run's DNS with no records.
func NewAuthority(cfg DNSConfig) *Authority {
	return &Authority{cfg: cfg, records: map[string][]sim.NodeID{}}
}

// Set makes name resolve to addrs (a copy is kept).
func (a *Authority) Set(name string, addrs []sim.NodeID) {
	a.records[name] = slices.Clone(addrs)
}

// Current returns name's records now (nil for an unknown name).
func (a *Authority) Current(name string) []sim.NodeID { return a.records[name] }

// Lists reports whether name's current records include addr.
func (a *Authority) Lists(name string, addr sim.NodeID) bool {
	return slices.Contains(a.records[name], addr)
}

// Lookup resolves name at time now: false while the resolver is out or
// the name unknown.
func (a *Authority) Lookup(name string, now sim.Time) ([]sim.NodeID, bool) {
	for _, w := range a.cfg.Outages {
		if now >= sim.Time(w.From) && now < sim.Time(w.To) {
			return nil, false
		}
	}
	r, ok := a.records[name]
	return r, ok && len(r) > 0
}

// dnsCache is one hop's cached answer.
type dnsCache struct {
	name      string
	addrs     []sim.NodeID
	expires   sim.Time
	negUntil  sim.Time
	resolving bool
	sticky    bool // this client keeps answers for StaleCap
	queue     []queued
}

// queued is a request waiting for a lookup.
type queued struct {
	to  sim.NodeID
	id  uint64
	msg sim.Message
}
