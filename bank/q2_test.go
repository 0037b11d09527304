package bank

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// q2Sizes recomputes Q2's model from V, L, E, H: the four terms of the size
// and, for each variable, the value that halves the size as a fraction of
// its current value.
func q2Sizes(V, L, E, H float64) (terms [4]float64, solved map[string]float64) {
	terms = [4]float64{2 * V * E, 4 * E * E * L, 3 * E * H * L, 2 * E * L}
	size := terms[0] + terms[1] + terms[2] + terms[3]
	half := size / 2
	b := 2*V + 3*L*H + 2*L
	eHalf := (-b + math.Sqrt(b*b+16*L*half)) / (8 * L)
	solved = map[string]float64{
		"V": (half - terms[1] - terms[2] - terms[3]) / (2 * E) / V,
		"L": (half - terms[0]) / (4*E*E + 3*E*H + 2*E) / L,
		"E": eHalf / E,
		"H": (half - terms[0] - terms[1] - terms[3]) / (3 * E * L) / H,
	}
	// The E that halves the size must really halve it.
	if got := 2*V*eHalf + L*(4*eHalf*eHalf+3*eHalf*H+2*eHalf); math.Abs(got-half) > 1e-6*half {
		panic("q2Sizes: E root does not halve the size")
	}
	return terms, solved
}

func q2Param(t *testing.T, v *Variant, name string) float64 {
	t.Helper()
	x, ok := v.Params[name]
	if !ok {
		t.Fatalf("variant %d has no parameter %s", v.Seed, name)
	}
	switch n := x.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	t.Fatalf("variant %d: parameter %s is %T, not a number", v.Seed, name, x)
	return 0
}

func q2Part(t *testing.T, v *Variant, id string) PartVariant {
	t.Helper()
	for _, p := range v.Parts {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("variant %d has no part %s", v.Seed, id)
	return PartVariant{}
}

func TestQ2CanonicalRendersThePaper(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q2").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"$$2VE + L(4E^2 + 3EH + 2E)$$",
		"$V = 32000$", "= number of tokens in the vocabulary",
		"$L = 40$", "= number of transformer layers",
		"$E = 5120$", "= size of the embedding vector",
		"$H = 13824$", "= size of the hidden layer in MLP",
	} {
		if !strings.Contains(v.Stem, want) {
			t.Errorf("canonical stem lacks %q:\n%s", want, v.Stem)
		}
	}
	if v.Marks != 10 {
		t.Errorf("marks = %v, want 10", v.Marks)
	}
	a := q2Part(t, v, "a")
	if !strings.Contains(a.Prompt, "halve the size of the model for distillation") || a.Marks != 4 {
		t.Errorf("part a: marks %v, prompt %q", a.Marks, a.Prompt)
	}
	if got, want := a.Answer.Key, []string{"L", "E", "H"}; !reflect.DeepEqual(got, want) {
		t.Errorf("canonical key of (a) = %v, want %v", got, want)
	}
	if got := KeyValue(&a.Answer); !reflect.DeepEqual(got, []any{"B", "C", "D"}) {
		t.Errorf("canonical (a) labels = %v, want [B C D]", got)
	}
	b := q2Part(t, v, "b")
	if b.Prompt != "What is the hardest variable to change and why?\n\nAnswer in a few sentences." || b.Marks != 3 {
		t.Errorf("part b: marks %v, prompt %q", b.Marks, b.Prompt)
	}
	if !strings.Contains(b.Answer.Reference, "only 2.5% of the parameters") {
		t.Errorf("part b reference does not give the embeddings' share 2.5%%: %q", b.Answer.Reference)
	}
	c := q2Part(t, v, "c")
	if want := "In general, which part of the language model contributes the most parameters to the model's size?\n\nSelect one option (typed: its letter)."; c.Prompt != want {
		t.Errorf("(c) prompt %q, want the paper's question %q", c.Prompt, want)
	}
	if c.Answer.Key != "mlp" || c.Marks != 3 {
		t.Errorf("canonical key of (c) = %v (marks %v), want mlp (3)", c.Answer.Key, c.Marks)
	}
	var order []string
	for _, o := range c.Answer.Options {
		order = append(order, o.ID)
	}
	if want := []string{"embeddings", "attention", "mlp", "norm"}; !reflect.DeepEqual(order, want) {
		t.Errorf("canonical (c) options in order %v, want %v (not shuffled)", order, want)
	}
	// The paper's model: 13,015,859,200 parameters.
	if got := q2Param(t, v, "size"); got != 13015859200 {
		t.Errorf("canonical size = %v, want 13015859200", got)
	}
}

func TestQ2HandComputedVariants(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q2")
	tests := []struct {
		seed       uint64
		V, L, E, H float64
		hHalf      float64 // the H that would halve the size
		halve      []string
		largest    string
	}{
		// 544,002,048 parameters, 189,530,112 of them embeddings: halving
		// needs H = -26,634,240 / 79,872 = -333.46 (impossible) but L = 6.05.
		{seed: 234, V: 92544, L: 26, E: 1024, H: 3072, hHalf: -333.46153846153845, halve: []string{"L", "E"}, largest: "mlp"},
		// A wide, deep model (ratio 4): any of L, E, H can halve it.
		{seed: 29, V: 50280, L: 95, E: 6144, H: 24576, hHalf: 8015.245614035088, halve: []string{"L", "E", "H"}, largest: "mlp"},
	}
	for _, tc := range tests {
		v, err := tp.Variant(tc.seed)
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]float64{"V": tc.V, "L": tc.L, "E": tc.E, "H": tc.H} {
			if got := q2Param(t, v, name); got != want {
				t.Errorf("seed %d: %s = %v, want %v", tc.seed, name, got, want)
			}
		}
		if got := q2Param(t, v, "H_half"); math.Abs(got-tc.hHalf) > 1e-6 {
			t.Errorf("seed %d: H_half = %v, want %v", tc.seed, got, tc.hHalf)
		}
		if got := q2Part(t, v, "a").Answer.Key; !reflect.DeepEqual(got, tc.halve) {
			t.Errorf("seed %d: key of (a) = %v, want %v", tc.seed, got, tc.halve)
		}
		if got := q2Part(t, v, "c").Answer.Key; got != tc.largest {
			t.Errorf("seed %d: key of (c) = %v, want %v", tc.seed, got, tc.largest)
		}
	}
}

func TestQ2KeysMatchAnIndependentComputation(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q2")
	seen := map[string]int{}
	for seed := uint64(0); seed < 1000; seed++ {
		v, err := tp.Variant(seed)
		if err != nil {
			t.Fatal(err)
		}
		V, L, E, H := q2Param(t, v, "V"), q2Param(t, v, "L"), q2Param(t, v, "E"), q2Param(t, v, "H")
		if r := H / E; r < 2.6 || r > 8.2 || math.Mod(H, 256) != 0 {
			t.Errorf("seed %d: H = %v is not a multiple of 256 between 2.6E and 8.2E (E = %v)", seed, H, E)
		}
		terms, solved := q2Sizes(V, L, E, H)
		var halve []string
		for _, name := range []string{"V", "L", "E", "H"} {
			if math.Abs(solved[name]) < 0.1 {
				t.Errorf("seed %d: %s would halve the size at %.3f of its value, too near zero", seed, name, solved[name])
			}
			if solved[name] > 0 {
				halve = append(halve, name)
			}
		}
		if got := q2Part(t, v, "a").Answer.Key; !reflect.DeepEqual(got, halve) {
			t.Errorf("seed %d: key of (a) = %v, want %v", seed, got, halve)
		}
		ids := []string{"embeddings", "attention", "mlp", "norm"}
		best, second := 0, -1
		for i := 1; i < 4; i++ {
			if terms[i] > terms[best] {
				best, second = i, best
			} else if second < 0 || terms[i] > terms[second] {
				second = i
			}
		}
		if terms[best] < 1.2*terms[second] || ids[best] != "mlp" {
			t.Errorf("seed %d: largest part %s is not the MLP or not 1.2 times the second %s", seed, ids[best], ids[second])
		}
		if got := q2Part(t, v, "c").Answer.Key; got != ids[best] {
			t.Errorf("seed %d: key of (c) = %v, want %v", seed, got, ids[best])
		}
		seen[strings.Join(halve, ",")+"/"+ids[best]]++
	}
	// (a)'s key varies across variants: each of these happens.
	for _, want := range []string{"L,E,H/mlp", "L,E/mlp"} {
		if seen[want] == 0 {
			t.Errorf("no variant among 1000 has keys %s (seen %v)", want, seen)
		}
	}
}

func TestQ2Grading(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q2").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		part, answer string
		want         float64
	}{
		{"a", "L, E, H", 4},
		{"a", "B, C, D", 4},
		{"a", "L, E", 4 * 2.0 / 3},
		{"a", "V, L, E, H", 4 * 2.0 / 3},
		{"a", "V, L", 0},
		{"a", "V", 0},
		{"c", "C", 3},
		{"c", "mlp", 3},
		{"c", "B", 0},
	}
	for _, tc := range tests {
		if r := gradeOne(t, v, tc.part, tc.answer); math.Abs(r.Score-tc.want) > 1e-9 {
			t.Errorf("(%s) %q scores %v, want %v (%s)", tc.part, tc.answer, r.Score, tc.want, r.FormatError)
		}
	}
}
