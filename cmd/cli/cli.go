package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/dsim-dev/dsim/experiments"
	"github.com/dsim-dev/dsim/protocols"
)

// version is the dsim version printed by `dsim version` and written into
// manifest.json. A build may set it with -ldflags "-X main.version=...";
// otherwise it comes from what Go recorded in the binary (buildVersion).
var version = buildVersion()

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

// Main runs the dsim command line with args (os.Args[1:]) on the process's
// standard streams and returns the exit code for os.Exit. Extra protocol
// families are registered first, so a binary built around them has every
// dsim command, flag and output for experiments that use them:
//
//	func main() { os.Exit(cli.Main(os.Args[1:], myproto.Protocol{})) }
//
// A family whose name is already registered by the same type is skipped;
// another type under a taken name is a programming error and panics.
func Main(args []string, families ...protocols.Protocol) int {
	for _, p := range families {
		if have, ok := experiments.LookupProtocol(p.Name()); ok && reflect.TypeOf(have) == reflect.TypeOf(p) {
			continue
		}
		experiments.Register(p)
	}
	c := &cli{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, interactive: isTerminal(os.Stderr)}
	return c.main(args)
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
	for n, cmd := range commands {
		if cmd.summary != "" { // commands without a summary are internal
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'dsim <command> --help' for a command's flags.\n")
}

// newFlags returns a FlagSet for a command. It prints nothing itself:
// --help prints the usage to stdout (parse returns flag.ErrHelp), and a
// bad flag becomes one usage error, printed once to stderr by exitCode
// with a suggestion for a misspelt flag name.
func (c *cli) newFlags(name, argsUsage, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("dsim "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// --help and -h are flags of their own, so that the usage is printed
	// only when asked for: the flag package also calls Usage on errors.
	help := fs.Bool(helpFlag, false, "show this help")
	fs.BoolVar(help, "h", false, "show this help")
	fs.Usage = func() {
		if *help {
			writeUsage(c.stdout, fs, name, argsUsage, about)
		}
	}
	return fs
}

const helpFlag = "help"

// writeUsage prints a command's usage with GNU-style --flag names.
func writeUsage(w io.Writer, fs *flag.FlagSet, name, argsUsage, about string) {
	fmt.Fprintf(w, "Usage: dsim %s %s\n\n%s\n", name, argsUsage, about)
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == helpFlag || f.Name == "h" {
			return
		}
		if first {
			fmt.Fprintf(w, "\nFlags:\n")
			first = false
		}
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintf(w, "%s\n      %s", line, strings.ReplaceAll(usage, "\n", "\n      "))
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// parse parses flags, turning flag errors into usage errors that name the
// command's help and suggest the closest flag. --help prints the usage to
// stdout and returns flag.ErrHelp, which exits 0.
func parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if h := fs.Lookup(helpFlag); h != nil && h.Value.String() == "true" {
		fs.Usage()
		return flag.ErrHelp
	}
	if err == nil {
		return nil
	}
	msg := strings.NewReplacer("flag provided but not defined: -", "unknown flag --",
		"for flag -", "for flag --", "needs an argument: -", "needs an argument: --").Replace(err.Error())
	if bad, ok := strings.CutPrefix(msg, "unknown flag --"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name != helpFlag && f.Name != "h" {
				names = append(names, f.Name)
			}
		})
		msg += strings.Replace(experiments.Suggest(bad, names), `"`, `"--`, 1)
	}
	// A usage message for a person, with the hint on its own line, like
	// every usagef message.
	return usagef("%s\nRun '%s --help' for the flags.", msg, fs.Name())
}

func suggestCommand(name string) string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	return experiments.Suggest(name, names)
}
