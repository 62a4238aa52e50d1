package enum

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Enum is an enumeration: an integer type whose String method names its
// values (stringer's output for a value without a name is "T(n)").
type Enum interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
	String() string
}

// maxValue bounds the values Names looks at: dsim's enumerations are
// small.
const maxValue = 256

// Alias is one more name for a value, accepted by Parse but never
// printed ("naive" for the retry policy immediate).
type Alias[T Enum] struct {
	Name  string
	Value T
}

// Values returns T's named values from 0 to 255, in order.
func Values[T Enum]() []T { return slices.Clone(values[T]()) }

// found caches each type's named values: finding them calls String on
// every value up to maxValue, and stringer builds a string for each
// unnamed one, which made decoding a config with thousands of sweep
// points spend most of its time here. A cache entry depends only on the
// type, so sharing it between goroutines changes nothing.
var found sync.Map // reflect.Type -> []T

// values returns T's named values from the cache; callers must not
// modify the slice.
func values[T Enum]() []T {
	t := reflect.TypeFor[T]()
	if vs, ok := found.Load(t); ok {
		return vs.([]T)
	}
	var out []T
	for i := range maxValue {
		v := T(i)
		if named(v.String(), i) {
			out = append(out, v)
		}
	}
	vs, _ := found.LoadOrStore(t, out)
	return vs.([]T)
}

// Names returns the names of T's values in value order, followed by the
// aliases' names.
func Names[T Enum](aliases ...Alias[T]) []string {
	var out []string
	for _, v := range values[T]() {
		out = append(out, v.String())
	}
	for _, a := range aliases {
		out = append(out, a.Name)
	}
	return out
}

// named reports whether s, the String of value i, is a name of its own
// rather than stringer's "T(i)" or empty.
func named(s string, i int) bool {
	return s != "" && !strings.HasSuffix(s, "("+strconv.Itoa(i)+")")
}

// Parse returns the value of T named s (or an alias of it). For an
// unknown name the error names what was asked for, the closest name and
// every name: `unknown gossip mode "pusj" (did you mean "push"? one of:
// push, pull, push_pull)`.
func Parse[T Enum](what, s string, aliases ...Alias[T]) (T, error) {
	for _, v := range values[T]() {
		if v.String() == s {
			return v, nil
		}
	}
	for _, a := range aliases {
		if a.Name == s {
			return a.Value, nil
		}
	}
	names := Names(aliases...)
	hint := ""
	if c, ok := Closest(s, names); ok {
		hint = fmt.Sprintf("did you mean %q? ", c)
	}
	return 0, fmt.Errorf("unknown %s %q (%sone of: %s)", what, s, hint, strings.Join(names, ", "))
}

// Set parses s with Parse and stores the value in out; on error out is
// left alone.
func Set[T Enum](out *T, what, s string, aliases ...Alias[T]) error {
	v, err := Parse(what, s, aliases...)
	if err != nil {
		return err
	}
	*out = v
	return nil
}

// Closest returns the name of known closest to s in edit distance
// (ignoring case; a swap of two neighbouring letters counts as one edit),
// and whether it is close enough to suggest: within a third of the length
// of s (at least 2), or one containing the other (s not empty). Ties go to the name
// that sorts first.
func Closest(s string, known []string) (string, bool) {
	best, bestD := "", -1
	for _, k := range known {
		d := Distance(s, k)
		if bestD < 0 || d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if bestD < 0 {
		return "", false
	}
	close := bestD <= max(2, len(s)/3) || s != "" && (strings.Contains(best, s) || strings.Contains(s, best))
	return best, close
}

// Distance is the optimal string alignment distance between a and b,
// ignoring case: the insertions, deletions, substitutions and swaps of
// neighbouring letters that turn one into the other.
func Distance(a, b string) int {
	a, b = strings.ToLower(a), strings.ToLower(b)
	// rows i-2, i-1 and i of the dynamic programme.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
