// Package calc compiles and runs the expressions that templates are written
// in: parameter derivations, constraints, answer keys, placeholders and
// error-carried-forward rules. It wraps github.com/expr-lang/expr with the
// domain functions of the question bank and with the conversions the rest of
// the grading core needs. It is pure: no I/O, no clock, no global random.
package calc

import (
	"fmt"
	"math"
	"sort"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
)

// Program is a compiled expression, safe for concurrent use.
type Program struct {
	src  string
	prog *vm.Program
	// fresh is set when the expression is a call of a function whose
	// result is already in canonical form (see freshResults).
	fresh bool
}

// Source returns the expression the program was compiled from.
func (p *Program) Source() string { return p.src }

// Env is the set of names an expression can refer to, each with an example
// value whose type the checker uses.
type Env map[string]any

// disabled lists expr builtins that would break purity (the clock) and so
// are unavailable to templates.
var disabled = [...]string{"now", "date", "duration", "timezone"}

// Compile compiles src against env. A name not in env and not a function is
// a compile error, so validation finds undefined names before any variant is
// drawn.
func Compile(src string, env Env) (*Program, error) {
	opts := make([]expr.Option, 0, 8+len(Functions()))
	opts = append(opts, expr.Env(envTypes(env)))
	for _, name := range disabled {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	for _, f := range Functions() {
		opts = append(opts, expr.Function(f.Name, f.Fn))
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, &Error{Src: src, Err: err}
	}
	p := &Program{src: src, prog: prog, fresh: freshCall(prog.Node())}
	for _, name := range p.Names() {
		if name == "$env" {
			// Reads through $env are invisible to Names, which the
			// variant generator relies on to know what an expression reads.
			return nil, &Error{Src: src, Err: fmt.Errorf("$env is not available: name the parameters the expression reads")}
		}
	}
	return p, nil
}

// freshCall reports whether n is a call of a function in freshResults.
func freshCall(n ast.Node) bool {
	call, ok := n.(*ast.CallNode)
	if !ok {
		return false
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	return ok && freshResults[id.Value]
}

// envTypes declares env's names to the checker: a nil value is of any
// type, a map is a record of its own names, and any other value has the
// type of the example given.
func envTypes(env map[string]any) types.Map {
	m := make(types.Map, len(env))
	for k, v := range env {
		switch x := v.(type) {
		case nil:
			m[k] = types.Any
		case map[string]any:
			m[k] = envTypes(x)
		case Env:
			m[k] = envTypes(x)
		default:
			m[k] = types.TypeOf(v)
		}
	}
	return m
}

// Run evaluates the program against env and normalises the result (see
// Normalize).
func (p *Program) Run(env map[string]any) (any, error) {
	return p.RunWith(nil, env)
}

// Runner evaluates programs one after another, reusing the virtual
// machine's memory between them. It is not safe for concurrent use: give
// each goroutine its own.
type Runner struct {
	vm vm.VM
}

// RunWith evaluates the program on r's machine (a fresh one when r is nil).
func (p *Program) RunWith(r *Runner, env map[string]any) (any, error) {
	var out any
	var err error
	if r == nil {
		out, err = expr.Run(p.prog, env)
	} else {
		out, err = r.vm.Run(p.prog, env)
	}
	if err != nil {
		return nil, &Error{Src: p.src, Err: err}
	}
	if p.fresh {
		return out, nil
	}
	return Normalize(out), nil
}

// Error is a compile or run failure of an expression.
type Error struct {
	Src string
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("expression %q: %v", e.Src, e.Err) }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Normalize converts a value to the core's canonical forms: every Go integer
// kind becomes int, every float becomes float64 (integral floats stay
// float64), slices become []any with normalised elements, maps become
// map[string]any. Other values are returned as they are. A list or map that
// is already in canonical form is returned itself, not copied.
func Normalize(v any) any {
	out, _ := normalize(v)
	return out
}

// normalize returns the canonical form of v and whether it differs from v.
func normalize(v any) (any, bool) {
	switch x := v.(type) {
	case nil, bool, string, int, float64:
		return x, false
	case int8:
		return int(x), true
	case int16:
		return int(x), true
	case int32:
		return int(x), true
	case int64:
		return int(x), true
	case uint:
		return int(x), true
	case uint8:
		return int(x), true
	case uint16:
		return int(x), true
	case uint32:
		return int(x), true
	case uint64:
		return int(x), true
	case float32:
		return float64(x), true
	case []any:
		var out []any
		for i, e := range x {
			n, changed := normalize(e)
			if changed && out == nil {
				out = make([]any, len(x))
				copy(out, x[:i])
			}
			if out != nil {
				out[i] = n
			}
		}
		if out == nil {
			return v, false // v, not x: boxing x again would allocate
		}
		return out, true
	case []float64:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, true
	case []int:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, true
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, true
	case [][]float64:
		out := make([]any, len(x))
		for i, e := range x {
			out[i], _ = normalize(e)
		}
		return out, true
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			n, changed := normalize(e)
			if changed && out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			if out != nil {
				out[k] = n
			}
		}
		if out == nil {
			return v, false // v, not x: boxing x again would allocate
		}
		return out, true
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)], _ = normalize(e)
		}
		return out, true
	}
	return v, false
}

// Float converts a number to float64.
func Float(v any) (float64, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float32:
		return float64(x), nil
	case uint8:
		return float64(x), nil
	case int8:
		return float64(x), nil
	case uint16:
		return float64(x), nil
	case int16:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	case uint:
		return float64(x), nil
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}

// Int converts an integral number to int.
func Int(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case uint64:
		return int(x), nil
	case int32:
		return int(x), nil
	}
	f, err := Float(v)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%v is not an integer", v)
	}
	return int(f), nil
}

// List converts a slice of any element type to []any.
func List(v any) ([]any, error) {
	if l, ok := Normalize(v).([]any); ok {
		return l, nil
	}
	return nil, fmt.Errorf("%v (%T) is not a list", v, v)
}

// Floats converts a list of numbers to []float64.
func Floats(v any) ([]float64, error) {
	l, err := List(v)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(l))
	for i, e := range l {
		if out[i], err = Float(e); err != nil {
			return nil, fmt.Errorf("item %d: %w", i+1, err)
		}
	}
	return out, nil
}

// Matrix converts a list of lists of numbers to [][]float64.
func Matrix(v any) ([][]float64, error) {
	l, err := List(v)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(l))
	for i, row := range l {
		if out[i], err = Floats(row); err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
	}
	return out, nil
}

// Strings converts a list of strings to []string.
func Strings(v any) ([]string, error) {
	l, err := List(v)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(l))
	for i, e := range l {
		s, ok := e.(string)
		if !ok {
			s = fmt.Sprint(e)
		}
		out[i] = s
	}
	return out, nil
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Names returns the names the expression reads from its environment, in
// order of first use. Function names, predicate fields (.name) and # are
// not included.
func (p *Program) Names() []string {
	c := &nameCollector{seen: map[string]bool{}}
	node := p.prog.Node()
	ast.Walk(&node, c)
	return c.names
}

type nameCollector struct {
	seen  map[string]bool
	names []string
}

func (c *nameCollector) Visit(node *ast.Node) {
	id, ok := (*node).(*ast.IdentifierNode)
	if !ok || c.seen[id.Value] {
		return
	}
	c.seen[id.Value] = true
	c.names = append(c.names, id.Value)
}
