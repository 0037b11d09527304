package grader

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// cnn is question 6 of the seed paper in small: d is a cost, e another, f
// their difference, with f following from the student's own d and e.
func cnn(followMarks float64) []Spec {
	return []Spec{
		{Part: "d", Type: Number, Marks: 3, Key: 173408256.0, Tolerance: Tolerance{Rel: 0.001}},
		{Part: "e", Type: Number, Marks: 3, Key: 15253504.0, Tolerance: Tolerance{Rel: 0.001}},
		{Part: "f", Type: Number, Marks: 3, Key: 158154752.0, Tolerance: Tolerance{Rel: 0.001},
			Follow: "ans.d - ans.e", FollowMarks: followMarks},
		{Part: "g", Type: Number, Marks: 2, Key: 0.0879, Tolerance: Tolerance{SigFigs: 3},
			Follow: `ans["e"] / ans.d`},
	}
}

func TestErrorCarriedForward(t *testing.T) {
	q, err := Compile(cnn(0), map[string]any{"hw": 28})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		answers map[string]string
		f       float64 // score of f
		rule    string  // rule of f
	}{
		{"all right", map[string]string{"d": "173,408,256", "e": "15,253,504", "f": "158,154,752"}, 3, RuleExact},
		{"right within tolerance", map[string]string{"d": "173,408,256", "e": "15,253,504", "f": "1.5815e8"}, 3, RuleTolerance},
		{"consistent with own wrong d", map[string]string{"d": "173,408,000", "e": "15,253,504", "f": "158,154,496"}, 3, RuleTolerance},
		{"consistent with own very wrong d", map[string]string{"d": "200,000,000", "e": "15,253,504", "f": "184,746,496"}, 3, RuleECF},
		{"consistent within tolerance", map[string]string{"d": "200,000,000", "e": "15,253,504", "f": "1.8475e8"}, 3, RuleECF},
		{"inconsistent", map[string]string{"d": "200,000,000", "e": "15,253,504", "f": "150,000,000"}, 0, RuleWrong},
		{"blank earlier part", map[string]string{"e": "15,253,504", "f": "-15,253,504"}, 0, RuleWrong},
		{"unreadable earlier part", map[string]string{"d": "lots", "e": "15,253,504", "f": "-15,253,504"}, 0, RuleWrong},
		{"right f despite blank d", map[string]string{"e": "1", "f": "158,154,752"}, 3, RuleExact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := q.Grade(tt.answers)
			f := rs[2]
			if f.Score != tt.f || f.Rule != tt.rule {
				t.Errorf("f: score %v rule %q (%s); want %v %q", f.Score, f.Rule, f.Feedback, tt.f, tt.rule)
			}
		})
	}
}

func TestErrorCarriedForwardMarks(t *testing.T) {
	q, err := Compile(cnn(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := q.Grade(map[string]string{"d": "200,000,000", "e": "15,253,504", "f": "184,746,496", "g": "0.0763"})
	if rs[2].Score != 2 || rs[2].Rule != RuleECF {
		t.Errorf("f with follow_marks 2: %+v", rs[2])
	}
	// g follows e/d = 15253504/200000000 = 0.07626752 to 3 significant figures.
	if rs[3].Score != 2 || rs[3].Rule != RuleECF {
		t.Errorf("g: %+v", rs[3])
	}
}

func TestErrorCarriedForwardTypes(t *testing.T) {
	specs := []Spec{
		{Part: "a", Type: Integer, Marks: 1, Key: 4},
		{Part: "b", Type: Integer, Marks: 2, Key: 16, Follow: "ans.a * ans.a"},
		{Part: "c", Type: Choice, Marks: 1, Options: abcd(), Follow: `ans.a > 5 ? "sine" : "tanh"`},
		{Part: "s", Type: Sequence, Marks: 2, Key: []string{"4", "5"}, Follow: `[string(int(ans.a)), string(int(ans.a) + 1)]`},
		{Part: "t", Type: Table, Marks: 2, Key: [][]float64{{4, 8}}, Follow: `[[ans.a, ans.a * 2]]`},
		{Part: "u", Type: Table, Marks: 2, Key: [][]float64{{4, 8}}, Follow: `[[ans.a]]`}, // wrong shape: no ECF
		{Part: "n", Type: Number, Marks: 1, Key: 1.0, Follow: `ans.c`},                    // a string: no ECF
		{Part: "z", Type: Number, Marks: 1, Key: 1.0, Follow: `1 / (ans.a - ans.a)`},      // +Inf: no ECF
	}
	q, err := Compile(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := q.Grade(map[string]string{"a": "6", "b": "36", "c": "D", "s": "6 8", "t": "6, 12", "u": "6, 12", "n": "6", "z": "6"})
	want := map[string]struct {
		score float64
		rule  string
	}{
		"a": {0, RuleWrong},
		"b": {2, RuleECF},
		"c": {1, RuleECF},
		"s": {1, RuleECF},
		"t": {2, RuleECF},
		"u": {0, RulePerCell},
		"n": {0, RuleWrong},
		"z": {0, RuleWrong},
	}
	for _, r := range rs {
		w := want[r.Part]
		if r.Score != w.score || r.Rule != w.rule {
			t.Errorf("%s: score %v rule %q; want %v %q", r.Part, r.Score, r.Rule, w.score, w.rule)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	num := func(part string) Spec { return Spec{Part: part, Type: Number, Marks: 1, Key: 1.0} }
	tests := []struct {
		name   string
		specs  []Spec
		params map[string]any
		err    string
	}{
		{"empty id", []Spec{{Type: Number, Key: 1.0}}, nil, "part 1: part id is empty"},
		{"duplicate", []Spec{num("a"), num("a")}, nil, `part "a": duplicate`},
		{"unknown type", []Spec{{Part: "a", Type: "graph"}}, nil, `part "a": unknown answer type "graph"`},
		{"negative marks", []Spec{{Part: "a", Type: Number, Marks: -1, Key: 1.0}}, nil, "marks"},
		{"no key", []Spec{{Part: "a", Type: Number, Marks: 1}}, nil, `part "a": key`},
		{"string key", []Spec{{Part: "a", Type: Number, Marks: 1, Key: "12"}}, nil, `part "a": key`},
		{"fractional integer key", []Spec{{Part: "a", Type: Integer, Marks: 1, Key: 2.5}}, nil, "not a whole number"},
		{"empty sequence", []Spec{{Part: "a", Type: Sequence, Marks: 1, Key: []string{}}}, nil, "empty"},
		{"follow syntax", []Spec{num("a"), {Part: "b", Type: Number, Marks: 1, Key: 1.0, Follow: "ans.a +"}}, nil, `part "b": follow`},
		{"follow unknown part", []Spec{num("a"), {Part: "b", Type: Number, Marks: 1, Key: 1.0, Follow: "ans.x * 2"}}, nil, `no part "x"`},
		{"follow itself", []Spec{num("a"), {Part: "b", Type: Number, Marks: 1, Key: 1.0, Follow: "ans.b * 2"}}, nil, "own answer"},
		{"follow unknown name", []Spec{num("a"), {Part: "b", Type: Number, Marks: 1, Key: 1.0, Follow: "ans.a * k"}}, nil, `part "b": follow`},
		{"follow on essay", []Spec{num("a"), {Part: "b", Type: Essay, Marks: 1, Follow: "ans.a"}}, nil, "cannot carry errors forward"},
		{"follow marks", []Spec{num("a"), {Part: "b", Type: Number, Marks: 1, Key: 1.0, Follow: "ans.a", FollowMarks: 2}}, nil, "follow_marks"},
		{"ans parameter", []Spec{num("a"), {Part: "b", Type: Number, Marks: 1, Key: 1.0, Follow: "ans.a"}}, map[string]any{"ans": 1}, `"ans" clashes`},
	}
	for _, tt := range tests {
		_, err := Compile(tt.specs, tt.params)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: error %v; want %q", tt.name, err, tt.err)
		}
	}
	// Parameters are visible to follow expressions.
	ok := []Spec{num("a"), {Part: "b", Type: Number, Marks: 1, Key: 1.0, Follow: "ans.a * k"}}
	if _, err := Compile(ok, map[string]any{"k": 2}); err != nil {
		t.Errorf("follow with parameter: %v", err)
	}
}

func TestGradeBlankAndFormatErrors(t *testing.T) {
	var specs []Spec
	for _, typ := range Types() {
		s := validSpec(typ)
		s.Part = string(typ)
		specs = append(specs, s)
	}
	q, err := Compile(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing answered: all blank.
	for i, r := range q.Grade(nil) {
		checkResult(t, specs[i], r)
		if r.Rule != RuleBlank || r.Score != 0 || r.Feedback == "" {
			t.Errorf("%s blank: %+v", r.Part, r)
		}
	}
	// Unreadable answers: format errors, not graded.
	bad := map[string]string{
		"number": "1,00,0", "integer": "2.5", "choice": "Q", "multi": "A, Q",
		"sequence": ",", "table": "1 2 3", "points": "d99: cat (1, 2)",
	}
	for i, r := range q.Grade(bad) {
		checkResult(t, specs[i], r)
		_, isBad := bad[r.Part]
		if isBad != (r.Rule == RuleFormatError) {
			t.Errorf("%s: rule %q for %q", r.Part, r.Rule, bad[r.Part])
		}
	}
}

func TestGradeAllTypes(t *testing.T) {
	var specs []Spec
	for _, typ := range Types() {
		s := validSpec(typ)
		s.Part = string(typ)
		specs = append(specs, s)
	}
	q, err := Compile(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{
		"number":   "1.73408256e8",
		"integer":  "12",
		"choice":   "b",
		"multi":    "D, B",
		"text":     "Embedding.",
		"essay":    "Vanishing gradients.",
		"sequence": "1111, 0001",
		"table":    "1, 2; 3, 5",
		"points":   "d12: cat (1, 2), dog (3, 4); d34: cat (-1, 0.5), dog (9, 9)",
	}
	want := map[string]struct {
		score  float64
		rule   string
		review bool
	}{
		"number":   {4, RuleExact, false},
		"integer":  {4, RuleExact, false},
		"choice":   {4, RuleExact, false},
		"multi":    {4, AllOrNothing, false},
		"text":     {4, RuleAccepted, false},
		"essay":    {2, RuleRubric, true},
		"sequence": {4, RulePerToken, false},
		"table":    {3, RulePerCell, false},
		"points":   {3, RulePerPoint, false},
	}
	rs := q.Grade(answers)
	for i, r := range rs {
		checkResult(t, specs[i], r)
		w := want[r.Part]
		if r.Score != w.score || r.Rule != w.rule || r.NeedsReview != w.review {
			t.Errorf("%s: score %v rule %q review %v; want %v %q %v", r.Part, r.Score, r.Rule, r.NeedsReview, w.score, w.rule, w.review)
		}
		if r.Answer == nil || r.Feedback == "" {
			t.Errorf("%s: answer %v feedback %q", r.Part, r.Answer, r.Feedback)
		}
	}
	if score, max := Total(rs); score != 32 || max != 36 {
		t.Errorf("Total = %v, %v; want 32, 36", score, max)
	}
	// Results are JSON-friendly.
	if _, err := json.Marshal(rs); err != nil {
		t.Errorf("marshal results: %v", err)
	}
}

func TestGradeConcurrent(t *testing.T) {
	q, err := Compile(cnn(0), nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				rs := q.Grade(map[string]string{"d": "200,000,000", "e": "15,253,504", "f": "184,746,496"})
				if rs[2].Rule != RuleECF {
					t.Errorf("goroutine %d: %+v", i, rs[2])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSpecJSONRoundTrip(t *testing.T) {
	// A published paper stores specs as JSON; grading the decoded specs
	// gives the same results.
	var specs []Spec
	for _, typ := range Types() {
		s := validSpec(typ)
		s.Part = string(typ)
		specs = append(specs, s)
	}
	b, err := json.Marshal(specs)
	if err != nil {
		t.Fatal(err)
	}
	var decoded []Spec
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	q1, err := Compile(specs, nil)
	if err != nil {
		t.Fatal(err)
	}
	q2, err := Compile(decoded, nil)
	if err != nil {
		t.Fatalf("compile decoded specs: %v", err)
	}
	answers := map[string]string{"number": "173,408,256", "integer": "12", "choice": "B", "multi": "B D",
		"text": "embedding", "essay": "vanishing gradient", "sequence": "1111 0001", "table": "1 2; 3 4",
		"points": "d12: cat (1, 2), dog (3, 4); d34: cat (-1, 0.5), dog (0, 0)"}
	r1, r2 := q1.Grade(answers), q2.Grade(answers)
	for i := range r1 {
		if r1[i].Score != r2[i].Score || r1[i].Rule != r2[i].Rule {
			t.Errorf("%s: %v %q before JSON, %v %q after", r1[i].Part, r1[i].Score, r1[i].Rule, r2[i].Score, r2[i].Rule)
		}
	}
}

func TestCompileCopiesParams(t *testing.T) {
	params := map[string]any{"k": 2}
	specs := []Spec{
		{Part: "a", Type: Number, Marks: 1, Key: 1.0},
		{Part: "b", Type: Number, Marks: 1, Key: 2.0, Follow: "ans.a * k"},
	}
	q, err := Compile(specs, params)
	if err != nil {
		t.Fatal(err)
	}
	params["k"] = 100 // the caller reuses its map
	if r := q.Grade(map[string]string{"a": "3", "b": "6"})[1]; r.Rule != RuleECF {
		t.Errorf("follow with k = 2 after the caller changed its map: %+v", r)
	}
}
