package variants

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/marksmith/marksmith/calc"
)

// Text is a compiled prompt: literal text with {{ expression }} placeholders.
// Everything else, LaTeX included, is copied as written.
type Text struct {
	lits  []string        // len(progs)+1 literal pieces
	progs []*calc.Program // one per placeholder
	// names holds a placeholder's name when it is nothing but a name
	// ({{k}}), which is read from the values without running a program.
	names []string
	// size is the length of the longest rendering so far, so that the
	// next one allocates its buffer once.
	size atomic.Int64
}

// PlaceholderError is a placeholder that does not compile; Offset is its
// byte offset in the source.
type PlaceholderError struct {
	Offset int
	Err    error
}

func (e *PlaceholderError) Error() string { return e.Err.Error() }

// Unwrap returns the compile error.
func (e *PlaceholderError) Unwrap() error { return e.Err }

// CompileText compiles a prompt against env. Every problem is returned.
func CompileText(src string, env calc.Env) (*Text, []error) {
	t := &Text{}
	var errs []error
	rest, off := src, 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.lits = append(t.lits, rest)
			break
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			errs = append(errs, &PlaceholderError{Offset: off + i, Err: fmt.Errorf("placeholder opened with {{ is never closed with }}")})
			t.lits = append(t.lits, rest)
			break
		}
		t.lits = append(t.lits, rest[:i])
		code := strings.TrimSpace(rest[i+2 : i+2+j])
		p, err := calc.Compile(code, env)
		if err != nil {
			errs = append(errs, &PlaceholderError{Offset: off + i, Err: err})
		}
		t.progs = append(t.progs, p)
		name := ""
		if bareName.MatchString(code) {
			name = code
		}
		t.names = append(t.names, name)
		off += i + 2 + j + 2
		rest = rest[i+2+j+2:]
	}
	return t, errs
}

// Render fills the placeholders from env.
func (t *Text) Render(env map[string]any) (string, error) {
	return t.RenderWith(nil, env)
}

// RenderWith fills the placeholders from env on r's expression machine.
func (t *Text) RenderWith(r *calc.Runner, env map[string]any) (string, error) {
	if len(t.progs) == 0 {
		return t.lits[0], nil
	}
	var b strings.Builder
	b.Grow(int(t.size.Load()))
	for i, p := range t.progs {
		b.WriteString(t.lits[i])
		if v, ok := env[t.names[i]]; ok && t.names[i] != "" {
			b.WriteString(Format(v))
			continue
		}
		v, err := p.RunWith(r, env)
		if err != nil {
			return "", err
		}
		b.WriteString(Format(v))
	}
	b.WriteString(t.lits[len(t.lits)-1])
	if n := int64(b.Len()); n > t.size.Load() && n <= maxSizeHint {
		t.size.Store(n)
	}
	return b.String(), nil
}

// bareName matches a placeholder that is only a name; expr-lang's words
// (true, nil, …) are never parameter names, so a name found among the
// values is the parameter.
var bareName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxSizeHint bounds the buffer a rendering starts with, so that one
// unusually long rendering does not make every later one hold as much.
const maxSizeHint = 16 << 10

// Format writes a value the way a prompt shows it: integers plainly, reals
// in their shortest form without an exponent, lists comma-separated, lists
// of lists one row per line.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return formatFloat(x)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		nested := false
		for i, e := range x {
			if _, ok := e.([]any); ok {
				nested = true
			}
			parts[i] = Format(e)
		}
		if nested {
			return strings.Join(parts, "\n")
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := calc.SortedKeys(x)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + Format(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	n := calc.Normalize(v)
	if reflect.TypeOf(n) != reflect.TypeOf(v) {
		return Format(n)
	}
	return fmt.Sprint(v)
}

func formatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Equal reports whether two parameter values are the same, treating an
// integral float and the integer as equal.
func Equal(a, b any) bool {
	a, b = calc.Normalize(a), calc.Normalize(b)
	fa, errA := calc.Float(a)
	fb, errB := calc.Float(b)
	if errA == nil && errB == nil {
		return fa == fb
	}
	la, okA := a.([]any)
	lb, okB := b.([]any)
	if okA && okB {
		if len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !Equal(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
