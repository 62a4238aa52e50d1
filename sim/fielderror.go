package sim

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one configuration field. Config structs
// across dsim return FieldErrors from Validate so that the experiment loader
// can point at the file, line and column of the field. Path is dotted and
// relative to the struct validated ("latency.p99"); the loader prefixes the
// section it came from.
type FieldError struct {
	Path string
	Msg  string
}

// Error returns "path: msg".
func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// FieldErrors collects every problem found by one Validate call.
type FieldErrors []FieldError

// Add appends a problem at path.
func (fe *FieldErrors) Add(path, format string, args ...any) {
	*fe = append(*fe, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Merge appends every problem of err (a FieldError, FieldErrors or any
// other error) with prefix added to its path.
func (fe *FieldErrors) Merge(prefix string, err error) {
	switch v := err.(type) {
	case nil:
	case FieldErrors:
		for _, f := range v {
			*fe = append(*fe, FieldError{Path: JoinPath(prefix, f.Path), Msg: f.Msg})
		}
	case FieldError:
		*fe = append(*fe, FieldError{Path: JoinPath(prefix, v.Path), Msg: v.Msg})
	default:
		*fe = append(*fe, FieldError{Path: prefix, Msg: err.Error()})
	}
}

// Err returns nil when there are no problems, else fe itself.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Error lists every problem, one per line.
func (fe FieldErrors) Error() string {
	msgs := make([]string, len(fe))
	for i, f := range fe {
		msgs[i] = f.Error()
	}
	return strings.Join(msgs, "\n")
}

// JoinPath joins two dotted paths, either of which may be empty.
func JoinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case strings.HasPrefix(b, "["):
		return a + b
	}
	return a + "." + b
}
