// Command dsim is the command-line interface of the dsim simulator.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/dsim-dev/dsim/experiments"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes.
const (
	exitOK      = 0
	exitFail    = 1   // the command ran and found a failure (a check, an invariant)
	exitUsage   = 2   // bad flags, bad config, bad files
	exitRuntime = 3   // an internal or environment error
	exitSignal  = 130 // interrupted by SIGINT (128 + 2, the shell convention)
)

// usageError marks errors caused by the user's input: they exit with code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// command is one subcommand of dsim.
type command struct {
	name    string
	summary string
	// run executes the command with its arguments (after the command
	// name). Errors wrapped in usageError exit 2.
	run func(c *cli, args []string) error
}

// cli carries the process's streams, so commands are testable.
type cli struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	// interactive reports whether stderr is a terminal.
	interactive bool
}

var commands = map[string]*command{}

// register adds a command; each command's file calls it from init.
func register(c *command) { commands[c.name] = c }

func main() {
	c := &cli{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, interactive: isTerminal(os.Stderr)}
	os.Exit(c.main(os.Args[1:]))
}

// main runs dsim with args and returns the exit code.
func (c *cli) main(args []string) int {
	if len(args) == 0 {
		c.usage(c.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help":
		name = "help"
	case "--version", "-version":
		name = "version"
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(c.stderr, "dsim: unknown command %q%s\nRun 'dsim help' for the list of commands.\n", name, suggestCommand(name))
		return exitUsage
	}
	err := cmd.run(c, args[1:])
	return c.exitCode(cmd.name, err)
}

func (c *cli) exitCode(name string, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ie interruptedError
	if errors.As(err, &ie) {
		fmt.Fprintf(c.stderr, "dsim %s: %s\n", name, ie.msg)
		return exitSignal
	}
	var fe failError
	if errors.As(err, &fe) {
		if fe.msg != "" {
			fmt.Fprintf(c.stderr, "dsim %s: %s\n", name, fe.msg)
		}
		return exitFail
	}
	fmt.Fprintf(c.stderr, "dsim %s: %v\n", name, err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitRuntime
}

// failError makes a command exit 1 (a check or invariant failed); msg may
// be empty when the command already printed its findings.
type failError struct{ msg string }

func (f failError) Error() string { return f.msg }

// interruptedError makes a command exit 130: the user interrupted it and
// what finished was kept.
type interruptedError struct{ msg string }

func (i interruptedError) Error() string { return i.msg }

func (c *cli) usage(w io.Writer) {
	fmt.Fprintf(w, "dsim %s: a deterministic discrete-event simulator of distributed systems\n\nUsage:\n  dsim <command> [flags] [args]\n\nCommands:\n", version)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'dsim <command> --help' for a command's flags.\n")
}

// newFlags returns a FlagSet for a command that reports errors (rather
// than exiting) and prints its usage to the cli's stderr.
func (c *cli) newFlags(name, argsUsage, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("dsim "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: dsim %s %s\n\n%s\n", name, argsUsage, about)
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintf(c.stderr, "\nFlags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses flags, turning flag errors into usage errors. --help
// returns flag.ErrHelp, which exits 0.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

func suggestCommand(name string) string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	return experiments.Suggest(name, names)
}
