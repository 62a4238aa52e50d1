package experiments

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/netmodel"
	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/results"
	"gopkg.in/yaml.v3"
)

// The load-time guards: what a single section's Validate cannot see
// because it spans sections (a protocol's node selectors against the
// topology, a check's metric against what the protocol records), and
// warnings for settings that are legal but do nothing.

// selectorTag marks a protocol config field ([]string or string) that
// selects topology nodes with protocols.Select, so that the loader checks
// it against the nodes and reports a selector that matches nothing at its
// line:
//
//	Clients []string `yaml:"clients" dsim:"nodes"`
const selectorTag = "nodes"

// checkSelectors reports every selector of the protocol config that
// matches no node (or is a malformed glob), at its place in the file.
func checkSelectors(ps *problems, root *yaml.Node, cfg *Config) {
	if cfg.Protocol.Config == nil {
		return
	}
	nodes := cfg.placements()
	var visit func(v reflect.Value, path string)
	visit = func(v reflect.Value, path string) {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return
			}
			v = v.Elem()
		}
		switch v.Kind() {
		case reflect.Struct:
			t := v.Type()
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if !f.IsExported() {
					continue
				}
				name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
				if name == "-" {
					continue
				}
				fp := path
				if !strings.Contains(opts, "inline") {
					if name == "" {
						name = strings.ToLower(f.Name)
					}
					fp = joinKey(path, name)
				}
				if f.Tag.Get("dsim") == selectorTag {
					checkSelectorField(ps, root, nodes, v.Field(i), fp)
					continue
				}
				visit(v.Field(i), fp)
			}
		case reflect.Map:
			keys := v.MapKeys()
			sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
			for _, k := range keys {
				visit(v.MapIndex(k), joinKey(path, fmt.Sprint(k)))
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				visit(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	visit(reflect.ValueOf(cfg.Protocol.Config), "protocol")
}

func checkSelectorField(ps *problems, root *yaml.Node, nodes []protocols.Placement, v reflect.Value, path string) {
	var sels []string
	switch {
	case v.Kind() == reflect.String:
		if v.String() != "" {
			sels = []string{v.String()}
		}
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		for i := 0; i < v.Len(); i++ {
			sels = append(sels, v.Index(i).String())
		}
	default:
		return
	}
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name)
		if n.Zone != "" && !slices.Contains(names, n.Zone) {
			names = append(names, n.Zone)
		}
	}
	for i, sel := range sels {
		if _, err := protocols.Select(nodes, []string{sel}); err != nil {
			p := path
			if v.Kind() == reflect.Slice {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			ps.at(nodeAt(root, p), p, "%q matches no node or zone of the topology%s", sel, Suggest(sel, names))
		}
	}
}

// metricNames returns every metric, series and distribution name a run
// of cfg can have, when the protocol declares its metrics; ok is false
// when it does not, and nothing can be checked before running.
func metricNames(cfg *Config) (names []string, ok bool) {
	d, ok := cfg.Protocol.Config.(protocols.MetricDeclarer)
	if !ok {
		return nil, false
	}
	set := map[string]bool{"events": true}
	add := func(base string, suffixes ...string) {
		for _, s := range suffixes {
			set[base+s] = true
		}
	}
	decls := d.Metrics()
	// The network's counters are in every run.
	for _, n := range []string{netmodel.MetricSent, netmodel.MetricDelivered, netmodel.MetricDuplicated} {
		decls = append(decls, protocols.MetricInfo{Name: n, Kind: protocols.CounterMetric})
	}
	for _, c := range netmodel.Causes() {
		decls = append(decls, protocols.MetricInfo{Name: netmodel.MetricDroppedPrefix + c.String(), Kind: protocols.CounterMetric})
	}
	for _, m := range decls {
		base := results.ParseID(m.Name).Name
		// The names results.Recorder.Finish derives from each kind of
		// instrument (a test runs the bundled experiments to keep the
		// two in step).
		switch m.Kind {
		case protocols.CounterMetric:
			add(base, "", "_rps")
		case protocols.GaugeMetric:
			add(base, "", "_last", "_max", "_mean")
		case protocols.HistogramMetric:
			add(base, "", "_count", "_mean_ms", "_p50_ms", "_p90_ms", "_p95_ms", "_p99_ms", "_p999_ms", "_max_ms")
		default:
			add(base, "")
		}
	}
	return slices.Sorted(maps.Keys(set)), true
}

// checkMetrics reports checks and plots that name a metric the protocol
// does not record, with the closest known name.
func checkMetrics(ps *problems, root *yaml.Node, cfg *Config) {
	known, ok := metricNames(cfg)
	if !ok {
		return
	}
	has := func(name string) bool {
		base := results.ParseID(name).Name
		i := sort.SearchStrings(known, base)
		return i < len(known) && known[i] == base
	}
	for i, ch := range cfg.Checks {
		if ch.Metric != "" && !has(ch.Metric) {
			p := fmt.Sprintf("checks[%d].metric", i)
			ps.at(nodeAt(root, p), p, "%q is not a metric of protocol %s%s", ch.Metric, cfg.Protocol.Name, suggestMetric(ch.Metric, known))
		}
	}
	for i, pl := range cfg.Plots {
		if pl.Metric != "" && !has(pl.Metric) {
			p := fmt.Sprintf("plots[%d].metric", i)
			ps.at(nodeAt(root, p), p, "%q is not a metric of protocol %s%s", pl.Metric, cfg.Protocol.Name, suggestMetric(pl.Metric, known))
		}
	}
}

func suggestMetric(name string, known []string) string {
	s := Suggest(results.ParseID(name).Name, known)
	if strings.HasPrefix(s, " (known") {
		return " (see the metrics in runs.csv of a run)"
	}
	return s
}

// warnings returns what is legal but has no effect: faults scheduled at
// or after the end of the run.
func warnings(ps *problems, root *yaml.Node, cfg *Config) {
	for i, f := range cfg.Faults.Schedule {
		if at := f.At.D(); at >= cfg.Duration {
			p := fmt.Sprintf("faults.schedule[%d]", i)
			what := string(f.Label)
			if what == "" {
				what = f.Kind.String()
			} else {
				what = fmt.Sprintf("%s %q", f.Kind, what)
			}
			ps.at(nodeAt(root, p+".at"), p+".at", "%s starts at %v, at or after the end of the run (duration %v): it never happens", what, at, cfg.Duration.Round(time.Millisecond))
		}
	}
}
