package grader

import (
	"reflect"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	s := Spec{Part: "c", Type: Text, Marks: 3,
		Key:      "the embedding matrix",
		Accept:   []string{"embedding layer", "embeddings", "vocabulary × embedding"},
		Patterns: []string{`\b2\s*V\s*E\b`},
	}
	tests := []struct {
		in     string
		score  float64
		rule   string
		review bool
	}{
		{"The embedding layer.", 3, RuleAccepted, false},
		{"EMBEDDING   LAYER", 3, RuleAccepted, false},
		{"the embedding-layer (input)", 3, RuleAccepted, false},
		{"Embeddings", 3, RuleAccepted, false},
		{"vocabulary * embedding", 3, RuleAccepted, false},
		{"vocabulary x embedding", 0, RuleWrong, true}, // x is a word, × is not
		{"it is the 2VE term", 3, RuleAccepted, false},
		{"It's the Embedding Matrix!", 3, RuleAccepted, false},
		{"embeddingslayer", 0, RuleWrong, true}, // whole words only
		{"the attention layers", 0, RuleWrong, true},
		{"  ", 0, RuleBlank, false},
	}
	for _, tt := range tests {
		r := gradeOne(t, s, tt.in)
		if r.Score != tt.score || r.Rule != tt.rule || r.NeedsReview != tt.review {
			t.Errorf("%q: score %v rule %q review %v; want %v %q %v", tt.in, r.Score, r.Rule, r.NeedsReview, tt.score, tt.rule, tt.review)
		}
	}
}

func TestTextCaseSensitive(t *testing.T) {
	s := Spec{Part: "c", Type: Text, Marks: 1, Accept: []string{"ReLU"}, Patterns: []string{"^GELU$"}, CaseSensitive: true}
	for in, want := range map[string]float64{"ReLU": 1, "relu": 0, "GELU": 1, "gelu": 0} {
		if r := gradeOne(t, s, in); r.Score != want {
			t.Errorf("%q: score %v; want %v", in, r.Score, want)
		}
	}
}

func TestTextRubric(t *testing.T) {
	s := Spec{Part: "c", Type: Text, Marks: 2, Accept: []string{"embedding"},
		Rubric: []Criterion{{ID: "v", Text: "mentions the vocabulary", Marks: 1, Phrases: []string{"vocabulary", "tokens"}}}}
	r := gradeOne(t, s, "the vocabulary is large")
	if r.Score != 1 || r.Rule != RuleRubric || !r.NeedsReview {
		t.Errorf("rubric fallback: %+v", r)
	}
	r = gradeOne(t, s, "embedding")
	if r.Score != 2 || r.Rule != RuleAccepted || r.NeedsReview {
		t.Errorf("accepted with rubric: %+v", r)
	}
}

func TestEssay(t *testing.T) {
	s := Spec{Part: "e", Type: Essay, Marks: 4, Reference: "…",
		Rubric: []Criterion{
			{ID: "linear", Text: "β = 0 gives a linear function", Marks: 1, Phrases: []string{"linear", "x/2"}},
			{ID: "relu", Text: "large β approaches ReLU", Marks: 1, Patterns: []string{`large\s+(β|beta).*relu`}},
			{ID: "smooth", Text: "smooth and non-monotonic", Marks: 1, Phrases: []string{"smooth*", "non monotonic"}},
			{ID: "grad", Text: "no vanishing gradient for positive inputs", Marks: 2, Phrases: []string{"vanishing gradient*"}},
		}}
	tests := []struct {
		in    string
		score float64
		met   []string
		unmet []string
	}{
		{"With beta=0 it is linear (x/2); for large beta it behaves like ReLU. It is smoother.", 3,
			[]string{"β = 0 gives a linear function", "large β approaches ReLU", "smooth and non-monotonic"},
			[]string{"no vanishing gradient"}},
		{"It avoids vanishing gradients and is non-monotonic, smooth, linear at β=0; large β → ReLU", 4, nil, nil}, // 5 capped at 4
		{"I don't know", 0, nil, []string{"β = 0 gives", "large β", "smooth", "vanishing"}},
		{"Non-monotonic!", 1, []string{"smooth and non-monotonic"}, nil},
	}
	for _, tt := range tests {
		r := gradeOne(t, s, tt.in)
		if r.Score != tt.score || r.Rule != RuleRubric || !r.NeedsReview {
			t.Errorf("%q: score %v rule %q review %v; want %v rubric true", tt.in, r.Score, r.Rule, r.NeedsReview, tt.score)
		}
		met, unmet, _ := strings.Cut(r.Feedback, "Not met:")
		for _, m := range tt.met {
			if !strings.Contains(met, m) {
				t.Errorf("%q: feedback %q does not list %q as met", tt.in, r.Feedback, m)
			}
		}
		for _, m := range tt.unmet {
			if !strings.Contains(unmet, m) {
				t.Errorf("%q: feedback %q does not list %q as not met", tt.in, r.Feedback, m)
			}
		}
	}
	if r := gradeOne(t, s, ""); r.Rule != RuleBlank || r.NeedsReview {
		t.Errorf("blank essay: %+v", r)
	}
}

func TestTextValidation(t *testing.T) {
	tests := []struct {
		spec Spec
		err  string
	}{
		{Spec{Part: "t", Type: Text, Marks: 1}, "needs accepted phrasings"},
		{Spec{Part: "t", Type: Text, Marks: 1, Accept: []string{"?!"}}, "no letters or digits"},
		{Spec{Part: "t", Type: Text, Marks: 1, Patterns: []string{"(unclosed"}}, "pattern"},
		{Spec{Part: "t", Type: Text, Marks: 1, Key: 5.0}, "model answer as text"},
		{Spec{Part: "t", Type: Essay, Marks: 1, Rubric: []Criterion{{ID: "a", Marks: 1}}}, "needs phrases or patterns"},
		{Spec{Part: "t", Type: Essay, Marks: 1, Rubric: []Criterion{{ID: "a", Marks: -1, Phrases: []string{"x"}}}}, "marks"},
		{Spec{Part: "t", Type: Essay, Marks: 1, Rubric: []Criterion{{ID: "a", Marks: 1, Phrases: []string{"x"}}, {ID: "a", Marks: 1, Phrases: []string{"y"}}}}, "duplicate criterion"},
		{Spec{Part: "t", Type: Essay, Marks: 1, Rubric: []Criterion{{ID: "a", Marks: 1, Patterns: []string{"[z-a]"}}}}, "pattern"},
	}
	for _, tt := range tests {
		_, err := Compile([]Spec{tt.spec}, nil)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Compile(%+v) error %v; want %q", tt.spec, err, tt.err)
		}
	}
}

func TestNormText(t *testing.T) {
	tests := []struct {
		in   string
		cs   bool
		want string
	}{
		{"The Embedding-layer.", false, " the embedding layer "},
		{"The Embedding-layer.", true, " The Embedding layer "},
		{"  ÉTÉ, naïve  Straße! ", false, " été naïve straße "},
		{"x² + β = 0", false, " x² β 0 "},
		{"?!", false, " "},
		{"", false, " "},
		{"a\xffb", false, " a b "},
	}
	for _, tt := range tests {
		if got := normText(tt.in, tt.cs); got != tt.want {
			t.Errorf("normText(%q, %v) = %q; want %q", tt.in, tt.cs, got, tt.want)
		}
	}
}

// TestCompilePatternRewrite checks the prefilter a case-insensitive
// pattern gets, and that it matches the lower-cased answer.
func TestCompilePatternRewrite(t *testing.T) {
	tests := []struct {
		src   string
		lower bool
		want  string   // the compiled pattern
		need  []string // its prefilter
	}{
		{`ReLU\s+x`, true, `relu\s+x`, []string{"relu"}},
		{`\bV\b.{0,40}\bhard`, true, `\bv\b.{0,40}\bhard`, []string{"hard"}},
		{`(skip|shortcut)\W+connections?`, true, `(skip|shortcut)\W+connections?`, []string{"connection"}},
		{`(skip|shortcut)\W+(a|b)`, true, `(skip|shortcut)\W+(a|b)`, []string{"kip", "hortcut"}},
		{`x*|y`, true, `x*|y`, nil},
		{`\p{Lu}+ ReLU`, true, `(?i)\p{Lu}+ ReLU`, []string{" relu"}},
		{`[A-Z]\x41`, true, `(?i)[A-Z]\x41`, []string{"a"}},
		{`(?-i:ReLU)`, false, `(?i)(?-i:ReLU)`, nil},
		{`β`, true, `(?i)β`, nil}, // non-ASCII literals keep folding
	}
	for _, tt := range tests {
		p, err := compilePattern(tt.src, false)
		if err != nil {
			t.Fatal(err)
		}
		if p.lower != tt.lower || p.re.String() != tt.want || !reflect.DeepEqual(p.need, tt.need) {
			t.Errorf("compilePattern(%q) = %q (lower %v, need %q); want %q (lower %v, need %q)",
				tt.src, p.re.String(), p.lower, p.need, tt.want, tt.lower, tt.need)
		}
	}
	if p, _ := compilePattern(`ReLU`, true); p.lower || p.re.MatchString("relu") {
		t.Errorf("case-sensitive pattern rewritten: %q", p.re)
	}
}

func TestSplitBranches(t *testing.T) {
	tests := []struct {
		src  string
		want string // lit/boundary of each branch, "*" for one run over the whole text
	}{
		{`\bmov(e|es|ed|ing)\b|\bshift\w*|towards?`, `\bmov \bshift toward`},
		{`(finer|higher)\s+(precision|resolution)`, `finer higher`},
		{`\b(a|an)\b|x\b`, `\ba x`}, // "a|an" factors to a(?:n)?
		{`weighted\s+(sum|mean)|\w*ly`, `weighted *`},
		{`\w*y|\s+x`, ``},
	}
	for _, tc := range tests {
		var got []string
		for _, b := range splitBranches(tc.src) {
			switch {
			case b.lit == "":
				got = append(got, "*")
			case b.boundary:
				got = append(got, `\b`+b.lit)
			default:
				got = append(got, b.lit)
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("splitBranches(%q) = %q, want %q", tc.src, strings.Join(got, " "), tc.want)
		}
	}
}
