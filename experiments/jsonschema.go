package experiments

import (
	_ "embed"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The JSON Schema of experiment files, for editors: yaml-language-server
// (VS Code, Neovim, JetBrains) offers completion, hover documentation and
// inline errors from it. It is generated from the same Go types the loader
// checks against, so it covers every field, type and enum of the top level
// and of every registered protocol (out-of-tree ones included; their
// fields come without descriptions). Ranges that depend on other fields
// stay the loader's job: the schema catches what a schema can.

// fieldDocs maps "pkgpath.Type.Field" to the field's doc comment. The
// binary has no source to read comments from, so TestJSONSchema writes
// them here from the source (go test ./experiments -run TestJSONSchema
// -rewrite) and fails when they are stale.
//
//go:embed fielddocs.json
var fieldDocsJSON []byte

// JSONSchema returns the JSON Schema (draft-07) of experiment files.
func JSONSchema() ([]byte, error) {
	var docs map[string]string
	if err := json.Unmarshal(fieldDocsJSON, &docs); err != nil {
		return nil, fmt.Errorf("embedded field docs: %w", err)
	}
	return jsonSchemaWith(docs)
}

// SchemaURL is where the committed schema lives in the repository, for the
// yaml-language-server modeline.
const SchemaURL = "https://raw.githubusercontent.com/dsim-dev/dsim/main/docs/dsim.schema.json"

func jsonSchemaWith(docs map[string]string) ([]byte, error) {
	b, _, err := jsonSchemaUsing(docs)
	return b, err
}

// jsonSchemaUsing is jsonSchemaWith that also returns the doc keys the
// schema looked up, so that the embedded docs hold only those.
func jsonSchemaUsing(docs map[string]string) ([]byte, map[string]bool, error) {
	g := schemaGen{docs: docs, used: map[string]bool{}}
	root := g.object(reflect.TypeOf(Config{}), reflect.ValueOf(DefaultConfig()))
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	root["$id"] = SchemaURL
	root["title"] = "dsim experiment"
	root["description"] = "An experiment file for dsim (docs/config.md). Put `# yaml-language-server: $schema=" + SchemaURL + "` on the first line."
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return append(b, '\n'), g.used, nil
}

type schemaGen struct {
	docs  map[string]string
	used  map[string]bool // doc keys looked up
	stack []reflect.Type
}

type jsonObj = map[string]any

// durationPattern matches what time.ParseDuration accepts.
const durationPattern = `^[-+]?(0|([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$`

var (
	stringerType        = reflect.TypeOf((*fmt.Stringer)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// object describes a struct type's yaml fields. v holds defaults (it may
// be invalid).
func (g *schemaGen) object(t reflect.Type, v reflect.Value) jsonObj {
	props := jsonObj{}
	for _, f := range yamlFields(t) {
		var fv reflect.Value
		if v.IsValid() && v.Kind() == reflect.Struct {
			if x, err := v.FieldByIndexErr(f.index); err == nil {
				fv = x
			}
		}
		s := g.schema(f.typ, fv)
		owner, goName := fieldOwner(t, f.index)
		key := owner.PkgPath() + "." + owner.Name() + "." + goName
		g.used[key] = true
		if d := g.docs[key]; d != "" {
			s["description"] = d
		}
		props[f.name] = s
	}
	o := jsonObj{"properties": props, "additionalProperties": false}
	// A struct with its own decoder may also accept a shorthand (a
	// scalar): constrain its keys when it is a mapping, not its kind.
	if !reflect.PointerTo(t).Implements(unmarshalerType) {
		o["type"] = "object"
	}
	return o
}

// schema describes one Go type; v holds its default (it may be invalid).
func (g *schemaGen) schema(t reflect.Type, v reflect.Value) jsonObj {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
		if v.IsValid() && !v.IsNil() {
			v = v.Elem()
		} else {
			v = reflect.Value{}
		}
	}
	for _, s := range g.stack {
		if s == t { // a recursive type: stop describing
			return jsonObj{}
		}
	}
	g.stack = append(g.stack, t)
	defer func() { g.stack = g.stack[:len(g.stack)-1] }()

	s := g.shape(t, v)
	if d, ok := defaultJSON(t, v); ok {
		s["default"] = d
	}
	return s
}

func (g *schemaGen) shape(t reflect.Type, v reflect.Value) jsonObj {
	switch {
	case t == protoSpecType:
		return g.protocols()
	case t == durationType || t.Name() == "Duration" && t.Kind() == reflect.Int64:
		return jsonObj{"type": "string", "pattern": durationPattern}
	case t == reflect.TypeOf(Seeds{}):
		return jsonObj{"oneOf": []any{
			jsonObj{"type": "integer", "minimum": 1, "description": "how many seeds, derived from the experiment's name"},
			jsonObj{"type": "array", "items": jsonObj{"type": "integer", "minimum": 0}, "description": "these seeds"},
		}}
	case t == reflect.TypeOf(Sweep{}):
		return jsonObj{"type": "object", "additionalProperties": jsonObj{"type": "array", "minItems": 1}}
	}
	if names := enumNames(t); len(names) > 0 {
		return jsonObj{"enum": names}
	}
	if t.Kind() != reflect.Struct && (reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType)) {
		// A scalar with its own decoder (a rate "1000/s", a shorthand):
		// anything the loader accepts.
		return jsonObj{}
	}
	switch t.Kind() {
	case reflect.Struct:
		return g.object(t, v)
	case reflect.Bool:
		return jsonObj{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return jsonObj{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return jsonObj{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return jsonObj{"type": "number"}
	case reflect.String:
		if reflect.PointerTo(t).Implements(unmarshalerType) {
			return jsonObj{}
		}
		// YAML scalars of any type decode into a string (when: {n: 3}).
		return jsonObj{"type": []string{"string", "number", "boolean"}}
	case reflect.Slice, reflect.Array:
		return jsonObj{"type": "array", "items": g.schema(t.Elem(), elemDefault(t.Elem()))}
	case reflect.Map:
		return jsonObj{"type": "object", "additionalProperties": g.schema(t.Elem(), elemDefault(t.Elem()))}
	}
	// Interfaces and types with their own decoders: anything the loader
	// accepts.
	return jsonObj{}
}

// protocols describes the protocol section: name picks the settings.
func (g *schemaGen) protocols() jsonObj {
	var names []string
	for _, n := range ProtocolNames() {
		// Families registered by tests ("test-…") are not part of the
		// file format.
		if !strings.HasPrefix(n, "test-") {
			names = append(names, n)
		}
	}
	var cases []any
	for _, n := range names {
		p, _ := LookupProtocol(n)
		cfg := p.DefaultConfig()
		t := reflect.TypeOf(cfg)
		v := reflect.ValueOf(cfg)
		for t.Kind() == reflect.Pointer {
			t, v = t.Elem(), v.Elem()
		}
		then := g.object(t, v)
		then["properties"].(jsonObj)["name"] = jsonObj{"const": n}
		cases = append(cases, jsonObj{
			"if":   jsonObj{"properties": jsonObj{"name": jsonObj{"const": n}}, "required": []string{"name"}},
			"then": then,
		})
	}
	return jsonObj{
		"type":       "object",
		"required":   []string{"name"},
		"properties": jsonObj{"name": jsonObj{"enum": names, "description": "The protocol family; the other keys are its settings."}},
		"allOf":      cases,
	}
}

// enumNames lists the names of an enum type: an integer type with a
// String method whose names its decoder accepts back, or with an
// EnumNames method (for names beyond String's: aliases). It returns nil
// for other types.
func enumNames(t reflect.Type) []string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
	default:
		return nil
	}
	if !t.Implements(stringerType) || !reflect.PointerTo(t).Implements(unmarshalerType) && !reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return nil
	}
	if e, ok := reflect.New(t).Elem().Interface().(interface{ EnumNames() []string }); ok {
		return e.EnumNames()
	}
	var names []string
	seen := map[string]bool{}
	for i := 0; i < 64; i++ {
		v := reflect.New(t).Elem()
		if v.CanInt() {
			v.SetInt(int64(i))
		} else {
			v.SetUint(uint64(i))
		}
		name := v.Interface().(fmt.Stringer).String()
		if name == "" || seen[name] {
			continue
		}
		back := reflect.New(t)
		if err := yaml.Unmarshal([]byte(name), back.Interface()); err != nil || back.Elem().Interface() != v.Interface() {
			continue
		}
		seen[name] = true
		names = append(names, name)
	}
	return names
}

// defaultJSON returns a scalar default worth showing in an editor.
func defaultJSON(t reflect.Type, v reflect.Value) (any, bool) {
	if !v.IsValid() || v.IsZero() {
		return nil, false
	}
	switch {
	case t == durationType:
		return time.Duration(v.Int()).String(), true
	case enumNames(t) != nil:
		return v.Interface().(fmt.Stringer).String(), true
	}
	switch t.Kind() {
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if reflect.PointerTo(t).Implements(unmarshalerType) {
			return nil, false
		}
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	case reflect.String:
		if reflect.PointerTo(t).Implements(unmarshalerType) {
			return nil, false
		}
		return v.String(), true
	}
	return nil, false
}

// fieldOwner returns the struct type that declares the field at index,
// and the field's Go name.
func fieldOwner(t reflect.Type, index []int) (reflect.Type, string) {
	for i, x := range index {
		f := t.Field(x)
		if i == len(index)-1 {
			return t, f.Name
		}
		t = f.Type
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	return t, ""
}

// SetPaths lists the dotted config paths that `--set` accepts for a
// protocol family (every family's when protocol is ""), for shell
// completion. Lists and mappings appear as their own path.
func SetPaths(protocol string) []string {
	var out []string
	var walk func(t reflect.Type, path string, depth int)
	walk = func(t reflect.Type, path string, depth int) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if depth > 6 {
			return
		}
		for _, f := range yamlFields(t) {
			p := joinKey(path, f.name)
			ft := f.typ
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft == protoSpecType {
				out = append(out, p+".name")
				for _, n := range ProtocolNames() {
					if protocol != "" && n != protocol {
						continue
					}
					proto, _ := LookupProtocol(n)
					walk(reflect.TypeOf(proto.DefaultConfig()), p, depth+1)
				}
				continue
			}
			out = append(out, p)
			if ft.Kind() == reflect.Struct && ft != durationType && ft != reflect.TypeOf(Seeds{}) && ft != reflect.TypeOf(Sweep{}) {
				walk(ft, p, depth+1)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "", 0)
	seen := map[string]bool{}
	uniq := out[:0]
	for _, p := range out {
		if !seen[p] && !strings.HasPrefix(p, "protocol.name.") {
			seen[p] = true
			uniq = append(uniq, p)
		}
	}
	return uniq
}
