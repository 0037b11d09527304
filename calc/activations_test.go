package calc

import (
	"math"
	"sort"
	"strings"
	"testing"
)

// grid returns s over [-20, 20] in steps of 0.001, computed from integers so
// that -s is exactly in the grid too.
func grid() []float64 {
	out := make([]float64, 0, 40001)
	for i := -20000; i <= 20000; i++ {
		out = append(out, float64(i)/1000)
	}
	return out
}

// far holds inputs well outside the grid, where an unbounded function shows it.
var far = []float64{-1e9, -1e6, -1e3, -100, 100, 1e3, 1e6, 1e9}

// isOdd reports whether g(-s) = -g(s) on the grid.
func isOdd(g func(float64) float64, ss []float64) bool {
	for _, s := range ss {
		if math.Abs(g(-s)+g(s)) > 1e-9 {
			return false
		}
	}
	return true
}

// kinks counts the grid points where g's second difference is not zero: a
// piecewise linear function has a few (at its kinks), any other many.
func kinks(g func(float64) float64, ss []float64) int {
	n := 0
	for i := 1; i+1 < len(ss); i++ {
		if math.Abs(g(ss[i-1])-2*g(ss[i])+g(ss[i+1])) > 1e-10 {
			n++
		}
	}
	return n
}

// isBounded reports whether |g| stays below 100 everywhere sampled.
func isBounded(g func(float64) float64, ss []float64) bool {
	for _, s := range append(ss, far...) {
		if math.Abs(g(s)) > 100 {
			return false
		}
	}
	return true
}

// isIncreasing reports whether g strictly increases over [-10, 10] in
// steps of 0.01, where every squashing function of the pool still has a
// slope float64 can see.
func isIncreasing(g func(float64) float64) bool {
	prev := g(-10)
	for i := -999; i <= 1000; i++ {
		v := g(float64(i) / 100)
		if v <= prev {
			return false
		}
		prev = v
	}
	return true
}

// isMonotonic reports whether g never decreases along the samples.
func isMonotonic(g func(float64) float64, ss []float64) bool {
	all := append(append([]float64{}, ss...), far...)
	sort.Float64s(all)
	prev := g(all[0])
	for _, s := range all[1:] {
		v := g(s)
		if v < prev-1e-12 {
			return false
		}
		prev = v
	}
	return true
}

func TestActivationPropertiesHoldNumerically(t *testing.T) {
	ss := grid()
	pool := Activations()
	if len(pool) < 14 {
		t.Fatalf("pool has %d activation functions, want at least 14", len(pool))
	}
	names := make(map[string]bool)
	for _, a := range pool {
		if names[a.Name] {
			t.Errorf("%s is in the pool twice", a.Name)
		}
		names[a.Name] = true
		if !strings.HasPrefix(a.Formula, "g(s) = ") {
			t.Errorf("%s: formula %q does not start with g(s) = ", a.Name, a.Formula)
		}
		for _, s := range append(append([]float64{}, ss...), far...) {
			if v := a.Eval(s); math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s: g(%v) = %v", a.Name, s, v)
				break
			}
		}
		if got := isOdd(a.Eval, ss) && a.Eval(0) == 0; got != a.ZeroCentred {
			t.Errorf("%s: declared zero-centred %v, numerically %v", a.Name, a.ZeroCentred, got)
		}
		k := kinks(a.Eval, ss)
		if got := k <= 10; got != a.Cheap {
			t.Errorf("%s: declared cheap %v, numerically piecewise linear %v (%d kinks)", a.Name, a.Cheap, got, k)
		}
		if !a.Cheap && k < 1000 {
			t.Errorf("%s: only %d points of curvature, too close to piecewise linear to tell", a.Name, k)
		}
		if got := isBounded(a.Eval, ss); got != a.Bounded {
			t.Errorf("%s: declared bounded %v, numerically %v", a.Name, a.Bounded, got)
		}
		if got := isMonotonic(a.Eval, ss); got != a.Monotonic {
			t.Errorf("%s: declared monotonic %v, numerically %v", a.Name, a.Monotonic, got)
		}
		if got := isBounded(a.Eval, ss) && isIncreasing(a.Eval); got != a.Squashing {
			t.Errorf("%s: declared squashing %v, numerically bounded and strictly increasing %v", a.Name, a.Squashing, got)
		}
		// A cheap function's formula uses none of the costly operations.
		costly := false
		for _, op := range []string{`\frac`, `e^`, `\ln`, `\sin`, `\tan`, `\operatorname{erf}`, `/`} {
			costly = costly || strings.Contains(a.Formula, op)
		}
		if costly == a.Cheap {
			t.Errorf("%s: declared cheap %v but formula %q", a.Name, a.Cheap, a.Formula)
		}
	}
}

func TestActivationFormulasMatchEval(t *testing.T) {
	// Values from the formulas as written, at a few points.
	cases := []struct {
		name string
		s    float64
		want float64
	}{
		{"Sigmoid", 1, 1 / (1 + math.Exp(-1))},
		{"Tanh", 0.5, 2/(1+math.Exp(-1)) - 1},
		{"Tanh", -3, 2/(1+math.Exp(6)) - 1},
		{"ReLU", -2, 0},
		{"ReLU", 2.5, 2.5},
		{"Sine", math.Pi / 6, 0.49999999999999994},
		{"SiLU (Sigmoid Linear Unit)", 2, 2 / (1 + math.Exp(-2))},
		{"Leaky ReLU", -3, -0.03},
		{"ELU (Exponential Linear Unit)", -1, math.Exp(-1) - 1},
		{"GELU (Gaussian Error Linear Unit)", 1, 0.5 * (1 + math.Erf(1/math.Sqrt2))},
		{"Softplus", 0, math.Ln2},
		{"Softplus", 800, 800},
		{"Softsign", 3, 0.75},
		{"Hard tanh", -4, -1},
		{"Hard tanh", 0.3, 0.3},
		{"Identity", -7, -7},
		{"Arctan", 1, math.Pi / 4},
		{"Hard sigmoid", 1, 0.7},
		{"Hard sigmoid", 3, 1},
		{"Mish", 1, math.Tanh(math.Log(1 + math.E))},
		{"Gaussian", 2, math.Exp(-4)},
		{"Swish (β = 2)", 1, 1 / (1 + math.Exp(-2))},
		{"Binary step", 0, 1},
		{"Binary step", -0.001, 0},
		{"ReLU6", 7, 6},
		{"ReLU6", 3, 3},
	}
	pool := make(map[string]Activation)
	for _, a := range Activations() {
		pool[a.Name] = a
	}
	for _, c := range cases {
		a, ok := pool[c.name]
		if !ok {
			t.Errorf("no activation %q", c.name)
			continue
		}
		if got := a.Eval(c.s); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s(%v) = %v, want %v", c.name, c.s, got, c.want)
		}
	}
}

func TestActivationsInTemplates(t *testing.T) {
	paperFive := "filter(activations(), .name in ['Sigmoid', 'Tanh', 'ReLU', 'Sine', 'SiLU (Sigmoid Linear Unit)'])"
	runValues(t, []valueCase{
		// Question 1(a)–(d) keys for the paper's five functions.
		{"map(filter(" + paperFive + ", .zero_centred), .name)", []any{"Tanh", "Sine"}},
		{"map(filter(" + paperFive + ", .cheap), .name)", []any{"ReLU"}},
		{"map(filter(" + paperFive + ", .bounded), .name)", []any{"Sigmoid", "Tanh", "Sine"}},
		{"map(filter(" + paperFive + ", .monotonic), .name)", []any{"Sigmoid", "Tanh", "ReLU"}},
		{"map(filter(" + paperFive + ", .squashing), .name)", []any{"Sigmoid", "Tanh"}},
		{"map(filter(activations(), .squashing), .name)", []any{"Sigmoid", "Tanh", "Softsign", "Arctan"}},
		{"activations()[0]", map[string]any{"name": "Sigmoid", "formula": `g(s) = \frac{1}{1 + e^{-s}}`,
			"zero_centred": false, "cheap": false, "bounded": true, "monotonic": true, "squashing": true}},
		{"len(activations()) >= 14", true},
		{"activate('ReLU', -1)", 0.0},
		{"activate('Sigmoid', 0)", 0.5},
		{"activate('Tanh', 1)", 0.7615941559557649},
	})
	runErrors(t, []errorCase{
		{"activate('Relu', 1)", `activate: no activation function "Relu"`},
		{"activate(1, 1)", "activate: name: 1 (int) is not a string"},
		{"activate('ReLU', 'x')", "activate: x: x (string) is not a number"},
		{"activations(1)", "activations: want 0 arguments, got 1"},
	})
}
