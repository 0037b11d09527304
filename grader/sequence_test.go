package grader

import (
	"testing"
)

func TestParseSequence(t *testing.T) {
	s := validSpec(Sequence)
	tests := []struct {
		in   string
		want []any
		err  string
	}{
		{"1111 0001", []any{"1111", "0001"}, ""},
		{"1111, 0001", []any{"1111", "0001"}, ""},
		{"1111,0001", []any{"1111", "0001"}, ""},
		{" 1111\n0001 ", []any{"1111", "0001"}, ""},
		{"1111; 0001", []any{"1111", "0001"}, ""},
		{`["1111", "0001"]`, []any{"1111", "0001"}, ""},
		{`[1111, 1]`, []any{"1111", "1"}, ""},
		{"[1111, 0001]", []any{"1111", "0001"}, ""},
		{`"1111", '0001'`, []any{"1111", "0001"}, ""},
		{"a b c", []any{"a", "b", "c"}, ""},
		{",,,", nil, "separated by spaces or commas"},
		{"[]", nil, "separated by spaces or commas"},
	}
	for _, tt := range tests {
		checkParse(t, &s, tt.in, tt.want, tt.err)
	}
}

func TestSequenceScore(t *testing.T) {
	s := Spec{Part: "a", Type: Sequence, Marks: 2, Key: []string{"1111", "0001", "Ab"}}
	cs := s
	cs.CaseSensitive = true
	tests := []struct {
		spec  Spec
		in    string
		score float64
	}{
		{s, "1111 0001 ab", 2},
		{s, "1111 0001 AB", 2},
		{cs, "1111 0001 AB", 1.333333333},
		{cs, "1111 0001 Ab", 2},
		{s, "1111 0001", 1.333333333},     // missing token scores 0
		{s, "1111 0001 ab extra more", 2}, // extra tokens cost nothing
		{s, "0001 1111 ab", 0.666666667},  // by position
		{s, "x 0001 ab", 1.333333333},
		{s, "1110 0000 ba", 0},
	}
	for _, tt := range tests {
		r := gradeOne(t, tt.spec, tt.in)
		if r.Score != tt.score || r.Rule != RulePerToken {
			t.Errorf("%q (case-sensitive %v): score %v rule %q; want %v per-token", tt.in, tt.spec.CaseSensitive, r.Score, r.Rule, tt.score)
		}
	}
}
