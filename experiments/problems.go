package experiments

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrBadInput marks every error caused by the user's input: a missing or
// malformed file, an invalid value, an unknown protocol, a bad override,
// an output folder that cannot be used. The CLI exits 2 on it.
var ErrBadInput = errors.New("bad input")

// Problem is one thing wrong with an experiment file, located by file,
// line and column (Line is 0 when the problem has no place in the file,
// for example a command-line override).
type Problem struct {
	File   string
	Line   int
	Column int
	// Path is the dotted YAML path of the field ("protocol.timeout").
	Path string
	Msg  string
}

// String returns "file:line:col: path: msg".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ":%d", p.Column)
		}
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// LoadError lists every problem found in an experiment file. It matches
// ErrBadInput with errors.Is.
type LoadError struct {
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if len(lines) > 1 {
		return fmt.Sprintf("%d problems:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrBadInput) true.
func (e *LoadError) Is(target error) bool { return target == ErrBadInput }

// problems collects Problems for one file.
type problems struct {
	file string
	list []Problem
}

func (ps *problems) at(n *yaml.Node, path, format string, args ...any) {
	p := Problem{File: ps.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	ps.list = append(ps.list, p)
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	list := dedupe(ps.list)
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return &LoadError{Problems: list}
}

func dedupe(list []Problem) []Problem {
	seen := map[string]bool{}
	var out []Problem
	for _, p := range list {
		k := p.String()
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// badInput wraps err so that it matches ErrBadInput.
func badInput(format string, args ...any) error {
	return &inputError{fmt.Errorf(format, args...)}
}

type inputError struct{ err error }

func (e *inputError) Error() string        { return e.err.Error() }
func (e *inputError) Unwrap() error        { return e.err }
func (e *inputError) Is(target error) bool { return target == ErrBadInput }
