package experiments

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/dsim-dev/dsim/sim/simtest"
)

const schemaFile = "../docs/dsim.schema.json"

// TestJSONSchema keeps docs/dsim.schema.json and the embedded field docs
// in step with the schema's Go types and their doc comments. After a
// schema change, regenerate both with (sim/simtest's -rewrite flag)
//
//	go test ./experiments -run TestJSONSchema -rewrite
//
// (`dsim schema` prints the same bytes once the binary is rebuilt).
func TestJSONSchema(t *testing.T) {
	docs := schemaComments(t)
	_, used, err := jsonSchemaUsing(docs)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range docs {
		if v == "" || !used[k] {
			delete(docs, k) // only the schema's fields' docs are embedded
		}
	}
	wantDocs, err := json.MarshalIndent(docs, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	wantDocs = append(wantDocs, '\n')
	schema, err := jsonSchemaWith(docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path string
		want []byte
	}{{"fielddocs.json", wantDocs}, {schemaFile, schema}} {
		simtest.Golden(t, f.path, f.want)
	}
	if !simtest.Rewriting() {
		if got, err := JSONSchema(); err != nil || !bytes.Equal(got, schema) {
			t.Errorf("JSONSchema() differs from the schema built from the source comments (err %v): rebuild after -rewrite", err)
		}
	}
}

// compileSchema compiles the committed schema with a validator that knows
// nothing of dsim.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaURL, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaURL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlToJSON decodes YAML into the plain values a JSON validator takes.
func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExamplesMatchJSONSchema: every bundled experiment validates against
// the committed schema, and files with mistakes the schema can see do not
// (the schema can fail).
func TestExamplesMatchJSONSchema(t *testing.T) {
	s := compileSchema(t)
	for _, ex := range Examples() {
		if err := s.Validate(yamlToJSON(t, ex.Data)); err != nil {
			t.Errorf("%s does not validate against %s: %v", ex.File, schemaFile, err)
		}
	}
	bad := map[string]string{
		"unknown top-level field": "name: x\nduraton: 1s\nprotocol: {name: echo}\n",
		"unknown protocol field":  "name: x\nprotocol: {name: echo, timout: 1s}\n",
		"unknown protocol":        "name: x\nprotocol: {name: raft}\n",
		"not a duration":          "name: x\nduration: soon\nprotocol: {name: echo}\n",
		"bad enum":                "name: x\nprotocol: {name: echo}\nplots: [{kind: pie, metric: rtt}]\n",
	}
	for what, doc := range bad {
		if err := s.Validate(yamlToJSON(t, []byte(doc))); err == nil {
			t.Errorf("%s: the schema accepts %q", what, doc)
		}
	}
}

func TestSetPaths(t *testing.T) {
	all := strings.Join(SetPaths(""), " ")
	for _, want := range []string{"duration", "network.loss", "protocol.name", "protocol.timeout", "workload.rate"} {
		if !strings.Contains(" "+all+" ", " "+want+" ") {
			t.Errorf("SetPaths lacks %s", want)
		}
	}
	for _, p := range SetPaths("echo") {
		if strings.HasPrefix(p, "protocol.services") {
			t.Errorf("echo's paths include rpc's %s", p)
		}
	}
}
