// Command dsim-counter is dsim with one more protocol family, counter,
// built outside the dsim repository's tree: every dsim command, flag and
// output works for experiments that use it.
package main

import (
	"os"

	"example.com/dsim-counter/counter"
	"github.com/dsim-dev/dsim/cmd/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], counter.Protocol{})) }
