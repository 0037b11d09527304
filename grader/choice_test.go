package grader

import (
	"strings"
	"testing"
)

func TestParseChoice(t *testing.T) {
	s := validSpec(Choice)
	tests := []struct {
		in, want, err string
	}{
		{"B", "tanh", ""},
		{"b", "tanh", ""},
		{"(b)", "tanh", ""},
		{"(B)", "tanh", ""},
		{"b)", "tanh", ""},
		{"B.", "tanh", ""},
		{"[C]", "relu", ""},
		{" 'a' ", "sigmoid", ""},
		{"tanh", "tanh", ""},
		{"TANH", "tanh", ""},
		{"ReLU", "relu", ""},
		{"Sine", "sine", ""},
		{"B, b", "tanh", ""},
		{"E", "", "Unknown option \"E\"; the options are A, B, C, D."},
		{"softmax", "", "Unknown option"},
		{"B, C", "", "Choose only one option."},
		{"BC", "", "Choose only one option."},
		{"A and D", "", "Choose only one option."},
	}
	for _, tt := range tests {
		checkParse(t, &s, tt.in, tt.want, tt.err)
	}
}

func TestChoiceScore(t *testing.T) {
	s := validSpec(Choice)
	tests := []struct {
		in    string
		score float64
		rule  string
	}{
		{"B", 4, RuleExact},
		{"tanh", 4, RuleExact},
		{"A", 0, RuleWrong},
		{"Z", 0, RuleFormatError},
		{"", 0, RuleBlank},
	}
	for _, tt := range tests {
		r := gradeOne(t, s, tt.in)
		if r.Score != tt.score || r.Rule != tt.rule {
			t.Errorf("%q: score %v rule %q; want %v %q", tt.in, r.Score, r.Rule, tt.score, tt.rule)
		}
	}
}

func TestParseMulti(t *testing.T) {
	s := validSpec(Multi)
	tests := []struct {
		in   string
		want []any
		err  string
	}{
		{"B, D", []any{"tanh", "sine"}, ""},
		{"D, B", []any{"tanh", "sine"}, ""},
		{"BD", []any{"tanh", "sine"}, ""},
		{"db", []any{"tanh", "sine"}, ""},
		{"B;D", []any{"tanh", "sine"}, ""},
		{"B D B", []any{"tanh", "sine"}, ""},
		{"(b) (d)", []any{"tanh", "sine"}, ""},
		{"B and D", []any{"tanh", "sine"}, ""},
		{`["B","D"]`, []any{"tanh", "sine"}, ""},
		{"tanh, sine", []any{"tanh", "sine"}, ""},
		{"A, B, C, D", []any{"sigmoid", "tanh", "relu", "sine"}, ""},
		{"none", []any{}, ""},
		{"[]", []any{}, ""},
		{"B, E", nil, "Unknown option \"E\""},
		{"BX", nil, "Unknown option \"BX\""},
	}
	for _, tt := range tests {
		checkParse(t, &s, tt.in, tt.want, tt.err)
	}
}

// shuffled returns the options of validSpec(Multi) in another display
// order with other labels: the same IDs.
func shuffled() []Option {
	return []Option{
		{ID: "sine", Label: "A", Text: "Sine"},
		{ID: "relu", Label: "B", Text: "ReLU"},
		{ID: "sigmoid", Label: "C", Text: "Sigmoid"},
		{ID: "tanh", Label: "D", Text: "Tanh"},
	}
}

func TestMultiSchemes(t *testing.T) {
	// Key: tanh and sine, of four options; 4 marks.
	tests := []struct {
		scheme  string
		penalty float64
		picks   []string // option IDs
		score   float64
	}{
		{AllOrNothing, 0, []string{"tanh", "sine"}, 4},
		{AllOrNothing, 0, []string{"tanh"}, 0},
		{AllOrNothing, 0, []string{"tanh", "sine", "relu"}, 0},
		{AllOrNothing, 0, nil, 0},
		{"", 0, []string{"tanh", "sine"}, 4}, // all-or-nothing by default

		// per-option: each option judged right earns 1; each misjudged one costs penalty × 1.
		{PerOption, 0, []string{"tanh", "sine"}, 4},
		{PerOption, 0, []string{"tanh"}, 3},
		{PerOption, 0, []string{"tanh", "relu"}, 2},
		{PerOption, 0, nil, 2},
		{PerOption, 0, []string{"sigmoid", "relu"}, 0},
		{PerOption, 1, []string{"tanh"}, 2},
		{PerOption, 1, []string{"tanh", "relu"}, 0},
		{PerOption, 0.5, []string{"tanh", "relu"}, 1},
		{PerOption, 1, []string{"sigmoid", "relu"}, 0}, // floored

		// right-minus-wrong: (right − wrong) / 2 × 4, floored at 0.
		{RightMinusWrong, 0, []string{"tanh", "sine"}, 4},
		{RightMinusWrong, 0, []string{"tanh"}, 2},
		{RightMinusWrong, 0, []string{"tanh", "sine", "relu"}, 2},
		{RightMinusWrong, 0, []string{"tanh", "relu"}, 0},
		{RightMinusWrong, 0, []string{"relu", "sigmoid"}, 0},
		{RightMinusWrong, 0, []string{"tanh", "sine", "relu", "sigmoid"}, 0},
		{RightMinusWrong, 0, nil, 0},
	}
	for _, tt := range tests {
		for _, opts := range [][]Option{validSpec(Multi).Options, shuffled()} {
			s := validSpec(Multi)
			s.Options, s.Scheme, s.Penalty = opts, tt.scheme, tt.penalty
			// Answer by label in this display order.
			var labels []string
			for _, id := range tt.picks {
				for _, o := range opts {
					if o.ID == id {
						labels = append(labels, o.Label)
					}
				}
			}
			in := strings.Join(labels, ", ")
			if in == "" {
				in = "none"
			}
			r := gradeOne(t, s, in)
			wantRule := tt.scheme
			if wantRule == "" {
				wantRule = AllOrNothing
			}
			if r.Score != tt.score || r.Rule != wantRule {
				t.Errorf("%s penalty %v picks %v (%q with labels %s): score %v rule %q; want %v %q",
					tt.scheme, tt.penalty, tt.picks, in, opts[0].Label+"="+opts[0].ID, r.Score, r.Rule, tt.score, wantRule)
			}
		}
	}
}

func TestMultiEmptyKey(t *testing.T) {
	for _, scheme := range []string{AllOrNothing, PerOption, RightMinusWrong} {
		s := validSpec(Multi)
		s.Key, s.Scheme = []string{}, scheme
		if r := gradeOne(t, s, "none"); r.Score != 4 {
			t.Errorf("%s: empty pick for an empty key scored %v; want 4", scheme, r.Score)
		}
		if r := gradeOne(t, s, "A"); r.Score >= 4 {
			t.Errorf("%s: a pick for an empty key scored %v; want less than 4", scheme, r.Score)
		}
		if r := gradeOne(t, s, ""); r.Score != 0 || r.Rule != RuleBlank {
			t.Errorf("%s: blank answer scored %v %q; want 0 blank", scheme, r.Score, r.Rule)
		}
	}
}

func TestMultiThirds(t *testing.T) {
	s := validSpec(Multi)
	s.Marks, s.Key, s.Scheme = 2, []string{"sigmoid", "tanh", "relu"}, RightMinusWrong
	if r := gradeOne(t, s, "A, B"); r.Score != 1.333333333 {
		t.Errorf("2/3 of 2 marks scored %v; want 1.333333333", r.Score)
	}
}

func TestOptionValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(s *Spec)
		err  string
	}{
		{"no options", func(s *Spec) { s.Options = nil }, "no options"},
		{"duplicate id", func(s *Spec) { s.Options[1].ID = "sigmoid" }, "duplicate option id"},
		{"duplicate label", func(s *Spec) { s.Options[1].Label = "a" }, "same label"},
		{"empty label", func(s *Spec) { s.Options[1].Label = " " }, "no label"},
		{"unknown key", func(s *Spec) { s.Key = "softmax" }, "no option has id \"softmax\""},
		{"two right", func(s *Spec) { s.Options[0].Correct = true }, "exactly one right option"},
		{"none right", func(s *Spec) { s.Options[1].Correct = false }, "exactly one right option"},
		{"disagree", func(s *Spec) { s.Key = "relu" }, "disagree"},
	}
	for _, tt := range tests {
		s := validSpec(Choice)
		tt.edit(&s)
		_, err := Compile([]Spec{s}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), `part "p"`) {
			t.Errorf("%s: Compile error %v; want one naming the part and containing %q", tt.name, err, tt.err)
		}
	}
	s := validSpec(Multi)
	s.Scheme = "best-of-three"
	if _, err := Compile([]Spec{s}, nil); err == nil || !strings.Contains(err.Error(), "unknown scheme") {
		t.Errorf("unknown scheme: error %v", err)
	}
	s = validSpec(Multi)
	s.Penalty = -1
	if _, err := Compile([]Spec{s}, nil); err == nil || !strings.Contains(err.Error(), "penalty") {
		t.Errorf("negative penalty: error %v", err)
	}
}
