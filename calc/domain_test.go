package calc

import (
	"math"
	"testing"
)

func TestDomainValues(t *testing.T) {
	uniform := make([]any, 16)
	for i := range uniform {
		uniform[i] = -1 + 2*float64(i)/15
	}
	uniform[15] = 1.0
	runValues(t, []valueCase{
		// Question 3(a): 0.90 maps to 1.00 = 1111, -0.60 to -0.53 = 0010.
		{"nearest(nf4, 0.90)", 1.0},
		{"nearest_index(nf4, 0.90)", 15},
		{"bin(nearest_index(nf4, 0.90), 4)", "1111"},
		{"nearest(nf4, -0.60)", -0.53},
		{"bin(nearest_index(nf4, -0.60), 4)", "0010"},
		{"nearest(nf4, 0)", 0.0},
		{"nearest(nf4, -5)", -1.0},
		{"nearest(vram, 35)", 32},
		{"nearest(vram, 40)", 48}, // exact tie between 48 and 32: the first listed wins
		{"nearest([3], 100)", 3},
		{"tie_gap(nf4, 0.90)", 0.08000000000000007},
		{"tie_gap(nf4, -0.60)", 0.030000000000000027},
		{"tie_gap(nf4, 0.86) < 1e-9", true},
		{"tie_gap(vram, 40)", 0.0},
		{"bin(5, 4)", "0101"},
		{"bin(0, 1)", "0"},
		{"bin(255, 8)", "11111111"},
		{"bin(6, 3)", "110"},
		// Question 3(b): 70B parameters at 4 bits need 35 GB; the L40S fits.
		{"70e9 * 4 / 8 / 1e9", 35.0},
		{"smallest(vram, 70e9 * 4 / 8 / 1e9)", 48},
		{"smallest_index(vram, 35)", 1},
		{"smallest_by(gpus, vram, 70e9 * 4 / 8 / 1e9)", "L40S"},
		{"smallest(vram, 48)", 48},
		{"smallest(vram, 0)", 16},
		{"smallest_by(gpus, vram, 16.5)", "RTX4090"},
		{"smallest_index(vram, 81)", -1},
		{"smallest_by(gpus, vram, 81)", ""},
		{"smallest_by([], [], 1)", ""},
		{"min_gap_ratio(vram, 35)", 0.09375},
		{"min_gap_ratio(vram, 47)", 1.0 / 48},
		{"min_gap_ratio(vram, 35) >= 0.05", true},
		// Question 3(c): the uniform table.
		{"uniform_table(4, -1, 1)", uniform},
		{"roundall(uniform_table(4, -1, 1), 2)", []any{-1.0, -0.87, -0.73, -0.6, -0.47, -0.33, -0.2, -0.07,
			0.07, 0.2, 0.33, 0.47, 0.6, 0.73, 0.87, 1.0}},
		{"uniform_table(1, 0, 10)", []any{0.0, 10.0}},
		{"uniform_table(2, 0, 3)", []any{0.0, 1.0, 2.0, 3.0}},
		// The paper's 4-bit table is NF4 to two decimals.
		{"normal_table(4)", paper["nf4"]},
		{"normal_table(4, 4)", []any{-1.0, -0.6962, -0.5251, -0.3949, -0.2844, -0.1848, -0.091, 0.0,
			0.0796, 0.1609, 0.2461, 0.3379, 0.4407, 0.5626, 0.723, 1.0}},
		{"normal_table(3)", []any{-1.0, -0.54, -0.25, 0.0, 0.18, 0.38, 0.62, 1.0}},
		{"len(normal_table(8, 6))", 256},
		{"roundall([1.005, 2.675, -0.125, 3], 2)", []any{1.01, 2.68, -0.13, 3.0}},
		{"roundall([], 2)", []any{}},
		{"lookup(gpus, vram, 'L40S')", 48},
		{"lookup_all(gpus, vram, ['T4', 'H100'])", []any{16, 80}},
		{"lookup_all(gpus, vram, [])", []any{}},
		{"lookup(['a', 'b'], [[1], 'x'], 'b')", "x"},
		{"index_of(gpus, 'V100')", 2},
		{"index_of(vram, 48.0)", 1},
		{"index_of(vram, '48')", -1},
		{"index_of([true, false], false)", 1},
		{"index_of([[1, 2], [3, 4]], [3, 4.0])", 1},
		{"index_of([[1, 2], [3, 4]], [3])", -1},
		{"without(1..5, 2)", []any{1, 3, 4, 5}},
		{"without([0.5, 1, 0.5], 0.5)", []any{1}},
		{"without(['a', 'b'], 'c')", []any{"a", "b"}},
		{"without([], 1)", []any{}},
		{"without([[1, 2], [3], [1, 2.0]], [1, 2])", []any{[]any{3}}},
		{"insert([1, 4], 1, 2)", []any{1, 2, 4}},
		{"insert([1, 4], 0, 2)", []any{2, 1, 4}},
		{"insert([1, 4], 2, 2)", []any{1, 4, 2}},
		{"insert([], 0, 'x')", []any{"x"}},
		{"insert([[1]], 1, [2, 3])", []any{[]any{1}, []any{2, 3}}},
		{"distinct([1, 2, 3])", true},
		{"distinct([1, 2, 1.0])", false},
		{"distinct([[0, 0.5], [0.5, 0], [0, 0.5]])", false},
		{"distinct([[0, 0.5], [0.5, 0], [0, 1]])", true},
		{"distinct(['a', 'A'])", true},
		{"distinct([])", true},
		{"rank(['a', 'b', 'c'], [1, 3, 2])", []any{[]any{"b", 3.0, 1}, []any{"c", 2.0, 2}, []any{"a", 1.0, 0}}},
		{"rank(['a', 'b', 'c'], [0.5, 0.25, 0.5])", []any{[]any{"a", 0.5, 0}, []any{"c", 0.5, 2}, []any{"b", 0.25, 1}}},
		{"rank([], [])", []any{}},
		{"permute(gpus, [4, 3, 2, 1, 0])", []any{"T4", "RTX4090", "V100", "L40S", "H100"}},
		{"permute(nf4[0:3], [1, 2, 0])", []any{-0.70, -0.53, -1.00}},
		{"argmax(vram)", 0},
		{"argmin(vram)", 4},
		{"argmax([1, 3, 3])", 1},
		{"argmin([2.5, -1, -1])", 1},
	})
}

func TestDomainErrors(t *testing.T) {
	runErrors(t, []errorCase{
		{"nearest([], 1)", "nearest: table is empty"},
		{"nearest(nf4, 'a')", "nearest: x: a (string) is not a number"},
		{"nearest('abc', 1)", "nearest: table: abc (string) is not a list"},
		{"nearest([1, 'x'], 1)", "nearest: table item 2: x (string) is not a number"},
		{"nearest_index([], 1)", "nearest_index: table is empty"},
		{"tie_gap([1], 0)", "tie_gap: table needs at least 2 entries, has 1"},
		{"bin(16, 4)", "bin: i = 16 outside [0, 15] for 4 bits"},
		{"bin(-1, 4)", "bin: i = -1 outside [0, 15] for 4 bits"},
		{"bin(1, 0)", "bin: n = 0 bits outside [1, 62]"},
		{"bin(1.5, 4)", "bin: i: 1.5 is not an integer"},
		{"smallest(vram, 81)", "smallest: no item is ≥ 81"},
		{"smallest(vram, 'big')", "smallest: bound:"},
		{"smallest_by(gpus, [1, 2], 3)", "smallest_by: 5 names but 2 values"},
		{"smallest_by(1, vram, 3)", "smallest_by: names:"},
		{"min_gap_ratio([0, 1], 1)", "min_gap_ratio: list item 1 is 0"},
		{"min_gap_ratio([], 1)", "min_gap_ratio: list is empty"},
		{"uniform_table(4, 1, 1)", "uniform_table: need finite lo < hi, got lo = 1, hi = 1"},
		{"uniform_table(17, 0, 1)", "uniform_table: bits = 17 outside [1, 16]"},
		{"uniform_table(0, 0, 1)", "uniform_table: bits = 0 outside [1, 16]"},
		{"normal_table(1)", "normal_table: bits = 1 outside [2, 16]"},
		{"normal_table(4, 16)", "normal_table: decimals = 16 outside [0, 15]"},
		{"normal_table(4, 2, 1)", "normal_table: want 1 or 2 arguments, got 3"},
		{"roundall(nf4, 99)", "roundall: decimals = 99 outside [-15, 15]"},
		{"roundall(['a'], 1)", "roundall: list item 1: a (string) is not a number"},
		{"lookup(gpus, vram, 'A100')", `lookup: no name "A100" among 5 names`},
		{"lookup_all(gpus, vram, ['T4', 'A100'])", `lookup_all: key 2: lookup: no name "A100" among 5 names`},
		{"lookup(gpus, [1], 'T4')", "lookup: 5 names but 1 values"},
		{"index_of(3, 3)", "index_of: list:"},
		{"without(3, 3)", "without: list:"},
		{"insert([1], 2, 0)", "insert: i = 2 outside [0, 1]"},
		{"insert([1], -1, 0)", "insert: i = -1 outside [0, 1]"},
		{"insert([1], 'a', 0)", "insert: i:"},
		{"distinct('abc')", "distinct: list:"},
		{"rank(['a'], [1, 2])", "rank: 1 labels for 2 values"},
		{"rank(['a'], ['x'])", "rank: values item 1:"},
		{"rank('a', [1])", "rank: labels:"},
		{"rank(['a', 'b'], [1, 0 / 0])", "rank: value 2 is NaN"},
		{"permute([1, 2], [0])", "permute: perm has 1 items, list has 2"},
		{"permute([1, 2, 3], [0, 0, 1])", "permute: perm is not a permutation of 0..2 (item 2 is 0)"},
		{"permute([1, 2], [0, 2])", "permute: perm is not a permutation of 0..1 (item 2 is 2)"},
		{"argmax([])", "argmax: list is empty"},
		{"argmin('x')", "argmin: list:"},
	})
}

// qlora is the NF4 table as published with QLoRA (bitsandbytes), computed
// in float32; NormalTable(4) reproduces it to float32 precision.
var qlora = []float64{-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
	-0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
	0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
	0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0}

func TestNormalTableIsNF4(t *testing.T) {
	got, err := NormalTable(4)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(qlora) {
		t.Fatalf("NormalTable(4) has %d values, want %d", len(got), len(qlora))
	}
	for i := range got {
		if math.Abs(got[i]-qlora[i]) > 1e-6 {
			t.Errorf("NormalTable(4)[%d] = %.10f, want %.10f", i, got[i], qlora[i])
		}
	}
}

func TestNormalTableShape(t *testing.T) {
	for bits := 2; bits <= 10; bits++ {
		got, err := NormalTable(bits)
		if err != nil {
			t.Fatalf("NormalTable(%d): %v", bits, err)
		}
		n := 1 << bits
		if len(got) != n || got[0] != -1 || got[n-1] != 1 || got[n/2-1] != 0 {
			t.Errorf("NormalTable(%d): %d values, first %v, last %v, [%d] = %v; want %d, -1, 1, 0",
				bits, len(got), got[0], got[n-1], n/2-1, got[n/2-1], n)
		}
		for i := 1; i < n; i++ {
			if !(got[i] > got[i-1]) {
				t.Errorf("NormalTable(%d) not increasing at %d: %v then %v", bits, i, got[i-1], got[i])
			}
		}
		// Denser near zero, as the normal distribution is: the outermost gap
		// is the widest on each side.
		if bits > 2 && got[1]-got[0] <= got[n/2-1]-got[n/2-2] || got[n-1]-got[n-2] <= got[n/2]-got[n/2-1] {
			t.Errorf("NormalTable(%d): outer gaps not wider than inner ones", bits)
		}
	}
	for _, bits := range []int{1, 17, -3} {
		if _, err := NormalTable(bits); err == nil {
			t.Errorf("NormalTable(%d): want an error", bits)
		}
	}
}
