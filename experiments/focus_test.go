package experiments

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// A run that breaks a history invariant gets a timeline centred on the
// offending message: its attempts, acks and the crash between apply and
// ack, not the first events of the run.
func TestTimelineCentresOnViolation(t *testing.T) {
	const src = `name: focus
duration: 3s
seeds: 1
nodes: [client, server]
network:
  latency: {dist: constant, value: 1ms}
protocol:
  name: delivery
  senders: [client]
  receivers: [server]
  semantics: idempotency_keys
  ack_timeout: 20ms
  liveness: 1s
  dedupe: {store: volatile}
  crash_points: [{at_event: after_apply, node: receiver, nth: 7, down_for: 200ms}]
workload: {rate: 50/s}
timeline: {run: 0}
`
	x := mustParse(t, src)
	res, err := Run(context.Background(), x, RunOptions{Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	rr := res.Runs[0]
	if len(rr.Violations) == 0 {
		t.Fatal("no violation: the crash point did not produce a duplicate")
	}
	m := regexp.MustCompile(`message (\d+) applied twice`).FindStringSubmatch(rr.Violations[0].Msg)
	if m == nil {
		t.Fatalf("violation %q names no message", rr.Violations[0].Msg)
	}
	svg := string(rr.TimelineSVG)
	ids := map[string]bool{}
	for _, l := range regexp.MustCompile(`(?:msg|ack) (\d+)`).FindAllStringSubmatch(svg, -1) {
		ids[l[1]] = true
	}
	if len(ids) != 1 || !ids[m[1]] {
		t.Fatalf("timeline shows messages %v, want only %s", ids, m[1])
	}
	for _, want := range []string{"crash point after_apply", "violation: no_duplicate_effects", "into the run"} {
		if !strings.Contains(svg, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
}
