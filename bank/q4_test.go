package bank

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/calc"
)

// q4Rank is the largest integer r with full/(lora per r) ≥ factor, found by
// counting parameters rather than by the template's closed form.
func q4Rank(full, perRank, factor int) int {
	r := 0
	for full >= factor*perRank*(r+1) {
		r++
	}
	return r
}

func TestQ4Canonical(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q4").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| Number of parameters | 70B |", "| 5120 |", "| 13824 |"} {
		if !strings.Contains(v.Stem, want) {
			t.Errorf("stem lacks %q:\n%s", want, v.Stem)
		}
	}
	prompts := map[string][]string{
		"a": {"four $E \\times E$ weight matrices", "$E \\times r$", "$r \\times E$", "factor of at least 1000"},
		"b": {"two $E \\times H$ weight matrices", "$r \\times H$", "factor of at least 1000"},
		"c": {"affect the choice of $r$"},
		"d": {"advantages of using LoRA"},
	}
	for _, p := range v.Parts {
		for _, want := range prompts[p.ID] {
			if !strings.Contains(p.Prompt, want) {
				t.Errorf("part %s prompt lacks %q:\n%s", p.ID, want, p.Prompt)
			}
		}
	}
	lead := "For each of the following multiple-choice questions, please select one or more answers as appropriate."
	if v.Parts[2].Lead != lead || v.Parts[3].Lead != "" || strings.Contains(v.Parts[2].Prompt, "multiple-choice") {
		t.Errorf("the paper's instruction must stand above (c) alone: (c) lead %q, prompt %q; (d) lead %q", v.Parts[2].Lead, v.Parts[2].Prompt, v.Parts[3].Lead)
	}
	if got := v.Parts[0].Answer.Key; got != 2 {
		t.Errorf("(a) key = %v, want 2 (5120 / 2000 = 2.56)", got)
	}
	if got := v.Parts[1].Answer.Key; got != 3 {
		t.Errorf("(b) key = %v, want 3 (5120·13824 / (1000·18944) = 3.74)", got)
	}
	// In the canonical variant options keep the paper's order and labels.
	wantLabels := map[string][]any{"c": {"A", "C", "D"}, "d": {"A", "C"}}
	wantTexts := map[string][]string{
		"c": {"The size of the GPU used for training", "The size of the GPU used for inference",
			"The size of the data for fine-tuning", "The performance of the fine-tuned LLM in terms of the quality of the output"},
		"d": {"Efficient training", "Prevents overfitting", "Adaptation to multiple tasks", "More accurate weights",
			"Improves the quality of the output of the LLM"},
	}
	for _, p := range v.Parts[2:] {
		if got := KeyValue(&p.Answer); !reflect.DeepEqual(got, wantLabels[p.ID]) {
			t.Errorf("(%s) key = %v, want %v", p.ID, got, wantLabels[p.ID])
		}
		for i, o := range p.Answer.Options {
			if o.Text != wantTexts[p.ID][i] {
				t.Errorf("(%s) option %d = %q, want %q", p.ID, i, o.Text, wantTexts[p.ID][i])
			}
		}
	}
}

func TestQ4DrawnKeys(t *testing.T) {
	// Keys worked by hand from each seed's parameters:
	// seed 1: 4096/(2·1250) = 1.64; 4096·16384/(480·20480) = 6.83.
	// seed 3: 8192/(2·320) = 12.8; 8192·22016/(320·30208) = 18.66.
	// seed 2024: 5120/(2·125) = 20.48; 5120·20480/(240·25600) = 17.07.
	tests := []struct {
		seed             uint64
		size             string
		E, H             int
		factorA, factorB int
		natt, nmlp       int
		wantA, wantB     int
	}{
		{seed: 0, size: "70B", E: 5120, H: 13824, factorA: 1000, factorB: 1000, natt: 4, nmlp: 2, wantA: 2, wantB: 3},
		{seed: 1, size: "6B", E: 4096, H: 16384, factorA: 1250, factorB: 480, natt: 4, nmlp: 2, wantA: 1, wantB: 6},
		{seed: 3, size: "65B", E: 8192, H: 22016, factorA: 320, factorB: 320, natt: 3, nmlp: 3, wantA: 12, wantB: 18},
		{seed: 2024, size: "13B", E: 5120, H: 20480, factorA: 125, factorB: 240, natt: 3, nmlp: 2, wantA: 20, wantB: 17},
	}
	tp := builtinTemplate(t, "dasc7606/q4")
	for _, tc := range tests {
		v, err := tp.Variant(tc.seed)
		if err != nil {
			t.Fatal(err)
		}
		p := v.Params
		if p["size"] != tc.size || p["E"] != tc.E || p["H"] != tc.H || p["factor_a"] != tc.factorA || p["factor_b"] != tc.factorB || p["natt"] != tc.natt || p["nmlp"] != tc.nmlp {
			t.Errorf("seed %d: params size=%v E=%v H=%v factors=%v, %v natt=%v nmlp=%v, want %+v",
				tc.seed, p["size"], p["E"], p["H"], p["factor_a"], p["factor_b"], p["natt"], p["nmlp"], tc)
			continue
		}
		if got := v.Parts[0].Answer.Key; got != tc.wantA {
			t.Errorf("seed %d: (a) key = %v, want %d", tc.seed, got, tc.wantA)
		}
		if got := v.Parts[1].Answer.Key; got != tc.wantB {
			t.Errorf("seed %d: (b) key = %v, want %d", tc.seed, got, tc.wantB)
		}
		if !strings.Contains(v.Parts[0].Prompt, "factor of at least "+itoa(tc.factorA)) {
			t.Errorf("seed %d: (a) prompt does not state the factor %d", tc.seed, tc.factorA)
		}
		if !strings.Contains(v.Parts[1].Prompt, "factor of at least "+itoa(tc.factorB)) {
			t.Errorf("seed %d: (b) prompt does not state the factor %d", tc.seed, tc.factorB)
		}
	}
}

// TestQ4Fair checks over 1000 drawn variants that each rank is the largest
// meeting the reduction, at least 1, and that its real bound sits clear of
// an integer.
func TestQ4Fair(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q4")
	for seed := uint64(1); seed <= 1000; seed++ {
		v, err := tp.Variant(seed)
		if err != nil {
			t.Fatal(err)
		}
		E, _ := calc.Int(v.Params["E"])
		H, _ := calc.Int(v.Params["H"])
		natt, _ := calc.Int(v.Params["natt"])
		nmlp, _ := calc.Int(v.Params["nmlp"])
		factorA, errA := calc.Int(v.Params["factor_a"])
		factorB, errB := calc.Int(v.Params["factor_b"])
		if errA != nil || errB != nil || factorA < 1 || factorB < 1 {
			t.Fatalf("seed %d: factors %v, %v", seed, v.Params["factor_a"], v.Params["factor_b"])
		}
		a, b := v.Parts[0].Answer.Key, v.Parts[1].Answer.Key
		if want := q4Rank(natt*E*E, natt*2*E, factorA); a != want || want < 1 {
			t.Errorf("seed %d: (a) key %v, counted rank %d", seed, a, want)
		}
		if want := q4Rank(nmlp*E*H, nmlp*(E+H), factorB); b != want || want < 1 {
			t.Errorf("seed %d: (b) key %v, counted rank %d", seed, b, want)
		}
		for _, bound := range []float64{float64(E) / float64(2*factorA), float64(E*H) / float64(factorB*(E+H))} {
			if f := bound - math.Floor(bound); f < 0.05 || f > 0.95 {
				t.Errorf("seed %d: bound %.4f lies within 0.05 of an integer", seed, bound)
			}
		}
	}
}

func TestQ4GradeCanonical(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q4").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		answers map[string]string
		want    map[string]float64
	}{
		{"key", map[string]string{"a": "2", "b": "3", "c": "A, C, D", "d": "A, C"},
			map[string]float64{"a": 3, "b": 3, "c": 2, "d": 2}},
		{"rounded up", map[string]string{"a": "3", "b": "4"}, map[string]float64{"a": 0, "b": 0}},
		{"one right one wrong", map[string]string{"c": "A, B", "d": "A, B"}, map[string]float64{"c": 0, "d": 0}},
		{"two of three right", map[string]string{"c": "C, D", "d": "C"}, map[string]float64{"c": 2.0 * 2 / 3, "d": 1}},
	}
	for _, tc := range tests {
		rs, err := v.Grade(tc.answers)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			want, ok := tc.want[r.Part]
			if ok && math.Abs(r.Score-want) > 1e-9 {
				t.Errorf("%s: part %s scored %v, want %v (%s)", tc.name, r.Part, r.Score, want, r.Feedback)
			}
		}
	}
}
