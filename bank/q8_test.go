package bank

import (
	"math"
	"strings"
	"testing"
)

// q8Keys returns the keys of (a)–(d) by part ID.
func q8Keys(t *testing.T, v *Variant) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, p := range v.Parts {
		k, ok := p.Answer.Key.(float64)
		if !ok {
			t.Fatalf("seed %d (%s): key %v is not a number", v.Seed, p.ID, p.Answer.Key)
		}
		out[p.ID] = k
	}
	return out
}

func TestQ8IsAuthoredAndCanonical(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q8")
	if !tp.Authored || !strings.Contains(tp.Origin, "Written for this bank") {
		t.Errorf("authored %v, origin %q: want an authored question saying so", tp.Authored, tp.Origin)
	}
	if tp.Marks != 12 {
		t.Errorf("marks = %v, want 12 (the paper's marks table)", tp.Marks)
	}
	v, err := tp.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"$d = 128$", "$n = 256$", "one bias vector $b$ of size $n$", "no peephole connections", "**LSTM**", "**GRU**"} {
		if !strings.Contains(v.Stem, want) {
			t.Errorf("canonical stem lacks %q", want)
		}
	}
	if !strings.Contains(v.Parts[3].Prompt, "to 10 output classes") {
		t.Errorf("(d) prompt %q lacks the 10 classes", v.Parts[3].Prompt)
	}
	// By hand: one gate has 256·128 + 256·256 + 256 = 98,560 parameters.
	// LSTM 4 gates, GRU 3; the second LSTM layer reads 256-vectors:
	// 4·(256·256 + 256·256 + 256) = 525,312; the dense layer 256·10 + 10.
	want := map[string]float64{"a": 98560, "b": 394240, "c": 295680, "d": 394240 + 525312 + 2570}
	for id, k := range q8Keys(t, v) {
		if k != want[id] {
			t.Errorf("canonical (%s) key %v, want %v", id, k, want[id])
		}
		if p := v.Parts[strings.Index("abcd", id)]; p.Marks != 3 {
			t.Errorf("(%s) marks %v, want 3", id, p.Marks)
		}
	}
}

func TestQ8KeysMatchAnIndependentComputation(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q8")
	for seed := uint64(0); seed < 1000; seed++ {
		v, err := tp.Variant(seed)
		if err != nil {
			t.Fatal(err)
		}
		d, n, k := float64(v.Params["d"].(int)), float64(v.Params["n"].(int)), float64(v.Params["k"].(int))
		if d == n {
			t.Errorf("seed %d: d = n = %v", seed, d)
		}
		gate := n*d + n*n + n
		lstm := 4 * gate
		want := map[string]float64{"a": gate, "b": lstm, "c": 3 * gate, "d": lstm + 4*(2*n*n+n) + n*k + k}
		for id, got := range q8Keys(t, v) {
			if got != want[id] {
				t.Errorf("seed %d (%s): key %v, want %v (d=%v n=%v k=%v)", seed, id, got, want[id], d, n, k)
			}
		}
		if 2*lstm+n*k+k == want["d"] {
			t.Errorf("seed %d: doubling (b) gives the key of (d)", seed)
		}
	}
}

func TestQ8GradingCarriesErrorsForward(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q8").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		answers map[string]string
		want    map[string]float64
	}{
		{"all right", map[string]string{"a": "98,560", "b": "394240", "c": "295.68K", "d": "922122"},
			map[string]float64{"a": 3, "b": 3, "c": 3, "d": 3}},
		// Forgetting the bias in (a) (256·128 + 256·256 = 98,304) and using
		// that (a) consistently in (b) and (c), and that (b) in (d).
		{"no bias in (a), carried forward", map[string]string{"a": "98304", "b": "393216", "c": "294912", "d": "921098"},
			map[string]float64{"a": 0, "b": 3, "c": 3, "d": 3}},
		// A wrong (b) that is not 4 × (a) earns nothing, and (d) then
		// follows from it.
		{"wrong (b), (d) follows", map[string]string{"a": "98560", "b": "300000", "c": "295680", "d": "827882"},
			map[string]float64{"a": 3, "b": 0, "c": 3, "d": 3}},
		{"doubling (b) in (d)", map[string]string{"d": "791050"}, map[string]float64{"d": 0}},
		{"rounded", map[string]string{"b": "394000", "d": "0.92M"}, map[string]float64{"b": 0, "d": 0}},
	}
	for _, tc := range tests {
		rs, err := v.Grade(tc.answers)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if want, ok := tc.want[r.Part]; ok && math.Abs(r.Score-want) > 1e-9 {
				t.Errorf("%s: (%s) %q scores %v, want %v (%s %s)", tc.name, r.Part, tc.answers[r.Part], r.Score, want, r.Rule, r.FormatError)
			}
		}
	}
}
