package experiments

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dsim-dev/dsim/sim/simtest"
)

// docs/config.md documents every field of the experiment schema. Its
// reference part, between the GENERATED markers, is produced from the
// schema itself (the Go types, their yaml tags, their doc comments and
// DefaultConfig), so it cannot drift: TestConfigDoc fails when the file
// and the schema disagree. After changing the schema, regenerate with
// (sim/simtest's -rewrite flag)
//
//	go test ./experiments -run TestConfigDoc -rewrite

const (
	docFile     = "../docs/config.md"
	beginMarker = "<!-- BEGIN GENERATED: go test ./experiments -run TestConfigDoc -rewrite -->"
	endMarker   = "<!-- END GENERATED -->"
	modulePath  = "github.com/dsim-dev/dsim"
)

func TestConfigDoc(t *testing.T) {
	gen := generateReference(t)
	b, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, beginMarker), strings.Index(doc, endMarker)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the GENERATED markers", docFile)
	}
	simtest.Golden(t, docFile, doc[:i+len(beginMarker)]+gen+doc[j:])
}

// TestConfigDocCoversEveryField checks the generated rows against the
// loader's own view of the schema: every path typeAt accepts for a sample
// of leaves is documented.
func TestConfigDocCoversEveryField(t *testing.T) {
	gen := generateReference(t)
	root := &yaml.Node{}
	_ = yaml.Unmarshal([]byte("protocol: {name: echo}\n"), root)
	for _, f := range yamlFields(reflect.TypeOf(Config{})) {
		if _, err := typeAt(root, f.name); err != nil {
			t.Errorf("typeAt(%s): %v", f.name, err)
		}
		if !strings.Contains(gen, "`"+f.name+"`") && !strings.Contains(gen, "`"+f.name+".") {
			t.Errorf("field %s is not documented", f.name)
		}
	}
}

// comments maps "pkgpath.Type.Field" to the field's doc comment.
type comments map[string]string

func loadComments(t *testing.T, pkgs []string) comments {
	c := comments{}
	fset := token.NewFileSet()
	for _, pkg := range pkgs {
		dir := filepath.Join("..", strings.TrimPrefix(strings.TrimPrefix(pkg, modulePath), "/"))
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(af, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok {
					return true
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					return true
				}
				for _, fl := range st.Fields.List {
					text := fl.Doc.Text()
					if text == "" {
						text = fl.Comment.Text()
					}
					for _, name := range fl.Names {
						c[pkg+"."+ts.Name.Name+"."+name.Name] = strings.Join(strings.Fields(text), " ")
					}
				}
				return true
			})
		}
	}
	return c
}

type docRow struct{ path, typ, def, doc string }

type docGen struct {
	c     comments
	rows  []docRow
	stack []reflect.Type
	// first maps struct types to the path where their fields were
	// documented, so that repeats (every latency distribution) point there.
	first map[reflect.Type]string
}

// docOverrides replace field docs that would mislead in an experiment
// file.
var docOverrides = map[string]string{
	"metrics.warmup": "Leave unset: the top-level warmup sets it.",
}

var sweepType = reflect.TypeOf(Sweep{})

func typeLabel(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType || t.Name() == "Duration":
		return "duration"
	case t.Name() == "Rate":
		return "rate"
	case t == seedsType:
		return "integer or list"
	case t == sweepType:
		return "mapping path → list"
	case t.Kind() != reflect.Struct && reflect.PointerTo(t).Implements(unmarshalerType) || t.Name() == "PlotKind":
		return "enum"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint64, reflect.Uint32, reflect.Uint:
		return "integer"
	case reflect.Float64, reflect.Float32:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "list of " + typeLabel(t.Elem())
	case reflect.Map:
		return "mapping of " + typeLabel(t.Elem())
	case reflect.Struct:
		return "mapping"
	}
	return t.String()
}

// defaultText formats a default value as YAML.
func defaultText(v reflect.Value) string {
	if !v.IsValid() {
		return ""
	}
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return ""
	}
	if (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0 {
		return ""
	}
	if v.Kind() == reflect.Struct && v.Type() != seedsType {
		return ""
	}
	if v.Type() == durationType {
		if v.Int() == 0 {
			return ""
		}
		return "`" + time.Duration(v.Int()).String() + "`"
	}
	var n yaml.Node
	if err := n.Encode(v.Interface()); err != nil {
		return ""
	}
	setFlow(&n)
	b, _ := yaml.Marshal(&n)
	s := strings.TrimSpace(string(b))
	if s == `""` || s == "0s" && v.IsZero() {
		return ""
	}
	return "`" + s + "`"
}

func (g *docGen) walk(t reflect.Type, v reflect.Value, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
		if v.IsValid() && !v.IsNil() {
			v = v.Elem()
		} else {
			v = reflect.Value{}
		}
	}
	for _, s := range g.stack {
		if s == t {
			g.rows = append(g.rows, docRow{path: path + ".…", doc: "the same fields as the enclosing " + typeLabel(t) + " (nested)"})
			return
		}
	}
	if p, ok := g.first[t]; ok && path != "protocol" {
		g.rows = append(g.rows, docRow{path: path + ".…", doc: "the same fields as `" + p + "`"})
		return
	}
	if g.first == nil {
		g.first = map[reflect.Type]string{}
	}
	g.first[t] = path
	g.stack = append(g.stack, t)
	defer func() { g.stack = g.stack[:len(g.stack)-1] }()
	for _, f := range yamlFields(t) {
		owner, goName := fieldOwner(t, f.index)
		fv := reflect.Value{}
		if v.IsValid() && v.Kind() == reflect.Struct {
			if x, err := v.FieldByIndexErr(f.index); err == nil {
				fv = x
			}
		}
		p := joinKey(path, f.name)
		doc := g.c[owner.PkgPath()+"."+owner.Name()+"."+goName]
		if o, ok := docOverrides[p]; ok {
			doc = o
		}
		ft := f.typ
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft == protoSpecType {
			g.rows = append(g.rows, docRow{p + ".name", "string", "", "The protocol family: one of " + strings.Join(publicProtocols(), ", ") + ". " + doc})
			continue
		}
		g.rows = append(g.rows, docRow{p, typeLabel(ft), defaultText(fv), doc})
		switch {
		case ft == seedsType || ft == sweepType || ft == durationType:
		case ft.Kind() == reflect.Struct && len(yamlFields(ft)) > 0:
			g.walk(ft, fv, p)
		case ft.Kind() == reflect.Slice && elemStruct(ft.Elem()):
			g.walk(ft.Elem(), elemDefault(ft.Elem()), p+"[]")
		case ft.Kind() == reflect.Map && elemStruct(ft.Elem()):
			g.walk(ft.Elem(), elemDefault(ft.Elem()), p+".<key>")
		}
	}
}

func elemStruct(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && len(yamlFields(t)) > 0
}

func publicProtocols() []string {
	var out []string
	for _, n := range ProtocolNames() {
		if !strings.HasPrefix(n, "test-") {
			out = append(out, n)
		}
	}
	return out
}

// schemaComments reads the doc comments of every struct field reachable
// from the experiment schema (top level and every public protocol).
func schemaComments(t *testing.T) comments {
	pkgs := map[string]bool{}
	var collect func(reflect.Type, map[reflect.Type]bool)
	collect = func(ty reflect.Type, seen map[reflect.Type]bool) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if seen[ty] || ty.Kind() != reflect.Struct {
			return
		}
		seen[ty] = true
		if strings.HasPrefix(ty.PkgPath(), modulePath) {
			pkgs[ty.PkgPath()] = true
		}
		for i := 0; i < ty.NumField(); i++ {
			collect(ty.Field(i).Type, seen)
		}
	}
	seen := map[reflect.Type]bool{}
	collect(reflect.TypeOf(Config{}), seen)
	for _, name := range publicProtocols() {
		p, _ := LookupProtocol(name)
		collect(reflect.TypeOf(p.DefaultConfig()), seen)
	}
	var list []string
	for p := range pkgs {
		list = append(list, p)
	}
	sort.Strings(list)
	return loadComments(t, list)
}

func generateReference(t *testing.T) string {
	g := &docGen{c: schemaComments(t)}
	def := DefaultConfig()
	g.walk(reflect.TypeOf(def), reflect.ValueOf(def), "")
	var b bytes.Buffer
	b.WriteString("\n\n## Reference: every field\n\nPaths are what `--set`, `sweep:` and `checks[].when` use. Defaults are what a file gets when it leaves the field out (blank: zero, empty or unset).\n")
	parent := map[string]bool{}
	for _, r := range g.rows {
		if i := strings.IndexAny(r.path, ".["); i > 0 {
			parent[r.path[:i]] = true
		}
	}
	b.WriteString("\n### top level\n\n| path | type | default | meaning |\n|---|---|---|---|\n")
	for _, r := range g.rows {
		if !strings.ContainsAny(r.path, ".[") && !parent[r.path] {
			writeRow(&b, r)
		}
	}
	section := ""
	for _, r := range g.rows {
		top := r.path
		if i := strings.IndexAny(top, ".["); i > 0 {
			top = top[:i]
		}
		if !parent[top] {
			continue
		}
		if top != section {
			section = top
			fmt.Fprintf(&b, "\n### %s\n\n| path | type | default | meaning |\n|---|---|---|---|\n", top)
		}
		writeRow(&b, r)
	}
	for _, name := range publicProtocols() {
		p, _ := LookupProtocol(name)
		cfg := p.DefaultConfig()
		g.rows = nil
		g.walk(reflect.TypeOf(cfg), reflect.ValueOf(cfg), "protocol")
		fmt.Fprintf(&b, "\n### protocol (name: %s)\n\n%s\n\n| path | type | default | meaning |\n|---|---|---|---|\n", name, p.Summary())
		for _, r := range g.rows {
			writeRow(&b, r)
		}
	}
	b.WriteString("\n")
	return b.String()
}

func writeRow(b *bytes.Buffer, r docRow) {
	fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", r.path, r.typ, r.def, strings.ReplaceAll(r.doc, "|", "\\|"))
}
