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
//	ops := results.NewOps(windows)                       // fault coverage: a protocols.Ops
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
//	db := env.Metrics().Counter("attempts", sim.Label{Key: "tier", Value: "db"})
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
// queue_len_last, queue_len_max and queue_len_mean (time-weighted).
//
// Labels (sim.Label: tier=api, status=ok) are a separate argument of
// Counter, Gauge and Histogram, and stay a separate dimension: derived
// metrics keep them (attempts_rps with tier=api), every Metric, Series and
// Dist carries them in its MetricID, and the CSV files give each label key
// a column of its own. Experiment files name a labelled metric
// "attempts_rps{tier=api}" (MetricID.FullName; ParseID reads it back), and
// timeseries plots split on a label (by: tier).
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
// Results are aggregated once, streaming, and memory does not grow with
// the number of runs. An Aggregator folds finished runs one at a time:
// scalars into Welford accumulators (mean, sd, 95% Student-t CI), latency
// distributions into per-quantile sums, windows and fault coverage into
// per-point sets, and time series into a SeriesAcc: exact fixed-point
// sums (count, sum, sum of squares per bucket) that do not depend on the
// order runs arrive in, so shards merge into the same bytes.
//
//	agg := results.NewAggregator(params)
//	for each finished run, in index order: agg.Add(&run)
//	f := &results.Folder{Manifest: m, Config: yaml, Summary: agg.Summary()}
//	f.Fill()                                  // columns, default plots, headline
//	results.WriteRuns(dir, f, eachRun)        // runs.csv, metrics.csv: a second pass
//	results.WriteSummary(dir, f)              // the aggregated files, manifest.json
//	results.Render(dir, f, progress)          // plots/, report.html
//
// Write does all of that for runs held in memory (a Set). The files are
// tidy: one observation per row, plain column names, parameters as
// numbers (durations in seconds as <param>_s, rates as <param>_per_s),
// metric labels as columns of their own:
//
//	runs.csv            run, <params>, seed
//	metrics.csv         run, metric, <labels>, value
//	summary.csv         <params>, metric, <labels>, n, mean, sd, ci_low, ci_high
//	timeseries.csv      <params>, metric, <labels>, bucket_s, time_s, n, mean, ci_low, ci_high
//	latency.csv         <params>, metric, <labels>, n, quantile, value_ms
//	faults.csv          <params>, kind, label, start_s, end_s
//	fault_coverage.csv  <params>, kind, label, start_s, end_s, runs,
//	                    attempted, succeeded, failed, timed_out
//	timeseries_runs.csv.gz  run, metric, <labels>, bucket_s, time_s, value (per_run only)
//	manifest.json       name, description, dsim_version, config_hash, seeds
//	                    (strings), params, columns, points, plots, output,
//	                    headline, metrics, checks
//	config.resolved.yaml
//	plots/*.png, *.svg, *.pdf
//	report.html         headline table, plots, checks, fault coverage,
//	                    timeline, then every metric (collapsed, filterable)
//	timeline.svg, trace.json  a Timeline's outputs, when the runner kept one
//
// Plots and the report read the Folder (the aggregated table), never the
// runs; Read loads a Folder back from the files and Replot redraws plots/
// and report.html from it byte for byte. docs/results.md documents every
// column, with pandas and R examples.
//
// # Plots
//
// A PlotSpec (YAML under an experiment's plots:) is one of cdf, line,
// bars, timeseries or heatmap; Validate checks it alone and Check against
// the swept parameters. RenderPlot draws it with gonum/plot in a
// sans-serif face and the Okabe–Ito colour-blind-safe palette, each line
// with its own dash pattern (heatmaps: Kindlmann's luminance-monotone
// map), as PNG, SVG and PDF. Titles and axis labels come from the
// registered MetricInfo (a protocol family's titles and units), ticks
// carry no trailing zeros, time series show the mean of the seeds with a
// 95% CI band and shade every window (network faults and protocol
// windows), timeseries plots of one comparison share their y axis, and
// latency CDFs use a log x axis when the values span more than a decade.
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
// Chrome/Perfetto trace (trace.json). The diagram opens with its note
// (truncated or not) and a legend of its line styles; when events were
// dropped its time axis covers the kept events only, and messages still
// in flight there are cut at the axis edge with a marker.
package results
