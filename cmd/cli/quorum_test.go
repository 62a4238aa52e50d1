package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCapPartitionChecks: the bundled cap-partition experiment demands
// linearizability of its cp strategy only, so `dsim check` passes; a
// copy that demands it of ap too fails with exit 1 (ap's history is not
// linearizable across the partition).
func TestCapPartitionChecks(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI("check", "cap-partition", "--seeds", "1", "--out", filepath.Join(dir, "ok"))
	if code != exitOK {
		t.Fatalf("dsim check cap-partition: exit %d\n%s\n%s", code, out, errOut)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "experiments", "examples", "cap-partition.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(data), "checks:\n", "checks:\n  - {metric: linearizable, min: 1, when: {protocol.strategy: ap}}\n", 1)
	path := writeFile(t, dir, "cap-ap.yaml", src)
	code, out, errOut = runCLI("check", path, "--seeds", "1", "--out", filepath.Join(dir, "ap"))
	if code != exitFail || !strings.Contains(out+errOut, "linearizable") {
		t.Fatalf("a check demanding linearizability of ap: exit %d (want %d)\n%s\n%s", code, exitFail, out, errOut)
	}
}

// TestQuorumBadInput: impossible quorum settings are reported at their
// file, line and field, with exit 2.
func TestQuorumBadInput(t *testing.T) {
	dir := t.TempDir()
	base := `name: q
duration: 1s
nodes: ["s{1..3}", "c"]
protocol:
  name: quorum
  stores: [s1, s2, s3]
  clients: [c]
`
	cases := []struct{ extra, want string }{
		{"  n: 3\n  r: 4\n", ":9:6: protocol.r: must be in [1, n=3]"},
		{"  n: 3\n  w: 0\n", ":9:6: protocol.w: must be in [1, n=3]"},
		{"  n: 4\n", ":8:6: protocol.n: is 4 but only 3 store nodes"},
		{"  merge: crdt\n", ":8:10: protocol.merge"},
		{"  strategy: quorate\n", ":8:13: protocol.strategy"},
		{"  t_visibility: [1ms, -5ms]\n", "protocol.t_visibility[1]: must not be negative"},
		{"  key_dist: zipf\n  zipf_exponent: 0\n", ":9:18: protocol.zipf_exponent"},
	}
	for i, tc := range cases {
		path := writeFile(t, dir, "bad"+string(rune('a'+i))+".yaml", base+tc.extra)
		code, _, errOut := runCLI("validate", path)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.extra, code, errOut, exitUsage, tc.want)
		}
	}
}
