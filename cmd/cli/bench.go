package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
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

// pholdReport is the machine-readable result of dsim bench phold --json.
type pholdReport struct {
	LPs            int     `json:"lps"`
	PerLP          int     `json:"per_lp"`
	Events         uint64  `json:"events"`
	Seed           uint64  `json:"seed"`
	WallSeconds    float64 `json:"wall_seconds"`
	EventsPerSec   float64 `json:"events_per_sec"`
	NsPerEvent     float64 `json:"ns_per_event"`
	AllocsPerEvent float64 `json:"allocs_per_event"`
	PeakHeapBytes  uint64  `json:"peak_heap_bytes"`
	Hash           string  `json:"hash"`
}

func runBenchPHOLD(c *cli, args []string) error {
	def := phold.DefaultConfig()
	fs := c.newFlags("bench phold", "[flags]",
		"Run PHOLD: N logical processes each start with M events; handling an event\n"+
			"schedules one new event at a uniformly random process after\n"+
			"lookahead + Exp(mean). Reports engine throughput measured on one core.")
	lps := fs.Int("lps", def.LPs, "number of logical processes `N`")
	perLP := fs.Int("per-lp", def.PerLP, "initial events per process `M` (N×M stay pending)")
	events := fs.Uint64("events", def.Events, "number of events to dispatch")
	lookahead := fs.Duration("lookahead", def.Lookahead, "minimum delay of each new event")
	mean := fs.Duration("mean", def.Mean, "mean of the exponential delay added to the lookahead")
	seed := fs.Uint64("seed", def.Seed, "run seed")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg := phold.Config{LPs: *lps, PerLP: *perLP, Events: *events, Lookahead: *lookahead, Mean: *mean, Seed: *seed}
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err)
	}
	e, err := phold.Build(cfg)
	if err != nil {
		return usagef("%v", err)
	}
	// Dispatch the start-up events (each process schedules its first
	// events) before measuring, so the figures are steady-state.
	if err := e.Run(0); err != nil {
		return err
	}
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go sampleHeap(&peak, done, sampled)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	startEvents := e.Events()
	start := time.Now()
	res, err := phold.Drive(e)
	wall := time.Since(start)
	runtime.ReadMemStats(&after)
	close(done)
	<-sampled
	if err != nil {
		return err
	}
	if after.HeapInuse > peak.Load() {
		peak.Store(after.HeapInuse)
	}
	n := float64(res.Events - startEvents)
	rep := pholdReport{
		LPs: cfg.LPs, PerLP: cfg.PerLP, Events: res.Events - startEvents, Seed: cfg.Seed,
		WallSeconds:    wall.Seconds(),
		EventsPerSec:   n / wall.Seconds(),
		NsPerEvent:     float64(wall.Nanoseconds()) / n,
		AllocsPerEvent: float64(after.Mallocs-before.Mallocs) / n,
		PeakHeapBytes:  peak.Load(),
		Hash:           fmt.Sprintf("%016x", res.Hash),
	}
	if *asJSON {
		b, _ := json.Marshal(rep)
		fmt.Fprintf(c.stdout, "%s\n", b)
		return nil
	}
	fmt.Fprintf(c.stdout, "PHOLD  lps=%d per_lp=%d (pending=%d) events=%d seed=%d\n",
		rep.LPs, rep.PerLP, cfg.LPs*cfg.PerLP, rep.Events, rep.Seed)
	fmt.Fprintf(c.stdout, "  events/s      %12.0f\n  ns/event      %12.1f\n  allocs/event  %12.4f\n  peak heap     %12d bytes\n  hash          %12s\n",
		rep.EventsPerSec, rep.NsPerEvent, rep.AllocsPerEvent, rep.PeakHeapBytes, rep.Hash)
	return nil
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
