package experiments

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// millionNodes is the scale experiment: 1,000,000 nodes, 10 of them echo
// servers and the rest clients, with a light open workload (20,000 pings
// over 2 s spread over every client), so nearly every node is idle.
const millionNodes = `name: million
duration: 2s
seeds: 1
nodes: ["server-{1..10}", "client-{1..%d}"]
network:
  latency: {dist: constant, value: 1ms}
  zones: {servers: ["server-*"], clients: ["client-*"]}
protocol: {name: echo, clients: [clients], servers: [servers], timeout: 100ms}
workload: {rate: 10000/s}
limits: {max_nodes: 1000000}
`

// TestMillionNodeConfig checks the limits at their edge: one name range
// may expand to 1,000,000 names and limits.max_nodes may be 1,000,000;
// one more is a config error naming the field.
func TestMillionNodeConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("expands a million names")
	}
	x := mustParse(t, fmt.Sprintf(millionNodes, 999_990))
	if n := len(x.Config.placements()); n != 1_000_000 {
		t.Fatalf("%d nodes, want 1000000", n)
	}
	for _, tc := range []struct{ src, want string }{
		{strings.Replace(fmt.Sprintf(millionNodes, 999_990), "max_nodes: 1000000", "max_nodes: 1000001", 1), "limits.max_nodes"},
		{strings.Replace(fmt.Sprintf(millionNodes, 10), "max_nodes: 1000000", "max_nodes: 19", 1), "20 nodes exceed limits.max_nodes 19"},
		{strings.Replace(fmt.Sprintf(millionNodes, 10), "client-{1..10}", "client-{0..1000000}", 1), "at most 1000000 names"},
	} {
		_, err := Parse("test.yaml", []byte(tc.src), Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error containing %q, got %v", tc.want, err)
		}
	}
}

// BenchmarkMillionNodes runs the scale experiment end to end (set-up,
// 2 s of simulated time, results) and reports its wall time per run,
// the CPU time per run (all threads: a shared machine stretches wall
// time more), the process's peak resident memory and that memory per node:
//
//	go test -run '^$' -bench MillionNodes -benchtime 1x ./experiments
func BenchmarkMillionNodes(b *testing.B) {
	for _, nodes := range []int{100_000, 1_000_000} {
		b.Run(strconv.Itoa(nodes), func(b *testing.B) {
			x := mustParse(b, fmt.Sprintf(millionNodes, nodes-10))
			spec := x.Runs()[0]
			runtime.GC()
			debug.FreeOSMemory()
			rss := resetPeakRSS()
			b.ResetTimer()
			cpu0, cpuOK := processCPU()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				rr, err := RunOne(x, spec, nil)
				if err != nil {
					b.Fatal(err)
				}
				if rr.Events < uint64(nodes) {
					b.Fatalf("%d events for %d nodes", rr.Events, nodes)
				}
			}
			b.StopTimer()
			b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/run")
			if cpu1, _ := processCPU(); cpuOK {
				b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-s/run")
			}
			if rss {
				if peak := peakRSS(); peak > 0 {
					b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
					b.ReportMetric(float64(peak)/float64(nodes), "RSS-B/node")
				}
			}
		})
	}
}

// resetPeakRSS resets this process's peak-RSS mark (Linux).
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns VmHWM from /proc/self/status in bytes, or 0.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if f := strings.Fields(rest); len(f) == 2 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
