// Command dsim is the command-line interface of the dsim simulator. Its
// implementation is package cmd/cli, which binaries with protocol
// families of their own reuse.
package main

import (
	"os"

	"github.com/dsim-dev/dsim/cmd/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
