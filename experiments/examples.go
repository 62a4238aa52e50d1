package experiments

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed examples/*.yaml
var examplesFS embed.FS

// BundledExample is an experiment shipped inside the dsim binary, so that
// `dsim run NAME` works from any directory.
type BundledExample struct {
	// Name is the file name without .yaml.
	Name string
	// File is the path inside the source tree, for messages.
	File string
	// Description is the file's description field.
	Description string
	// Summary is the description's first sentence, shortened to fit one
	// line of a listing.
	Summary string
	// Data is the YAML text.
	Data []byte
}

// Examples returns the bundled experiments sorted by name. The files are
// part of the binary: one that cannot be read is a broken build, and
// panics.
func Examples() []BundledExample {
	entries, err := fs.ReadDir(examplesFS, "examples")
	if err != nil {
		panic("experiments: bundled examples: " + err.Error())
	}
	var out []BundledExample
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		file := path.Join("examples", e.Name())
		data, err := examplesFS.ReadFile(file)
		if err != nil {
			panic("experiments: bundled example: " + err.Error())
		}
		var head struct {
			Description string `yaml:"description"`
		}
		if err := yaml.Unmarshal(data, &head); err != nil {
			panic("experiments: bundled example " + file + ": " + err.Error())
		}
		out = append(out, BundledExample{
			Name:        strings.TrimSuffix(e.Name(), ".yaml"),
			File:        "experiments/" + file,
			Description: strings.Join(strings.Fields(head.Description), " "),
			Summary:     Summarize(head.Description, 72),
			Data:        data,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Example returns the bundled experiment with the given name.
func Example(name string) (BundledExample, bool) {
	for _, ex := range Examples() {
		if ex.Name == name {
			return ex, true
		}
	}
	return BundledExample{}, false
}

// Summarize returns the first sentence of text, cut at a word boundary to
// at most width characters (with an ellipsis when cut).
func Summarize(text string, width int) string {
	text = strings.Join(strings.Fields(text), " ")
	for i := 0; i+1 < len(text); i++ {
		if (text[i] == '.' || text[i] == ':') && text[i+1] == ' ' {
			text = text[:i]
			break
		}
	}
	text = strings.TrimSuffix(text, ".")
	if r := []rune(text); len(r) > width {
		cut := string(r[:width-1])
		if j := strings.LastIndexByte(cut, ' '); j > width/2 {
			cut = cut[:j]
		}
		text = strings.TrimRight(cut, " ,;") + "…"
	}
	return text
}
