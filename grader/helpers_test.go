package grader

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// abcd are four options in display order, B right.
func abcd() []Option {
	return []Option{
		{ID: "sigmoid", Label: "A", Text: "Sigmoid"},
		{ID: "tanh", Label: "B", Text: "Tanh", Correct: true},
		{ID: "relu", Label: "C", Text: "ReLU"},
		{ID: "sine", Label: "D", Text: "Sine"},
	}
}

// validSpec returns a valid spec of each type, worth 4 marks.
func validSpec(typ Type) Spec {
	s := Spec{Part: "p", Type: typ, Marks: 4}
	switch typ {
	case Number:
		s.Key = 173408256.0
	case Integer:
		s.Key = 12
	case Choice:
		s.Options = abcd()
	case Multi:
		s.Options = abcd()
		s.Key = []string{"tanh", "sine"}
		for i := range s.Options {
			s.Options[i].Correct = false
		}
	case Text:
		s.Accept = []string{"embedding"}
	case Essay:
		s.Rubric = []Criterion{{ID: "c1", Text: "vanishing gradients", Marks: 2, Phrases: []string{"vanishing gradient*"}}}
	case Sequence:
		s.Key = []string{"1111", "0001"}
	case Table:
		s.Key = [][]float64{{1, 2}, {3, 4}}
	case Points:
		s.Key = []Chart{
			{ID: "d12", Points: []Point{{Label: "cat", X: 1, Y: 2}, {Label: "dog", X: 3, Y: 4}}},
			{ID: "d34", Points: []Point{{Label: "cat", X: -1, Y: 0.5}, {Label: "dog", X: 0, Y: 0}}},
		}
	}
	return s
}

// gradeOne compiles one spec and grades one answer.
func gradeOne(t testing.TB, s Spec, answer string) Result {
	t.Helper()
	q, err := Compile([]Spec{s}, nil)
	if err != nil {
		t.Fatalf("Compile(%s): %v", s.Type, err)
	}
	rs := q.Grade(map[string]string{s.Part: answer})
	if len(rs) != 1 {
		t.Fatalf("Grade returned %d results, want 1", len(rs))
	}
	checkResult(t, s, rs[0])
	return rs[0]
}

// checkResult asserts the invariants every result keeps.
func checkResult(t testing.TB, s Spec, r Result) {
	t.Helper()
	if r.Part != s.Part || r.Max != s.Marks {
		t.Errorf("result part %q max %v; want %q %v", r.Part, r.Max, s.Part, s.Marks)
	}
	if math.IsNaN(r.Score) || r.Score < 0 || r.Score > r.Max {
		t.Errorf("score %v outside [0, %v]", r.Score, r.Max)
	}
	if r.Rule == "" {
		t.Errorf("result has no rule")
	}
	if (r.Rule == RuleFormatError) != (r.FormatError != "") {
		t.Errorf("rule %q with format error %q", r.Rule, r.FormatError)
	}
	if (r.Rule == RuleFormatError || r.Rule == RuleBlank) && (r.Score != 0 || r.Answer != nil) {
		t.Errorf("rule %q with score %v, answer %v", r.Rule, r.Score, r.Answer)
	}
}

// checkParse parses in for s and checks the value, or, when errPart is
// set, that the format error contains it.
func checkParse(t testing.TB, s *Spec, in string, want any, errPart string) {
	t.Helper()
	got, err := Parse(s, in)
	if errPart != "" {
		if err == nil || !strings.Contains(err.Error(), errPart) {
			t.Errorf("Parse(%q) = %v, %v; want error %q", in, got, err, errPart)
		}
		return
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(%q) = %#v, %v; want %#v", in, got, err, want)
	}
}
