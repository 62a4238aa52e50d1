package results

import (
	"slices"
	"testing"

	"github.com/dsim-dev/dsim/sim"
)

// TestMetricIDMatches: a name matches the metrics that have every label
// it gives, whatever their order; with every label it is Same.
func TestMetricIDMatches(t *testing.T) {
	l := func(k, v string) sim.Label { return sim.Label{Key: k, Value: v} }
	id := MetricID{"attempt_status", Labels{l("tier", "db"), l("status", "ok")}}
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"attempt_status", true},
		{"attempt_status{tier=db}", true},
		{"attempt_status{status=ok}", true},
		{"attempt_status{status=ok,tier=db}", true},
		{"attempt_status{tier=db,status=ok}", true},
		{"attempt_status{tier=api}", false},
		{"attempt_status{zone=a}", false},
		{"attempt_status{tier=db,status=ok,zone=a}", false},
		{"attempt_status_rps{tier=db}", false},
		{"attempt", false},
	} {
		if got := id.Matches(ParseID(tc.name)); got != tc.want {
			t.Errorf("%s.Matches(%s) = %v, want %v", id.FullName(), tc.name, got, tc.want)
		}
	}
}

// TestPartialNames: a timeseries plot draws, and a headline shows, every
// recorded label set that has the labels its name gives.
func TestPartialNames(t *testing.T) {
	f := fixtureFolder()
	where := map[string]string{"network.loss": "0.01", "client.retry.policy": "naive"}
	for _, tc := range []struct {
		metric string
		want   []string
	}{
		{"attempts_rps", []string{"attempts_rps{tier=api}", "attempts_rps{tier=db}"}},
		{"attempts_rps{tier=db}", []string{"attempts_rps{tier=db}"}},
		{"attempts_rps{tier=web}", nil},
	} {
		var got []string
		for _, ln := range SeriesLines(f, tc.metric, "", where) {
			got = append(got, ln.Label)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("timeseries %s: lines %q, want %q", tc.metric, got, tc.want)
		}
	}
	f.Manifest.Headline = []string{"attempts{tier=db}", "attempts", "attempts{tier=web}"}
	var got []string
	for _, c := range headlineColumns(f) {
		got = append(got, c.Name)
	}
	if want := []string{"attempts{tier=db}", "attempts{tier=api}", "attempts{tier=db}"}; !slices.Equal(got, want) {
		t.Errorf("headline columns %q, want %q", got, want)
	}
}
