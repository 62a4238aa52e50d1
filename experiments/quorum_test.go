package experiments

import (
	"testing"

	"github.com/dsim-dev/dsim/results"
)

// runExample runs a bundled example in memory with one seed and returns
// its runs by sweep point label.
func runExample(t *testing.T, name string) map[string]results.Run {
	t.Helper()
	x, err := Load(name, Options{Sets: []string{"seeds=1"}})
	if err != nil {
		t.Fatal(err)
	}
	res := mustRun(t, x, RunOptions{})
	out := map[string]results.Run{}
	for _, r := range res.Runs {
		label := ""
		for _, p := range r.Run.Params {
			label += p.Name + "=" + p.Value + " "
		}
		out[label] = r.Run
	}
	return out
}

func metric(t *testing.T, r results.Run, name string) float64 {
	t.Helper()
	v, ok := r.Metric(name)
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	return v
}

// TestQuorumExamplesShowTheirEffects runs the quorum family's bundled
// experiments and checks that each shows what its description claims.
func TestQuorumExamplesShowTheirEffects(t *testing.T) {
	capx := runExample(t, "cap-partition")
	cp := capx["protocol.strategy=cp protocol.r=2 "]
	ap := capx["protocol.strategy=ap protocol.r=2 "]
	pr := capx["protocol.strategy=primary protocol.r=1 "]
	if metric(t, cp, "linearizable") != 1 || metric(t, ap, "linearizable") != 0 {
		t.Errorf("cap-partition: linearizable cp %v ap %v", metric(t, cp, "linearizable"), metric(t, ap, "linearizable"))
	}
	if a := metric(t, cp, "availability{window=partition}"); !(a < 0.8) || metric(t, cp, "availability{window=none}") != 1 {
		t.Errorf("cap-partition: cp availability in the partition %v", a)
	}
	if a := metric(t, ap, "availability{window=partition}"); a != 1 {
		t.Errorf("cap-partition: ap availability in the partition %v", a)
	}
	if metric(t, ap, "lost_acked_writes") == 0 || metric(t, cp, "lost_acked_writes") != 0 {
		t.Errorf("cap-partition: lost acked writes cp %v ap %v", metric(t, cp, "lost_acked_writes"), metric(t, ap, "lost_acked_writes"))
	}
	if s := metric(t, pr, "stale_read_ratio"); !(s > 0.01) || !(metric(t, pr, "availability{window=partition}") < 1) {
		t.Errorf("cap-partition: primary stale reads %v", s)
	}

	qs := runExample(t, "quorum-staleness")
	p11 := qs["protocol.r=1 protocol.w=1 "]
	p0, p10 := metric(t, p11, "p_consistent{t_ms=0}"), metric(t, p11, "p_consistent{t_ms=10}")
	if !(p0 < 0.95 && p10 > p0) {
		t.Errorf("quorum-staleness: R=W=1 p_consistent t=0 %v t=10ms %v: want stale at first, fresher later", p0, p10)
	}
	if v := metric(t, qs["protocol.r=2 protocol.w=2 "], "stale_read_ratio"); v != 0 {
		t.Errorf("quorum-staleness: R=W=2 stale reads %v", v)
	}

	lww := runExample(t, "lww-skew")
	var prev float64 = -1
	for _, off := range []string{"0ms", "-2ms", "-20ms", "-200ms"} {
		v := metric(t, lww["protocol.merge=lww network.clocks[0].offset="+off+" network.clocks[0].drift_ppm=0 "], "lost_write_ratio")
		if v <= prev && !(prev == 0 && v == 0 && off == "0ms") {
			t.Errorf("lww-skew: lost_write_ratio %v at offset %s, not above %v", v, off, prev)
		}
		prev = v
		sib := lww["protocol.merge=siblings network.clocks[0].offset="+off+" network.clocks[0].drift_ppm=0 "]
		if l, r := metric(t, sib, "lost_acked_writes"), metric(t, sib, "sibling_read_ratio"); l != 0 || !(r > 0) {
			t.Errorf("lww-skew: siblings at offset %s lost %v writes, sibling reads %v", off, l, r)
		}
	}

	occ := runExample(t, "occ-contention")
	none := occ["protocol.retry.policy=exponential protocol.retry.jitter=none "]
	full := occ["protocol.retry.policy=exponential protocol.retry.jitter=full "]
	imm := occ["protocol.retry.policy=immediate protocol.retry.jitter=none "]
	if metric(t, imm, "cas_attempts") < 2*metric(t, none, "cas_attempts") {
		t.Errorf("occ-contention: immediate retries sent %v conditional writes, backoff %v", metric(t, imm, "cas_attempts"), metric(t, none, "cas_attempts"))
	}
	if metric(t, full, "increment_latency_max_ms") >= metric(t, none, "increment_latency_max_ms") {
		t.Errorf("occ-contention: full jitter finished at %v ms, no jitter at %v ms", metric(t, full, "increment_latency_max_ms"), metric(t, none, "increment_latency_max_ms"))
	}
}
