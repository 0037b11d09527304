package bank

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/calc"
	"github.com/marksmith/marksmith/grader"
)

func TestQ6CanonicalRendersThePaper(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q6").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id     string
		marks  float64
		typ    grader.Type
		prompt string // the paper's words the prompt holds
		not    string // words it must not hold
	}{
		{"a", 3, grader.Essay, "Explain why applying $3 \\times 3$ filters to three consecutive convolutional layers has the same effective local receptive field (LRF) as a $7 \\times 7$ filter applied to a single convolution layer.\n\nAnswer in a few sentences.", "State the side"},
		{"b", 2, grader.Table, "Further to (a) above, explain why $3 \\times 3$ filters applied to three", ""},
		{"b_why", 1, grader.Essay, "Now explain why the $3 \\times 3$ stack uses fewer parameters", ""},
		{"c", 3, grader.Table, "$28 \\times 28 \\times 192$ input to obtain a $28 \\times 28 \\times 128$", ""},
		{"d", 3, grader.Number, "cost in terms of the number of multiplication operations", ""},
		{"e", 2, grader.Number, "followed by applying a $3 \\times 3$ filter to the intermediate output", "bottleneck"},
		{"e_name", 1, grader.Text, "What is the name of this technique?", ""},
		{"f", 3, grader.Number, "How much cost is saved", ""},
		{"g", 3, grader.Text, "ResNet", ""},
		{"h", 3, grader.Text, "GoogleNet", ""},
	}
	if len(v.Parts) != len(tests) || v.Marks != 24 {
		t.Fatalf("%d parts, %v marks; want %d parts, 24 marks", len(v.Parts), v.Marks, len(tests))
	}
	for i, tc := range tests {
		p := v.Parts[i]
		if p.ID != tc.id || p.Marks != tc.marks || p.Answer.Type != tc.typ {
			t.Errorf("part %d is (%s) %v marks %s, want (%s) %v marks %s", i, p.ID, p.Marks, p.Answer.Type, tc.id, tc.marks, tc.typ)
		}
		if !strings.Contains(p.Prompt, tc.prompt) || tc.not != "" && strings.Contains(p.Prompt, tc.not) {
			t.Errorf("(%s) prompt %q: want %q in it and not %q", p.ID, p.Prompt, tc.prompt, tc.not)
		}
	}
	keys := map[string]any{"b": [][]float64{{27, 49}}, "c": [][]float64{{1, 1}}, "d": 173408256.0, "e": 67436544.0, "f": 105971712.0}
	for _, p := range v.Parts {
		if want, ok := keys[p.ID]; ok && !reflect.DeepEqual(p.Answer.Key, want) {
			t.Errorf("(%s) key %v, want %v", p.ID, p.Answer.Key, want)
		}
	}
}

// TestQ6KeysMatchAnIndependentComputation checks every numeric key of 1000
// variants against the convolution costs worked out here, and the
// constraints' reasons.
func TestQ6KeysMatchAnIndependentComputation(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q6")
	for seed := uint64(1); seed <= 1000; seed++ {
		v, err := tp.Variant(seed)
		if err != nil {
			t.Fatal(err)
		}
		get := func(name string) int {
			x, err := calc.Int(v.Params[name])
			if err != nil {
				t.Fatalf("seed %d: %s: %v", seed, name, err)
			}
			return x
		}
		k, n, hw, cin, cout, mid := get("k"), get("n"), get("hw"), get("cin"), get("cout"), get("mid")
		side := 1
		for range n {
			side += k - 1 // each stacked k×k layer widens the field by k - 1
		}
		direct := hw * hw * cout * (k * k * cin) // one k×k×cin dot product per output value
		bottleneck := hw*hw*mid*cin + hw*hw*cout*(k*k*mid)
		if mid >= cin || mid >= cout || bottleneck >= direct || side > 15 {
			t.Errorf("seed %d: k=%d n=%d hw=%d cin=%d cout=%d mid=%d breaks a constraint", seed, k, n, hw, cin, cout, mid)
		}
		want := map[string]any{
			"b": [][]float64{{float64(n * k * k), float64(side * side)}},
			"c": [][]float64{{float64((k - 1) / 2), 1}},
			"d": float64(direct), "e": float64(bottleneck), "f": float64(direct - bottleneck),
		}
		for _, p := range v.Parts {
			if w, ok := want[p.ID]; ok && !reflect.DeepEqual(p.Answer.Key, w) {
				t.Errorf("seed %d (%s): key %v, want %v", seed, p.ID, p.Answer.Key, w)
			}
		}
		if a := v.Parts[0].Prompt; !strings.Contains(a, itoa(side)+" \\times "+itoa(side)) {
			t.Errorf("seed %d: (a) does not name the %d×%d filter: %q", seed, side, side, a)
		}
	}
}

func TestQ6Grading(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q6").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		part, answer string
		want         float64
		review       bool
	}{
		{"b", "27, 49", 2, false},
		{"b", "27, 81", 1, false},
		{"e", "67436544", 2, false},
		{"e", "67.44M", 2, false},
		{"e_name", "bottleneck layer", 1, false},
		{"e_name", "1x1 convolutions to reduce channels", 1, false},
		{"e_name", "dimensionality reduction", 1, false},
		{"e_name", "Inception", 0, true},
		{"a", "Each layer adds k-1 to the receptive field: 3, then 5, then 7, since each unit sees a 3x3 window of the layer below.", 3, true},
		{"b_why", "27 < 49: the weights grow with the square of the side", 1, true},
	}
	for _, tc := range tests {
		r := gradeOne(t, v, tc.part, tc.answer)
		if math.Abs(r.Score-tc.want) > 1e-9 || r.NeedsReview != tc.review {
			t.Errorf("(%s) %q scores %v (review %v), want %v (review %v): %s", tc.part, tc.answer, r.Score, r.NeedsReview, tc.want, tc.review, r.Feedback)
		}
	}
}
