package cli

import (
	"github.com/dsim-dev/dsim/experiments"
)

func init() {
	register(&command{name: "schema", summary: "print the JSON Schema of experiment files (for editors)", run: runSchema})
}

func runSchema(c *cli, args []string) error {
	fs := c.newFlags("schema", "",
		"Print the JSON Schema (draft-07) of experiment files: every field, type,\n"+
			"enum and description, with each protocol family's settings chosen by\n"+
			"protocol.name. Editors with yaml-language-server (VS Code, Neovim,\n"+
			"JetBrains) complete and check experiment files from it; put\n"+
			"  # yaml-language-server: $schema="+experiments.SchemaURL+"\n"+
			"on a file's first line, or point it at a local copy:\n"+
			"  dsim schema > dsim.schema.json")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	b, err := experiments.JSONSchema()
	if err != nil {
		return err
	}
	_, err = c.stdout.Write(b)
	return err
}
