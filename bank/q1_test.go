package bank

import (
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/calc"
)

// q1Properties measures the four properties of g numerically, without the
// pool's declarations: zero-centred (odd), cheap (piecewise linear: at most
// a few kinks on a fine grid), squashing (bounded and strictly increasing),
// monotonic.
func q1Properties(g func(float64) float64) map[string]bool {
	var grid []float64
	for i := -8000; i <= 8000; i++ {
		grid = append(grid, float64(i)/400)
	}
	far := []float64{-1e9, -1e6, -1e3, 1e3, 1e6, 1e9}
	odd, bounded, monotonic, increasing := true, true, true, true
	for _, s := range grid {
		if math.Abs(g(s)+g(-s)) > 1e-9 {
			odd = false
		}
	}
	all := append(append([]float64{}, grid...), far...)
	sort.Float64s(all)
	for i, s := range all {
		if math.Abs(g(s)) > 100 {
			bounded = false
		}
		if i > 0 && g(s) < g(all[i-1])-1e-12 {
			monotonic = false
		}
	}
	for i := 1; i < len(grid); i++ {
		if math.Abs(grid[i]) <= 10 && g(grid[i]) <= g(grid[i-1]) {
			increasing = false
		}
	}
	kinks := 0
	for i := 1; i+1 < len(grid); i++ {
		if math.Abs(g(grid[i-1])-2*g(grid[i])+g(grid[i+1])) > 1e-10 {
			kinks++
		}
	}
	return map[string]bool{"a": odd, "b": kinks <= 10, "c": bounded && increasing, "d": monotonic}
}

func TestQ1CanonicalRendersThePaper(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q1").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if v.Marks != 12 {
		t.Errorf("marks = %v, want 12", v.Marks)
	}
	for _, want := range []string{
		"Consider the following activation functions:",
		"**Sigmoid**: $g(s) = \\frac{1}{1 + e^{-s}}$",
		"**Tanh**: $g(s) = \\frac{2}{1 + e^{-2s}} - 1$",
		"**ReLU**: $g(s) = \\begin{cases} 0 & \\text{for } s < 0 \\\\ s & \\text{for } s \\geq 0 \\end{cases}$",
		"**Sine**: $g(s) = \\sin(s)$",
		"**SiLU (Sigmoid Linear Unit)**: $g(s) = \\frac{s}{1 + e^{-s}}$",
	} {
		if !strings.Contains(v.Stem, want) {
			t.Errorf("canonical stem lacks %q:\n%s", want, v.Stem)
		}
	}
	paper := []string{"Sigmoid", "Tanh", "ReLU", "Sine", "SiLU (Sigmoid Linear Unit)"}
	keys := map[string][]string{
		"a": {"Tanh", "Sine"},
		"b": {"ReLU"},
		"c": {"Sigmoid", "Tanh"},
		"d": {"Sigmoid", "Tanh", "ReLU"},
	}
	labels := map[string][]any{"a": {"B", "D"}, "b": {"C"}, "c": {"A", "B"}, "d": {"A", "B", "C"}}
	prompts := map[string]string{
		"a": "Which function(s) are zero-centred",
		"b": "Which function(s) are computationally efficient",
		"c": "Which function(s) help to normalise or scale the data (squash any input into a fixed range while keeping the inputs' order: bounded above and below, and strictly increasing)?",
		"d": "Which function(s) are monotonic, i.e. as the input increases, the output does not decrease?",
		"e": "where $\\beta$ can be a constant or trainable.",
	}
	for _, p := range v.Parts {
		if !strings.Contains(p.Prompt, prompts[p.ID]) {
			t.Errorf("(%s) prompt %q lacks %q", p.ID, p.Prompt, prompts[p.ID])
		}
		if p.ID == "e" {
			if p.Marks != 4 || p.Answer.Type != "essay" {
				t.Errorf("(e) is %v marks of %s, want a 4-mark essay", p.Marks, p.Answer.Type)
			}
			continue
		}
		if p.Marks != 2 {
			t.Errorf("(%s) marks = %v, want 2", p.ID, p.Marks)
		}
		var shown []string
		for _, o := range p.Answer.Options {
			shown = append(shown, o.Text)
		}
		if !reflect.DeepEqual(shown, paper) {
			t.Errorf("(%s) options %q, want the paper's %q", p.ID, shown, paper)
		}
		if !reflect.DeepEqual(p.Answer.Key, keys[p.ID]) {
			t.Errorf("(%s) key %v, want %v", p.ID, p.Answer.Key, keys[p.ID])
		}
		if got := KeyValue(&p.Answer); !reflect.DeepEqual(got, labels[p.ID]) {
			t.Errorf("(%s) key labels %v, want %v", p.ID, got, labels[p.ID])
		}
	}
}

// TestQ1KeysFollowTheFormulasNumerically checks, over 1000 variants, that
// every key of (a)–(d) is what the shown functions do numerically, that
// each part has a right and a wrong option, and that every shown formula is
// in the prompt.
func TestQ1KeysFollowTheFormulasNumerically(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q1")
	pool := map[string]calc.Activation{}
	for _, a := range calc.Activations() {
		pool[a.Name] = a
	}
	props := map[string]map[string]bool{}
	drawn := map[string]int{}
	for seed := uint64(0); seed < 1000; seed++ {
		v, err := tp.Variant(seed)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range v.Parts[0].Answer.Options {
			names = append(names, o.ID)
		}
		if len(names) != 5 {
			t.Fatalf("seed %d: %d functions shown, want 5", seed, len(names))
		}
		for _, n := range names {
			a, ok := pool[n]
			if !ok {
				t.Fatalf("seed %d: %q is not in the activation pool", seed, n)
			}
			if strings.HasPrefix(n, "Swish") {
				t.Errorf("seed %d: shows %s, which (e) asks about", seed, n)
			}
			if !strings.Contains(v.Stem, "**"+n+"**: $"+a.Formula+"$") {
				t.Errorf("seed %d: stem lacks %s's formula", seed, n)
			}
			if props[n] == nil {
				props[n] = q1Properties(a.Eval)
			}
			drawn[n]++
		}
		for _, p := range v.Parts[:4] {
			var want []string
			for _, n := range names {
				if props[n][p.ID] {
					want = append(want, n)
				}
			}
			if len(want) == 0 || len(want) == 5 {
				t.Errorf("seed %d (%s): %d of 5 options right; want at least one right and one wrong", seed, p.ID, len(want))
			}
			got, _ := p.Answer.Key.([]string)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("seed %d (%s): key %v, numerically %v", seed, p.ID, got, want)
			}
		}
	}
	if len(drawn) < 12 {
		t.Errorf("only %d functions of the pool were shown in 1000 variants: %v", len(drawn), drawn)
	}
}

func TestQ1Grading(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q1").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		part, answer string
		want         float64
	}{
		{"a", "B, D", 2},
		{"a", "Tanh, Sine", 2},
		{"a", "B", 1},
		{"a", "B, C, D", 1},
		{"a", "A, B, C, D, E", 0},
		{"b", "C", 2},
		{"b", "C, E", 0},
		{"c", "A, B", 2},
		{"c", "Sigmoid, Tanh", 2},
		{"c", "A, B, D", 1}, // Sine is bounded but periodic: it does not squash
		{"c", "A", 1},
		{"d", "A, B, C, E", 2.0 * 2 / 3},
	}
	for _, tc := range tests {
		if r := gradeOne(t, v, tc.part, tc.answer); math.Abs(r.Score-tc.want) > 1e-9 {
			t.Errorf("(%s) %q scores %v, want %v (%s)", tc.part, tc.answer, r.Score, tc.want, r.FormatError)
		}
	}
	// The reference answer of (e) meets every rubric criterion.
	rs, err := v.Grade(map[string]string{"e": v.Parts[4].Answer.Reference})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Part == "e" && r.Score != 4 {
			t.Errorf("(e) the reference answer suggests %v of 4", r.Score)
		}
	}
}
