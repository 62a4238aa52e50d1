package history

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// Staleness measures how far behind reads are, online and with bounded
// memory (a window of recent commits per key, nothing per operation), so
// that it works with history recording off. It follows the two measures
// of Probabilistically Bounded Staleness (P. Bailis et al., VLDB 2012):
//
//   - k-staleness: a read is k versions behind when k writes to its key
//     had committed before the read started and carry a newer version
//     than the one it returned;
//   - t-visibility: for a lag t, a read is consistent when it returned the
//     latest write that committed more than t before the read started, or
//     something newer. P(consistent at t) rises with t toward 1.
//
// Commits must be reported in time order (as a simulation does).
//
//	st := history.NewStaleness([]time.Duration{0, 10 * time.Millisecond}, 64)
//	st.Commit(key, version, env.Now())            // a write was acknowledged
//	k, lag := st.Read(key, invokedAt, returnedVersion) // a read returned
type Staleness struct {
	lags   []time.Duration
	depth  int
	keys   map[uint64]*commits
	behind []int64 // behind[k]: reads k versions behind; the last cell is ≥ depth
	seen   []int64 // per lag: reads that had a reference write
	fresh  []int64 // per lag: of those, reads that were consistent
	reads  int64
}

type commit struct {
	version uint64
	at      sim.Time
}

// commits is a ring of a key's most recent commits, oldest first.
type commits struct {
	buf  []commit
	head int
}

func (c *commits) add(x commit, depth int) {
	if len(c.buf) < depth {
		c.buf = append(c.buf, x)
		return
	}
	c.buf[c.head] = x
	c.head = (c.head + 1) % depth
}

func (c *commits) at(i int) commit { return c.buf[(c.head+i)%len(c.buf)] }

// DefaultStalenessDepth is the number of recent commits kept per key.
const DefaultStalenessDepth = 64

// NewStaleness returns a tracker for the given lags (each ≥ 0) that keeps
// the last depth commits of each key (0 means DefaultStalenessDepth);
// k-staleness saturates at depth.
func NewStaleness(lags []time.Duration, depth int) *Staleness {
	if depth <= 0 {
		depth = DefaultStalenessDepth
	}
	return &Staleness{
		lags: slices.Clone(lags), depth: depth, keys: map[uint64]*commits{},
		behind: make([]int64, depth+1), seen: make([]int64, len(lags)), fresh: make([]int64, len(lags)),
	}
}

// Commit records that a write of version to key was acknowledged at at.
// Writes that committed at the very instant a read started count as
// concurrent with it, not before it.
func (s *Staleness) Commit(key, version uint64, at sim.Time) {
	c := s.keys[key]
	if c == nil {
		c = &commits{}
		s.keys[key] = c
	}
	c.add(commit{version: version, at: at}, s.depth)
}

// Read records a read of key that started at invoke and returned version
// (0 for "no value"), and returns how many versions behind it was and its
// time staleness: how long before the read started the newest write it
// missed had committed (0 when it missed none). A read is consistent at
// lag t exactly when its time staleness is below t (while versions grow
// with commit time), so the distribution of time staleness is the
// t-visibility curve.
func (s *Staleness) Read(key uint64, invoke sim.Time, version uint64) (int, time.Duration) {
	s.reads++
	c := s.keys[key]
	k := 0
	var lag time.Duration
	if c != nil {
		for i := range len(c.buf) {
			x := c.at(i)
			if x.at >= invoke {
				break
			}
			if x.version > version {
				k++
				lag = invoke.Sub(x.at)
			}
		}
	}
	s.behind[min(k, s.depth)]++
	for li, lag := range s.lags {
		horizon := invoke.Add(-lag)
		idx := -1
		if c != nil {
			for i := range len(c.buf) {
				if c.at(i).at >= horizon {
					break
				}
				idx = i
			}
		}
		if idx < 0 {
			continue
		}
		s.seen[li]++
		if version >= c.at(idx).version {
			s.fresh[li]++
		}
	}
	return k, lag
}

// Reads returns the number of reads recorded.
func (s *Staleness) Reads() int64 { return s.reads }

// Behind returns the number of reads k versions behind; Behind(depth)
// counts reads at least depth behind.
func (s *Staleness) Behind(k int) int64 {
	if k < 0 || k >= len(s.behind) {
		return 0
	}
	return s.behind[k]
}

// StaleRatio returns the fraction of reads at least one version behind
// (NaN without reads).
func (s *Staleness) StaleRatio() float64 {
	if s.reads == 0 {
		return nan()
	}
	return float64(s.reads-s.behind[0]) / float64(s.reads)
}

// PConsistent returns, for lag i of the list given to NewStaleness, the
// fraction of reads that returned the latest write committed more than
// that lag before they started, or something newer; reads with no such
// write are left out (NaN when none is left).
func (s *Staleness) PConsistent(i int) float64 {
	if s.seen[i] == 0 {
		return nan()
	}
	return float64(s.fresh[i]) / float64(s.seen[i])
}

// Samples returns how many reads back PConsistent(i).
func (s *Staleness) Samples(i int) int64 { return s.seen[i] }

// CheckerStaleness names the bounded-staleness checker in reports.
const CheckerStaleness = "bounded_staleness"

// CheckStaleness checks the recorded history offline: every successful
// read is at most maxBehind versions behind (k-staleness as in
// Staleness, over the whole history rather than a window). With
// maxBehind 0 it demands that reads see every write acknowledged before
// they started (what strict quorums without failures promise).
func CheckStaleness(h *History, maxBehind int) Report {
	r := Report{Checker: CheckerStaleness}
	if !h.Full() {
		r.Verdict, r.Reason = Unknown, incompleteReason(h)
		return r
	}
	type w struct {
		id      uint64
		version uint64
		at      sim.Time
	}
	writes := map[uint64][]w{}
	for _, op := range h.ops {
		if (op.Kind == Write || op.Kind == CAS) && op.Done() && op.Outcome == sim.OK {
			writes[op.Key] = append(writes[op.Key], w{op.ID, op.Version, op.Complete})
		}
	}
	for _, op := range h.ops {
		if op.Kind != Read || !op.Done() || op.Outcome != sim.OK {
			continue
		}
		var missed []uint64
		for _, x := range writes[op.Key] {
			if x.at < op.Invoke && x.version > op.Version {
				missed = append(missed, x.id)
			}
		}
		if len(missed) > maxBehind {
			slices.Sort(missed)
			ids := append([]uint64{op.ID}, missed[:min(len(missed), 7)]...)
			r.Add(Violation{IDs: ids, At: op.Invoke, What: fmt.Sprintf("read %d of key %d returned version %d, %d versions behind (max %d)", op.ID, op.Key, op.Version, len(missed), maxBehind)})
		}
	}
	return r
}

func nan() float64 { return math.NaN() }
