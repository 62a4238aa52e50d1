package experiments

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/results"
)

// BenchmarkResultsAtScale measures what the results path costs at the
// scale of many seeds without simulating them all: one real run of the
// bundled retry-storm (60 s, 2000 requests/s, about 400 metrics and 145
// series) is stored DSIM_BENCH_SEEDS times per variant (default 100) under
// new indexes and seeds, with its values perturbed, exactly as finished
// runs are stored, and then the results folder is written. It reports
// the peak Go heap, the bytes on disk and the write phase's time per run.
//
//	DSIM_BENCH_SEEDS=1000 go test -run '^$' -bench ResultsAtScale -benchtime 1x ./experiments
func BenchmarkResultsAtScale(b *testing.B) {
	seeds := 100
	if s, err := strconv.Atoi(os.Getenv("DSIM_BENCH_SEEDS")); err == nil && s > 0 {
		seeds = s
	}
	x, err := Load("retry-storm", Options{Sets: []string{"seeds=" + strconv.Itoa(seeds)}})
	if err != nil {
		b.Fatal(err)
	}
	specs := x.Runs()
	proto, err := RunOne(x, specs[0], nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		dir := filepath.Join(b.TempDir(), "out")
		p := x.plan("bench")
		od, _, err := openOut(dir, p, RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer od.release()
		st, err := openStore(dir, p)
		if err != nil {
			b.Fatal(err)
		}
		var peak uint64
		sample := func() {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		start := time.Now()
		var encode, serial time.Duration
		var idx []int
		for k, s := range specs {
			rr := proto
			rr.Run.Index, rr.Run.Seed, rr.Run.Params = s.Index, s.Seed, s.Point.Params
			rr.TimelineSVG, rr.TimelineTrace = nil, nil
			scale := 1 + float64(k%97)/1000
			rr.Run.Metrics = append([]results.Metric(nil), proto.Run.Metrics...)
			for j := range rr.Run.Metrics {
				rr.Run.Metrics[j].Value *= scale
			}
			rr.Run.Series = append([]results.Series(nil), proto.Run.Series...)
			for j := range rr.Run.Series {
				vals := append([]float64(nil), proto.Run.Series[j].Values...)
				for v := range vals {
					vals[v] *= scale
				}
				rr.Run.Series[j].Values = vals
			}
			t0 := time.Now()
			enc, err := encodeForStore(rr) // in a worker, in parallel
			if err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := st.add(rr, enc); err != nil { // serial
				b.Fatal(err)
			}
			encode += t1.Sub(t0)
			serial += time.Since(t1)
			idx = append(idx, s.Index)
			if k%200 == 0 {
				sample()
			}
		}
		if err := st.checkpoint(); err != nil {
			b.Fatal(err)
		}
		store := time.Since(start)
		start = time.Now()
		if err := writeResults(dir, p, st, idx, p.checkExperiment(), func(int, int) { sample() }); err != nil && !results.IsPlotError(err) {
			b.Fatal(err)
		}
		write := time.Since(start)
		sample()
		var total, runsDirBytes int64
		filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				total += info.Size()
				if filepath.Base(filepath.Dir(path)) == runsDir {
					runsDirBytes += info.Size()
				}
			}
			return nil
		})
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(total)/(1<<20), "folder-MB")
		b.ReportMetric(float64(runsDirBytes)/(1<<20), "runs-dir-MB")
		b.ReportMetric(write.Seconds(), "write-s")
		b.ReportMetric(store.Seconds()/float64(len(specs))*1e3, "store-ms/run")
		b.ReportMetric(serial.Seconds()/float64(len(specs))*1e3, "serial-ms/run")
		b.ReportMetric(encode.Seconds()/float64(len(specs))*1e3, "encode-ms/run")
		fmt.Fprintf(os.Stderr, "%d runs: peak heap %.0f MB, folder %.1f MB (runs/ %.1f MB), store %v, write phase %v\n",
			len(specs), float64(peak)/(1<<20), float64(total)/(1<<20), float64(runsDirBytes)/(1<<20), store.Round(time.Millisecond), write.Round(time.Millisecond))
	}
}

// BenchmarkRetryStormWorkers measures how the run phase scales with
// workers on the bundled retry-storm (16 runs of 60 s: 4 variants × 4
// seeds, in memory, no output folder). Two workers on two free cores
// should give at least 1.8× the runs/s of one (1.94× measured, see
// docs/results.md "Workers"); compare the two sub-benchmarks on an
// otherwise idle machine:
//
//	go test -run '^$' -bench RetryStormWorkers -benchtime 1x -count 5 ./experiments
func BenchmarkRetryStormWorkers(b *testing.B) {
	x, err := Load("retry-storm", Options{Sets: []string{"seeds=4"}})
	if err != nil {
		b.Fatal(err)
	}
	n := len(x.Runs())
	for _, par := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", par), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				res := mustRun(b, x, RunOptions{Parallel: par, Slim: true})
				if len(res.Runs) != n {
					b.Fatalf("%d runs, want %d", len(res.Runs), n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "runs/s")
		})
	}
}
