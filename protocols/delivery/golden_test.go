package delivery

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/protocols/history"
	"github.com/dsim-dev/dsim/protocols/workload"
	"github.com/dsim-dev/dsim/sim"
	"github.com/dsim-dev/dsim/sim/simtest"
)

// The golden files in testdata/ hold the traces of scripted runs. After an
// intended change of behaviour, regenerate them (sim/simtest's -rewrite
// flag) and review the diff:
//
//	go test ./protocols/delivery -run Golden -rewrite

// names records the metric names a run asks for.
type names map[string]string

func (n names) Counter(s string, _ ...sim.Label) sim.Counter {
	n[s] = "counter"
	return sim.NopMetrics{}.Counter(s)
}
func (n names) Gauge(s string, _ ...sim.Label) sim.Gauge {
	n[s] = "gauge"
	return sim.NopMetrics{}.Gauge(s)
}
func (n names) Histogram(s string, _ ...sim.Label) sim.Histogram {
	n[s] = "histogram"
	return sim.NopMetrics{}.Histogram(s)
}

// trace runs three messages (one every 100ms, fixed 1ms delay) under cfg
// and prints the history and the invariants' verdicts.
func trace(t *testing.T, cfg Config) string {
	t.Helper()
	e := sim.New(sim.Config{Seed: 1})
	e.SetNetwork(&sim.Direct{Delay: time.Millisecond})
	wl := workload.DefaultConfig()
	wl.Rate, wl.Arrival = 10, workload.Constant
	s := &protocols.Setup{Engine: e, Workload: wl, Duration: 1300 * time.Millisecond, Ops: protocols.NopOps{},
		Nodes: []protocols.Placement{{Name: "client"}, {Name: "server"}}}
	if err := cfg.Build(s); err != nil {
		t.Fatal(err)
	}
	r := e.Instance(0).(*node).r
	if err := e.Run(sim.Time(s.Duration)); err != nil {
		t.Fatal(err)
	}
	s.Finish()
	var b strings.Builder
	for _, op := range r.hist.Ops() {
		switch op.Kind {
		case history.Deliver, history.Apply:
			fmt.Fprintf(&b, "%-8v %-7s msg %d  at %s from %s", op.Invoke, op.Kind, op.ID, e.NodeName(op.Process), e.NodeName(op.Peer))
		case history.Ack:
			fmt.Fprintf(&b, "%-8v %-7s msg %d  at %s: %s, %v after submission", op.Complete, op.Kind, op.ID, e.NodeName(op.Process), op.Outcome, op.Complete.Sub(op.Invoke))
		default:
			fmt.Fprintf(&b, "%-8v %-7s msg %d  %s→%s", op.Invoke, op.Kind, op.ID, e.NodeName(op.Process), e.NodeName(op.Peer))
		}
		if op.Value != 0 {
			fmt.Fprintf(&b, "  seq %d", op.Value)
		}
		b.WriteString("\n")
	}
	b.WriteString("----\n")
	for _, inv := range s.Invariants() {
		fmt.Fprintf(&b, "%s: %v\n", inv.Name, inv.Check())
	}
	return b.String()
}

// TestGoldenCrashBetweenApplyAndAck: the server crashes after applying
// message 2 and before acking it; the client retransmits once the server
// is back. With a volatile dedupe store message 2 is applied twice; with a
// durable one the retransmission is recognised and only acked.
func TestGoldenCrashBetweenApplyAndAck(t *testing.T) {
	for _, store := range []Store{Volatile, Durable} {
		c := baseConfig(IdempotencyKeys)
		c.Liveness = 900 * time.Millisecond
		c.Dedupe.Store = store
		c.CrashPoints = []CrashPoint{{AtEvent: AfterApply, Node: "server", Nth: 2, DownFor: 30 * time.Millisecond}}
		simtest.Golden(t, filepath.Join("testdata", "crash_after_apply_"+store.String()+".txt"), trace(t, c))
	}
}

// TestGoldenSequenceSession: with sequence numbers, a sender crash after
// writing message 2 starts a new session at seq 1; message 2 is lost and
// the checker names it.
func TestGoldenSequenceSession(t *testing.T) {
	c := baseConfig(SequenceNumbers)
	c.Liveness = 900 * time.Millisecond
	c.CrashPoints = []CrashPoint{{AtEvent: AfterWrite, Node: "client", Nth: 2, DownFor: 30 * time.Millisecond}}
	simtest.Golden(t, filepath.Join("testdata", "sequence_sender_crash.txt"), trace(t, c))
}

// TestGoldenMetricNames keeps the metric names stable: dashboards, plots
// and checks refer to them.
func TestGoldenMetricNames(t *testing.T) {
	n := names{}
	e := sim.New(sim.Config{Seed: 1, Metrics: n})
	c := baseConfig(TransactionalOutbox)
	s := &protocols.Setup{Engine: e, Workload: workload.DefaultConfig(), Duration: 2 * time.Second, Ops: protocols.NopOps{},
		Nodes: []protocols.Placement{{Name: "client"}, {Name: "server"}}}
	if err := c.Build(s); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(sim.Time(s.Duration)); err != nil {
		t.Fatal(err)
	}
	s.Finish()
	var lines []string
	for name, kind := range n {
		lines = append(lines, kind+" "+name)
	}
	for _, sc := range s.Scalars() {
		lines = append(lines, "scalar "+sc.Name)
	}
	slices.Sort(lines)
	simtest.Golden(t, filepath.Join("testdata", "metric_names.txt"), strings.Join(lines, "\n")+"\n")
}
