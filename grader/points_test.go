package grader

import (
	"strings"
	"testing"
)

func TestParsePoints(t *testing.T) {
	s := validSpec(Points)
	full := map[string]map[string][2]float64{
		"d12": {"cat": {1, 2}, "dog": {3, 4}},
		"d34": {"cat": {-1, 0.5}, "dog": {0, 0}},
	}
	tests := []struct {
		in   string
		want map[string]map[string][2]float64
		err  string
	}{
		{"d12: cat (1, 2), dog (3, 4); d34: cat (-1, 0.5), dog (0, 0)", full, ""},
		{"D12: Cat(1,2) Dog(3,4)\nd34: cat (−1, .5) dog (0 0)", full, ""},
		{"d12:\n  cat (1, 2)\n  dog (3, 4)\nd34:\n  cat (-1, 0.5)\n  dog (0, 0)\n", full, ""},
		{`{"d12": {"cat": [1, 2], "dog": [3, 4]}, "d34": {"cat": [-1, 0.5], "dog": [0, 0]}}`, full, ""},
		{"d12: cat (1, 2)", map[string]map[string][2]float64{"d12": {"cat": {1, 2}}}, ""},
		{"1: cat (1, 2), dog (3, 4); 2: cat (-1, 0.5), dog (0, 0)", full, ""},
		{"Chart 2: cat (-1, 0.5)", map[string]map[string][2]float64{"d34": {"cat": {-1, 0.5}}}, ""},

		{"d56: cat (1, 2)", nil, "Unknown chart \"d56\"; the charts are 1, 2."},
		{"3: cat (1, 2)", nil, "Unknown chart \"3\"; the charts are 1, 2."},
		{"d12: cow (1, 2)", nil, "Chart 1 has no point labelled \"cow\"; its points are cat, dog."},
		{"cat (1, 2)", nil, "Say which chart point \"cat\" is on"},
		{"d12: cat (1, 2), cat (1, 2)", nil, "given twice"},
		{"d12: cat (1, 2", nil, "not closed"},
		{"d12: cat (1)", nil, "two coordinates"},
		{"d12: cat (1, x)", nil, "y: Enter a number"},
		{"d12: cat 1 2", nil, "Could not read"},
		{`{"d56": {"cat": [1, 2]}}`, nil, "Unknown chart \"d56\""},
		{`{"d12": {"cat": [1, 2, 3]}}`, nil, "two coordinates"},
		{`{"d12": {"cat": "here"}}`, nil, "Could not read the points of chart"},
		{`{"d12": `, nil, "JSON"},
	}
	for _, tt := range tests {
		checkParse(t, &s, tt.in, tt.want, tt.err)
	}
}

func TestPointsOneChart(t *testing.T) {
	s := Spec{Part: "b", Type: Points, Marks: 2, Key: []Chart{{ID: "plot", Points: []Point{{Label: "A", X: 1, Y: 1}, {Label: "B", X: 2, Y: 0}}}}}
	for _, in := range []string{"A (1, 1), B (2, 0)", `{"A": [1, 1], "B": [2, 0]}`, "plot: A (1,1); B (2,0)"} {
		if r := gradeOne(t, s, in); r.Score != 2 || r.Rule != RulePerPoint {
			t.Errorf("%q: %+v", in, r)
		}
	}
}

func TestPointsScore(t *testing.T) {
	s := validSpec(Points)
	s.Tolerance = Tolerance{Abs: 0.1}
	tests := []struct {
		in    string
		score float64
	}{
		{"d12: cat (1, 2), dog (3, 4); d34: cat (-1, 0.5), dog (0, 0)", 4},
		{"d12: cat (1.1, 1.9), dog (3, 4); d34: cat (-1, 0.5), dog (0.05, -0.1)", 4},
		{"d12: cat (1.11, 2), dog (3, 4); d34: cat (-1, 0.5), dog (0, 0)", 3},
		{"d12: cat (2, 1), dog (3, 4)", 1},
		{"d34: dog (0, 0)", 1},
	}
	for _, tt := range tests {
		r := gradeOne(t, s, tt.in)
		if r.Score != tt.score || r.Rule != RulePerPoint {
			t.Errorf("%q: score %v rule %q %s; want %v per-point", tt.in, r.Score, r.Rule, r.FormatError, tt.score)
		}
	}
}

func TestPointsValidation(t *testing.T) {
	tests := []struct {
		key any
		err string
	}{
		{nil, "no charts"},
		{[]Chart{{ID: "", Points: []Point{{Label: "a"}}}}, "no id"},
		{[]Chart{{ID: "x", Points: []Point{{Label: "a"}}}, {ID: "X", Points: []Point{{Label: "a"}}}}, "duplicate chart"},
		{[]Chart{{ID: "x"}}, "no points"},
		{[]Chart{{ID: "x", Points: []Point{{Label: "a"}, {Label: "A"}}}}, "duplicate label"},
		{"nonsense", "list of charts"},
	}
	for _, tt := range tests {
		s := Spec{Part: "b", Type: Points, Marks: 1, Key: tt.key}
		if _, err := Compile([]Spec{s}, nil); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("key %v: error %v; want %q", tt.key, err, tt.err)
		}
	}
	// A JSON-decoded key works.
	s := Spec{Part: "b", Type: Points, Marks: 1, Key: []any{map[string]any{"id": "x", "points": []any{map[string]any{"label": "a", "x": 1.0, "y": 2.0}}}}}
	if r := gradeOne(t, s, "a (1, 2)"); r.Score != 1 {
		t.Errorf("JSON key: %+v", r)
	}
}
