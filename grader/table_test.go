package grader

import (
	"strings"
	"testing"
)

func TestParseTable(t *testing.T) {
	s := Spec{Part: "c", Type: Table, Marks: 4, Key: [][]float64{{-1, -0.87, 0.5}, {1, 2, 3}}}
	tests := []struct {
		in   string
		want []any
		err  string
	}{
		{"-1, -0.87, 0.5\n1, 2, 3", []any{[]any{-1.0, -0.87, 0.5}, []any{1.0, 2.0, 3.0}}, ""},
		{"-1 -0.87 0.5; 1 2 3", []any{[]any{-1.0, -0.87, 0.5}, []any{1.0, 2.0, 3.0}}, ""},
		{"-1\t-0.87\t0.5\n1\t2\t3\n", []any{[]any{-1.0, -0.87, 0.5}, []any{1.0, 2.0, 3.0}}, ""},
		{"−1, −.87, 5e-1;\n\n1,2,3;", []any{[]any{-1.0, -0.87, 0.5}, []any{1.0, 2.0, 3.0}}, ""},
		{"-1, , 0.5\n1, 2, 3", []any{[]any{-1.0, nil, 0.5}, []any{1.0, 2.0, 3.0}}, ""},
		{"[[-1, -0.87, 0.5], [1, 2, 3]]", []any{[]any{-1.0, -0.87, 0.5}, []any{1.0, 2.0, 3.0}}, ""},
		{`[[-1, null, "0.5"], [1, 2, "3"]]`, []any{[]any{-1.0, nil, 0.5}, []any{1.0, 2.0, 3.0}}, ""},

		{"-1, -0.87, 0.5", nil, "Expected a table of 2 rows × 3 columns"},
		{"-1, -0.87, 0.5\n1, 2, 3\n4, 5, 6", nil, "got more rows"},
		{"-1, -0.87\n1, 2, 3", nil, "row 1 has 2 values"},
		{"1,000 2 3\n1 2 3", nil, "row 1 mixes commas and spaces"},
		{"-1, abc, 0.5\n1, 2, 3", nil, "Row 1, column 2: Enter a number"},
		{"-1 -0,87 0.5\n1 2 3", nil, "row 1 mixes commas and spaces"},
		{"1,5 2,5\n1 2 3", nil, "Row 1, column 2: mixes commas and spaces"},
		{"1,5, 2\n1 2 3", []any{[]any{1.0, 5.0, 2.0}, []any{1.0, 2.0, 3.0}}, ""}, // commas separate,
		{"[[1, 2, 3]]", nil, "got 1 rows"},
		{"[[1, 2, 3], [1, 2]]", nil, "row 2 has 2 values"},
		{"[[1, 2, 3], [1, 2, true]]", nil, "Row 2, column 3"},
		{"[[1, 2, 3], [1, 2,", nil, "JSON"},
	}
	for _, tt := range tests {
		checkParse(t, &s, tt.in, tt.want, tt.err)
	}
}

func TestTableScore(t *testing.T) {
	key := [][]float64{{-1, -0.87, -0.73, -0.6}, {0.6, 0.73, 0.87, 1}}
	s := Spec{Part: "c", Type: Table, Marks: 4, Key: key, Tolerance: Tolerance{Abs: 0.01}}
	tests := []struct {
		in    string
		score float64
	}{
		{"-1 -0.87 -0.73 -0.6; 0.6 0.73 0.87 1", 4},
		{"-1 -0.866 -0.733 -0.6; 0.6 0.733 0.866 1", 4},
		{"-1 -0.86 -0.73 -0.6; 0.6 0.73 0.88 1", 4},   // on the boundary
		{"-1 -0.859 -0.73 -0.6; 0.6 0.73 0.881 1", 3}, // two cells just outside
		{"-1,,-0.73,-0.6; 0.6,0.73,0.87,1", 3.5},      // a blank cell is wrong
		{"0 0 0 0; 0 0 0 0", 0},
		{"-1 -0.87 -0.73 -0.6; 0 0 0 0", 2},
	}
	for _, tt := range tests {
		r := gradeOne(t, s, tt.in)
		if r.Score != tt.score || r.Rule != RulePerCell {
			t.Errorf("%q: score %v rule %q (%s); want %v per-cell", tt.in, r.Score, r.Rule, r.FormatError, tt.score)
		}
	}
}

func TestTableValidation(t *testing.T) {
	for _, key := range []any{nil, [][]float64{}, [][]float64{{}}, [][]float64{{1, 2}, {3}}, "x"} {
		s := Spec{Part: "c", Type: Table, Marks: 1, Key: key}
		if _, err := Compile([]Spec{s}, nil); err == nil || !strings.Contains(err.Error(), "key") {
			t.Errorf("key %v: error %v; want a key error", key, err)
		}
	}
	// A JSON-decoded key (lists of float64) is fine.
	s := Spec{Part: "c", Type: Table, Marks: 1, Key: []any{[]any{1.0, 2.0}, []any{3.0, 4.0}}}
	if r := gradeOne(t, s, "1 2; 3 4"); r.Score != 1 {
		t.Errorf("JSON key: %+v", r)
	}
}
