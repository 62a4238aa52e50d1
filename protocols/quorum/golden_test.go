package quorum

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols/retry"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/simtest"
)

// The golden files in testdata/ hold the traces of scripted runs. After an
// intended change of behaviour, regenerate them (sim/simtest's -rewrite
// flag) and review the diff:
//
//	go test ./protocols/quorum -run Golden -rewrite

// TestGoldenSloppyQuorumHandoff scripts the ap strategy around a cut:
// key 0 has two replicas (N=2, R=W=2) among three stores. The second
// replica is cut off from 10 ms to 60 ms. A write at 0 reaches both; a
// write at 20 ms gets no answer from the cut replica, so after the 5 ms
// hint timeout the coordinator sends it to the third store with a hint,
// and commits; a read at 30 ms likewise falls back to the third store and
// sees the new value. After the heal the third store hands the hinted
// write off (every 40 ms) and drops the hint once acknowledged; a read at
// 100 ms finds both replicas up to date. The trace lists every message
// sent (one-way delay 1 ms) and the recorded operations.
func TestGoldenSloppyQuorumHandoff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Stores, cfg.Clients = []string{"s1", "s2", "s3"}, []string{"c"}
	cfg.N, cfg.R, cfg.W = 2, 2, 2
	cfg.Strategy = AP
	cfg.HintTimeout = 5 * ms
	cfg.HandoffInterval = 40 * ms
	cfg.Timeout = 100 * ms
	cfg.Retry = retry.NoRetry()
	cfg.Keys = 1
	cfg.Check.History = true
	for _, s := range []struct {
		at   time.Duration
		kind OpKind
	}{{0, OpWrite}, {20 * ms, OpWrite}, {30 * ms, OpRead}, {100 * ms, OpRead}} {
		cfg.Script = append(cfg.Script, ScriptOp{At: s.at, Client: "c", Kind: s.kind})
	}
	walk := NewRing(cfg.Stores, cfg.VNodes).Walk(0)
	cut := cfg.Stores[walk[1]]
	var lines []string
	lines = append(lines, fmt.Sprintf("# key 0: replicas %s %s, fallback %s; %s cut off [10ms, 60ms)", cfg.Stores[walk[0]], cut, cfg.Stores[walk[2]], cut))
	h := runQuorum(t, cfg, workload.DefaultConfig(), placements("s1", "s2", "s3", "c"), ms, 150*ms, 1, func(e *sim.Engine) {
		n := &cutNet{Direct: sim.Direct{Delay: ms}, e: e, side: map[string]int{cut: 1}, from: sim.Time(10 * ms), to: sim.Time(60 * ms)}
		e.SetNetwork(n)
		e.Observe(sim.ObserverFunc(func(ev *sim.Event) {
			if ev.Kind == sim.KindSend {
				lines = append(lines, fmt.Sprintf("%-9v %s -> %s: %v", ev.At, e.NodeName(ev.From), e.NodeName(ev.Node), ev.Msg))
			}
		}))
	})
	for _, op := range h.rs.hist.Ops() {
		lines = append(lines, fmt.Sprintf("op %v key %d value %d version %v [%v, %v] %v", op.Kind, op.Key, op.Value, op.Version, op.Invoke, op.Complete, op.Outcome))
	}
	simtest.Golden(t, filepath.Join("testdata", "sloppy_quorum_handoff.txt"), strings.Join(lines, "\n")+"\n")
	if h.rs.st.ok != 4 {
		t.Errorf("%d of 4 operations succeeded", h.rs.st.ok)
	}
}
