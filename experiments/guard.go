package experiments

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dsim-dev/dsim/protocols"
	"gopkg.in/yaml.v3"
)

// The load-time guards: what a single section's Validate cannot see
// because it spans sections (a protocol's node selectors against the
// topology; a check's metric against what the protocol records is in
// metricnames.go), and warnings for settings that are legal but do
// nothing.

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
				if !f.IsExported() || f.Tag.Get("dsim") != selectorTag && !mayHoldSelector(f.Type) {
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
			if !mayHoldSelector(v.Type().Elem()) {
				return
			}
			keys := v.MapKeys()
			sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
			for _, k := range keys {
				visit(v.MapIndex(k), joinKey(path, fmt.Sprint(k)))
			}
		case reflect.Slice, reflect.Array:
			if !mayHoldSelector(v.Type().Elem()) {
				return
			}
			for i := 0; i < v.Len(); i++ {
				visit(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	visit(reflect.ValueOf(cfg.Protocol.Config), "protocol")
}

// selectorTypes caches mayHoldSelector: reflect.Type -> bool.
var selectorTypes sync.Map

// mayHoldSelector reports whether a value of type t can contain a
// selector field, so that checkSelectors walks (and names the paths of)
// only those parts of a config: a sweep of thousands of points decodes
// and checks each point's config.
func mayHoldSelector(t reflect.Type) bool {
	if v, ok := selectorTypes.Load(t); ok {
		return v.(bool)
	}
	// A recursive type sees itself as "may" while it is being looked at.
	selectorTypes.Store(t, true)
	may := false
	switch t.Kind() {
	case reflect.Interface:
		may = true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		may = mayHoldSelector(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField() && !may; i++ {
			f := t.Field(i)
			may = f.IsExported() && (f.Tag.Get("dsim") == selectorTag || mayHoldSelector(f.Type))
		}
	}
	selectorTypes.Store(t, may)
	return may
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
