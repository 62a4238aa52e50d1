package workload

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dsim-dev/dsim/sim"
	"gopkg.in/yaml.v3"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Rate
		err  string
	}{
		{"1000/s", 1000, ""},
		{"1000", 1000, ""},
		{" 2.5/ms", 2500, ""},
		{"60/min", 1, ""},
		{"3600/h", 1, ""},
		{"0/s", 0, ""},
		{"1000/d", 0, "unknown unit"},
		{"fast", 0, "bad rate"},
		{"NaN/s", 0, "bad rate"},
		{"", 0, "bad rate"},
	} {
		got, err := ParseRate(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRate(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || math.Abs(float64(got-tc.want)) > 1e-9 {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	src := "kind: closed\nrate: 250/s\narrival: constant\nclients: 4\nthink: 10ms\nbursts: [{at: 1s, duration: 2s, rate: 1000/s}]\n"
	c := DefaultConfig()
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	want := Config{Kind: Closed, Rate: 250, Arrival: Constant, Clients: 4, Think: 10 * time.Millisecond,
		Bursts: []Burst{{At: time.Second, Duration: 2 * time.Second, Rate: 1000}}}
	if c.Kind != want.Kind || c.Rate != want.Rate || c.Arrival != want.Arrival || c.Clients != want.Clients || c.Think != want.Think || len(c.Bursts) != 1 || c.Bursts[0] != want.Bursts[0] {
		t.Fatalf("decoded %+v, want %+v", c, want)
	}
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := yaml.Unmarshal(out, &back); err != nil || back.Rate != c.Rate || back.Kind != c.Kind {
		t.Fatalf("round trip: %v\n%s", err, out)
	}
	if err := yaml.Unmarshal([]byte("kind: sideways"), &c); err == nil {
		t.Error("bad kind accepted")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(*Config)
		paths []string
	}{
		{"default", func(*Config) {}, nil},
		{"zero rate", func(c *Config) { c.Rate = 0 }, []string{"rate"}},
		{"huge rate", func(c *Config) { c.Rate = 1e12 }, []string{"rate"}},
		{"closed no clients", func(c *Config) { c.Kind, c.Clients = Closed, 0 }, []string{"clients"}},
		{"closed ignores rate", func(c *Config) { c.Kind, c.Clients, c.Rate = Closed, 3, 0 }, nil},
		{"negative think", func(c *Config) { c.Think = -1 }, []string{"think"}},
		{"bad burst", func(c *Config) { c.Bursts = []Burst{{At: -1, Duration: 0, Rate: -1}} }, []string{"bursts[0].at", "bursts[0].duration", "bursts[0].rate"}},
		{"overlap", func(c *Config) {
			c.Bursts = []Burst{{At: time.Second, Duration: 2 * time.Second, Rate: 1}, {At: 2 * time.Second, Duration: time.Second, Rate: 1}}
		}, []string{"bursts[1].at"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			var got []string
			if fe, ok := err.(sim.FieldErrors); ok {
				for _, f := range fe {
					got = append(got, f.Path)
				}
			} else if err != nil {
				t.Fatalf("error %T %v is not FieldErrors", err, err)
			}
			if strings.Join(got, ",") != strings.Join(tc.paths, ",") {
				t.Errorf("paths %v, want %v (%v)", got, tc.paths, err)
			}
		})
	}
}

// count returns the arrivals of g in [0, end).
func count(g *Generator, end sim.Time) int {
	n := 0
	for t := g.Next(0); t < end; t = g.Next(t) {
		n++
	}
	return n
}

func TestConstantArrivals(t *testing.T) {
	c := Config{Kind: Open, Rate: 100, Arrival: Constant}
	g := NewGenerator(c, 1, sim.NewStream(1, "w"))
	if got := count(g, sim.Time(10*time.Second)); got != 999 && got != 1000 {
		t.Errorf("constant 100/s over 10s: %d arrivals, want 1000 (±1 at the edge)", got)
	}
	// A share of 1/4 gives a quarter of the rate.
	g = NewGenerator(c, 0.25, sim.NewStream(1, "w"))
	if got := count(g, sim.Time(10*time.Second)); got < 249 || got > 250 {
		t.Errorf("share 1/4: %d arrivals, want 250", got)
	}
}

// TestPoissonArrivals: the number of Poisson arrivals at rate λ over T is
// Poisson(λT), mean and variance λT (any probability text, e.g. Ross,
// "Introduction to Probability Models", §5.3). With λT = 20000 the
// standard deviation is 141; we allow 5 sd.
func TestPoissonArrivals(t *testing.T) {
	c := Config{Kind: Open, Rate: 2000, Arrival: Poisson}
	g := NewGenerator(c, 1, sim.NewStream(7, "w"))
	got := count(g, sim.Time(10*time.Second))
	if math.Abs(float64(got)-20000) > 5*math.Sqrt(20000) {
		t.Errorf("Poisson 2000/s over 10s: %d arrivals, want 20000 ± %.0f", got, 5*math.Sqrt(20000))
	}
}

func TestBurstsAndStart(t *testing.T) {
	c := Config{Kind: Open, Rate: 100, Arrival: Constant, Start: time.Second,
		Bursts: []Burst{{At: 2 * time.Second, Duration: time.Second, Rate: 1000}, {At: 4 * time.Second, Duration: time.Second, Rate: 0}}}
	g := NewGenerator(c, 1, sim.NewStream(1, "w"))
	first := g.Next(0)
	if first != sim.Time(time.Second) {
		t.Errorf("first arrival %v, want 1s (start)", first)
	}
	var perSecond [6]int
	for t := first; t < sim.Time(6*time.Second); t = g.Next(t) {
		perSecond[int(t/sim.Time(time.Second))]++
	}
	want := [6]int{0, 100, 1000, 100, 0, 100}
	for i := range want {
		if d := perSecond[i] - want[i]; d < -1 || d > 1 {
			t.Errorf("second %d: %d arrivals, want %d (±1): %v", i, perSecond[i], want[i], perSecond)
		}
	}
	if r := g.RateAt(sim.Time(2500 * time.Millisecond)); r != 1000 {
		t.Errorf("RateAt in burst = %v", r)
	}
	// Zero rate for ever: no arrival.
	z := NewGenerator(Config{Kind: Open, Rate: 0}, 1, sim.NewStream(1, "w"))
	if got := z.Next(0); got != sim.Never {
		t.Errorf("zero rate: next %v, want never", got)
	}
}

func TestThinkAndLoops(t *testing.T) {
	c := Config{Kind: Closed, Clients: 5, Think: 10 * time.Millisecond, Arrival: Constant}
	g := NewGenerator(c, 1, sim.NewStream(1, "w"))
	if g.Think() != 10*time.Millisecond {
		t.Error("constant think")
	}
	c.Arrival = Poisson
	g = NewGenerator(c, 1, sim.NewStream(1, "w"))
	var sum time.Duration
	const n = 20000
	for i := 0; i < n; i++ {
		sum += g.Think()
	}
	// Exponential mean 10ms, sd 10ms: the mean of n draws has sd 10ms/√n.
	if mean := sum / n; math.Abs(float64(mean-10*time.Millisecond)) > 5*float64(10*time.Millisecond)/math.Sqrt(n) {
		t.Errorf("mean think %v, want 10ms", mean)
	}
	got := [][]int{c.Loops(0, 2), c.Loops(1, 2)}
	if len(got[0]) != 3 || len(got[1]) != 2 || got[0][2] != 4 || got[1][1] != 3 {
		t.Errorf("loops %v", got)
	}
}

func TestDeterministic(t *testing.T) {
	c := DefaultConfig()
	a := NewGenerator(c, 1, sim.NewStream(3, "x"))
	b := NewGenerator(c, 1, sim.NewStream(3, "x"))
	ta, tb := sim.Time(0), sim.Time(0)
	for i := 0; i < 1000; i++ {
		ta, tb = a.Next(ta), b.Next(tb)
		if ta != tb {
			t.Fatalf("arrival %d: %v vs %v", i, ta, tb)
		}
	}
}
