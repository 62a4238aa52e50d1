package cli

import (
	"fmt"
	"os"

	"golang.org/x/term"
)

func init() {
	register(&command{name: "help", summary: "show this help, or a command's help", run: runHelp})
	register(&command{name: "version", summary: "print the dsim version", run: runVersion})
}

func runHelp(c *cli, args []string) error {
	if len(args) == 0 {
		c.usage(c.stdout)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return usagef("unknown command %q%s", args[0], suggestCommand(args[0]))
	}
	return cmd.run(c, []string{"--help"})
}

func runVersion(c *cli, args []string) error {
	fs := c.newFlags("version", "", "Print the dsim version.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	fmt.Fprintf(c.stdout, "dsim %s\n", version)
	return nil
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
