package rpc

import (
	"fmt"
	"math"
	"os"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dsim-dev/dsim/protocols/workload"
	"slices"
	"strings"
	"time"

	"github.com/dsim-dev/dsim/sim"
)

// testMetrics is a small in-memory sim.Metrics for tests: counters,
// last gauge values, and every histogram sample in recording order, by
// full name ("attempts{tier=db}", labels in recording order). If log is
// set, gauge changes are written to it with the engine's time.
type testMetrics struct {
	counters map[string]*tcounter
	gauges   map[string]*tgauge
	hists    map[string]*thist
	e        *sim.Engine
	log      *[]string
}

type tcounter struct{ n int64 }

func (c *tcounter) Add(n int64) { c.n += n }

type tgauge struct {
	name string
	v    float64
	m    *testMetrics
}

func (g *tgauge) Set(v float64) {
	if g.m.log != nil && g.m.e != nil && v != g.v {
		*g.m.log = append(*g.m.log, fmt.Sprintf("%-9v gauge %s = %g", g.m.e.Now(), g.name, v))
	}
	g.v = v
}

type thist struct{ samples []time.Duration }

func (h *thist) Record(d time.Duration) { h.samples = append(h.samples, d) }

func newTestMetrics() *testMetrics {
	return &testMetrics{counters: map[string]*tcounter{}, gauges: map[string]*tgauge{}, hists: map[string]*thist{}}
}

// fullName writes a metric with its labels as experiment files do.
func fullName(name string, labels []sim.Label) string {
	if len(labels) == 0 {
		return name
	}
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = l.Key + "=" + l.Value
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

func (m *testMetrics) Counter(name string, labels ...sim.Label) sim.Counter {
	name = fullName(name, labels)
	if m.counters[name] == nil {
		m.counters[name] = &tcounter{}
	}
	return m.counters[name]
}

func (m *testMetrics) Gauge(name string, labels ...sim.Label) sim.Gauge {
	name = fullName(name, labels)
	if m.gauges[name] == nil {
		m.gauges[name] = &tgauge{name: name, m: m}
	}
	return m.gauges[name]
}

func (m *testMetrics) Histogram(name string, labels ...sim.Label) sim.Histogram {
	name = fullName(name, labels)
	if m.hists[name] == nil {
		m.hists[name] = &thist{}
	}
	return m.hists[name]
}

func (m *testMetrics) count(name string) int64 {
	if c := m.counters[name]; c != nil {
		return c.n
	}
	return 0
}

func (m *testMetrics) names() string {
	var all []string
	for n := range m.counters {
		all = append(all, "counter "+n)
	}
	for n := range m.gauges {
		all = append(all, "gauge "+n)
	}
	for n := range m.hists {
		all = append(all, "histogram "+n)
	}
	slices.Sort(all)
	return strings.Join(all, "\n")
}

// batchMeans returns the mean of xs and the standard error of that mean
// estimated from k batch means (the batch-means method for correlated
// output of a steady-state simulation; Law and Kelton, "Simulation
// Modeling and Analysis", §9.5.3).
func batchMeans(xs []float64, k int) (mean, se float64) {
	n := len(xs) / k
	var means []float64
	for b := 0; b < k; b++ {
		s := 0.0
		for _, x := range xs[b*n : (b+1)*n] {
			s += x
		}
		means = append(means, s/float64(n))
	}
	for _, m := range means {
		mean += m
	}
	mean /= float64(k)
	v := 0.0
	for _, m := range means {
		v += (m - mean) * (m - mean)
	}
	v /= float64(k - 1)
	return mean, math.Sqrt(v / float64(k))
}

// erlangC returns the probability that an arrival waits in an M/M/c queue
// with offered load a = λ/μ (Erlang C formula; Kleinrock, "Queueing
// Systems" vol. 1, §3.5).
func erlangC(c int, a float64) float64 {
	term, sum := 1.0, 0.0
	for k := 0; k < c; k++ {
		sum += term
		term *= a / float64(k+1)
	}
	// term is now a^c/c!.
	top := term * float64(c) / (float64(c) - a)
	return top / (sum + top)
}

// exampleConfig decodes the protocol and workload sections of an
// experiment file (its base point, without sweeps); the topology becomes
// the replica counts Build uses.
func exampleConfig(t testing.TB, file string) (Config, workload.Config) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Protocol yaml.Node `yaml:"protocol"`
		Workload yaml.Node `yaml:"workload"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	p := &doc.Protocol
	for i := 0; i+1 < len(p.Content); i += 2 {
		if p.Content[i].Value == "name" {
			p.Content = append(p.Content[:i], p.Content[i+2:]...)
			break
		}
	}
	c := DefaultConfig()
	if err := p.Decode(&c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	wl := workload.DefaultConfig()
	if err := doc.Workload.Decode(&wl); err != nil {
		t.Fatalf("%s: workload: %v", file, err)
	}
	return c, wl
}
