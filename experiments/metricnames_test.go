package experiments

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/results"
)

// shortRuns makes the costly bundled experiments cheap enough to run
// every sweep point in a test while keeping what decides their metric
// names: the mechanisms, the error windows (the runs still reach them),
// the transports. Each is --set values and sweep lines replaced.
var shortRuns = map[string]struct {
	sets  []string
	sweep [][2]string
}{
	"gossip-rounds":         {sweep: [][2]string{{"[100, 1000, 10000, 100000]", "[100, 1000]"}, {"n{1..100000}", "n{1..1000}"}}},
	"swim-vs-heartbeat":     {sweep: [][2]string{{"[10, 30, 100, 300, 1000]", "[10, 30]"}}},
	"swim-detection":        {sets: []string{"duration=25s"}, sweep: [][2]string{{"[10, 30, 100, 300, 1000]", "[10, 30]"}}},
	"swim-false-positives":  {sets: []string{"duration=60s"}},
	"phi-threshold":         {sets: []string{"duration=30s"}, sweep: [][2]string{{"[1, 2, 3, 5, 8, 12, 16]", "[1, 8]"}}},
	"retry-storm":           {sets: []string{"workload.rate=200/s", "duration=45s"}},
	"real-clients":          {sets: []string{"workload.rate=100/s", "duration=42s"}},
	"real-clients-pushback": {sets: []string{"workload.rate=100/s", "duration=42s"}},
	"grpc-vs-rest":          {sets: []string{"duration=3s", "warmup=1s"}},
	"http-versions":         {sets: []string{"duration=3s", "warmup=1s"}},
	"pooling":               {sets: []string{"duration=20s"}},
	"timeouts":              {sets: []string{"duration=20s"}},
	"quorum-staleness":      {sets: []string{"duration=10s"}},
	"gossip-residue":        {sets: []string{"duration=6s"}},
}

// TestDeclaredMetricsMatchRuns runs every sweep point of every bundled
// experiment (one seed, shortened where costly) and holds what the runs
// record against what their family declares for that point's config:
// every metric, series and distribution name, with its labels, must be
// declared (so the loader never refuses a name a run can have); every
// declared name but a distribution without samples must be recorded (so
// the declarations are exact, not just permissive); and every check, plot
// and headline of the experiment must name something the runs of its
// points recorded.
func TestDeclaredMetricsMatchRuns(t *testing.T) {
	for _, ex := range Examples() {
		t.Run(ex.Name, func(t *testing.T) {
			t.Parallel()
			short, costly := shortRuns[ex.Name]
			if testing.Short() && costly {
				t.Skip("costly")
			}
			data := string(ex.Data)
			for _, r := range short.sweep {
				if !strings.Contains(data, r[0]) {
					t.Fatalf("no %s in the sweep", r[0])
				}
				data = strings.Replace(data, r[0], r[1], 1)
			}
			x, err := Parse(ex.File, []byte(data), Options{Sets: append([]string{"seeds=1"}, short.sets...)})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := x.Points[0].Config.Protocol.Config.(protocols.MetricDeclarer); !ok {
				t.Fatalf("protocol %s declares no metrics", x.Config.Protocol.Name)
			}
			// recorded[i] holds what the runs of point i recorded, as
			// full names by form.
			recorded := make([]map[form][]string, len(x.Points))
			for _, s := range x.Runs() {
				rr, err := RunOne(x, s, nil)
				if err != nil {
					t.Fatal(err)
				}
				decl, _ := declaredMetrics(&s.Point.Config)
				got := map[form][]string{}
				for _, m := range rr.Run.Metrics {
					got[runMetric] = append(got[runMetric], m.FullName())
				}
				for _, m := range rr.Run.Series {
					got[series] = append(got[series], m.FullName())
				}
				for _, m := range rr.Run.Dists {
					got[distribution] = append(got[distribution], m.FullName())
				}
				seen := map[string]bool{}
				for f, names := range got {
					for _, n := range names {
						if msg := decl.problem(n, f, use{what: "a run"}, x.Config.Protocol.Name, nil); msg != "" {
							t.Errorf("point %d records %s %q, which the loader would refuse: %s", s.Point.Index, f, n, msg)
						}
						base := results.ParseID(n).Name
						seen[base] = true
					}
				}
				// And the other way: what is declared is recorded, but
				// for distributions, which need a sample.
				for n, ni := range decl.names {
					if !seen[n] && ni.form != distribution {
						t.Errorf("point %d: %s is declared but the run did not record it", s.Point.Index, n)
					}
				}
				recorded[s.Point.Index] = got
			}
			// has reports whether a run of the points where selects
			// recorded name as an f (or a name of that base); true when
			// where selects no point of the shortened sweep.
			has := func(where map[string]string, f form, name string, base bool) bool {
				some := false
				for i, pt := range x.Points {
					if !matches(where, pt.Params, x.pinned) {
						continue
					}
					some = true
					for _, n := range recorded[i][f] {
						if b := results.ParseID(n).Name; n == name || base && b == name {
							return true
						}
					}
				}
				return !some
			}
			for _, ch := range x.Config.Checks {
				if !has(ch.When, runMetric, results.ParseID(ch.Metric).Canonical().FullName(), false) && !has(ch.When, runMetric, ch.Metric, false) {
					t.Errorf("check %s: no run of its points recorded it", ch.Metric)
				}
			}
			for _, pl := range x.Config.Plots {
				f := plotForm(pl.Kind)
				if !has(pl.Where, f, pl.Metric, f != runMetric) && !has(pl.Where, f, results.ParseID(pl.Metric).Canonical().FullName(), false) {
					t.Errorf("%s plot of %s: no run of its points recorded it", pl.Kind, pl.Metric)
				}
			}
			for _, h := range x.Config.Report.Headline {
				if !has(nil, runMetric, h, true) {
					t.Errorf("headline %s: no run recorded it", h)
				}
			}
		})
	}
}

// TestMetricLists: each bundled family's one list of metrics is well
// formed: unique names, a title for each, headline figures and derived
// names derived from an instrument of the list, and its declarations for
// any config are a subset of its description (the titles the report
// uses).
func TestMetricLists(t *testing.T) {
	var names []string
	for _, ex := range Examples() {
		x, err := Parse(ex.File, ex.Data, Options{})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, x.Config.Protocol.Name)
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		fam, _ := LookupProtocol(name)
		d, ok := fam.(protocols.Describer)
		if !ok {
			t.Errorf("%s: no Describer", name)
			continue
		}
		all := d.Metrics()
		seen := map[string]protocols.MetricInfo{}
		for _, m := range append(all, runMetrics()...) {
			if _, dup := seen[m.Name]; dup {
				t.Errorf("%s: %s listed twice", name, m.Name)
			}
			seen[m.Name] = m
			if m.Title == "" {
				t.Errorf("%s: %s has no title", name, m.Name)
			}
			if strings.ContainsAny(m.Name, "{},=") {
				t.Errorf("%s: %s: labels belong in Labels, not in the name", name, m.Name)
			}
		}
		for _, m := range all {
			if m.Kind != protocols.DerivedMetric {
				continue
			}
			ok := false
			for _, src := range all {
				for _, dn := range derived[src.Kind] {
					if src.Kind != protocols.DerivedMetric && src.Name+dn.suffix == m.Name {
						ok = true
					}
				}
			}
			if !ok {
				t.Errorf("%s: derived %s derives from no instrument of the list", name, m.Name)
			}
		}
		cfg, ok := fam.DefaultConfig().(protocols.MetricDeclarer)
		if !ok {
			t.Errorf("%s: its config declares no metrics", name)
			continue
		}
		for _, m := range cfg.Metrics() {
			if all := seen[m.Name]; all.Name == "" || all.Title != m.Title || all.Kind != m.Kind {
				t.Errorf("%s: declared %+v is not described as such (%+v)", name, m, all)
			}
		}
	}
}

// TestUnknownMetricNames: a check, plot or headline naming a metric,
// label or label value the protocol cannot record is refused at load
// time, at its place, with the closest name — for every bundled family.
func TestUnknownMetricNames(t *testing.T) {
	rpc := `name: t
duration: 2s
nodes: [client-1, api-1, db-1]
protocol:
  name: rpc
  services:
    api: {calls: [{service: db, timeout: 100ms}]}
    db: {errors: {rate: 0.5, from: 1s, to: 1500ms}}
  client: {service: api}
`
	for _, tc := range []struct {
		name, src, want string
	}{
		{"rpc check misspelt", rpc + "checks:\n  - {metric: sucess_ratio, min: 0.5}\n",
			`test.yaml:11:14: checks[0].metric: "sucess_ratio" is not a metric of protocol rpc (did you mean "success_ratio"?)`},
		{"rpc tier misspelt", rpc + "checks:\n  - {metric: \"amplification{tier=dbb}\", max: 2}\n",
			`test.yaml:11:14: checks[0].metric: "amplification{tier=dbb}": this experiment records amplification for no tier "dbb" (did you mean "db"?)`},
		{"rpc label misspelt", rpc + "checks:\n  - {metric: \"amplification{tir=db}\", max: 2}\n",
			`checks[0].metric: "amplification{tir=db}": amplification has no label "tir" (did you mean "tier"?)`},
		{"rpc unlabelled given a label", rpc + "checks:\n  - {metric: \"goodput_rps{tier=db}\", min: 1}\n",
			`checks[0].metric: "goodput_rps{tier=db}": goodput_rps has no labels`},
		{"rpc hop metric of a tier nobody calls", rpc + "checks:\n  - {metric: \"attempts{tier=client}\", max: 2}\n",
			`"attempts{tier=client}": this experiment records attempts for no tier "client"`},
		{"rpc breaker gauge without a breaker", rpc + "plots:\n  - {kind: timeseries, metric: breaker_state}\n",
			`test.yaml:11:32: plots[0].metric: "breaker_state" is not a time series of protocol rpc as configured here: its runs record breaker_state only when the mechanism it measures is set up`},
		{"rpc transport metric without a transport", rpc + "plots:\n  - {kind: bars, metric: bytes_on_wire_rps, x: protocol.variant}\n",
			`plots[0].metric: "bytes_on_wire_rps" is not a metric of protocol rpc as configured here`},
		{"rpc window metric without a window", strings.Replace(rpc, ", from: 1s, to: 1500ms", "", 1) + "checks:\n  - {metric: window_success_ratio, min: 0.5}\n",
			`checks[0].metric: "window_success_ratio" is not a metric of protocol rpc as configured here`},
		{"rpc cdf of a metric", rpc + "plots:\n  - {kind: cdf, metric: latency_p99_ms}\n",
			`plots[0].metric: "latency_p99_ms" is not a latency distribution of protocol rpc (did you mean "latency"?)`},
		{"rpc timeseries by a missing label", rpc + "plots:\n  - {kind: timeseries, metric: attempts_rps, by: tire}\n",
			`test.yaml:11:50: plots[0].by: attempts_rps has no label "tire" (did you mean "tier"?) to split its lines by`},
		{"rpc headline", rpc + "report: {headline: [amplificaton]}\n",
			`test.yaml:10:21: report.headline[0]: "amplificaton" is not a metric of protocol rpc (did you mean "amplification"?)`},
		{"delivery", "nodes: [a, b]\nprotocol: {name: delivery, senders: [a], receivers: [b]}\nworkload: {kind: open, rate: 10/s}\nchecks:\n  - {metric: lost_mesages, max: 0}\n",
			`test.yaml:5:14: checks[0].metric: "lost_mesages" is not a metric of protocol delivery (did you mean "lost_messages"?)`},
		{"quorum", "nodes: [\"s{1..3}\", c]\nprotocol: {name: quorum, stores: [\"s*\"], clients: [c]}\nplots:\n  - {kind: cdf, metric: read_latncy}\n",
			`test.yaml:4:25: plots[0].metric: "read_latncy" is not a latency distribution of protocol quorum (did you mean "read_latency"?)`},
		{"quorum label value", "nodes: [\"s{1..3}\", c]\nprotocol: {name: quorum, stores: [\"s*\"], clients: [c], t_visibility: [10ms]}\nchecks:\n  - {metric: \"p_consistent{t_ms=100}\", min: 0.5}\n",
			`"p_consistent{t_ms=100}": this experiment records p_consistent for no t_ms "100" (did you mean "10"?)`},
		{"detector", "nodes: [\"n{1..3}\"]\nprotocol: {name: detector}\nchecks:\n  - {metric: detect_first, max: 1}\n",
			`checks[0].metric: "detect_first" is not a metric of protocol detector (did you mean "detect_first_s"?)`},
		{"swim", "nodes: [\"n{1..3}\"]\nprotocol: {name: swim}\nchecks:\n  - {metric: false_death, max: 1}\n",
			`checks[0].metric: "false_death" is not a metric of protocol swim (did you mean "false_deaths"?)`},
		{"gossip", "nodes: [\"n{1..3}\"]\nprotocol: {name: gossip}\nchecks:\n  - {metric: residu, max: 0}\n",
			`checks[0].metric: "residu" is not a metric of protocol gossip (did you mean "residue"?)`},
		{"echo gauge-only name", hostileBase + "  - {kind: line, metric: rtt, x: protocol.timeout}\n",
			`plots[1].metric: "rtt" is not a metric of protocol echo`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.src), Options{})
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("want bad input, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error lacks %q:\n%v", tc.want, err)
			}
		})
	}
}

// TestMetricNamesBySweepPoint: a check limited to the sweep points where
// a metric exists is accepted; the same check at every point is accepted
// too (some point records it), but one naming a metric no point records
// is not.
func TestMetricNamesBySweepPoint(t *testing.T) {
	src := `name: t
duration: 2s
nodes: [client-1, api-1]
protocol:
  name: rpc
  services: {api: {}}
  client: {service: api, timeout: 100ms}
sweep:
  protocol.client.breaker.trip: [none, count]
checks:
  - {metric: "breaker_state_max{node=client-1,tier=api}", max: 2, when: {protocol.client.breaker.trip: count}}
  - {metric: "breaker_state_max{node=client-1,tier=api}", max: 2}
`
	if _, err := Parse("test.yaml", []byte(src), Options{}); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(src, "count}}", "none}}", 1)
	_, err := Parse("test.yaml", []byte(bad), Options{})
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), `checks[0].metric: "breaker_state_max{node=client-1,tier=api}" is not a metric of protocol rpc`) {
		t.Errorf("a check where no point has a breaker: %v", err)
	}
}

// TestPartialLabelSets: a check, or a plot that reads one value, naming
// only some of a labelled metric's label keys (or none) is refused at its
// place with the keys left out, the values this experiment records for
// them and a full name to write; a timeseries plot and a headline, which
// show every label set a name matches, may leave labels out.
func TestPartialLabelSets(t *testing.T) {
	rpc := `name: t
duration: 2s
nodes: [client-1, api-1, db-1]
protocol:
  name: rpc
  services:
    api: {calls: [{service: db, timeout: 100ms}]}
    db: {}
  client: {service: api, breaker: {trip: count}}
`
	quorum := "nodes: [\"s{1..3}\", c]\nprotocol: {name: quorum, stores: [\"s*\"], clients: [c], t_visibility: [10ms, 50ms]}\n"
	statuses := `"ok", "bad_request", "too_many_requests", "internal", "unavailable", "timeout", "circuit_open", "bulkhead_full"`
	for _, tc := range []struct {
		name, src, want string // want "": accepted
	}{
		{"check with one of two keys", rpc + "checks:\n  - {metric: \"attempt_status{tier=db}\", max: 10}\n",
			`test.yaml:11:14: checks[0].metric: "attempt_status{tier=db}": attempt_status is recorded per tier and status, and a check reads one label set: also name status (one of ` + statuses + `), as in "attempt_status{tier=db,status=ok}"`},
		{"check with no key of two", rpc + "checks:\n  - {metric: attempt_status, max: 10}\n",
			`test.yaml:11:14: checks[0].metric: "attempt_status": attempt_status is recorded per tier and status, and a check reads one label set: name tier (one of "api", "db") and status (one of ` + statuses + `), as in "attempt_status{tier=api,status=ok}"`},
		{"check of a derived rate with no key", rpc + "checks:\n  - {metric: attempts_rps, max: 10}\n",
			`test.yaml:11:14: checks[0].metric: "attempts_rps": attempts_rps is recorded per tier, and a check reads one label set: name tier (one of "api", "db"), as in "attempts_rps{tier=api}"`},
		{"check of a one-value label", rpc + "checks:\n  - {metric: server_queue_wait_p99_ms, max: 10}\n",
			`checks[0].metric: "server_queue_wait_p99_ms": server_queue_wait_p99_ms is recorded per tier, and a check reads one label set: name tier (one of "api", "db"), as in "server_queue_wait_p99_ms{tier=api}"`},
		{"check of a label with values unknown before the run", rpc + "checks:\n  - {metric: \"breaker_state_max{tier=api}\", max: 2}\n",
			`test.yaml:11:14: checks[0].metric: "breaker_state_max{tier=api}": breaker_state_max is recorded per node and tier, and a check reads one label set: also name node`},
		{"check with every key", rpc + "checks:\n  - {metric: \"attempt_status{status=ok,tier=db}\", min: 0}\n", ""},
		{"bars plot", rpc + "plots:\n  - {kind: bars, metric: \"attempt_status_rps{status=ok}\", x: protocol.variant}\n",
			`test.yaml:11:26: plots[0].metric: "attempt_status_rps{status=ok}": attempt_status_rps is recorded per tier and status, and a bars plot reads one label set: also name tier (one of "api", "db"), as in "attempt_status_rps{status=ok,tier=api}"`},
		{"line plot", rpc + "plots:\n  - {kind: line, metric: amplification, x: protocol.variant}\n",
			`plots[0].metric: "amplification": amplification is recorded per tier, and a line plot reads one label set: name tier (one of "api", "db"), as in "amplification{tier=api}"`},
		{"cdf plot", rpc + "plots:\n  - {kind: cdf, metric: call_latency}\n",
			`test.yaml:11:25: plots[0].metric: "call_latency": call_latency is recorded per tier, and a cdf plot reads one label set: name tier (one of "api", "db"), as in "call_latency{tier=api}"`},
		{"cdf plot with every key", rpc + "plots:\n  - {kind: cdf, metric: \"call_latency{tier=db}\"}\n", ""},
		{"timeseries plot with one of two keys", rpc + "plots:\n  - {kind: timeseries, metric: \"attempt_status_rps{tier=db}\"}\n", ""},
		{"timeseries plot with no key, by one", rpc + "plots:\n  - {kind: timeseries, metric: attempts_rps, by: tier}\n", ""},
		{"timeseries plot by one key, the other named", rpc + "plots:\n  - {kind: timeseries, metric: \"attempt_status_rps{status=ok}\", by: tier}\n", ""},
		{"timeseries plot by one key, the other left out", rpc + "plots:\n  - {kind: timeseries, metric: attempt_status_rps, by: tier}\n",
			`test.yaml:11:56: plots[0].by: attempt_status_rps is recorded per tier and status, so lines split by tier alone would share their legend entries: name status in the metric too (or leave by out, for a line per label set)`},
		{"headline with one of two keys", rpc + "report: {headline: [\"attempt_status{tier=db}\", amplification]}\n", ""},
		{"quorum check with no key", quorum + "checks:\n  - {metric: p_consistent, min: 0.5}\n",
			`test.yaml:4:14: checks[0].metric: "p_consistent": p_consistent is recorded per t_ms, and a check reads one label set: name t_ms (one of "10", "50"), as in "p_consistent{t_ms=10}"`},
		{"quorum total recorded without its label", quorum + "checks:\n  - {metric: availability, min: 0.5}\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.src), Options{})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("want bad input, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error lacks\n%s\ngot\n%v", tc.want, err)
			}
		})
	}
}

// TestQuoteAndList: the lists of partial-label messages.
func TestQuoteAndList(t *testing.T) {
	for _, tc := range []struct {
		in       []string
		and, quo string
	}{
		{nil, "", ""},
		{[]string{"a"}, "a", `"a"`},
		{[]string{"a", "b"}, "a and b", `"a", "b"`},
		{[]string{"a", "b", "c"}, "a, b and c", `"a", "b", … (3 in all)`},
	} {
		if got := andList(tc.in); got != tc.and {
			t.Errorf("andList(%q) = %q, want %q", tc.in, got, tc.and)
		}
		if got := quoteList(tc.in, 2); got != tc.quo {
			t.Errorf("quoteList(%q, 2) = %q, want %q", tc.in, got, tc.quo)
		}
	}
}
