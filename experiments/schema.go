package experiments

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dsim-dev/dsim/sim/enum"
)

// The strict checker walks the YAML node tree alongside the Go type it
// will be decoded into, so that every problem (an unknown key, a value of
// the wrong type, a bad enum) is reported at once with the line and column
// of the node, before anything is decoded.

var (
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	durationType    = reflect.TypeOf(time.Duration(0))
	protoSpecType   = reflect.TypeOf(ProtocolSpec{})
	seedsType       = reflect.TypeOf(Seeds{})
)

// checker collects problems found in one document.
type checker struct {
	probs *problems
	// bad holds the value nodes that failed, by path, so that they can be
	// pruned before the rest of the file is decoded and validated.
	bad map[*yaml.Node]string
	// blank holds the bad nodes that are elements of a mapping or a list
	// of structs: they become empty mappings (the element's defaults)
	// rather than disappear, so that the element still exists and its
	// siblings keep their indexes: a service that is not a mapping does
	// not also leave "undefined service" errors behind.
	blank map[*yaml.Node]bool
	// meant holds the paths of the fields that unknown keys were taken
	// for ("medain" for median): a check of such a field left to its
	// default would only repeat the typo, so it is not reported.
	meant []string
}

// fail reports a problem with value node n and marks it bad.
func (c *checker) fail(n *yaml.Node, path, format string, args ...any) {
	c.probs.at(n, path, format, args...)
	c.mark(n, path)
}

// mark marks value node n bad without reporting.
func (c *checker) mark(n *yaml.Node, path string) {
	if c.bad == nil {
		c.bad = map[*yaml.Node]string{}
	}
	c.bad[n] = path
}

// prune removes the bad value nodes (and their keys) from the tree.
func (c *checker) prune(n *yaml.Node) {
	if n == nil || len(c.bad) == 0 {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, e := range n.Content {
			c.prune(e)
		}
	case yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if r := resolve(v); c.isBad(v) || c.isBad(r) {
				if !c.blank[r] {
					continue
				}
				v = blankOf(r)
			}
			c.prune(v)
			kept = append(kept, k, v)
		}
		n.Content = kept
	case yaml.SequenceNode:
		kept := n.Content[:0]
		for _, e := range n.Content {
			if c.isBad(e) {
				if !c.blank[e] {
					continue
				}
				e = blankOf(e)
			}
			c.prune(e)
			kept = append(kept, e)
		}
		n.Content = kept
	}
}

func (c *checker) isBad(n *yaml.Node) bool {
	_, bad := c.bad[n]
	return bad
}

// blankOf returns an empty mapping in n's place.
func blankOf(n *yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
}

// element checks the element e of a mapping or a list against type t,
// marking it for blanking when it fails as a whole and t is a struct.
func (c *checker) element(e *yaml.Node, t reflect.Type, path string) {
	c.walk(e, t, path)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if r := resolve(e); t.Kind() == reflect.Struct && c.isBad(r) {
		if c.blank == nil {
			c.blank = map[*yaml.Node]bool{}
		}
		c.blank[r] = true
	}
}

// under reports whether path is at or below a pruned path.
func (c *checker) under(path string) bool {
	for _, p := range c.bad {
		if p == "" || path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return slices.Contains(c.meant, path)
}

// fieldInfo describes one yaml field of a struct type.
type fieldInfo struct {
	name  string
	index []int
	typ   reflect.Type
}

// yamlFields lists a struct type's yaml fields, following ",inline".
func yamlFields(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	var visit func(t reflect.Type, index []int)
	visit = func(t reflect.Type, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("yaml")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			if strings.Contains(opts, "inline") {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					visit(ft, idx)
				}
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			out = append(out, fieldInfo{name: name, index: idx, typ: f.Type})
		}
	}
	visit(t, nil)
	return out
}

func fieldByName(t reflect.Type, name string) (fieldInfo, bool) {
	for _, f := range yamlFields(t) {
		if f.name == name {
			return f, true
		}
	}
	return fieldInfo{}, false
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for _, f := range yamlFields(t) {
		names = append(names, f.name)
	}
	return names
}

// resolve follows aliases and unwraps documents.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// walk checks node n against type t; path is the dotted yaml path of n.
func (c *checker) walk(n *yaml.Node, t reflect.Type, path string) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if t == protoSpecType {
		c.walkProtocol(n, path)
		return
	}
	if t.Kind() != reflect.Pointer && (reflect.PointerTo(t).Implements(unmarshalerType) || t == durationType) {
		if fieldwise(t) && n.Kind == yaml.MappingNode {
			// A struct with its own decoder (one that fills defaults,
			// applies a preset or accepts a shorthand) is still checked
			// key by key, so that every field is placed exactly; its
			// decoder then gets the chance to refuse what the fields
			// allow.
			before := len(c.probs.list)
			c.walkStruct(n, t, path, nil)
			if len(c.probs.list) == before {
				c.decodeCheck(n, t, path)
			}
			return
		}
		c.decodeCheck(n, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		c.walk(n, t.Elem(), path)
	case reflect.Interface:
		// Anything goes.
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.fail(n, path, "want a mapping of %s, got %s", describeFields(t), kindName(n))
			return
		}
		c.walkStruct(n, t, path, nil)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.fail(n, path, "want a mapping, got %s", kindName(n))
			return
		}
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if first, dup := seen[k.Value]; dup {
				c.duplicate(k, v, first, joinKey(path, k.Value))
				continue
			}
			seen[k.Value] = k
			c.decodeCheck(k, t.Key(), path)
			c.element(v, t.Elem(), joinKey(path, k.Value))
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			c.fail(n, path, "want a list, got %s", kindName(n))
			return
		}
		for i, e := range n.Content {
			c.element(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		if n.Kind != yaml.ScalarNode {
			c.fail(n, path, "want %s, got %s", typeWord(t), kindName(n))
			return
		}
		if isIntKind(t.Kind()) && n.ShortTag() == "!!float" {
			// yaml.v3 would truncate 1.5 to 1 without a word.
			if f, err := strconv.ParseFloat(n.Value, 64); err != nil || f != math.Trunc(f) {
				c.fail(n, path, "want %s, got %s", typeWord(t), n.Value)
				return
			}
		}
		c.decodeCheck(n, t, path)
	}
}

// defaulter is a config type whose zero value is not its default (rpc's
// services and calls): each element of a mapping or a list of it starts
// from SetDefaults before its keys are decoded over it. The JSON schema
// and the config reference show those defaults.
type defaulter interface{ SetDefaults() }

var defaulterType = reflect.TypeOf((*defaulter)(nil)).Elem()

// elemDefault returns a new element of type t holding its defaults, or
// the invalid Value when t has no SetDefaults.
func elemDefault(t reflect.Type) reflect.Value {
	if t.Kind() == reflect.Pointer || !reflect.PointerTo(t).Implements(defaulterType) {
		return reflect.Value{}
	}
	v := reflect.New(t)
	v.Interface().(defaulter).SetDefaults()
	return v.Elem()
}

// fieldwise reports whether a type with its own decoder takes its yaml
// fields as a mapping, like a plain struct: every struct type but Seeds
// (a count or a list) and the protocol section (checked by walkProtocol).
// The JSON schema makes the same assumption.
func fieldwise(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t != seedsType && t != protoSpecType
}

func isIntKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func (c *checker) walkStruct(n *yaml.Node, t reflect.Type, path string, extra []string) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			c.probs.at(k, path, "want a field name, got %s", kindName(k))
			c.mark(v, path)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			c.duplicate(k, v, first, joinKey(path, k.Value))
			continue
		}
		seen[k.Value] = k
		if slices.Contains(extra, k.Value) {
			continue
		}
		f, ok := fieldByName(t, k.Value)
		if !ok {
			known := append(fieldNames(t), extra...)
			c.probs.at(k, joinKey(path, k.Value), "unknown field %q%s", k.Value, Suggest(k.Value, known))
			// Pruned, so that a decoder that refuses unknown keys
			// does not report it a second time.
			c.mark(v, joinKey(path, k.Value))
			if best, ok := enum.Closest(k.Value, known); ok && mapValue(n, best) == nil {
				c.meant = append(c.meant, joinKey(path, best))
			}
			continue
		}
		c.walk(v, f.typ, joinKey(path, k.Value))
	}
}

// duplicate reports key k repeated (first seen at first) and prunes the
// repeat, so that decoding does not report it a second time.
func (c *checker) duplicate(k, v, first *yaml.Node, path string) {
	c.probs.at(k, path, "duplicate key %q (first at line %d)", k.Value, first.Line)
	// The path matches no field, so that problems of the first
	// occurrence are still reported.
	c.mark(v, "\x00duplicate")
}

// walkProtocol checks a protocol section: its name picks the config type
// against which the other keys are checked.
func (c *checker) walkProtocol(n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode {
		c.fail(n, path, "want a mapping with a name and the protocol's settings, got %s", kindName(n))
		return
	}
	nameNode := mapValue(n, "name")
	if nameNode == nil || nameNode.Kind != yaml.ScalarNode || nameNode.Value == "" {
		c.probs.at(n, joinKey(path, "name"), "missing protocol name (one of: %s)", strings.Join(ProtocolNames(), ", "))
		c.mark(n, path)
		return
	}
	p, ok := LookupProtocol(nameNode.Value)
	if !ok {
		c.probs.at(nameNode, joinKey(path, "name"), "unknown protocol %q%s", nameNode.Value, Suggest(nameNode.Value, ProtocolNames()))
		c.mark(n, path)
		return
	}
	t := reflect.TypeOf(p.DefaultConfig())
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	c.walkStruct(n, t, path, []string{"name"})
}

var lineRE = regexp.MustCompile(`^(yaml: )?(unmarshal errors:\s*)?(line \d+: )?`)

// decodeCheck decodes n into a fresh value of type t and reports the error.
func (c *checker) decodeCheck(n *yaml.Node, t reflect.Type, path string) {
	v := reflect.New(t)
	if err := n.Decode(v.Interface()); err != nil {
		msg := cleanYAMLError(err)
		if t == durationType && n.Kind != yaml.ScalarNode {
			msg = fmt.Sprintf("want a duration (e.g. \"250ms\", \"1.5s\"), got %s", kindName(n))
		} else if t == durationType {
			msg = fmt.Sprintf("%q is not a duration (want e.g. \"250ms\", \"1.5s\")", n.Value)
		} else if strings.Contains(msg, "cannot unmarshal") && fieldwise(t) {
			msg = fmt.Sprintf("want a mapping of %s, got %s", describeFields(t), kindName(n))
		} else if strings.Contains(msg, "cannot unmarshal") {
			msg = fmt.Sprintf("want %s, got %s", typeWord(t), kindName(n))
		}
		c.fail(n, path, "%s", msg)
	}
}

// cleanYAMLError strips yaml.v3's "line N:" prefixes: problems carry their
// own file:line:column.
func cleanYAMLError(err error) string {
	msg := err.Error()
	var parts []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		l = lineRE.ReplaceAllString(l, "")
		l = strings.TrimSpace(lineRE.ReplaceAllString(l, ""))
		if l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

func typeWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return "a " + t.String()
}

func describeFields(t reflect.Type) string {
	names := fieldNames(t)
	if len(names) > 6 {
		names = append(names[:6], "...")
	}
	return "fields (" + strings.Join(names, ", ") + ")"
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Suggest returns ` (did you mean "x"?)` for the closest known name
// (enum.Closest), or a list of the known names when none is close.
func Suggest(got string, known []string) string {
	best, ok := enum.Closest(got, known)
	if best == "" {
		return ""
	}
	if ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return " (known: " + strings.Join(sorted, ", ") + ")"
}

// pathSegments splits "a.b[2].c" into ["a", "b", "[2]", "c"].
func pathSegments(path string) []string {
	var segs []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			switch {
			case i < 0:
				segs = append(segs, part)
				part = ""
			case i > 0:
				segs = append(segs, part[:i])
				part = part[i:]
			default:
				j := strings.IndexByte(part, ']')
				if j < 0 {
					segs = append(segs, part)
					part = ""
				} else {
					segs = append(segs, part[:j+1])
					part = part[j+1:]
				}
			}
		}
	}
	return segs
}

func indexSeg(seg string) (int, bool) {
	if len(seg) < 3 || seg[0] != '[' || seg[len(seg)-1] != ']' {
		return 0, false
	}
	i, err := strconv.Atoi(seg[1 : len(seg)-1])
	return i, err == nil && i >= 0
}

// nodeAt returns the deepest node of the tree along path, so a problem
// with a field left to its default points at its parent section.
func nodeAt(root *yaml.Node, path string) *yaml.Node {
	n := resolve(root)
	for _, seg := range pathSegments(path) {
		var next *yaml.Node
		if i, ok := indexSeg(seg); ok {
			if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
				next = resolve(n.Content[i])
			}
		} else if v := mapValue(n, seg); v != nil {
			next = resolve(v)
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// typeAt returns the Go type of the config field at path, or an error
// naming the first segment that does not exist. root supplies the
// protocol name for paths inside the protocol section.
func typeAt(root *yaml.Node, path string) (reflect.Type, error) {
	t := reflect.TypeOf(Config{})
	var n *yaml.Node = resolve(root)
	done := ""
	for _, seg := range pathSegments(path) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == protoSpecType {
			if seg == "name" {
				t = reflect.TypeOf("")
				done = joinKey(done, seg)
				n = nil
				continue
			}
			nameNode := resolve(mapValue(n, "name"))
			if nameNode == nil {
				return nil, fmt.Errorf("%s: set %s.name first", path, done)
			}
			p, ok := LookupProtocol(nameNode.Value)
			if !ok {
				return nil, fmt.Errorf("unknown protocol %q%s", nameNode.Value, Suggest(nameNode.Value, ProtocolNames()))
			}
			t = reflect.TypeOf(p.DefaultConfig())
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
		}
		if i, ok := indexSeg(seg); ok {
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil, fmt.Errorf("%s is not a list", done)
			}
			t = t.Elem()
			if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
				n = resolve(n.Content[i])
			} else {
				n = nil
			}
			done += seg
			continue
		}
		switch {
		case t.Kind() == reflect.Struct:
			f, ok := fieldByName(t, seg)
			if !ok {
				where := "the config"
				if done != "" {
					where = done
				}
				return nil, fmt.Errorf("%s has no field %q%s", where, seg, Suggest(seg, fieldNames(t)))
			}
			t = f.typ
		case t.Kind() == reflect.Map:
			t = t.Elem()
		case t.Kind() == reflect.Interface:
			// Free-form: any deeper path is allowed.
			return t, nil
		default:
			return nil, fmt.Errorf("%s is a value, it has no field %q", done, seg)
		}
		n = resolve(mapValue(n, seg))
		done = joinKey(done, seg)
	}
	return t, nil
}
