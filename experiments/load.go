package experiments

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/dsim-dev/dsim/netmodel"
	"github.com/dsim-dev/dsim/results"
	"github.com/dsim-dev/dsim/sim"
	"gopkg.in/yaml.v3"
)

// Experiment is a loaded, validated experiment: the base config and every
// sweep point, ready to run.
type Experiment struct {
	// Source is the file path or bundled name it was loaded from, as the
	// user gave it (used in replay commands).
	Source string
	// Sets are the --set overrides applied, in order.
	Sets []string
	// Config is the config without the sweep applied, defaults filled.
	Config Config
	// Points are the sweep points (one when nothing is swept).
	Points []Point
	// Resolved is the resolved config as YAML: every default filled,
	// overrides applied, the sweep kept as written.
	Resolved []byte
	// Warnings are settings that are legal but have no effect (a fault
	// scheduled after the end of the run), located like problems; the
	// CLI prints them before running.
	Warnings []Problem
	// checkAt locates each check's metric in the file.
	checkAt []Problem
	// pinned maps paths set with --set to their values as written, so
	// that checks restricted to sweep values still apply when a replay
	// command pins the swept path.
	pinned map[string]string
}

// Point is one sweep point: the parameter values and the config they give.
type Point struct {
	// Index numbers the points from 0 in sweep order.
	Index int
	// Params are the swept parameters' values, formatted as written.
	Params results.Params
	// Config is the base config with the point's values applied.
	Config Config
}

// Options change what Load reads.
type Options struct {
	// Sets are "path=value" overrides applied on top of the file, in
	// order. Setting a swept path pins it: it is no longer swept.
	Sets []string
}

// maxFileBytes bounds the size of an experiment file.
const maxFileBytes = 4 << 20

// Load reads an experiment from a file, or from the bundled examples when
// source is the name of one and no such file exists.
func Load(source string, opts Options) (*Experiment, error) {
	data, err := readConfigFile(source)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if ex, ok := Example(source); ok {
				x, lerr := Parse(ex.File, ex.Data, opts)
				if x != nil {
					x.Source = source
				}
				return x, lerr
			}
			return nil, badInput("%s: no such file and no bundled experiment of that name (see 'dsim examples')", source)
		}
		if errors.Is(err, ErrBadInput) {
			return nil, err
		}
		return nil, badInput("read %s: %w", source, err)
	}
	x, err := Parse(source, data, opts)
	if err != nil {
		return nil, err
	}
	// Empirical latency files are relative to the experiment file.
	dir := filepath.Dir(source)
	x.Config.Network.ResolveFiles(dir)
	ps := &problems{file: source}
	for i := range x.Points {
		c := &x.Points[i].Config
		c.Network.ResolveFiles(dir)
		if !hasFiles(c.Network) {
			continue
		}
		// Read the files now, so that a missing or malformed one is bad
		// input rather than a failed run.
		if _, err := netmodel.New(c.Network, c.Faults); err != nil {
			addFieldErrors(ps, nil, err, nil)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return x, nil
}

// fixFlowError places an unclosed flow collection ('[' or '{') at its
// opening bracket. yaml.v3 reports such a parser error at the 0-based
// line of the collection's start, one line early, and without a column.
func fixFlowError(p *Problem, data []byte) {
	var closer byte
	switch {
	case strings.Contains(p.Msg, "did not find expected ',' or ']'"):
		closer = ']'
	case strings.Contains(p.Msg, "did not find expected ',' or '}'"):
		closer = '}'
	default:
		return
	}
	opener := byte('[')
	if closer == '}' {
		opener = '{'
	}
	line := p.Line + 1
	p.Line, p.Column = line, 0
	if col := unclosedOn(data, line, opener); col > 0 {
		p.Column = col
	} else if col := unclosedOn(data, 1, opener); col > 0 {
		// A collection opened on the first line: yaml.v3 then gives the
		// line where it gave up instead.
		p.Line, p.Column = 1, col
	}
	p.Msg = fmt.Sprintf("this '%c' is never closed: %s", opener, p.Msg)
}

// unclosedOn returns the 1-based column of the outermost bracket of kind
// opener on the given line that is still open where the text ends, or 0.
// Quoted strings and comments are skipped.
func unclosedOn(data []byte, line int, opener byte) int {
	type open struct {
		ch        byte
		line, col int
	}
	var stack []open
	ln, col := 1, 0
	var quote byte
	comment := false
	for i := 0; i < len(data); i++ {
		ch := data[i]
		col++
		if ch == '\n' {
			ln, col, comment = ln+1, 0, false
			continue
		}
		switch {
		case comment:
		case quote != 0:
			if ch == '\\' && quote == '"' {
				i++
				col++
			} else if ch == quote {
				quote = 0
			}
		case ch == '#' && (i == 0 || data[i-1] == ' ' || data[i-1] == '\t'):
			comment = true
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '[' || ch == '{':
			stack = append(stack, open{ch, ln, col})
		case (ch == ']' || ch == '}') && len(stack) > 0:
			stack = stack[:len(stack)-1]
		}
	}
	for _, o := range stack {
		if o.line == line && o.ch == opener {
			return o.col
		}
	}
	return 0
}

// readConfigFile reads an experiment file of at most maxFileBytes. It
// refuses anything but a regular file before opening it, so that a
// device (/dev/zero) cannot exhaust memory and a FIFO cannot block, and it
// never reads more than the limit, whatever the file claims its size is.
func readConfigFile(source string) ([]byte, error) {
	st, err := os.Stat(source)
	if err != nil {
		return nil, err
	}
	if what := results.NotRegular(st.Mode()); what != "" {
		return nil, badInput("%s: is %s, not an experiment file", source, what)
	}
	if st.Size() > maxFileBytes {
		return nil, badInput("%s: file is larger than %d bytes", source, maxFileBytes)
	}
	f, err := os.Open(source)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileBytes {
		return nil, badInput("%s: file is larger than %d bytes", source, maxFileBytes)
	}
	return data, nil
}

func hasFiles(n NetworkConfig) bool {
	var walk func(d *netmodel.DistSpec) bool
	walk = func(d *netmodel.DistSpec) bool {
		if d == nil {
			return false
		}
		if d.File != "" {
			return true
		}
		for i := range d.Of {
			if walk(&d.Of[i]) {
				return true
			}
		}
		return false
	}
	if walk(&n.Latency) {
		return true
	}
	for _, l := range n.Links {
		if walk(l.Latency) {
			return true
		}
	}
	return false
}

var yamlLineRE = regexp.MustCompile(`line (\d+)(?:, column (\d+))?: `)

// Parse loads an experiment from YAML text; file names it in messages.
// Every problem of the file is reported at once in a *LoadError.
func Parse(file string, data []byte, opts Options) (*Experiment, error) {
	ps := &problems{file: file}
	if len(data) > maxFileBytes {
		ps.at(nil, "", "file is larger than %d bytes", maxFileBytes)
		return nil, ps.err()
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		p := Problem{File: file, Msg: cleanYAMLError(err)}
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Column, _ = strconv.Atoi(m[2])
		}
		if p.Msg == "EOF" {
			p.Msg = "empty file: an experiment needs at least protocol.name"
		}
		fixFlowError(&p, data)
		return nil, &LoadError{Problems: []Problem{p}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		ps.at(&extra, "", "more than one YAML document; an experiment file holds one")
		return nil, ps.err()
	}
	if err := checkExpansion(&doc, ps); err != nil {
		return nil, err
	}
	root := resolve(&doc)
	if root == nil || isNull(root) {
		ps.at(nil, "", "empty file: an experiment needs at least protocol.name")
		return nil, ps.err()
	}
	if root.Kind != yaml.MappingNode {
		ps.at(root, "", "want a mapping of experiment fields, got %s", kindName(root))
		return nil, ps.err()
	}
	root = copyNode(root)

	// Overrides: checked against the schema, then written into the tree.
	setProbs := &problems{file: "--set"}
	pinned := map[string]string{}
	for _, s := range opts.Sets {
		if path, val, ok := applySet(root, s, setProbs); ok {
			pinned[path] = val
		}
	}
	if err := setProbs.err(); err != nil {
		return nil, err
	}

	c := &checker{probs: ps}
	c.walk(root, reflect.TypeOf(Config{}), "")
	sweepNode := resolve(mapValue(root, "sweep"))
	before := len(ps.list)
	checkSweep(c, root, sweepNode)
	if len(ps.list) > before && sweepNode != nil {
		c.mark(sweepNode, "sweep")
	}
	// Values that failed are pruned so that the rest of the file can
	// still be decoded and validated: every problem is reported at once.
	c.prune(root)
	sweepNode = resolve(mapValue(root, "sweep"))

	base := DefaultConfig()
	if err := root.Decode(&base); err != nil {
		ps.at(root, "", "%s", cleanYAMLError(err))
		return nil, ps.err()
	}
	x := &Experiment{Source: file, Sets: opts.Sets, Config: base, pinned: pinned}
	for i := range base.Checks {
		p := fmt.Sprintf("checks[%d].metric", i)
		n := nodeAt(root, p)
		x.checkAt = append(x.checkAt, Problem{File: file, Line: n.Line, Column: n.Column, Path: p})
	}
	if n := runCount(base); n > int64(max(base.Limits.MaxRuns, 1)) {
		ps.at(sweepNode, "sweep", "%d runs (points × seeds) exceed limits.max_runs %d", n, base.Limits.MaxRuns)
		return nil, ps.err()
	}
	ws := &problems{file: file}
	if n := pointCount(base); n > MaxPoints {
		ps.at(sweepNode, "sweep", "%d sweep points exceed %d; split the sweep into several experiments", n, MaxPoints)
		return nil, ps.err()
	}
	// Each point copies the file without its sweep section: copying the
	// sweep lists into every point would make loading quadratic in
	// their length.
	pbase := withoutKey(root, "sweep")
	combos := pointsOf(base.Sweep, base.SweepMode, base.Limits.MaxRuns)
	for i, combo := range combos {
		proot := root
		pt := Point{Index: i}
		if len(combo) > 0 {
			proot = copyNode(pbase)
			for j, v := range combo {
				sp := base.Sweep[j]
				setNode(proot, pathSegments(sp.Path), copyNode(v))
				pt.Params = append(pt.Params, results.Param{Name: sp.Path, Value: nodeText(v)})
			}
		}
		cfg := DefaultConfig()
		if err := proot.Decode(&cfg); err != nil {
			ps.at(proot, "", "%s", cleanYAMLError(err))
			continue
		}
		cfg.Sweep = base.Sweep
		if err := cfg.Validate(); err != nil {
			addFieldErrors(ps, proot, err, c.under)
		} else {
			checkSelectors(ps, proot, &cfg)
			warnings(ws, proot, &cfg)
		}
		if !c.under("sweep") {
			crossCheck(ps, proot, &cfg, pinned)
		}
		pt.Config = cfg
		x.Points = append(x.Points, pt)
	}
	checkMetrics(ps, root, x)
	if t := base.Timeline; t != nil && int64(t.Run) >= runCount(base) {
		ps.at(nodeAt(root, "timeline.run"), "timeline.run", "run %d does not exist: the experiment has %d runs", t.Run, runCount(base))
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	res, err := yaml.Marshal(&base)
	if err != nil {
		return nil, fmt.Errorf("encode resolved config: %w", err)
	}
	x.Resolved = res
	if len(ws.list) > 0 {
		x.Warnings = ws.err().(*LoadError).Problems
	}
	return x, nil
}

// MaxNodes bounds the YAML nodes of an experiment file once its aliases
// are expanded. Real experiments have a few thousand; the bound stops a
// few hundred bytes of nested anchors and aliases ("billion laughs") from
// expanding into gigabytes before anything else is checked.
const MaxNodes = 250_000

// checkExpansion counts the nodes of the document with every alias
// expanded, without expanding anything (each node's expanded size is
// computed once), and refuses an alias that contains itself or a document
// that would expand beyond MaxNodes.
func checkExpansion(doc *yaml.Node, ps *problems) error {
	memo := map[*yaml.Node]int{}
	active := map[*yaml.Node]bool{}
	var size func(n *yaml.Node) int
	size = func(n *yaml.Node) int {
		if n == nil {
			return 0
		}
		if v, ok := memo[n]; ok {
			return v
		}
		if active[n] {
			ps.at(n, "", "anchor &%s contains an alias to itself", n.Anchor)
			return MaxNodes + 1
		}
		active[n] = true
		total := 1
		if n.Kind == yaml.AliasNode {
			total += size(n.Alias)
		}
		for _, e := range n.Content {
			if total > MaxNodes {
				break
			}
			total += size(e)
		}
		total = min(total, MaxNodes+1)
		active[n] = false
		memo[n] = total
		return total
	}
	before := len(ps.list)
	if size(doc) > MaxNodes && len(ps.list) == before {
		ps.at(firstAlias(doc), "", "the file expands to more than %d YAML nodes (are anchors and aliases nested?)", MaxNodes)
	}
	return ps.err()
}

// firstAlias returns the first alias node of a tree, or the tree itself.
func firstAlias(n *yaml.Node) *yaml.Node {
	var walk func(n *yaml.Node) *yaml.Node
	walk = func(n *yaml.Node) *yaml.Node {
		if n.Kind == yaml.AliasNode {
			return n
		}
		for _, e := range n.Content {
			if a := walk(e); a != nil {
				return a
			}
		}
		return nil
	}
	if a := walk(n); a != nil {
		return a
	}
	return n
}

// addFieldErrors maps Validate's FieldErrors to places in the file.
func addFieldErrors(ps *problems, root *yaml.Node, err error, skip func(string) bool) {
	var fes sim.FieldErrors
	switch v := err.(type) {
	case sim.FieldErrors:
		fes = v
	case sim.FieldError:
		fes = sim.FieldErrors{v}
	default:
		ps.at(root, "", "%v", err)
		return
	}
	for _, f := range fes {
		if skip != nil && skip(f.Path) {
			continue // already reported as a bad value
		}
		ps.at(nodeAt(root, f.Path), f.Path, "%s", f.Msg)
	}
}

// crossCheck checks what spans sections: checks and plots that name swept
// parameters.
func crossCheck(ps *problems, root *yaml.Node, cfg *Config, pinned map[string]string) {
	swept := map[string]bool{}
	for p := range pinned {
		swept[p] = true
	}
	var names []string
	for _, s := range cfg.Sweep {
		swept[s.Path] = true
		names = append(names, s.Path)
	}
	for i, ch := range cfg.Checks {
		for k := range ch.When {
			if !swept[k] {
				p := fmt.Sprintf("checks[%d].when", i)
				ps.at(keyNode(nodeAt(root, p), k), p+"."+k, "%q is not a swept parameter%s", k, suggestOrNone(k, names))
			}
		}
	}
}

func suggestOrNone(k string, names []string) string {
	if len(names) == 0 {
		return " (nothing is swept)"
	}
	return Suggest(k, names)
}

func keyNode(m *yaml.Node, key string) *yaml.Node {
	if m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i]
			}
		}
	}
	return m
}

// checkSweep checks the sweep section's shape: known paths, non-empty
// lists, values of the right type, equal lengths in zip mode.
func checkSweep(c *checker, root, sweep *yaml.Node) {
	if sweep == nil || isNull(sweep) || sweep.Kind != yaml.MappingNode {
		return
	}
	lens := map[int]bool{}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(sweep.Content); i += 2 {
		k, v := sweep.Content[i], resolve(sweep.Content[i+1])
		path := "sweep." + k.Value
		if first, dup := seen[k.Value]; dup {
			c.duplicate(k, sweep.Content[i+1], first, path)
			continue
		}
		seen[k.Value] = k
		t, err := typeAt(root, k.Value)
		if err != nil {
			c.probs.at(k, path, "%v", err)
			continue
		}
		if strings.HasPrefix(k.Value, "sweep") || k.Value == "seeds" || k.Value == "seed" || k.Value == "name" || strings.HasPrefix(k.Value, "protocol.name") {
			c.probs.at(k, path, "cannot be swept")
			continue
		}
		if v == nil || v.Kind != yaml.SequenceNode {
			c.probs.at(sweep.Content[i+1], path, "want a list of values")
			continue
		}
		if len(v.Content) == 0 {
			c.probs.at(v, path, "empty list: a swept parameter needs at least one value")
			continue
		}
		lens[len(v.Content)] = true
		for j, e := range v.Content {
			c.walk(e, t, fmt.Sprintf("%s[%d]", path, j))
		}
	}
	mode := resolve(mapValue(root, "sweep_mode"))
	if mode != nil && mode.Value == "zip" && len(lens) > 1 {
		c.probs.at(sweep, "sweep", "zip mode needs lists of equal length")
	}
}

// MaxPoints bounds the sweep points of an experiment, whatever
// limits.max_runs allows: every point holds a decoded config, so loading
// costs time and memory in proportion to the points.
const MaxPoints = 10_000

// pointCount returns the number of sweep points, saturating at 1<<40.
func pointCount(c Config) int64 {
	c.Seeds = Seeds{Count: 1}
	return runCount(c)
}

// withoutKey returns a shallow copy of mapping n without key.
func withoutKey(n *yaml.Node, key string) *yaml.Node {
	c := *n
	c.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != key {
			c.Content = append(c.Content, n.Content[i], n.Content[i+1])
		}
	}
	return &c
}

// runCount returns points × seeds, saturating at 1<<40.
func runCount(c Config) int64 {
	const limit = 1 << 40
	n := int64(max(c.Seeds.N(), 1))
	if c.SweepMode == Zip && len(c.Sweep) > 0 {
		m := len(c.Sweep[0].Values)
		for _, p := range c.Sweep {
			m = min(m, len(p.Values))
		}
		return n * int64(m)
	}
	for _, p := range c.Sweep {
		n *= int64(max(len(p.Values), 1))
		if n > limit {
			return limit
		}
	}
	return n
}

// pointsOf expands the sweep into combinations of value nodes, in order:
// grid varies the last parameter fastest. It stops at limit combinations.
func pointsOf(s Sweep, mode SweepMode, limit int) [][]*yaml.Node {
	if len(s) == 0 {
		return [][]*yaml.Node{nil}
	}
	if mode == Zip {
		n := len(s[0].Values)
		for _, p := range s {
			n = min(n, len(p.Values))
		}
		out := make([][]*yaml.Node, 0, n)
		for i := 0; i < n && i < limit; i++ {
			combo := make([]*yaml.Node, len(s))
			for j, p := range s {
				combo[j] = p.Values[i]
			}
			out = append(out, combo)
		}
		return out
	}
	out := [][]*yaml.Node{nil}
	for _, p := range s {
		var next [][]*yaml.Node
		for _, prefix := range out {
			for _, v := range p.Values {
				if len(next) > limit {
					break
				}
				combo := append(append([]*yaml.Node(nil), prefix...), v)
				next = append(next, combo)
			}
		}
		out = next
	}
	return out
}

// applySet parses one "path=value" override, checks the path against the
// schema and writes the value into the tree. Setting a swept path removes
// it from the sweep (the override pins it).
func applySet(root *yaml.Node, s string, ps *problems) (string, string, bool) {
	path, val, ok := strings.Cut(s, "=")
	path = strings.TrimSpace(path)
	if !ok || path == "" {
		ps.at(nil, "", "%q: want path=value, e.g. protocol.timeout=250ms", s)
		return "", "", false
	}
	if _, err := typeAt(root, path); err != nil {
		ps.at(nil, path, "%v", err)
		return "", "", false
	}
	var vdoc yaml.Node
	if err := yaml.Unmarshal([]byte(val), &vdoc); err != nil {
		ps.at(nil, path, "bad value %q: %s", val, cleanYAMLError(err))
		return "", "", false
	}
	if err := checkExpansion(&vdoc, &problems{file: "--set"}); err != nil {
		ps.at(nil, path, "bad value: the value expands to more than %d YAML nodes", MaxNodes)
		return "", "", false
	}
	v := resolve(&vdoc)
	if v == nil {
		v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
	}
	clearPos(v)
	if sw := resolve(mapValue(root, "sweep")); sw != nil && sw.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(sw.Content); i += 2 {
			if sw.Content[i].Value == path {
				sw.Content = append(sw.Content[:i], sw.Content[i+2:]...)
				break
			}
		}
	}
	if err := setNode(root, pathSegments(path), v); err != nil {
		ps.at(nil, path, "%v", err)
		return "", "", false
	}
	return path, nodeText(v), true
}

// setNode writes v at path, creating mappings on the way.
func setNode(n *yaml.Node, segs []string, v *yaml.Node) error {
	for i, seg := range segs {
		last := i == len(segs)-1
		if idx, ok := indexSeg(seg); ok {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return fmt.Errorf("index %s is out of range", seg)
			}
			if last {
				n.Content[idx] = v
				return nil
			}
			n = resolve(n.Content[idx])
			continue
		}
		if isNull(n) {
			*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s is not a mapping", seg)
		}
		var child *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == seg {
				if last {
					n.Content[j+1] = v
					return nil
				}
				child = resolve(n.Content[j+1])
				if child != n.Content[j+1] {
					child = copyNode(child)
					n.Content[j+1] = child
				}
				break
			}
		}
		if child == nil {
			key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: seg}
			if last {
				n.Content = append(n.Content, key, v)
				return nil
			}
			child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			n.Content = append(n.Content, key, child)
		}
		n = child
	}
	return nil
}

// copyNode deep-copies a node tree, replacing aliases by copies of what
// they point at.
func copyNode(n *yaml.Node) *yaml.Node {
	return copyDepth(n, 0)
}

func copyDepth(n *yaml.Node, depth int) *yaml.Node {
	if n == nil {
		return nil
	}
	if depth > 10000 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return copyDepth(n.Alias, depth+1)
	}
	c := *n
	c.Anchor = ""
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, e := range n.Content {
			c.Content[i] = copyDepth(e, depth+1)
		}
	}
	return &c
}

// cleanCopy copies a node without positions or comments, for output.
func cleanCopy(n *yaml.Node) *yaml.Node {
	c := copyNode(n)
	clearPos(c)
	return c
}

func clearPos(n *yaml.Node) {
	n.Line, n.Column = 0, 0
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, e := range n.Content {
		clearPos(e)
	}
}

// nodeText formats a sweep value as written: the scalar itself, or the
// flow-style YAML of a list or mapping.
func nodeText(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	c := cleanCopy(n)
	setFlow(c)
	b, err := yaml.Marshal(c)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

func setFlow(n *yaml.Node) {
	n.Style |= yaml.FlowStyle
	for _, e := range n.Content {
		setFlow(e)
	}
}
