package results

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// The golden files under testdata/golden/ hold what the fixture below
// writes. After an intended change of a format, regenerate them
// (sim/simtest's -rewrite flag) and review the diff:
//
//	go test ./results -run Golden -rewrite

// fixtureSet builds a small experiment through the real Recorder: two
// swept parameters (3 loss rates × 2 retry policies), two seeds each,
// 2 s of traffic per run with a partition and a crash.
func fixtureSet() *Set {
	losses := []string{"0", "0.01", "0.05"}
	policies := []string{"naive", "budget"}
	seeds := []uint64{1, 2}
	part := sim.Window{Kind: "partition", Label: "{api}|{db}", Start: sim.Time(500 * time.Millisecond), End: sim.Time(time.Second)}
	crash := sim.Window{Kind: "crash", Label: "db-0", Start: sim.Time(1500 * time.Millisecond), End: sim.Never}
	set := &Set{
		Manifest: Manifest{
			Name:        "retry-storm",
			Description: "naive retries amplify a failure at the bottom of a chain",
			Version:     "0.1.0-test",
			Params:      []string{"network.loss", "client.retry.policy"},
		},
		Config: []byte("name: retry-storm\nduration: 2s\nseeds: 2\nsweep:\n  network.loss: [0, 0.01, 0.05]\n  client.retry.policy: [naive, budget]\n"),
	}
	idx := 0
	for _, loss := range losses {
		for _, pol := range policies {
			for _, seed := range seeds {
				set.Runs = append(set.Runs, fixtureRun(idx, seed, loss, pol, []sim.Window{part, crash}))
				idx++
			}
		}
	}
	return set
}

func fixtureRun(idx int, seed uint64, loss, policy string, faults []sim.Window) Run {
	cfg := DefaultConfig()
	cfg.Warmup = 200 * time.Millisecond
	rec := NewRecorder(cfg)
	clk := &fakeClock{}
	rec.Bind(clk)
	rng := rand.New(rand.NewPCG(seed, uint64(idx)))
	l, _ := strconv.ParseFloat(loss, 64)
	amp := 1.0
	if policy == "naive" {
		amp = 2
	}
	lat := rec.Histogram("latency")
	api := rec.Counter("attempts", sim.Label{Key: "tier", Value: "api"})
	db := rec.Counter("attempts", sim.Label{Key: "tier", Value: "db"})
	inflight := rec.Gauge("inflight")
	ops := NewOps(faults)
	for ms := 0; ms < 2000; ms += 5 {
		clk.t = sim.Time(time.Duration(ms) * time.Millisecond)
		inPart := clk.t >= faults[0].Start && clk.t < faults[0].End
		d := time.Duration(math.Exp(rng.NormFloat64()*0.5) * float64(time.Millisecond) * (1 + 20*l))
		if inPart {
			d *= time.Duration(amp * 10)
		}
		lat.Record(d)
		api.Add(1)
		n := int64(1)
		if inPart {
			n = int64(amp * 3)
		}
		db.Add(n)
		inflight.Set(float64(rng.IntN(10)) * amp)
		out := sim.OK
		switch u := rng.Float64(); {
		case inPart && u < 0.5:
			out = sim.TimedOut
		case u < l*5:
			out = sim.Failed
		}
		ops.Op(clk.t, clk.t.Add(d), out)
	}
	run := rec.Finish(sim.Time(2 * time.Second))
	run.Index, run.Seed = idx, seed
	run.Params = []Param{{"network.loss", loss}, {"client.retry.policy", policy}}
	run.Faults = faults
	run.Coverage = ops.Coverage()
	return run
}

// fixtureFolder is fixtureSet aggregated, as plots and the report see it.
func fixtureFolder() *Folder {
	set := fixtureSet()
	f := &Folder{Manifest: set.Manifest, Config: set.Config, Summary: set.Summary()}
	f.Manifest.Plots = fixturePlots()
	f.Fill()
	return f
}

// fixturePlots declares one plot of every kind.
func fixturePlots() []PlotSpec {
	return []PlotSpec{
		{Kind: CDF, Metric: "latency", LogX: true, Where: map[string]string{"client.retry.policy": "naive"}},
		{Kind: Line, Metric: "latency_p99_ms", X: "network.loss", By: "client.retry.policy"},
		{Kind: Bars, Metric: "attempts_rps{tier=db}", X: "client.retry.policy", By: "network.loss"},
		{Kind: TimeSeries, Metric: "attempts_rps", By: "tier", Where: map[string]string{"network.loss": "0.01", "client.retry.policy": "naive"}},
		{Kind: Heatmap, Metric: "latency_p50_ms", X: "network.loss", Y: "client.retry.policy"},
	}
}
