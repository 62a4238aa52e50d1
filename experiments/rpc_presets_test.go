package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRPCPresetBadInput: mistakes around rpc presets and the resilience
// mechanisms are reported with the file, line, column and field path:
// an unknown preset (with a suggestion), a field the preset's mechanism
// does not have, K ≤ 1 for adaptive throttling, a negative retry cost.
func TestRPCPresetBadInput(t *testing.T) {
	src := `name: bad
duration: 5s
nodes: [client-1, db-1, api-1]
protocol:
  name: rpc
  variant: v
  variants:
    v: {preset: envoi}
  services:
    api:
      calls:
        - service: db
          preset: grcp
        - {service: db, preset: grpc, budget: {percent: 30}, throttle: {adaptive: true, k: 1}}
        - {service: db, preset: aws_standard, budget: {retry_cost: -5}}
    db: {}
  client: {service: api, preset: finagle, breaker: {failure_rate: 0.2}}
`
	_, err := Parse("bad.yaml", []byte(src), Options{})
	if err == nil {
		t.Fatal("accepted")
	}
	if !errors.Is(err, ErrBadInput) {
		t.Errorf("error %T is not bad input (exit 2)", err)
	}
	for _, w := range []string{
		`bad.yaml:8:17: protocol.variants.v.preset: unknown preset "envoi" (did you mean "envoy"?)`,
		`bad.yaml:13:19: protocol.services.api.calls[0].preset: unknown preset "grcp" (did you mean "grpc"?)`,
		`bad.yaml:14:57: protocol.services.api.calls[1].budget.percent: preset grpc's budget (kind token_bucket) has no field percent`,
		`bad.yaml:14:92: protocol.services.api.calls[1].throttle.k: must be a finite number > 1`,
		`bad.yaml:15:68: protocol.services.api.calls[2].budget.retry_cost: must be a finite number ≥ 0`,
		`bad.yaml:17:67: protocol.client.breaker.failure_rate: preset finagle's breaker (trip none) has no field failure_rate`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

// TestRealClientsExamplesRun runs the bundled real-clients experiments,
// shortened to just past the error window (one seed), into a temporary
// folder: every preset and pushback setting runs, reports the figures the
// plots show, and the plots render.
func TestRealClientsExamplesRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plots []string
	}{
		{"real-clients", []string{"amplification-db", "amplification-api", "success-window", "p99", "recovery", "load-grpc"}},
		{"real-clients-pushback", []string{"amplification-db", "success", "p99", "recovery", "honoured"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, ok := Example(tc.name)
			if !ok {
				t.Fatalf("no bundled experiment %s", tc.name)
			}
			x, err := Parse(ex.File, ex.Data, Options{Sets: []string{"duration=21s", "seeds=1"}})
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			res := mustRun(t, x, RunOptions{Out: out, Version: "test"})
			if res.PlotErr != nil {
				t.Fatalf("plots: %v", res.PlotErr)
			}
			for _, r := range res.Runs {
				for _, m := range []string{"window_amplification{tier=db}", "window_amplification{tier=api}", "window_success_ratio", "success_ratio", "latency_p99_ms", "recovery_s"} {
					if _, ok := r.Run.Metric(m); !ok {
						t.Errorf("run %d (%v): no metric %s", r.Run.Index, r.Run.Params, m)
					}
				}
				if len(r.Violations) > 0 {
					t.Errorf("run %d: violations %v", r.Run.Index, r.Violations)
				}
			}
			for _, p := range tc.plots {
				if _, err := os.Stat(filepath.Join(out, "plots", p+".png")); err != nil {
					t.Errorf("plot %s: %v", p, err)
				}
			}
		})
	}
}
