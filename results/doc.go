// Package results turns runs into numbers and pictures: metrics recorded
// during a run, statistics across seeds, tidy CSV, plots, timelines and a
// self-contained HTML report.
//
// # One run
//
// A Recorder implements sim.Metrics. Protocols fetch handles once and
// record through them; Finish computes the run's scalars and time series.
//
//	rec := results.NewRecorder(results.DefaultConfig()) // 100ms buckets
//	e := sim.New(sim.Config{Seed: seed, Metrics: rec})
//	rec.Bind(e)                                          // the sim clock
//	ops := results.NewOps(windows)                       // fault coverage
//	tl := results.NewTimeline(e, results.DefaultTimelineConfig())
//	e.Observe(tl)                                        // small runs only
//	... build and run ...
//	run := rec.Finish(e.Now())
//	run.Index, run.Seed, run.Params = i, seed, point
//	run.Faults, run.Coverage = windows, ops.Coverage()
//	tl.Finish(e.Now()); tl.AddFaults(windows...); tl.WriteFiles(dir)
//	if n := tl.Note(); n != "" { manifest.Notes = append(manifest.Notes, n) }
//
// Inside a node:
//
//	lat := env.Metrics().Histogram("latency")   // in Start
//	req := env.Metrics().Counter("requests")
//	lat.Record(env.Now().Sub(sentAt))           // no allocation
//	req.Add(1)
//
// # Metric names
//
// Names are snake_case with the unit last. From a histogram "latency"
// Finish derives latency_count, latency_mean_ms, latency_p50_ms,
// latency_p90_ms, latency_p95_ms, latency_p99_ms, latency_p999_ms and
// latency_max_ms; from a counter "requests", requests (the total) and
// requests_rps (over the measured span); from a gauge "queue_len",
// queue_len_last, queue_len_max and queue_len_mean (time-weighted). A name
// may carry one label group, "attempts{tier=api}", which derived names
// keep at the end ("attempts_rps{tier=api}") and which timeseries plots
// split on (by: tier).
//
// Histograms are HDR histograms (github.com/HdrHistogram/hdrhistogram-go)
// with Config.SignificantDigits (3: every value within 0.1%) over
// [1ns, Config.MaxLatency], so memory is fixed (about 270 KB each)
// whatever the sample count. Percentiles are nearest-rank. Time series are
// bucketed by simulated time (Config.Bucket, default 100 ms) and bounded
// by Config.MaxBuckets. Config.Warmup excludes the start of a run from the
// scalars (not from the series).
//
// # Many runs
//
// Aggregate groups runs by sweep point and gives each metric's mean,
// standard deviation and 95% Student-t confidence interval. Write puts a
// whole experiment in a folder:
//
//	runs.csv            run, <params>, seed, <metrics...>
//	summary.csv         <params>, n, <metric>_mean, _sd, _ci_low, _ci_high ...
//	timeseries.csv      run, time_s, series, value
//	latency.csv         run, histogram, quantile, value_ms (CDF points)
//	faults.csv          run, kind, label, start_s, end_s
//	fault_coverage.csv  run, <params>, seed, kind, label, start_s, end_s,
//	                    attempted, succeeded, failed, timed_out
//	manifest.json       name, description, dsim_version, config_hash,
//	                    seeds, run_count, params, plots
//	config.resolved.yaml
//	plots/*.png, *.svg
//	report.html         self-contained: description, config, tables, plots
//	timeline.svg, trace.json  a Timeline's outputs, when the runner kept one
//
//	set := &results.Set{Manifest: results.Manifest{Name: ..., Version: ...,
//		Params: []string{"client.retry.policy"}, Plots: specs}, Config: yaml, Runs: runs}
//	err := results.Write("out/retry-storm", set)
//	err = results.Replot("out/retry-storm") // dsim plot: redraw from the files
//
// Every file is written atomically and the same Set gives the same bytes.
// Floats are written as the shortest decimal that reads back exactly;
// missing values are NaN (a time-series bucket without a value has no
// row). Columns are sorted by metric name. Read loads a folder back, and
// Replot redraws plots/ and report.html from it byte for byte.
//
// Across seeds, CDF plots average each quantile over the seeds of a sweep
// point (CDFPoints), timeseries plots average each bucket (SeriesLines),
// and line, bars and heatmap plots show the mean with its 95% CI.
//
// # Plots
//
// A PlotSpec (YAML under an experiment's plots:) is one of cdf, line,
// bars, timeseries or heatmap; Validate checks it alone and Check against
// the swept parameters. RenderPlot draws it with gonum/plot in the
// Okabe–Ito colour-blind-safe palette (heatmaps: Kindlmann's
// luminance-monotone map), as PNG and SVG; Write saves both under plots/
// and inlines the PNG in report.html, a static page without scripts.
// Time-series plots shade the runs' FaultWindows, one colour per kind.
//
// # Fault coverage
//
// Ops counts operations (start, end, outcome) against fault windows as
// they end: per window, how many were attempted, succeeded, failed and
// timed out, plus a "none" row for operations that overlapped no fault.
// Memory does not grow with the number of operations.
//
// # Timelines
//
// A Timeline observes a small run (at most TimelineConfig.MaxEvents
// events; the rest are counted and the outputs say how many were left
// out) and writes a message sequence diagram (timeline.svg) and a
// Chrome/Perfetto trace (trace.json).
package results
