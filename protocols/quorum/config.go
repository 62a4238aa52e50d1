package quorum

import (
	"fmt"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/dist"
	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/enum"
	"gopkg.in/yaml.v3"
)

// enum is the YAML plumbing shared by the family's enums.

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Strategy,Coordinator,Fanout,Merge,KeyDist,OpKind -linecomment -output=config_string.go

// Strategy is what the store does about partitions and failures.
type Strategy uint8

// Strategies.
const (
	// Dynamo is plain Dynamo-style coordination: a write is sent to the
	// key's N replicas (its preference list) and succeeds with W acks, a
	// read with R answers; versions are last-writer-wins on the
	// coordinator's local clock. Any R and W in [1, N].
	Dynamo Strategy = iota // dynamo
	// CP uses majority quorums (R+W > N, 2W > N) and two phases (the
	// ABD register of Attiya, Bar-Noy and Dolev, 1995): a write first
	// reads a quorum's versions and writes above them; a read writes the
	// newest value back to a quorum before answering unless all answers
	// agree. The side of a partition without a quorum refuses service.
	CP // cp
	// AP accepts writes on both sides of a partition: replicas that do
	// not answer within hint_timeout are replaced by the next nodes of
	// the ring (a sloppy quorum), which keep a hint and hand the write
	// off to the intended replica once they can reach it. Replicas
	// reconcile by the merge rule.
	AP // ap
	// Primary sends every write through one designated primary (the
	// primary field, else each key's first replica), which orders it
	// with its own clock and replicates it, answering after W replicas
	// (itself included) have it. Reads go to R replicas anywhere: where
	// the primary cannot be reached, writes fail and reads are stale.
	Primary // primary
)

// UnmarshalYAML parses a strategy name.
func (s *Strategy) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(s, "value", n.Value)
}

// MarshalYAML writes the name.
func (s Strategy) MarshalYAML() (any, error) { return s.String(), nil }

// Coordinator is who coordinates an operation's quorum.
type Coordinator uint8

// Coordinators.
const (
	// ClientCoordinates: the client talks to the replicas itself (a
	// client-side or "smart client" library).
	ClientCoordinates Coordinator = iota // client
	// ReplicaCoordinates: the client sends the operation to one of the
	// key's replicas, chosen at random, which coordinates it (one more
	// network hop each way).
	ReplicaCoordinates // replica
)

// UnmarshalYAML parses "client" or "replica".
func (c *Coordinator) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(c, "value", n.Value)
}

// MarshalYAML writes the name.
func (c Coordinator) MarshalYAML() (any, error) { return c.String(), nil }

// Fanout is how many replicas a coordinator contacts.
type Fanout uint8

// Fanouts.
const (
	// FanoutAll sends to all N replicas and waits for the first R (or W)
	// answers, as Dynamo, Cassandra and Riak do; the others still get
	// the write.
	FanoutAll Fanout = iota // all
	// FanoutQuorum sends to exactly R (or W) replicas picked at random:
	// the probabilistic quorum model behind the closed forms of
	// Probabilistically Bounded Staleness (a write reaches only W
	// replicas until something repairs the others).
	FanoutQuorum // quorum
)

// UnmarshalYAML parses "all" or "quorum".
func (f *Fanout) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(f, "value", n.Value)
}

// MarshalYAML writes the name.
func (f Fanout) MarshalYAML() (any, error) { return f.String(), nil }

// Merge is how replicas reconcile divergent values.
type Merge uint8

// Merge rules.
const (
	// LWW keeps the value with the highest version: the coordinator's
	// local clock reading (tie broken by node), so a clock that runs
	// ahead wins and one that runs behind loses its writes silently.
	LWW Merge = iota // lww
	// Siblings tracks causality with version vectors: a write carries
	// the vector of what its client last read of the key, a replica
	// keeps every value no other value has seen (siblings), and a read
	// returns them all; the client's next write supersedes them. Nothing
	// acknowledged is lost, at the price of conflicts surfaced to
	// readers.
	Siblings // siblings
)

// UnmarshalYAML parses "lww" or "siblings".
func (m *Merge) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(m, "value", n.Value)
}

// MarshalYAML writes the name.
func (m Merge) MarshalYAML() (any, error) { return m.String(), nil }

// KeyDist is how clients choose keys.
type KeyDist uint8

// Key choices.
const (
	// Uniform picks every key with the same probability.
	Uniform KeyDist = iota // uniform
	// Zipf picks key i (from 1) with probability ∝ 1/i^s: a few hot keys.
	Zipf // zipf
)

// UnmarshalYAML parses "uniform" or "zipf".
func (k *KeyDist) UnmarshalYAML(n *yaml.Node) error {
	return enum.Set(k, "value", n.Value)
}

// MarshalYAML writes the name.
func (k KeyDist) MarshalYAML() (any, error) { return k.String(), nil }

// Legs adds a delay to each kind of replica message, on top of the
// network's latency: the W, A, R and S distributions of the WARS model of
// Probabilistically Bounded Staleness (Bailis et al., VLDB 2012), which
// the paper fits to production latencies (Pareto body, exponential tail).
type Legs struct {
	// WriteRequest delays each write from coordinator to replica (W).
	WriteRequest dist.Config `yaml:"write_request"`
	// WriteAck delays each write acknowledgement (A).
	WriteAck dist.Config `yaml:"write_ack"`
	// ReadRequest delays each read from coordinator to replica (R).
	ReadRequest dist.Config `yaml:"read_request"`
	// ReadResponse delays each read answer (S).
	ReadResponse dist.Config `yaml:"read_response"`

	// WriteRequestDist, WriteAckDist, ReadRequestDist and
	// ReadResponseDist, when set by code, replace the YAML ones (for
	// distributions from other packages).
	WriteRequestDist dist.Dist `yaml:"-"`
	WriteAckDist     dist.Dist `yaml:"-"`
	ReadRequestDist  dist.Dist `yaml:"-"`
	ReadResponseDist dist.Dist `yaml:"-"`
}

// Mix is the share of each operation kind in the workload (weights,
// normalised to sum to 1).
type Mix struct {
	// Read weighs quorum reads.
	Read float64 `yaml:"read"`
	// Write weighs blind writes of a fresh value.
	Write float64 `yaml:"write"`
	// Increment weighs read-modify-write cycles by optimistic
	// concurrency: read the key, then write it conditionally on the
	// version read; on a conflict back off by the retry policy and start
	// again.
	Increment float64 `yaml:"increment"`
}

// Check configures the history-based checks.
type Check struct {
	// History records every operation, so that linearizable,
	// lost_acked_writes and conflicts can be computed (else they are
	// empty). Memory grows with the operations, up to max_ops; off, the
	// run keeps nothing per operation.
	History bool `yaml:"history"`
	// MaxOps bounds the recorded operations; past it the checks answer
	// unknown (0: 1,048,576).
	MaxOps int `yaml:"max_ops"`
	// LinearizableBudget bounds the wall-clock time of the
	// linearizability check; when it runs out linearizable is empty
	// (unknown) rather than a guess.
	LinearizableBudget time.Duration `yaml:"linearizable_budget"`
}

// Config is the quorum family's section of an experiment.
type Config struct {
	// Stores selects the replica nodes: node or zone names ("*" for all).
	Stores []string `yaml:"stores"`
	// Clients selects the nodes that run the workload. A node may be
	// both.
	Clients []string `yaml:"clients"`
	// N is the number of replicas of each key, placed by a consistent
	// hash ring over the stores (all of them when N equals their
	// number).
	N int `yaml:"n"`
	// R is the read quorum: answers a read waits for, in [1, N].
	R int `yaml:"r"`
	// W is the write quorum: acknowledgements a write waits for, in
	// [1, N]. R+W > N makes quorums intersect (strict quorums).
	W int `yaml:"w"`
	// Strategy is dynamo, cp, ap or primary: what happens under
	// partitions (see the family's documentation).
	Strategy Strategy `yaml:"strategy"`
	// Primary names the primary node of the primary strategy (empty:
	// each key's first replica); other strategies ignore it.
	Primary string `yaml:"primary"`
	// Coordinator is client (the client contacts replicas itself) or
	// replica (a random replica of the key coordinates).
	Coordinator Coordinator `yaml:"coordinator"`
	// Fanout is all (contact every replica, wait for the first R or W)
	// or quorum (contact exactly R or W random replicas).
	Fanout Fanout `yaml:"fanout"`
	// Merge is the reconciliation rule: lww (last writer wins on the
	// coordinator's local clock, so clock offset and drift lose writes)
	// or siblings (version vectors; concurrent values are all kept and
	// returned to readers). Siblings needs strategy dynamo or ap and no
	// increments.
	Merge Merge `yaml:"merge"`
	// ReadRepair makes a read coordinator send the newest value it saw
	// to replicas that answered with older ones.
	ReadRepair bool `yaml:"read_repair"`
	// HintTimeout is how long an ap coordinator waits for a replica
	// before trying the next node of the ring with a hint (the sloppy
	// quorum). Shorter is more available, with more hinted copies.
	HintTimeout time.Duration `yaml:"hint_timeout"`
	// HandoffInterval is how often a node holding hints tries to hand
	// them to their intended replicas.
	HandoffInterval time.Duration `yaml:"handoff_interval"`
	// AntiEntropyInterval, when positive, makes every store push its
	// whole state for a random one of its keys' replicas at this
	// interval (0: off).
	AntiEntropyInterval time.Duration `yaml:"anti_entropy_interval"`
	// Timeout is how long a client waits for one attempt (and a
	// coordinator for its quorum) before giving up on it.
	Timeout time.Duration `yaml:"timeout"`
	// Retry is the client's retry policy (protocols/retry): attempts,
	// backoff and jitter. A conflict of a conditional write counts as a
	// failure, an unreachable quorum as an overload (the store refused),
	// no answer as a timeout.
	Retry retry.Policy `yaml:"retry"`
	// Legs adds per-message-kind delays (write request, write ack, read
	// request, read response) on top of the network's.
	Legs Legs `yaml:"legs"`
	// Keys is the number of distinct keys.
	Keys int `yaml:"keys"`
	// KeyDist is uniform or zipf.
	KeyDist KeyDist `yaml:"key_dist"`
	// ZipfExponent is the Zipf s (> 0); 1 is the classic web-cache skew.
	ZipfExponent float64 `yaml:"zipf_exponent"`
	// Mix weighs reads, blind writes and increments.
	Mix Mix `yaml:"mix"`
	// TVisibility lists the lags t (≥ 0) at which p_consistent{t_ms=t}
	// is reported: the fraction of reads that saw the latest write
	// committed more than t before they started.
	TVisibility []time.Duration `yaml:"t_visibility"`
	// VNodes is the number of ring positions per store (more spreads
	// keys more evenly).
	VNodes int `yaml:"vnodes"`
	// Check configures the history-based checks.
	Check Check `yaml:"check"`

	// Script, when set by code, replaces the workload with exactly these
	// operations (tests and hand-computed scenarios).
	Script []ScriptOp `yaml:"-"`
}

// ScriptOp is one scripted client operation.
type ScriptOp struct {
	// At is when the client starts it.
	At time.Duration
	// Client names the client node.
	Client string
	// Kind is Read, Write or Increment.
	Kind OpKind
	// Key is the key.
	Key uint64
}

// OpKind is a client operation.
type OpKind uint8

// Client operations.
const (
	// OpRead is a quorum read.
	OpRead OpKind = iota // read
	// OpWrite is a blind write of a fresh value.
	OpWrite // write
	// OpIncrement is a read followed by a conditional write, retried on
	// conflict.
	OpIncrement // increment
)

// DefaultConfig is a three-way replicated store with strict quorums
// (N=3, R=W=2), every node both store and client, 100 uniform keys, 80%
// reads, a 1 s timeout and three attempts with jittered backoff.
func DefaultConfig() Config {
	return Config{
		Stores: []string{"*"}, Clients: []string{"*"},
		N: 3, R: 2, W: 2,
		ReadRepair:      true,
		HintTimeout:     50 * time.Millisecond,
		HandoffInterval: 200 * time.Millisecond,
		Timeout:         time.Second,
		Retry:           retry.DefaultPolicy(),
		Keys:            100,
		ZipfExponent:    1,
		Mix:             Mix{Read: 0.8, Write: 0.2},
		TVisibility:     []time.Duration{0, time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond},
		VNodes:          16,
		Check:           Check{LinearizableBudget: 10 * time.Second},
	}
}

// MaxKeys bounds Keys.
const MaxKeys = 10_000_000

// Validate reports every impossible setting at once.
func (c *Config) Validate() error {
	var fe sim.FieldErrors
	if len(c.Stores) == 0 {
		fe.Add("stores", "must select at least one node")
	}
	if len(c.Clients) == 0 && len(c.Script) == 0 {
		fe.Add("clients", "must select at least one node")
	}
	for i, s := range c.Stores {
		if s == "" {
			fe.Add(fmt.Sprintf("stores[%d]", i), "must not be empty")
		}
	}
	for i, s := range c.Clients {
		if s == "" {
			fe.Add(fmt.Sprintf("clients[%d]", i), "must not be empty")
		}
	}
	if c.N < 1 || c.N > 1000 {
		fe.Add("n", "must be in [1, 1000], got %d", c.N)
	}
	if c.R < 1 || c.R > c.N {
		fe.Add("r", "must be in [1, n=%d], got %d", c.N, c.R)
	}
	if c.W < 1 || c.W > c.N {
		fe.Add("w", "must be in [1, n=%d], got %d", c.N, c.W)
	}
	if c.Strategy > Primary {
		fe.Add("strategy", "unknown strategy (one of: %s)", strings.Join(enum.Names[Strategy](), ", "))
	}
	if c.Strategy == CP && c.R >= 1 && c.W >= 1 && c.R <= c.N && c.W <= c.N {
		if c.R+c.W <= c.N {
			fe.Add("r", "strategy cp needs intersecting quorums: r+w > n, got r=%d w=%d n=%d", c.R, c.W, c.N)
		}
		if 2*c.W <= c.N {
			fe.Add("w", "strategy cp needs a majority write quorum: 2w > n, got w=%d n=%d", c.W, c.N)
		}
	}
	if c.Strategy == CP && c.Fanout == FanoutQuorum {
		fe.Add("fanout", "strategy cp contacts every replica; use fanout all")
	}
	if c.Coordinator > ReplicaCoordinates {
		fe.Add("coordinator", "must be client or replica")
	}
	if c.Fanout > FanoutQuorum {
		fe.Add("fanout", "must be all or quorum")
	}
	if c.Merge > Siblings {
		fe.Add("merge", "unknown merge rule (one of: %s)", strings.Join(enum.Names[Merge](), ", "))
	}
	if c.Merge == Siblings {
		if c.Strategy == CP || c.Strategy == Primary {
			fe.Add("merge", "siblings needs strategy dynamo or ap (%s orders writes itself)", c.Strategy)
		}
		if c.Mix.Increment > 0 {
			fe.Add("mix.increment", "conditional writes need merge lww (a version vector has no single version to compare)")
		}
	}
	if c.Strategy == AP && c.HintTimeout <= 0 {
		fe.Add("hint_timeout", "strategy ap needs a positive hint timeout, got %v", c.HintTimeout)
	}
	if c.HintTimeout < 0 {
		fe.Add("hint_timeout", "must not be negative, got %v", c.HintTimeout)
	}
	if c.HandoffInterval <= 0 {
		fe.Add("handoff_interval", "must be positive, got %v", c.HandoffInterval)
	}
	if c.AntiEntropyInterval < 0 {
		fe.Add("anti_entropy_interval", "must not be negative (0: off), got %v", c.AntiEntropyInterval)
	}
	if c.Timeout <= 0 {
		fe.Add("timeout", "must be positive, got %v", c.Timeout)
	}
	fe.Merge("retry", c.Retry.Validate())
	fe.Merge("legs.write_request", c.Legs.WriteRequest.Validate())
	fe.Merge("legs.write_ack", c.Legs.WriteAck.Validate())
	fe.Merge("legs.read_request", c.Legs.ReadRequest.Validate())
	fe.Merge("legs.read_response", c.Legs.ReadResponse.Validate())
	if c.Keys < 1 || c.Keys > MaxKeys {
		fe.Add("keys", "must be in [1, %d], got %d", MaxKeys, c.Keys)
	}
	if c.KeyDist > Zipf {
		fe.Add("key_dist", "must be uniform or zipf")
	}
	if !(c.ZipfExponent > 0) || c.ZipfExponent > 100 {
		fe.Add("zipf_exponent", "must be in (0, 100], got %v", c.ZipfExponent)
	}
	m := c.Mix
	if m.Read < 0 || m.Write < 0 || m.Increment < 0 {
		fe.Add("mix", "weights must not be negative, got read %v write %v increment %v", m.Read, m.Write, m.Increment)
	} else if !(m.Read+m.Write+m.Increment > 0) {
		fe.Add("mix", "at least one weight must be positive")
	}
	for i, t := range c.TVisibility {
		if t < 0 {
			fe.Add(fmt.Sprintf("t_visibility[%d]", i), "must not be negative, got %v", t)
		}
	}
	if len(c.TVisibility) > 100 {
		fe.Add("t_visibility", "at most 100 lags, got %d", len(c.TVisibility))
	}
	if c.VNodes < 1 || c.VNodes > 1024 {
		fe.Add("vnodes", "must be in [1, 1024], got %d", c.VNodes)
	}
	if c.Check.MaxOps < 0 {
		fe.Add("check.max_ops", "must not be negative, got %d", c.Check.MaxOps)
	}
	if c.Check.LinearizableBudget <= 0 {
		fe.Add("check.linearizable_budget", "must be positive, got %v", c.Check.LinearizableBudget)
	}
	return fe.Err()
}

// ValidateNodes checks the config against the experiment's topology: the
// selectors match nodes, N is at most the number of stores, and the
// primary is a store.
func (c *Config) ValidateNodes(nodes []protocols.Placement) error {
	var fe sim.FieldErrors
	stores, err := protocols.Select(nodes, c.Stores)
	if err != nil {
		fe.Add("stores", "%v", err)
	}
	if len(c.Script) == 0 {
		if _, err := protocols.Select(nodes, c.Clients); err != nil {
			fe.Add("clients", "%v", err)
		}
	}
	if err == nil {
		if c.N > len(stores) {
			fe.Add("n", "is %d but only %d store nodes are selected by stores", c.N, len(stores))
		}
		if len(stores) > maxStores {
			fe.Add("stores", "at most %d store nodes, got %d", maxStores, len(stores))
		}
		if c.Primary != "" {
			found := false
			for _, s := range stores {
				found = found || s.Name == c.Primary
			}
			if !found {
				fe.Add("primary", "%q is not one of the store nodes", c.Primary)
			}
		}
	}
	return fe.Err()
}

// maxStores bounds the store nodes (versions carry a 10-bit node index).
const maxStores = 1023
