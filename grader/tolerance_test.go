package grader

import (
	"testing"
)

func TestTolerance(t *testing.T) {
	tests := []struct {
		name string
		key  float64
		tol  Tolerance
		in   string
		rule string // RuleExact, RuleTolerance or RuleWrong
	}{
		// No tolerance: exact up to 1e-9 relative.
		{"exact", 0.3, Tolerance{}, "0.3", RuleExact},
		{"exact noise", 0.1 + 0.2, Tolerance{}, "0.3", RuleExact},
		{"exact 1e-10 rel", 1000, Tolerance{}, "1000.0000001", RuleExact},
		{"exact 1e-8 rel", 1000, Tolerance{}, "1000.00001", RuleWrong},
		{"exact zero", 0, Tolerance{}, "0", RuleExact},
		{"exact zero miss", 0, Tolerance{}, "1e-20", RuleWrong},

		// Relative 0.001, both sides of both boundaries.
		{"rel in above", 1000, Tolerance{Rel: 0.001}, "1000.9", RuleTolerance},
		{"rel on boundary", 1000, Tolerance{Rel: 0.001}, "1001", RuleTolerance},
		{"rel out above", 1000, Tolerance{Rel: 0.001}, "1001.1", RuleWrong},
		{"rel in below", 1000, Tolerance{Rel: 0.001}, "999.1", RuleTolerance},
		{"rel out below", 1000, Tolerance{Rel: 0.001}, "998.9", RuleWrong},
		{"rel 1.0009x", 173408256, Tolerance{Rel: 0.001}, "173564323.4", RuleTolerance},
		{"rel 1.0011x", 173408256, Tolerance{Rel: 0.001}, "173599005.1", RuleWrong},
		{"rel negative key", -50, Tolerance{Rel: 0.01}, "-50.5", RuleTolerance},
		{"rel negative key out", -50, Tolerance{Rel: 0.01}, "-50.6", RuleWrong},
		{"rel wrong sign", -50, Tolerance{Rel: 0.01}, "50", RuleWrong},
		{"rel zero key", 0, Tolerance{Rel: 0.1}, "0.001", RuleWrong},

		// Absolute 0.01.
		{"abs on boundary above", 1, Tolerance{Abs: 0.01}, "1.01", RuleTolerance},
		{"abs out above", 1, Tolerance{Abs: 0.01}, "1.0101", RuleWrong},
		{"abs on boundary below", 1, Tolerance{Abs: 0.01}, "0.99", RuleTolerance},
		{"abs out below", 1, Tolerance{Abs: 0.01}, "0.9899", RuleWrong},
		{"abs 0.1 on 0.3", 0.3, Tolerance{Abs: 0.1}, "0.4", RuleTolerance},
		{"abs zero key", 0, Tolerance{Abs: 0.5}, "-0.5", RuleTolerance},
		{"abs zero key out", 0, Tolerance{Abs: 0.5}, "-0.51", RuleWrong},

		// Three significant figures; halves round away from zero.
		{"sig3 same", 173408256, Tolerance{SigFigs: 3}, "173,000,000", RuleTolerance},
		{"sig3 sci", 173408256, Tolerance{SigFigs: 3}, "1.73e8", RuleTolerance},
		{"sig3 top in", 173408256, Tolerance{SigFigs: 3}, "173,499,999", RuleTolerance},
		{"sig3 top out", 173408256, Tolerance{SigFigs: 3}, "173,500,000", RuleWrong},
		{"sig3 bottom in", 173408256, Tolerance{SigFigs: 3}, "172,500,000", RuleTolerance},
		{"sig3 bottom out", 173408256, Tolerance{SigFigs: 3}, "172,499,999", RuleWrong},
		{"sig3 too few figures", 173408256, Tolerance{SigFigs: 3}, "1.7e8", RuleWrong},
		{"sig3 small key tie", 0.1235, Tolerance{SigFigs: 3}, "0.124", RuleTolerance},
		{"sig3 small tie in", 0.1235, Tolerance{SigFigs: 3}, "0.12351", RuleTolerance},
		{"sig3 small out", 0.1235, Tolerance{SigFigs: 3}, "0.12349", RuleWrong},
		{"sig3 carry in", 10, Tolerance{SigFigs: 3}, "9.995", RuleTolerance},
		{"sig3 carry out", 10, Tolerance{SigFigs: 3}, "9.9949", RuleWrong},
		{"sig3 negative in", -2.345, Tolerance{SigFigs: 3}, "-2.35", RuleTolerance},
		{"sig3 negative out", -2.345, Tolerance{SigFigs: 3}, "-2.3449", RuleWrong},
		{"sig3 sign", -2.345, Tolerance{SigFigs: 3}, "2.35", RuleWrong},
		{"sig1", 0.07, Tolerance{SigFigs: 1}, "0.065", RuleTolerance},
		{"sig1 out", 0.07, Tolerance{SigFigs: 1}, "0.0649", RuleWrong},

		// Two decimal places.
		{"dec2 in", 3.14159, Tolerance{Decimals: 2}, "3.14", RuleTolerance},
		{"dec2 top in", 3.14159, Tolerance{Decimals: 2}, "3.144999", RuleTolerance},
		{"dec2 top out", 3.14159, Tolerance{Decimals: 2}, "3.145", RuleWrong},
		{"dec2 bottom in", 3.14159, Tolerance{Decimals: 2}, "3.135", RuleTolerance},
		{"dec2 bottom out", 3.14159, Tolerance{Decimals: 2}, "3.1349", RuleWrong},
		{"dec2 big", 12345.678, Tolerance{Decimals: 2}, "12,345.68", RuleTolerance},
		{"dec2 big out", 12345.678, Tolerance{Decimals: 2}, "12,345.67", RuleWrong},
		{"dec2 tiny", 0.001, Tolerance{Decimals: 2}, "0", RuleTolerance},
		{"dec2 tiny out", 0.001, Tolerance{Decimals: 2}, "0.01", RuleWrong},
		{"dec2 round up to first place", 0.006, Tolerance{Decimals: 2}, "0.01", RuleTolerance},
		{"dec2 negative", -0.125, Tolerance{Decimals: 2}, "-0.13", RuleTolerance},
		{"dec2 negative out", -0.125, Tolerance{Decimals: 2}, "-0.12", RuleWrong},

		// Any rule set may accept.
		{"rel or abs: abs", 1000, Tolerance{Rel: 0.001, Abs: 5}, "1004", RuleTolerance},
		{"rel or abs: neither", 1000, Tolerance{Rel: 0.001, Abs: 5}, "1006", RuleWrong},
		{"sig or rel: sig", 173408256, Tolerance{SigFigs: 3, Rel: 1e-6}, "173,000,000", RuleTolerance},
		{"sig or rel: rel", 173408256, Tolerance{SigFigs: 4, Rel: 0.001}, "173,500,000", RuleTolerance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Spec{Part: "a", Type: Number, Marks: 2, Key: tt.key, Tolerance: tt.tol}
			r := gradeOne(t, s, tt.in)
			if r.Rule != tt.rule {
				t.Fatalf("%s against %v %+v: rule %q (%s); want %q", tt.in, tt.key, tt.tol, r.Rule, r.Feedback, tt.rule)
			}
			want := 2.0
			if tt.rule == RuleWrong {
				want = 0
			}
			if r.Score != want {
				t.Errorf("score %v; want %v", r.Score, want)
			}
		})
	}
}

func TestIntegerTolerance(t *testing.T) {
	tests := []struct {
		key  any
		tol  Tolerance
		in   string
		rule string
	}{
		{12, Tolerance{}, "12", RuleExact},
		{12.0, Tolerance{}, "12", RuleExact},
		{12, Tolerance{}, "13", RuleWrong},
		{1e10, Tolerance{}, "10,000,000,001", RuleWrong},
		{12, Tolerance{Abs: 1}, "13", RuleTolerance},
		{12, Tolerance{Abs: 1}, "14", RuleWrong},
		{70000000000.00001, Tolerance{}, "70B", RuleExact},
	}
	for _, tt := range tests {
		s := Spec{Part: "r", Type: Integer, Marks: 3, Key: tt.key, Tolerance: tt.tol, Suffixes: true}
		if r := gradeOne(t, s, tt.in); r.Rule != tt.rule {
			t.Errorf("%s against %v %+v: rule %q; want %q", tt.in, tt.key, tt.tol, r.Rule, tt.rule)
		}
	}
}

func TestRoundSig(t *testing.T) {
	tests := []struct {
		a, b float64
		n    int
		same bool
	}{
		{123.45, 123.449, 4, false},
		{123.45, 123.5, 4, true},
		{999.5, 1000, 3, true},
		{999.4, 999, 3, true},
		{1e-300, 1.04e-300, 2, true},
		{1e300, 1.06e300, 2, false},
		{0, 0, 3, true},
		{0, 1e-300, 3, false},
		{5, -5, 1, false},
	}
	for _, tt := range tests {
		if got := roundSig(tt.a, tt.n) == roundSig(tt.b, tt.n); got != tt.same {
			t.Errorf("roundSig(%v, %d) == roundSig(%v, %d) is %v; want %v", tt.a, tt.n, tt.b, tt.n, got, tt.same)
		}
	}
}

func TestToleranceValidation(t *testing.T) {
	bad := []Tolerance{{Abs: -1}, {Rel: -0.1}, {SigFigs: -1}, {SigFigs: 18}, {Decimals: -2}, {Decimals: 31}}
	for _, tol := range bad {
		s := Spec{Part: "a", Type: Number, Marks: 1, Key: 1.0, Tolerance: tol}
		if _, err := Compile([]Spec{s}, nil); err == nil {
			t.Errorf("Compile with tolerance %+v succeeded; want an error", tol)
		}
	}
}
