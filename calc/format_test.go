package calc

import "testing"

func TestFormatValues(t *testing.T) {
	runValues(t, []valueCase{
		{"fixed(0.9, 2)", "0.90"},
		{"grid([[1, 0.5], [-2, 0.25]], 1, ' & ', ' \\\\ ')", "1.0 & 0.5 \\ -2.0 & 0.3"},
		{"grid([[1, 0.5], [-2.0, 0.25]], -1, ',', ';')", "1,0.5;-2,0.25"},
		{"grid([], 1, ',', ';')", ""},
		{"md_rows(['Ann', 'like'], [[1, 0, 0, 1], [0, 0, 1, 1]], -1)", "| Ann | 1 | 0 | 0 | 1 |\n| like | 0 | 0 | 1 | 1 |"},
		{"md_rows([1, 2], [[0.5, 0], [0, 0.5]], 1)", "| 1 | 0.5 | 0.0 |\n| 2 | 0.0 | 0.5 |"},
		{"fixed(2.675, 2)", "2.68"},
		{"fixed(-0.001, 2)", "0.00"},
		{"fixed(3, 0)", "3"},
		{"fixed(1234.5, 0)", "1235"},
		{"fixed(-1.25, 1)", "-1.3"},
		{"fixed([0.5, -2, 0.125], 2)", []any{"0.50", "-2.00", "0.13"}},
		{"fixed([], 1)", []any{}},
		{"thousands(173408256)", "173,408,256"},
		{"thousands(999)", "999"},
		{"thousands(1000)", "1,000"},
		{"thousands(-1234567)", "-1,234,567"},
		{"thousands(1234.567, 2)", "1,234.57"},
		{"thousands(0)", "0"},
		{"thousands(70e9)", "70,000,000,000"},
		{"thousands(999999.6)", "1,000,000"},
		{"sci(173408256, 4)", "1.734 × 10^8"},
		{"sci(0.00012345, 3)", "1.23 × 10^-4"},
		{"sci(9.996, 3)", "1.00 × 10^1"},
		{"sci(-1234, 2)", "-1.2 × 10^3"},
		{"sci(1.2345e8, 4)", "1.235 × 10^8"},
		{"sci(5, 1)", "5 × 10^0"},
		{"sci(0, 3)", "0.00 × 10^0"},
		{"pct(0.125, 1)", "12.5%"},
		{"pct(0.5, 0)", "50%"},
		{"pct(0.0115, 1)", "1.2%"},
		{"pct(1 / 3, 2)", "33.33%"},
		{"pct(3 / 32, 1)", "9.4%"},
	})
}

func TestFormatErrors(t *testing.T) {
	runErrors(t, []errorCase{
		{"fixed(1, -1)", "fixed: d = -1 outside [0, 15]"},
		{"md_rows(['a'], [[1], [2]], 1)", "md_rows: 1 labels for 2 rows"},
		{"grid([[1, 'x']], 1, ',', ';')", "grid: x (string) is not a number"},
		{"grid([[1]], 1, 2, ';')", "grid: the separators must be text"},
		{"grid([[1]], 16, ',', ';')", "grid: d = 16 above 15"},
		{"fixed('a', 2)", "fixed: x: a (string) is not a number"},
		{"fixed([1, 'a'], 2)", "fixed: x item 2: a (string) is not a number"},
		{"fixed([1, 0 / 0], 2)", "fixed: x item 2 is NaN"},
		{"fixed([1 / 0], 2)", "fixed: x item 1 is infinite"},
		{"fixed(1, 2, 3)", "fixed: want 2 arguments, got 3"},
		{"sci(1, 0)", "sci: sig = 0 outside [1, 17]"},
		{"sci(1e308 * 10, 3)", "sci: x is infinite"},
		{"thousands(1, 2, 3)", "thousands: want 1 or 2 arguments, got 3"},
		{"thousands(1, 1.5)", "thousands: d: 1.5 is not an integer"},
		{"pct(nil, 1)", "pct: x:"},
	})
}
