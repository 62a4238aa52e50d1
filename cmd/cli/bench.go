package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dsim-dev/dsim/sim/phold"
)

func init() {
	register(&command{name: "bench", summary: "run a benchmark workload (phold)", run: runBench})
}

func runBench(c *cli, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) == 0 {
			return usagef("missing workload name (known: phold)\nRun 'dsim bench --help' for the workloads.")
		}
		fmt.Fprintf(c.stdout, "Usage: dsim bench <workload> [flags]\n\nWorkloads:\n  phold   the PHOLD discrete-event benchmark\n\nRun 'dsim bench phold --help' for its flags.\n")
		return nil
	}
	switch args[0] {
	case "phold":
		return runBenchPHOLD(c, args[1:])
	}
	return usagef("unknown benchmark workload %q (known: phold)", args[0])
}

// pholdSample is one measured run of one implementation.
type pholdSample struct {
	EventsPerSec float64 `json:"events_per_sec"`
	NsPerEvent   float64 `json:"ns_per_event"`
	// CPUEventsPerSec and CPUNsPerEvent use the CPU time of the thread
	// that ran the events instead of the wall clock (0 where the
	// platform cannot tell): on a shared machine they leave out the time
	// the run waited for a core.
	CPUEventsPerSec float64 `json:"cpu_events_per_sec"`
	CPUNsPerEvent   float64 `json:"cpu_ns_per_event"`
	AllocsPerEvent  float64 `json:"allocs_per_event"`
	PeakHeapBytes   uint64  `json:"peak_heap_bytes"`
	// PeakRSSBytes is the process's peak resident set during the run,
	// set-up included (0 where the platform cannot tell).
	PeakRSSBytes uint64 `json:"peak_rss_bytes"`
	Hash         string `json:"hash"`
}

// pholdFigures are the medians of one implementation's samples.
type pholdFigures struct {
	pholdSample
	// HeapBytesPerPending and RSSBytesPerPending divide the peaks by
	// the number of pending events.
	HeapBytesPerPending float64       `json:"heap_bytes_per_pending"`
	RSSBytesPerPending  float64       `json:"rss_bytes_per_pending"`
	Samples             []pholdSample `json:"samples"`
}

// pholdReport is the machine-readable result of dsim bench phold --json.
// The top-level figures are the engine's medians (kept flat for scripts);
// Heap holds the bare-heap reference's and Ratio compares the two.
type pholdReport struct {
	LPs     int    `json:"lps"`
	PerLP   int    `json:"per_lp"`
	Pending int    `json:"pending"`
	Events  uint64 `json:"events"`
	Seed    uint64 `json:"seed"`
	Repeat  int    `json:"repeat"`
	pholdFigures
	Heap *pholdFigures `json:"heap,omitempty"`
	// Ratio is the engine's median events/s over the heap's, by wall
	// clock; CPURatio is the same by CPU time.
	Ratio    float64 `json:"ratio,omitempty"`
	CPURatio float64 `json:"cpu_ratio,omitempty"`
	// PairRatio and CPUPairRatio are the medians of the ratios of each
	// engine run to the heap run next to it. On a machine whose load
	// drifts they are steadier than the ratio of medians, since the two
	// runs of a pair share the load of their moment.
	PairRatio    float64 `json:"pair_ratio,omitempty"`
	CPUPairRatio float64 `json:"cpu_pair_ratio,omitempty"`
}

func runBenchPHOLD(c *cli, args []string) error {
	def := phold.DefaultConfig()
	fs := c.newFlags("bench phold", "[flags]",
		"Run PHOLD: N logical processes each start with M events; handling an event\n"+
			"schedules one new event at a uniformly random process after\n"+
			"lookahead + Exp(mean), so N×M events are pending throughout.\n\n"+
			"With --reference (the default) the same workload also runs on a bare\n"+
			"4-ary heap with no engine around it, alternating with the engine run\n"+
			"by run (--repeat times each), and the report gives medians, the ratio of\n"+
			"engine to heap throughput, and peak heap and resident memory per pending\n"+
			"event. Timing is on one core; set-up is excluded from the timing but\n"+
			"not from the memory peaks.")
	lps := fs.Int("lps", def.LPs, "number of logical processes `N`")
	perLP := fs.Int("per-lp", def.PerLP, "initial events per process `M` (N×M stay pending)")
	events := fs.Uint64("events", def.Events, "number of events to dispatch per run")
	lookahead := fs.Duration("lookahead", def.Lookahead, "minimum delay of each new event")
	mean := fs.Duration("mean", def.Mean, "mean of the exponential delay added to the lookahead")
	seed := fs.Uint64("seed", def.Seed, "run seed")
	repeat := fs.Int("repeat", 1, "runs of each implementation, interleaved; medians are reported")
	reference := fs.Bool("reference", true, "also run the bare 4-ary heap reference and report the ratio")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *repeat < 1 || *repeat > 1000 {
		return usagef("--repeat must be in [1, 1000], got %d", *repeat)
	}
	cfg := phold.Config{LPs: *lps, PerLP: *perLP, Events: *events, Lookahead: *lookahead, Mean: *mean, Seed: *seed}
	if err := cfg.Validate(); err != nil {
		return usagef("%w", err)
	}
	if *lps > 1<<30 || *perLP > 1<<30 || int64(*lps)*int64(*perLP) > 1<<31 {
		return usagef("lps × per-lp must be at most %d", 1<<31)
	}
	pending := cfg.LPs * cfg.PerLP
	var eng, ref []pholdSample
	for r := 0; r < *repeat; r++ {
		// Alternate which goes first, so neither always runs on a
		// machine the other has just warmed or heated.
		order := []bool{true, false}
		if r%2 == 1 {
			order = []bool{false, true}
		}
		for _, engine := range order {
			if !engine && !*reference {
				continue
			}
			s, err := measurePHOLD(cfg, engine)
			if err != nil {
				return err
			}
			if engine {
				eng = append(eng, s)
			} else {
				ref = append(ref, s)
			}
		}
	}
	rep := pholdReport{LPs: cfg.LPs, PerLP: cfg.PerLP, Pending: pending, Events: cfg.Events, Seed: cfg.Seed, Repeat: *repeat,
		pholdFigures: medians(eng, pending)}
	if *reference {
		h := medians(ref, pending)
		rep.Heap = &h
		rep.Ratio = rep.EventsPerSec / h.EventsPerSec
		if h.CPUEventsPerSec > 0 {
			rep.CPURatio = rep.CPUEventsPerSec / h.CPUEventsPerSec
		}
		rep.PairRatio = pairRatio(eng, ref, func(p pholdSample) float64 { return p.EventsPerSec })
		rep.CPUPairRatio = pairRatio(eng, ref, func(p pholdSample) float64 { return p.CPUEventsPerSec })
	}
	if *asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "%s\n", b)
		return err
	}
	printPHOLD(c, &rep)
	return nil
}

func printPHOLD(c *cli, rep *pholdReport) {
	w := c.stdout
	fmt.Fprintf(w, "PHOLD  lps=%d per_lp=%d pending=%d events=%d seed=%d", rep.LPs, rep.PerLP, rep.Pending, rep.Events, rep.Seed)
	if rep.Repeat > 1 {
		fmt.Fprintf(w, "  (medians of %d interleaved runs)", rep.Repeat)
	}
	fmt.Fprintln(w)
	cols := []*pholdFigures{&rep.pholdFigures}
	fmt.Fprintf(w, "  %-18s %14s", "", "dsim")
	if rep.Heap != nil {
		cols = append(cols, rep.Heap)
		fmt.Fprintf(w, " %14s", "bare heap")
	}
	fmt.Fprintln(w)
	row := func(name string, f func(p *pholdFigures) string) {
		fmt.Fprintf(w, "  %-18s", name)
		for _, p := range cols {
			fmt.Fprintf(w, " %14s", f(p))
		}
		fmt.Fprintln(w)
	}
	row("events/s", func(p *pholdFigures) string { return strconv.FormatFloat(p.EventsPerSec, 'f', 0, 64) })
	row("ns/event", func(p *pholdFigures) string { return strconv.FormatFloat(p.NsPerEvent, 'f', 1, 64) })
	row("events/s (CPU)", func(p *pholdFigures) string { return orNA(p.CPUEventsPerSec, 0) })
	row("CPU ns/event", func(p *pholdFigures) string { return orNA(p.CPUNsPerEvent, 1) })
	row("allocs/event", func(p *pholdFigures) string { return strconv.FormatFloat(p.AllocsPerEvent, 'f', 4, 64) })
	row("peak heap", func(p *pholdFigures) string { return mib(p.PeakHeapBytes) })
	row("peak RSS", func(p *pholdFigures) string {
		if p.PeakRSSBytes == 0 {
			return "n/a"
		}
		return mib(p.PeakRSSBytes)
	})
	row("heap B/pending", func(p *pholdFigures) string { return strconv.FormatFloat(p.HeapBytesPerPending, 'f', 1, 64) })
	row("RSS B/pending", func(p *pholdFigures) string {
		if p.PeakRSSBytes == 0 {
			return "n/a"
		}
		return strconv.FormatFloat(p.RSSBytesPerPending, 'f', 1, 64)
	})
	row("hash", func(p *pholdFigures) string { return p.Hash })
	if rep.Heap != nil {
		fmt.Fprintf(w, "  dsim / bare heap   %13.2fx (wall clock)\n", rep.Ratio)
		if rep.CPURatio > 0 {
			fmt.Fprintf(w, "  dsim / bare heap   %13.2fx (CPU time)\n", rep.CPURatio)
		}
		if rep.Repeat > 1 {
			fmt.Fprintf(w, "  paired runs        %13.2fx (wall clock)", rep.PairRatio)
			if rep.CPUPairRatio > 0 {
				fmt.Fprintf(w, " %.2fx (CPU time)", rep.CPUPairRatio)
			}
			fmt.Fprintln(w, "  median of each run / the heap run next to it")
		}
	}
}

func orNA(x float64, prec int) string {
	if x == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

func mib(b uint64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

// medians summarises samples by the median of each figure.
func medians(s []pholdSample, pending int) pholdFigures {
	med := func(f func(p pholdSample) float64) float64 {
		xs := make([]float64, len(s))
		for i, p := range s {
			xs[i] = f(p)
		}
		slices.Sort(xs)
		n := len(xs)
		if n%2 == 1 {
			return xs[n/2]
		}
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	out := pholdFigures{Samples: s}
	out.EventsPerSec = med(func(p pholdSample) float64 { return p.EventsPerSec })
	out.NsPerEvent = med(func(p pholdSample) float64 { return p.NsPerEvent })
	out.CPUEventsPerSec = med(func(p pholdSample) float64 { return p.CPUEventsPerSec })
	out.CPUNsPerEvent = med(func(p pholdSample) float64 { return p.CPUNsPerEvent })
	out.AllocsPerEvent = med(func(p pholdSample) float64 { return p.AllocsPerEvent })
	out.PeakHeapBytes = uint64(med(func(p pholdSample) float64 { return float64(p.PeakHeapBytes) }))
	out.PeakRSSBytes = uint64(med(func(p pholdSample) float64 { return float64(p.PeakRSSBytes) }))
	out.Hash = s[0].Hash
	out.HeapBytesPerPending = float64(out.PeakHeapBytes) / float64(pending)
	out.RSSBytesPerPending = float64(out.PeakRSSBytes) / float64(pending)
	return out
}

// pairRatio returns the median over runs i of f(eng[i]) / f(ref[i]), or
// 0 if some figure is 0 (not measured).
func pairRatio(eng, ref []pholdSample, f func(p pholdSample) float64) float64 {
	var rs []float64
	for i := range eng {
		if i >= len(ref) || f(eng[i]) == 0 || f(ref[i]) == 0 {
			return 0
		}
		rs = append(rs, f(eng[i])/f(ref[i]))
	}
	if len(rs) == 0 {
		return 0
	}
	slices.Sort(rs)
	n := len(rs)
	if n%2 == 1 {
		return rs[n/2]
	}
	return (rs[n/2-1] + rs[n/2]) / 2
}

// measurePHOLD runs the workload once on the engine (or, with engine
// false, on the bare heap) and measures it. Memory left by earlier runs
// is returned to the operating system and the peak-RSS mark is reset
// first, so each run's memory peak is its own.
func measurePHOLD(cfg phold.Config, engine bool) (pholdSample, error) {
	runtime.GC()
	debug.FreeOSMemory()
	rssOK := resetPeakRSS()
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go sampleHeap(&peak, done, sampled)
	stopSampler := func() {
		close(done)
		<-sampled
	}

	var run func() (phold.Result, error)
	var startEvents uint64
	if engine {
		e, err := phold.Build(cfg)
		if err != nil {
			stopSampler()
			return pholdSample{}, usagef("%w", err)
		}
		// Dispatch the start-up events (each process schedules its
		// first events) before timing, so the figures are steady-state.
		if err := e.Run(0); err != nil {
			stopSampler()
			return pholdSample{}, err
		}
		startEvents = e.Events()
		run = func() (phold.Result, error) { return phold.Drive(e) }
	} else {
		h, err := phold.NewHeap(cfg)
		if err != nil {
			stopSampler()
			return pholdSample{}, usagef("%w", err)
		}
		run = func() (phold.Result, error) { return h.Run(cfg.Events), nil }
	}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	runtime.LockOSThread()
	cpu0, cpuOK := threadCPU()
	start := time.Now()
	res, err := run()
	wall := time.Since(start)
	cpu1, cpuOK1 := threadCPU()
	cpuOK = cpuOK && cpuOK1
	runtime.UnlockOSThread()
	runtime.ReadMemStats(&after)
	stopSampler()
	if err != nil {
		return pholdSample{}, err
	}
	if after.HeapInuse > peak.Load() {
		peak.Store(after.HeapInuse)
	}
	var rss uint64
	if rssOK {
		rss = peakRSS()
	}
	n := float64(res.Events - startEvents)
	var cpuRate, cpuNs float64
	if cpu := cpu1 - cpu0; cpuOK && cpu > 0 {
		cpuRate, cpuNs = n/cpu.Seconds(), float64(cpu.Nanoseconds())/n
	}
	return pholdSample{
		EventsPerSec:    n / wall.Seconds(),
		NsPerEvent:      float64(wall.Nanoseconds()) / n,
		CPUEventsPerSec: cpuRate,
		CPUNsPerEvent:   cpuNs,
		AllocsPerEvent:  float64(after.Mallocs-before.Mallocs) / n,
		PeakHeapBytes:   peak.Load(),
		PeakRSSBytes:    rss,
		Hash:            fmt.Sprintf("%016x", res.Hash),
	}, nil
}

// resetPeakRSS resets the kernel's peak-RSS mark of this process (Linux:
// writing 5 to /proc/self/clear_refs) and reports whether it could.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns the process's peak resident set size since the last
// reset (VmHWM in /proc/self/status), or 0 where it is not available.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseUint(f[0], 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}

// sampleHeap records the largest HeapInuse seen until done is closed.
func sampleHeap(peak *atomic.Uint64, done <-chan struct{}, finished chan<- struct{}) {
	defer close(finished)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var ms runtime.MemStats
	for {
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}
