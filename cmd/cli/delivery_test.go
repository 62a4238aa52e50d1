package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestExactlyOncePair: the durable twin passes `dsim check`; the volatile
// one fails with the seed, the message ids and a replay line, and the
// replayed run (checked) fails the same way on the same message.
func TestExactlyOncePair(t *testing.T) {
	t.Chdir(t.TempDir()) // the replay line writes its own out/ folder
	code, stdout, stderr := runCLI("check", "exactly-once-durable", "--quiet")
	if code != exitOK {
		t.Fatalf("durable: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI("check", "exactly-once-volatile", "--quiet")
	if code != exitFail {
		t.Fatalf("volatile: exit %d (want %d)\n%s\n%s", code, exitFail, stdout, stderr)
	}
	m := regexp.MustCompile(`FAIL invariant no_duplicate_effects: run \d+, seed (\d+): .*?message (\d+) applied twice[^\n]*\n  replay: (dsim check [^\n]+)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no seed, message id and replay line in:\n%s", stdout)
	}
	seed, id, replay := m[1], m[2], strings.Fields(m[3])
	if !strings.Contains(m[3], "--seed "+seed) {
		t.Fatalf("replay %q does not pin seed %s", m[3], seed)
	}
	// The replay line reproduces the failure.
	args := replay[1:]
	code, stdout, _ = runCLI(append(args, "--quiet")...)
	if code != exitFail || !strings.Contains(stdout, "message "+id+" applied twice") || !strings.Contains(stdout, "seed "+seed) {
		t.Fatalf("replay %v: exit %d\n%s", args, code, stdout)
	}
}

// TestDeliveryBadInput: each bad setting is one message naming the file,
// line and field; exit 2; nothing written.
func TestDeliveryBadInput(t *testing.T) {
	const base = `name: bad
duration: 2s
nodes: [client, server]
protocol:
  name: delivery
  senders: [client]
  receivers: [server]
  %s
workload: {rate: 10/s}
`
	dir := t.TempDir()
	for _, tc := range []struct {
		name, line, want string
	}{
		{"semantics", "semantics: exactly_once", `:8:14: protocol.semantics: unknown semantics "exactly_once" (one of: at_most_once, at_least_once, idempotency_keys, sequence_numbers, transactional_outbox)`},
		{"ttl", "dedupe: {ttl: 0s}", `:8:17: protocol.dedupe.ttl: must be positive`},
		{"size", "dedupe: {max_keys: -5}", `:8:22: protocol.dedupe.max_keys: must be positive`},
		{"window", "window: 0", `:8:11: protocol.window: must be at least 1`},
		{"node", "crash_points: [{at_event: after_apply, node: srv, nth: 3, down_for: 1s}]", `:8:48: protocol.crash_points[0].node: "srv" is not a node of the topology`},
		{"event", "crash_points: [{at_event: before_ack, node: server, nth: 3, down_for: 1s}]", `:8:29: protocol.crash_points[0].at_event: unknown crash point "before_ack" (one of: on_deliver, after_apply, after_write, after_send)`},
		{"case", "case: meteor", `:8:9: protocol.case: "meteor" is not a failure case`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, dir, tc.name+".yaml", strings.Replace(base, "%s", tc.line, 1))
			out := filepath.Join(dir, "out-"+tc.name)
			code, _, stderr := runCLI("run", file, "--out", out, "--quiet")
			if code != exitUsage || !strings.Contains(stderr, tc.name+".yaml"+tc.want) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant %q", code, exitUsage, stderr, tc.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
				t.Errorf("more than one message:\n%s", stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output folder written: %v", err)
			}
		})
	}
}
