package experiments

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"

	"github.com/dsim-dev/dsim/protocols"
	"github.com/dsim-dev/dsim/sim"
)

var rangeRE = regexp.MustCompile(`\{(\d+)\.\.(\d+)\}`)

// maxExpand bounds what one nodes entry may expand to: as many names as
// a run may have nodes.
const maxExpand = sim.DefaultMaxNodes

// ExpandNodes expands node-name patterns: "eu-{1..3}" is eu-1, eu-2,
// eu-3; a name without braces stands for itself.
func ExpandNodes(patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		names, err := expandOne(p)
		if err != nil {
			return nil, err
		}
		out = append(out, names...)
	}
	return out, nil
}

func expandOne(p string) ([]string, error) {
	loc := rangeRE.FindStringSubmatchIndex(p)
	if loc == nil {
		return []string{p}, nil
	}
	lo, err1 := strconv.Atoi(p[loc[2]:loc[3]])
	hi, err2 := strconv.Atoi(p[loc[4]:loc[5]])
	if err1 != nil || err2 != nil || lo > hi || hi-lo >= maxExpand {
		return nil, fmt.Errorf("bad range in %q: want {lo..hi} with lo ≤ hi and at most %d names", p, maxExpand)
	}
	rest, err := expandOne(p[loc[1]:])
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, min((hi-lo+1)*len(rest), maxExpand+1))
	for i := lo; i <= hi; i++ {
		for _, r := range rest {
			out = append(out, p[:loc[0]]+strconv.Itoa(i)+r)
			if len(out) > maxExpand {
				return nil, fmt.Errorf("%q expands to more than %d names", p, maxExpand)
			}
		}
	}
	return out, nil
}

// validateNodes checks the nodes section and the network's references
// to nodes.
func (c *Config) validateNodes(fe *sim.FieldErrors) {
	if len(c.Nodes) == 0 {
		fe.Add("nodes", "list at least one node, e.g. [eu-{1..2}, us-{1..2}]")
		return
	}
	names, err := ExpandNodes(c.Nodes)
	if err != nil {
		fe.Add("nodes", "%v", err)
		return
	}
	if len(names) > c.Limits.MaxNodes {
		fe.Add("nodes", "%d nodes exceed limits.max_nodes %d", len(names), c.Limits.MaxNodes)
		return
	}
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if n == "" {
			fe.Add(fmt.Sprintf("nodes[%d]", i), "node name must not be empty")
		}
		if seen[n] {
			fe.Add("nodes", "node %q is listed twice", n)
		}
		seen[n] = true
	}
	fe.Merge("network", c.Network.ValidateNodes(names))
	fe.Merge("faults", c.Faults.ValidateNodes(names))
}

// placements returns the nodes with their zones, in list order.
func (c *Config) placements() []protocols.Placement {
	names, _ := ExpandNodes(c.Nodes) // cannot fail: Load checked the list
	zones := slices.Sorted(maps.Keys(c.Network.Zones))
	out := make([]protocols.Placement, len(names))
	for i, n := range names {
		out[i] = protocols.Placement{Name: n}
	zone:
		for _, z := range zones {
			for _, pat := range c.Network.Zones[z] {
				if ok, _ := path.Match(pat, n); ok || pat == n {
					out[i].Zone = z
					break zone
				}
			}
		}
	}
	return out
}
