package quorum

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/dist"
	"github.com/dsim-dev/dsim/protocols/history"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
)

// Protocol is the quorum replication family; register it with
// experiments.Register(quorum.Protocol{}).
type Protocol struct{}

var _ protocols.Protocol = Protocol{}

// Name returns "quorum".
func (Protocol) Name() string { return "quorum" }

// Summary describes the family in one line.
func (Protocol) Summary() string {
	return "replicated key-value store with quorum reads and writes: CP vs AP vs primary, LWW clocks, staleness and linearizability"
}

// DefaultConfig returns DefaultConfig() as a protocols.Config.
func (Protocol) DefaultConfig() protocols.Config {
	c := DefaultConfig()
	return &c
}

// Metric names recorded by the family (histograms, counters and run
// scalars). They are stable: experiments, plots and checks use them.
const (
	// MetricReadLatency is the histogram of successful reads, from the
	// first attempt to the answer.
	MetricReadLatency = "read_latency"
	// MetricWriteLatency is the histogram of successful blind writes.
	MetricWriteLatency = "write_latency"
	// MetricIncrementLatency is the histogram of successful increments
	// (read, conditional write, and every retry on conflict).
	MetricIncrementLatency = "increment_latency"
	// MetricReadStaleness is the histogram of each successful read's
	// time staleness: how long before it started the newest write it
	// missed had committed (0 for a fresh read). Its CDF is the
	// t-visibility curve.
	MetricReadStaleness = "read_staleness"
	// MetricOpsOK and MetricOpsFailed count finished operations.
	MetricOpsOK     = "ops_ok"
	MetricOpsFailed = "ops_failed"
	// MetricCASAttempts counts conditional writes sent.
	MetricCASAttempts = "cas_attempts"
	// MetricCASRejected counts conditional writes refused for a newer
	// version (optimistic-concurrency conflicts).
	MetricCASRejected = "cas_rejected"
	// MetricRetries counts attempts after the first.
	MetricRetries = "retries"
	// MetricTimeouts counts attempts that got no answer in time.
	MetricTimeouts = "attempt_timeouts"
	// MetricReadRepairs counts read-repair writes sent.
	MetricReadRepairs = "read_repairs"
	// MetricHintsStored and MetricHintsDelivered count hinted writes
	// kept by fallback nodes and handed off to their replicas.
	MetricHintsStored    = "hints_stored"
	MetricHintsDelivered = "hints_delivered"
	// MetricSiblingReads counts reads that returned more than one value
	// (merge siblings); sibling_read_ratio is their share of reads.
	MetricSiblingReads     = "sibling_reads"
	MetricSiblingReadRatio = "sibling_read_ratio"

	// MetricAvailability is the fraction of operations that succeeded
	// (after retries), with availability{window=partition} and
	// availability{window=none} for operations that did and did not
	// overlap a partition or isolation window.
	MetricAvailability = "availability"
	// MetricStaleReadRatio is the fraction of successful reads that
	// missed at least one write acknowledged before they started.
	MetricStaleReadRatio = "stale_read_ratio"
	// MetricVersionsBehind is reported as versions_behind{k=0} …
	// versions_behind{k=4+}: the fraction of reads k versions behind
	// (k-staleness), and versions_behind_mean.
	MetricVersionsBehind = "versions_behind"
	// MetricPConsistent is reported as p_consistent{t_ms=t} for each lag
	// of t_visibility: the fraction of reads that returned the latest
	// write committed more than t before they started, or newer.
	MetricPConsistent = "p_consistent"
	// MetricLostAckedWrites counts acknowledged writes that the store
	// dropped (history.CheckLostWrites); empty without check.history.
	MetricLostAckedWrites = "lost_acked_writes"
	// MetricLostWriteRatio is lost_acked_writes over the acknowledged
	// writes and conditional writes; empty without check.history.
	MetricLostWriteRatio = "lost_write_ratio"
	// MetricConflicts counts acknowledged conditional writes that
	// replaced a version another acknowledged conditional write had
	// already replaced (divergent histories); empty without
	// check.history.
	MetricConflicts = "conflicts"
	// MetricLinearizable is 1 when every key's history is linearizable,
	// 0 when one is not, empty when the check is off or undecided.
	MetricLinearizable = "linearizable"
)

// behindBuckets is the number of versions_behind buckets (the last one
// is "this many or more").
const behindBuckets = 4

// Leg indices.
const (
	legWriteRequest = iota
	legWriteAck
	legReadRequest
	legReadResponse
)

type handles struct {
	readLat, writeLat, incLat, staleness          sim.Histogram
	ok, failed, casAttempts, casRejected, retries sim.Counter
	timeouts, readRepairs, hintsStored            sim.Counter
	hintsDelivered, siblingReads                  sim.Counter
}

// tallies are the run-wide counts behind scalars and invariants.
type tallies struct {
	started, ok, failed uint64
	siblingReads        uint64
	// After the warm-up, split by partition overlap.
	inOK, inN, outOK, outN uint64
}

// runState is what the nodes of one run share.
type runState struct {
	cfg      *Config
	wl       workload.Config
	setup    *protocols.Setup
	ring     *Ring
	storeIDs []sim.NodeID
	storeIdx map[sim.NodeID]int
	primary  int // store index of the global primary, -1 for per key
	legs     [4]dist.Dist
	keys     *keyChooser
	mixCum   [3]float64
	warmup   sim.Time
	hist     *history.History
	stale    *history.Staleness
	h        handles
	st       tallies
	ops      protocols.Ops

	nextID    uint64
	nextValue int64
	// writeVV maps an acknowledged write's version to its version
	// vector (merge siblings with a history), for the lost-write check.
	writeVV map[uint64]VClock
}

// primaryOf returns the store index of the key's primary (primary
// strategy) or leader (cp): the configured primary, else the key's first
// replica.
func (rs *runState) primaryOf(key uint64) int {
	if rs.primary >= 0 && rs.cfg.Strategy == Primary {
		return rs.primary
	}
	return rs.ring.Walk(key)[0]
}

// pickKind draws an operation kind from the mix.
func (rs *runState) pickKind(r *rand.Rand) OpKind {
	u := r.Float64() * rs.mixCum[2]
	switch {
	case u < rs.mixCum[0]:
		return OpRead
	case u < rs.mixCum[1]:
		return OpWrite
	}
	return OpIncrement
}

// count tallies a finished operation inside or outside partitions.
func (rs *runState) count(start, end sim.Time, ok bool) {
	in := false
	for _, w := range rs.setup.Faults {
		if (w.Kind == "partition" || w.Kind == "isolate") && start < w.End && end >= w.Start {
			in = true
			break
		}
	}
	o := uint64(0)
	if ok {
		o = 1
	}
	if in {
		rs.st.inN++
		rs.st.inOK += o
	} else {
		rs.st.outN++
		rs.st.outOK += o
	}
}

func legDist(c dist.Config, override dist.Dist) dist.Dist {
	if override != nil {
		return override
	}
	return c.Build()
}

// Build places stores and clients on the topology and wires the checks.
func (c *Config) Build(s *protocols.Setup) error {
	if err := c.ValidateNodes(s.Nodes); err != nil {
		return err
	}
	stores, _ := s.Select(c.Stores)
	var clients []protocols.Placement
	if len(c.Script) == 0 {
		clients, _ = s.Select(c.Clients)
		if s.Workload.Kind == workload.Closed && s.Workload.Clients < 1 {
			return errors.New("closed workload needs at least one client")
		}
	}
	cfg := *c
	rs := &runState{cfg: &cfg, wl: s.Workload, setup: s, warmup: sim.Time(s.Warmup), ops: s.Ops, primary: -1, storeIdx: map[sim.NodeID]int{}}
	names := make([]string, len(stores))
	storeOf := map[string]int{}
	for i, n := range stores {
		names[i] = n.Name
		storeOf[n.Name] = i
		if n.Name == c.Primary {
			rs.primary = i
		}
	}
	rs.ring = NewRing(names, c.VNodes)
	rs.legs = [4]dist.Dist{
		legDist(c.Legs.WriteRequest, c.Legs.WriteRequestDist), legDist(c.Legs.WriteAck, c.Legs.WriteAckDist),
		legDist(c.Legs.ReadRequest, c.Legs.ReadRequestDist), legDist(c.Legs.ReadResponse, c.Legs.ReadResponseDist),
	}
	rs.keys = newKeyChooser(c.Keys, c.KeyDist, c.ZipfExponent)
	rs.mixCum = [3]float64{c.Mix.Read, c.Mix.Read + c.Mix.Write, c.Mix.Read + c.Mix.Write + c.Mix.Increment}
	rs.hist = history.New(history.Config{Enabled: c.Check.History, MaxOps: c.Check.MaxOps})
	rs.stale = history.NewStaleness(c.TVisibility, 0)
	m := s.Engine.Metrics()
	rs.h = handles{
		readLat: m.Histogram(MetricReadLatency), writeLat: m.Histogram(MetricWriteLatency),
		incLat: m.Histogram(MetricIncrementLatency), staleness: m.Histogram(MetricReadStaleness),
		ok: m.Counter(MetricOpsOK), failed: m.Counter(MetricOpsFailed),
		casAttempts: m.Counter(MetricCASAttempts), casRejected: m.Counter(MetricCASRejected),
		retries: m.Counter(MetricRetries), timeouts: m.Counter(MetricTimeouts),
		readRepairs: m.Counter(MetricReadRepairs), hintsStored: m.Counter(MetricHintsStored),
		hintsDelivered: m.Counter(MetricHintsDelivered), siblingReads: m.Counter(MetricSiblingReads),
	}
	rs.writeVV = map[uint64]VClock{}
	clientIdx := map[string]int{}
	for i, n := range clients {
		clientIdx[n.Name] = i
	}
	for _, p := range s.Nodes {
		p := p
		si, isStore := storeOf[p.Name]
		if !isStore {
			si = -1
		}
		ci, isClient := clientIdx[p.Name]
		var loops []int
		if isClient && s.Workload.Kind == workload.Closed {
			loops = s.Workload.Loops(ci, len(clients))
		}
		share := 0.0
		if len(clients) > 0 {
			share = 1 / float64(len(clients))
		}
		id, err := s.AddNode(p.Name, func() sim.Node {
			return &node{rs: rs, name: p.Name, store: si, client: isClient, share: share, loops: loops}
		})
		if err != nil {
			return err
		}
		if isStore {
			rs.storeIdx[id] = si
		}
	}
	rs.storeIDs = make([]sim.NodeID, len(stores))
	for id, si := range rs.storeIdx {
		rs.storeIDs[si] = id
	}
	s.AtEnd(func() { rs.report(s) })
	s.Invariant("quorum_accounting", func() error {
		if rs.st.ok+rs.st.failed > rs.st.started {
			return fmt.Errorf("%d operations finished (%d ok, %d failed) but %d started", rs.st.ok+rs.st.failed, rs.st.ok, rs.st.failed, rs.st.started)
		}
		return nil
	})
	return nil
}

// finalVersions reads every store's durable copy and returns, per key,
// the newest version any replica holds: what full reconciliation yields.
func (rs *runState) finalVersions(e *sim.Engine) map[uint64]uint64 {
	out := map[uint64]uint64{}
	for _, id := range rs.storeIDs {
		st := e.Storage(id)
		for _, k := range st.Keys() {
			if !strings.HasPrefix(k, storePrefix) {
				continue
			}
			key, err := strconv.ParseUint(k[len(storePrefix):], 16, 64)
			b, _ := st.Get(k)
			e, ok := decodeStored(b)
			if err != nil || !ok {
				continue
			}
			if v := e.ver.Key(); v > out[key] {
				out[key] = v
			}
		}
	}
	return out
}

// report computes the run's scalars.
func (rs *runState) report(s *protocols.Setup) {
	ratio := func(a, b uint64) float64 {
		if b == 0 {
			return math.NaN()
		}
		return float64(a) / float64(b)
	}
	st := rs.st
	s.Report(MetricAvailability, ratio(st.inOK+st.outOK, st.inN+st.outN))
	s.Report(MetricAvailability, ratio(st.inOK, st.inN), sim.Label{Key: "window", Value: "partition"})
	s.Report(MetricAvailability, ratio(st.outOK, st.outN), sim.Label{Key: "window", Value: "none"})
	sl := rs.stale
	s.Report(MetricStaleReadRatio, sl.StaleRatio())
	reads := sl.Reads()
	mean := 0.0
	for k := 0; k <= history.DefaultStalenessDepth; k++ {
		mean += float64(k) * float64(sl.Behind(k))
	}
	for k := 0; k <= behindBuckets; k++ {
		n := sl.Behind(k)
		label := strconv.Itoa(k)
		if k == behindBuckets {
			n = 0
			for j := k; j <= history.DefaultStalenessDepth; j++ {
				n += sl.Behind(j)
			}
			label += "+"
		}
		s.Report(MetricVersionsBehind, ratio(uint64(n), uint64(reads)), sim.Label{Key: "k", Value: label})
	}
	s.Report(MetricVersionsBehind+"_mean", ratio(uint64(mean), uint64(reads)))
	for i, t := range rs.cfg.TVisibility {
		s.Report(MetricPConsistent, sl.PConsistent(i), sim.Label{Key: "t_ms", Value: msLabel(t)})
	}
	s.Report(MetricSiblingReadRatio, ratio(st.siblingReads, uint64(reads)))
	nan := math.NaN()
	lin, lost, conf, lostRatio := nan, nan, nan, nan
	if rs.hist.Full() && rs.cfg.Merge == Siblings {
		lin = rs.linearizable()
		lost, lostRatio, conf = rs.siblingLoss(s.Engine)
	} else if rs.hist.Full() {
		lr := history.CheckLinearizable(rs.hist, rs.cfg.Check.LinearizableBudget)
		switch lr.Verdict {
		case history.Pass:
			lin = 1
		case history.Fail:
			lin = 0
		}
		if r := history.CheckLostWrites(rs.hist, rs.finalVersions(s.Engine)); r.Verdict != history.Unknown {
			lost = float64(r.Count)
			acked := 0
			for _, op := range rs.hist.Ops() {
				if (op.Kind == history.Write || op.Kind == history.CAS) && op.Done() && op.Outcome == sim.OK {
					acked++
				}
			}
			lostRatio = ratio(uint64(r.Count), uint64(acked))
		}
		conf = float64(history.Conflicts(rs.hist))
	}
	s.Report(MetricLinearizable, lin)
	s.Report(MetricLostAckedWrites, lost)
	s.Report(MetricLostWriteRatio, lostRatio)
	s.Report(MetricConflicts, conf)
}

func (rs *runState) linearizable() float64 {
	switch history.CheckLinearizable(rs.hist, rs.cfg.Check.LinearizableBudget).Verdict {
	case history.Pass:
		return 1
	case history.Fail:
		return 0
	}
	return math.NaN()
}

// siblingSets merges every store's durable sibling set per key: what
// full reconciliation yields under merge siblings.
func (rs *runState) siblingSets(e *sim.Engine) map[uint64][]Sibling {
	out := map[uint64][]Sibling{}
	for _, id := range rs.storeIDs {
		st := e.Storage(id)
		for _, k := range st.Keys() {
			if !strings.HasPrefix(k, storePrefix) {
				continue
			}
			key, err := strconv.ParseUint(k[len(storePrefix):], 16, 64)
			b, _ := st.Get(k)
			en, ok := decodeStored(b)
			if err != nil || !ok {
				continue
			}
			out[key] = mergeSiblings(out[key], en.sibs)
		}
	}
	return out
}

// siblingLoss (merge siblings) counts acknowledged writes that no value
// of the reconciled state has seen (lost), their share, and the values
// beyond the first per key left for readers to resolve (conflicts).
func (rs *runState) siblingLoss(e *sim.Engine) (lost, ratio, conflicts float64) {
	final := rs.siblingSets(e)
	acked, nlost := 0, 0
	for _, op := range rs.hist.Ops() {
		if op.Kind != history.Write || !op.Done() || op.Outcome != sim.OK {
			continue
		}
		acked++
		vv := rs.writeVV[op.Version]
		seen := false
		for _, s := range final[op.Key] {
			seen = seen || s.VV.Descends(vv)
		}
		if !seen {
			nlost++
		}
	}
	keys := slices.Sorted(maps.Keys(final))
	c := 0
	for _, k := range keys {
		c += max(0, len(final[k])-1)
	}
	r := math.NaN()
	if acked > 0 {
		r = float64(nlost) / float64(acked)
	}
	return float64(nlost), r, float64(c)
}

// msLabel writes a lag in milliseconds without trailing zeros ("0",
// "2.5", "100").
func msLabel(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
}

func sortHints(k []hintKey) {
	sort.Slice(k, func(i, j int) bool {
		if k[i].target != k[j].target {
			return k[i].target < k[j].target
		}
		return k[i].key < k[j].key
	})
}
