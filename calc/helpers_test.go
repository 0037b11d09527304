package calc

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/expr-lang/expr/builtin"
)

// paper holds the numbers printed in the DASC7606 paper, as a template's
// environment would hold them.
var paper = Env{
	"nf4": []any{-1.00, -0.70, -0.53, -0.39, -0.28, -0.18, -0.09, 0.00,
		0.08, 0.16, 0.25, 0.34, 0.44, 0.56, 0.72, 1.00},
	"gpus": []any{"H100", "L40S", "V100", "RTX4090", "T4"},
	"vram": []any{80, 48, 32, 24, 16},
	"tokens": []any{"Ann", "Bill", "like", "hate", "cat", "dog", "book",
		"white", "brown", "black", "big", "small", "#s"},
	"tok": []any{
		[]any{1, 0, 0, 1}, []any{1, 0, 0, -1}, []any{0, 0, 1, 1}, []any{0, 0, 1, -1},
		[]any{-1, 0, 0, 0}, []any{-2, 0, 0, 0}, []any{-4, 0, 0, 0},
		[]any{0, -1, 0, 1}, []any{0, -1, 0, 2}, []any{0, -1, 0, 3},
		[]any{0, 0, -1, 1}, []any{0, 0, -1, -1}, []any{0, 0, 0, 1},
	},
	"pos": []any{
		[]any{0.0, 0.0, 0.0, 0.5}, []any{0.0, 0.0, 0.5, 0.0}, []any{0.0, 0.5, 0.0, 0.0},
		[]any{0.5, 0.0, 0.0, 0.0}, []any{0.0, 0.0, 0.5, 0.5}, []any{0.0, 0.5, 0.0, 0.5},
		[]any{0.5, 0.0, 0.0, 0.5},
	},
	// Question 5(a): the input to decode.
	"x5a": []any{
		[]any{1.0, 0.0, 0.0, 1.5}, []any{0.0, 0.0, 1.5, 1.0}, []any{0.0, 0.5, 0.0, 1.0},
		[]any{0.5, 0.0, -1.0, -1.0}, []any{0.0, -1.0, 0.5, 1.5}, []any{-1.0, 0.5, 0.0, 0.5},
		[]any{0.5, 0.0, 0.0, 1.5},
	},
	// Question 5(b): the embedding of "Bill hate #s big black dog #s".
	"x5b": []any{
		[]any{1.0, 0.0, 0.0, -0.5}, []any{0.0, 0.0, 1.5, -1.0}, []any{0.0, 0.5, 0.0, 1.0},
		[]any{0.5, 0.0, -1.0, 1.0}, []any{0.0, -1.0, 0.5, 3.5}, []any{-2.0, 0.5, 0.0, 0.5},
		[]any{0.5, 0.0, 0.0, 1.5},
	},
	"x": 0.9,
	"n": 4,
}

// eval compiles src against env and runs it.
func eval(src string, env Env) (any, error) {
	p, err := Compile(src, env)
	if err != nil {
		return nil, err
	}
	return p.Run(env)
}

// same reports whether got equals want: numbers of the same kind within a
// relative 1e-12 (ints exactly), lists element by element, maps key by key.
func same(got, want any) bool {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		return ok && (g == w || math.Abs(g-w) <= 1e-12*math.Max(math.Abs(g), math.Abs(w)))
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !same(g[i], w[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k := range w {
			if !same(g[k], w[k]) {
				return false
			}
		}
		return true
	}
	return got == want
}

// valueCase is an expression and the value it must produce.
type valueCase struct {
	src  string
	want any
}

// errorCase is an expression that must fail with a message containing want.
type errorCase struct {
	src  string
	want string
}

func runValues(t *testing.T, cases []valueCase) {
	t.Helper()
	for _, c := range cases {
		got, err := eval(c.src, paper)
		if err != nil {
			t.Errorf("%s: unexpected error: %v", c.src, err)
			continue
		}
		if !same(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.src, got, c.want)
		}
	}
}

func runErrors(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, c := range cases {
		got, err := eval(c.src, paper)
		if err == nil {
			t.Errorf("%s = %#v, want an error containing %q", c.src, got, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.src, err, c.want)
		}
	}
}

func TestSame(t *testing.T) {
	cases := []struct {
		a, b any
		want bool
	}{
		{1.0, 1.0 + 1e-15, true},
		{1.0, 1.001, false},
		{1, 1.0, false},
		{1.0, 1, false},
		{[]any{1, "a"}, []any{1, "a"}, true},
		{[]any{1, "a"}, []any{1}, false},
		{map[string]any{"a": true}, map[string]any{"a": true}, true},
		{map[string]any{"a": true}, map[string]any{"a": false}, false},
	}
	for _, c := range cases {
		if got := same(c.a, c.b); got != c.want {
			t.Errorf("same(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// keywords are expr's operator words and literals, which cannot name a function.
var keywords = []string{"in", "not", "and", "or", "matches", "contains", "startsWith",
	"endsWith", "let", "if", "else", "nil", "true", "false"}

func isBuiltin(name string) bool {
	if _, ok := builtin.Index[name]; ok {
		return true
	}
	for _, k := range keywords {
		if k == name {
			return true
		}
	}
	return false
}

func TestFunctionsAreCallable(t *testing.T) {
	// sample holds a valid call of every function; the test fails when a
	// function is added without one, so each is shown to work through Compile.
	sample := map[string]string{
		"exp": "exp(1)", "ln": "ln(2)", "log": "log(8, 2)", "log2": "log2(8)", "log10": "log10(1000)",
		"sqrt": "sqrt(2)", "pow": "pow(2, 10)", "sin": "sin(1)", "cos": "cos(1)", "tanh": "tanh(1)",
		"sigmoid": "sigmoid(0)", "pi": "pi()", "roundto": "roundto(2.5, 0)", "sigfig": "sigfig(12345, 2)",
		"clamp": "clamp(5, 0, 3)", "isint": "isint(2.0)", "frac": "frac(2.3)", "near_int": "near_int(2.001, 0.01)",
		"norm_cdf": "norm_cdf(0)", "norm_ppf": "norm_ppf(0.5)",
		"nearest": "nearest(nf4, x)", "nearest_index": "nearest_index(nf4, x)", "tie_gap": "tie_gap(nf4, x)",
		"bin": "bin(3, 4)", "smallest": "smallest(vram, 35)", "smallest_index": "smallest_index(vram, 35)",
		"smallest_by": "smallest_by(gpus, vram, 35)", "min_gap_ratio": "min_gap_ratio(vram, 35)",
		"uniform_table": "uniform_table(2, -1, 1)", "normal_table": "normal_table(3)", "roundall": "roundall(nf4, 1)",
		"lookup": "lookup(gpus, vram, 'T4')", "lookup_all": "lookup_all(gpus, vram, ['T4'])", "index_of": "index_of(gpus, 'T4')", "without": "without(gpus, 'T4')", "insert": "insert(gpus, 0, 'A40')", "distinct": "distinct(gpus)", "rank": "rank(gpus, vram)", "permute": "permute(gpus, [4, 3, 2, 1, 0])",
		"argmax": "argmax(vram)", "argmin": "argmin(vram)",
		"dot": "dot([1, 2], [3, 4])", "add": "add([1, 2], [3, 4])", "sub": "sub([1, 2], [3, 4])",
		"scale": "scale([1, 2], 3)", "norm": "norm([3, 4])", "softmax": "softmax([0, 0])",
		"matmul": "matmul([[1, 2]], [[3], [4]])", "transpose": "transpose([[1, 2]])",
		"attention": "attention(x5b, x5b, x5b)", "attention_weights": "attention_weights(x5b)", "attend": "attend(x5b)",
		"embed":  "embed('Ann like #s', tokens, tok, pos)",
		"decode": "decode(x5a[0], tokens, tok, pos, 1)", "decode_count": "decode_count(x5a[0], tokens, tok, pos, 1)",
		"decode_all": "decode_all(x5a, tokens, tok, pos)", "decodes_uniquely": "decodes_uniquely(x5a, tokens, tok, pos)",
		"activations": "activations()", "activate": "activate('ReLU', -1)",
		"fixed": "fixed(0.9, 2)", "grid": "grid([[1, 2]], 1, ' ', ';')", "md_rows": "md_rows(['a'], [[1, 2]], -1)", "thousands": "thousands(1234)", "sci": "sci(1234, 2)", "pct": "pct(0.5, 0)",
	}
	seen := make(map[string]bool)
	for _, f := range Functions() {
		if seen[f.Name] {
			t.Errorf("function %s is defined twice", f.Name)
		}
		seen[f.Name] = true
		if isBuiltin(f.Name) {
			t.Errorf("function %s clashes with an expr builtin", f.Name)
		}
		if !strings.HasPrefix(f.Doc, f.Name+"(") || !strings.Contains(f.Doc, " — ") {
			t.Errorf("function %s: doc %q does not start with its signature and a description", f.Name, f.Doc)
		}
		src, ok := sample[f.Name]
		if !ok {
			t.Errorf("function %s has no sample call in this test", f.Name)
			continue
		}
		out, err := eval(src, paper)
		if err != nil {
			t.Errorf("%s: %v", src, err)
		}
		if _, changed := normalize(out); freshResults[f.Name] && changed {
			t.Errorf("%s: the result %#v is not in canonical form, yet %s is listed in freshResults", src, out, f.Name)
		}
		if _, err := f.Fn(); err == nil && f.Name != "pi" && f.Name != "activations" {
			t.Errorf("%s() with no arguments: want an error", f.Name)
		} else if err != nil && !strings.HasPrefix(err.Error(), f.Name+": ") {
			t.Errorf("%s() error %q does not name the function", f.Name, err)
		}
	}
	for name := range sample {
		if !seen[name] {
			t.Errorf("sample call for %s, which is not a function", name)
		}
	}
}

func TestWrongTypesAreErrors(t *testing.T) {
	// Every function given an argument of the wrong kind fails with an
	// error naming it rather than panicking.
	odd := []any{"x", []any{"a"}, map[string]any{}, nil, true, []any{[]any{1}, 2}}
	for _, f := range Functions() {
		for n := 1; n <= 5; n++ {
			for _, v := range odd {
				args := make([]any, n)
				for i := range args {
					args[i] = v
				}
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Errorf("%s%v panicked: %v", f.Name, args, r)
						}
					}()
					if _, err := f.Fn(args...); err != nil && !strings.HasPrefix(err.Error(), f.Name+": ") {
						t.Errorf("%s%v: error %q does not name the function", f.Name, fmt.Sprint(args), err)
					}
				}()
			}
		}
	}
}
