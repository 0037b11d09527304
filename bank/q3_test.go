package bank

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/calc"
)

// q3Parts maps a variant's parts by id.
func q3Parts(v *Variant) map[string]*PartVariant {
	m := make(map[string]*PartVariant, len(v.Parts))
	for i := range v.Parts {
		m[v.Parts[i].ID] = &v.Parts[i]
	}
	return m
}

func TestQ3Canonical(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q3").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	// The paper's 4-bit table, exactly as printed.
	for _, want := range []string{
		"into a 4-bit format",
		"| value | -1.00 | -0.70 | -0.53 | -0.39 | -0.28 | -0.18 | -0.09 | 0.00 |",
		"| 4-bit | 0000 | 0001 | 0010 | 0011 | 0100 | 0101 | 0110 | 0111 |",
		"| value | 0.08 | 0.16 | 0.25 | 0.34 | 0.44 | 0.56 | 0.72 | 1.00 |",
		"| 4-bit | 1000 | 1001 | 1010 | 1011 | 1100 | 1101 | 1110 | 1111 |",
	} {
		if !strings.Contains(v.Stem, want) {
			t.Errorf("stem lacks %q:\n%s", want, v.Stem)
		}
	}
	p := q3Parts(v)
	for id, wants := range map[string][]string{
		"a": {"for the value 0.90? What about -0.60?"},
		"b": {"| GPU: | H100 | L40S | V100 | RTX4090 | T4 |", "| VRAM: | 80GB | 48GB | 32GB | 24GB | 16GB |",
			"Given 4-bit quantization", "store a 70B parameter model"},
		"c": {"uniform distribution", "| 4-bit | 0000 | 0001 | 0010 | 0011 | 0100 | 0101 | 0110 | 0111 |"},
	} {
		for _, want := range wants {
			if !strings.Contains(p[id].Prompt, want) {
				t.Errorf("(%s) prompt lacks %q:\n%s", id, want, p[id].Prompt)
			}
		}
	}
	if got, want := p["a"].Answer.Key, []string{"1111", "0010"}; !reflect.DeepEqual(got, want) {
		t.Errorf("(a) key = %v, want %v", got, want)
	}
	var names []string
	for _, o := range p["b"].Answer.Options {
		names = append(names, o.Label+"."+o.Text)
	}
	if want := []string{"A.H100", "B.L40S", "C.V100", "D.RTX4090", "E.T4"}; !reflect.DeepEqual(names, want) {
		t.Errorf("(b) options = %v, want %v", names, want)
	}
	if got := p["b"].Answer.Key; got != "L40S" {
		t.Errorf("(b) key = %v, want L40S (70B × 4 bits = 35 GB)", got)
	}
	wantC := [][]float64{
		{-1, -0.87, -0.73, -0.6, -0.47, -0.33, -0.2, -0.07},
		{0.07, 0.2, 0.33, 0.47, 0.6, 0.73, 0.87, 1},
	}
	if got := p["c"].Answer.Key; !reflect.DeepEqual(got, wantC) {
		t.Errorf("(c) key = %v, want %v", got, wantC)
	}
	if want := []string{"0000–0111", "1000–1111"}; !reflect.DeepEqual(p["c"].Rows, want) {
		t.Errorf("(c) rows = %v, want %v", p["c"].Rows, want)
	}
}

func TestQ3GradeCanonical(t *testing.T) {
	v, err := builtinTemplate(t, "dasc7606/q3").Canonical()
	if err != nil {
		t.Fatal(err)
	}
	exact := func(lo, hi int) string {
		var b strings.Builder
		for k := lo; k < hi; k++ {
			fmt.Fprintf(&b, "%.4f ", -1+2*float64(k)/15)
		}
		return b.String()
	}
	tests := []struct {
		name string
		part string
		ans  string
		want float64
	}{
		{"both codes", "a", "1111, 0010", 2},
		{"second code wrong", "a", "1111 0011", 1},
		{"codes swapped", "a", "0010 1111", 0},
		{"smallest card that fits", "b", "B", 2},
		{"card too small", "b", "C", 0},
		{"two decimals", "c", "-1 -0.87 -0.73 -0.6 -0.47 -0.33 -0.2 -0.07; 0.07 0.2 0.33 0.47 0.6 0.73 0.87 1", 4},
		{"four decimals", "c", exact(0, 8) + ";" + exact(8, 16), 4},
		{"one decimal is too coarse", "c", "-1 -0.9 -0.7 -0.6 -0.5 -0.3 -0.2 -0.1; 0.1 0.2 0.3 0.5 0.6 0.7 0.9 1", 4 * 6.0 / 16},
		{"bin centres instead of levels", "c", "-0.94 -0.81 -0.69 -0.56 -0.44 -0.31 -0.19 -0.06; 0.06 0.19 0.31 0.44 0.56 0.69 0.81 0.94", 0},
		{"reference answer", "d", v.Parts[3].Answer.Reference, 2},
		{"density and finer levels", "d", "Most weights are near zero, so the table gives more levels there.", 2},
		{"one idea", "d", "Because weights cluster around 0.", 1},
		{"off topic", "d", "It is faster to compute.", 0},
		{"restating the question earns nothing", "d", "Because the weights follow a zero-centred normal distribution.", 0},
	}
	for _, tc := range tests {
		if r := gradeOne(t, v, tc.part, tc.ans); math.Abs(r.Score-tc.want) > 1e-9 {
			t.Errorf("%s: (%s) %q scored %v, want %v (%s %s)", tc.name, tc.part, tc.ans, r.Score, tc.want, r.Feedback, r.FormatError)
		}
	}
}

func TestQ3DrawnKeys(t *testing.T) {
	// Worked by hand from the rendered variants.
	// seed 1: 4-bit; 0.78 is 0.06 from 0.72 (1110), -0.84 is 0.14 from -0.70 and 0.16 from
	// -1.00 (0001); 235B × 4 / 8 = 117.5 GB fits the 128GB MI250X, not the 80GB H100.
	// seed 5: 3-bit table -1 -0.54 -0.25 0 | 0.18 0.38 0.62 1; 0.55 → 0.62 (110), -0.68 → -0.54
	// (001); 180B × 3 / 8 = 67.5 GB fits the A100 80GB, not the 48GB A6000.
	tests := []struct {
		seed  uint64
		bits  int
		x1    float64
		x2    float64
		shown []string
		codes []string
		gpu   string
	}{
		{1, 4, 0.78, -0.84, []string{"MI250X", "H100", "A40", "A100 40GB", "RTX3060"}, []string{"1110", "0001"}, "MI250X"},
		{5, 3, 0.55, -0.68, []string{"A100 80GB", "A6000", "A100 40GB", "RTX3090", "RTX3060"}, []string{"110", "001"}, "A100 80GB"},
	}
	tp := builtinTemplate(t, "dasc7606/q3")
	for _, tc := range tests {
		v, err := tp.Variant(tc.seed)
		if err != nil {
			t.Fatal(err)
		}
		shown, _ := calc.Strings(v.Params["shown"])
		if v.Params["bits"] != tc.bits || v.Params["x1"] != tc.x1 || v.Params["x2"] != tc.x2 || !reflect.DeepEqual(shown, tc.shown) {
			t.Errorf("seed %d: bits=%v x1=%v x2=%v shown=%v, want %+v", tc.seed, v.Params["bits"], v.Params["x1"], v.Params["x2"], shown, tc)
			continue
		}
		p := q3Parts(v)
		if got := p["a"].Answer.Key; !reflect.DeepEqual(got, tc.codes) {
			t.Errorf("seed %d: (a) key = %v, want %v", tc.seed, got, tc.codes)
		}
		if got := p["b"].Answer.Key; got != tc.gpu {
			t.Errorf("seed %d: (b) key = %v, want %v", tc.seed, got, tc.gpu)
		}
	}
}

// TestQ3Fair recomputes every key of 1000 drawn variants by brute force
// and checks the fairness margins the constraints promise.
func TestQ3Fair(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q3")
	cat := map[string]float64{}
	names, _ := calc.Strings(q3Const(tp, "cat_names"))
	vrams, _ := calc.Floats(q3Const(tp, "cat_vram"))
	if len(names) == 0 || len(names) != len(vrams) {
		t.Fatalf("catalogue of %d names and %d sizes", len(names), len(vrams))
	}
	for i, n := range names {
		cat[n] = vrams[i]
	}
	for seed := uint64(1); seed <= 1000; seed++ {
		v, err := tp.Variant(seed)
		if err != nil {
			t.Fatal(err)
		}
		bits, _ := calc.Int(v.Params["bits"])
		table, _ := calc.Floats(v.Params["table"])
		if len(table) != 1<<bits {
			t.Fatalf("seed %d: %d table entries for %d bits", seed, len(table), bits)
		}
		p := q3Parts(v)
		var codes []string
		for _, name := range []string{"x1", "x2"} {
			x, _ := calc.Float(v.Params[name])
			best, second := -1, -1
			for i := range table {
				switch d := math.Abs(table[i] - x); {
				case best < 0 || d < math.Abs(table[best]-x):
					best, second = i, best
				case second < 0 || d < math.Abs(table[second]-x):
					second = i
				}
			}
			if gap := math.Abs(table[second]-x) - math.Abs(table[best]-x); gap < 0.015 {
				t.Errorf("seed %d: %s = %v is %.3f from a tie", seed, name, x, gap)
			}
			if math.Abs(table[best]-x) < 0.005 {
				t.Errorf("seed %d: %s = %v is a table entry", seed, name, x)
			}
			codes = append(codes, fmt.Sprintf("%0*b", bits, best))
		}
		if got := p["a"].Answer.Key; !reflect.DeepEqual(got, codes) {
			t.Errorf("seed %d: (a) key = %v, want %v", seed, got, codes)
		}

		size, _ := calc.Float(v.Params["size"])
		need := size * float64(bits) / 8
		shown, _ := calc.Strings(v.Params["shown"])
		want, fits, short := "", 0, 0
		for i, name := range shown {
			m := cat[name]
			if i > 0 && m >= cat[shown[i-1]] {
				t.Errorf("seed %d: cards %v not in strictly descending VRAM", seed, shown)
			}
			if math.Abs(m-need)/m <= 0.05 || need > m && need < m*1.08 {
				t.Errorf("seed %d: need %.2f GB too close to %s's %v GB", seed, need, name, m)
			}
			if m >= need {
				fits++
				want = name
			} else {
				short++
			}
		}
		if fits == 0 || short == 0 {
			t.Errorf("seed %d: %d cards fit and %d do not", seed, fits, short)
		}
		if got := p["b"].Answer.Key; got != want {
			t.Errorf("seed %d: (b) key = %v, want %v", seed, got, want)
		}

		n := 1 << bits
		got, _ := p["c"].Answer.Key.([][]float64)
		if len(got) != 2 || len(got[0]) != n/2 || len(got[1]) != n/2 {
			t.Fatalf("seed %d: (c) key shape %v, want 2 × %d", seed, got, n/2)
		}
		for k := 0; k < n; k++ {
			if level := -1 + 2*float64(k)/float64(n-1); math.Abs(got[k/(n/2)][k%(n/2)]-level) > 0.005 {
				t.Errorf("seed %d: (c) cell %d = %v, level %.4f", seed, k, got[k/(n/2)][k%(n/2)], level)
			}
		}
	}
}

// q3Const returns the value of tp's constant parameter name.
func q3Const(tp *Template, name string) any {
	for _, p := range tp.Generator().Params {
		if p.Name == name {
			return p.Value
		}
	}
	return nil
}
