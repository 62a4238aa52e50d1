// Package cli is the dsim command line: run, check, validate, plot,
// merge, examples, schema, completion, bench and help, with their flags,
// progress, exit codes and outputs. The dsim command is a few lines around
// it, and so is a binary that adds protocol families of its own without
// forking this repository (see docs/writing-a-protocol.md):
//
//	package main
//
//	import (
//		"os"
//
//		"github.com/dsim-dev/dsim/cmd/cli"
//		"example.com/mysim/gossipish"
//	)
//
//	func main() { os.Exit(cli.Main(os.Args[1:], gossipish.Protocol{})) }
//
// Exit codes: 0 success, 1 a check or invariant failed, 2 bad input
// (flags, config, files), 3 an internal or environment error, 130
// interrupted.
package cli
