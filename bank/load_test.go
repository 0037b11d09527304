package bank

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/grader"
)

// problemsOf loads src and returns its problems as "line:field: message" strings.
func problemsOf(t *testing.T, src string) []Problem {
	t.Helper()
	_, err := Load("t.yaml", []byte(src))
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	return ve.Problems
}

const goodTemplate = `id: test/cost
title: Cost
marks: 5
params:
  hw: {choice: [14, 28]}
  c:  {int: [2, 8], step: 2}
  x:  {real: [0.1, 0.5], step: 0.1}
  d:  {expr: "hw * hw * c"}
canonical: {hw: 28, c: 4, x: 0.3}
constraints:
  - expr: "d > 100"
    reason: big enough
parts:
  - id: a
    marks: 3
    prompt: "Cost for {{hw}} × {{hw}} × {{c}} at {{x}}?"
    answer: {type: number, value: d, tolerance: {rel: 0.01}}
  - id: b
    marks: 2
    prompt: Pick one.
    answer:
      type: choice
      options: [{id: yes, text: "Yes"}, {id: no, text: "No"}]
      value: "d > 1000 ? 'yes' : 'no'"
`

func TestLeadAndInstruction(t *testing.T) {
	src := strings.Replace(goodTemplate, "  - id: b\n    marks: 2\n", "  - id: b\n    marks: 2\n    lead: Now a choice for {{hw}}.\n", 1)
	src = strings.Replace(src, "value: \"d > 1000", "instruction: Type yes or no for {{c}}.\n      value: \"d > 1000", 1)
	tp, err := Load("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	v, err := tp.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	b := v.Parts[1]
	if b.Lead != "Now a choice for 28." || b.Instruction != "Type yes or no for 4." || b.Prompt != "Pick one.\n\nType yes or no for 4." {
		t.Errorf("lead %q, instruction %q, prompt %q", b.Lead, b.Instruction, b.Prompt)
	}
	var text strings.Builder
	if err := v.WriteText(&text, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "\nNow a choice for 28.\n\n(b) (2 marks) Pick one.") {
		t.Errorf("the lead does not stand above (b):\n%s", text.String())
	}
}

func TestDefaultInstruction(t *testing.T) {
	tests := []struct {
		spec grader.Spec
		want string
	}{
		{grader.Spec{Type: grader.Number}, "Answer with the exact number, e.g. 1,234.5 or 1.2345e3."},
		{grader.Spec{Type: grader.Number, Suffixes: true, Tolerance: grader.Tolerance{Rel: 0.001}}, "Answer with a number to at least 4 significant figures, e.g. 1,234,567, 1.234567e6 or 1.234567M."},
		{grader.Spec{Type: grader.Number, Tolerance: grader.Tolerance{Rel: 0.01}}, "Answer with a number to at least 3 significant figures, e.g. 1,234.5 or 1.2345e3."},
		{grader.Spec{Type: grader.Number, Tolerance: grader.Tolerance{SigFigs: 3}}, "Answer with a number to 3 significant figures, e.g. 1,234.5 or 1.2345e3."},
		{grader.Spec{Type: grader.Number, Unit: "GB", Tolerance: grader.Tolerance{Abs: 0.05}}, "Answer with a number in GB to at least 1 decimal places (other units, such as GiB or MB, are converted)."},
		{grader.Spec{Type: grader.Integer}, "Answer with a whole number."},
		{grader.Spec{Type: grader.Choice}, "Select one option (typed: its letter)."},
		{grader.Spec{Type: grader.Multi}, "Select every option that applies, one or more (typed: their letters, e.g. A, C)."},
		{grader.Spec{Type: grader.Text}, "Answer in a word or a short phrase."},
		{grader.Spec{Type: grader.Essay}, "Answer in a few sentences."},
		{grader.Spec{Type: grader.Sequence, Key: []string{"a", "b", "c"}}, "Answer with the 3 tokens in order, separated by spaces."},
		{grader.Spec{Type: grader.Table, Key: [][]float64{{1, 2}}}, "Answer with the 2 values in the order of the columns, separated by commas."},
		{grader.Spec{Type: grader.Table, Key: [][]float64{{1, 2, 3}, {4, 5, 6}}, Tolerance: grader.Tolerance{Abs: 0.006}}, "Answer with the table's 2 rows of 3 values in order: values separated by commas, rows by semicolons, to at least 2 decimal places."},
		{grader.Spec{Type: grader.Points, Key: []grader.Chart{{ID: "c"}}}, "Plot the points on the chart (typed: label (x, y), label (x, y), …)."},
		{grader.Spec{Type: grader.Points, Key: []grader.Chart{{ID: "c"}, {ID: "d"}}}, "Plot the points on the charts (typed: each chart's number, then its points: 1: label (x, y), …; 2: …)."},
	}
	for _, tc := range tests {
		if got := DefaultInstruction(&tc.spec); got != tc.want {
			t.Errorf("%s %+v: %q, want %q", tc.spec.Type, tc.spec.Tolerance, got, tc.want)
		}
	}
}

func TestLoadGood(t *testing.T) {
	tp, err := Load("t.yaml", []byte(goodTemplate))
	if err != nil {
		t.Fatal(err)
	}
	v, err := tp.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Parts[0].Prompt, "Cost for 28 × 28 × 4 at 0.3?\n\nAnswer with a number to at least 3 significant figures, e.g. 1,234.5 or 1.2345e3."; got != want {
		t.Errorf("prompt = %q, want %q", got, want)
	}
	if got := v.Parts[0].Answer.Key; got != 3136.0 {
		t.Errorf("key a = %v, want 3136", got)
	}
	if got := v.Parts[1].Answer.Key; got != "yes" {
		t.Errorf("key b = %v, want yes", got)
	}
	if got := v.Parts[1].Answer.Options; got[0].ID != "yes" || got[0].Label != "A" || !got[0].Correct || got[1].Correct {
		t.Errorf("canonical options = %+v, want paper order with yes right", got)
	}
	if tp.Format != "yaml" || tp.Version != 1 || tp.Marks != 5 {
		t.Errorf("template meta = %s v%d %g marks", tp.Format, tp.Version, tp.Marks)
	}
}

func TestLoadJSON(t *testing.T) {
	src := `{"id": "test/json", "title": "J", "marks": 1,
  "parts": [{"id": "a", "marks": 1, "prompt": "2+2?", "answer": {"type": "integer", "value": "2+2"}}]}`
	tp, err := Load("t.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := tp.Canonical()
	if tp.Format != "json" || v.Parts[0].Answer.Key != 4 {
		t.Errorf("format %s key %v, want json 4", tp.Format, v.Parts[0].Answer.Key)
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // "line field: message fragment"
	}{
		{"unknown field", strings.Replace(goodTemplate, "title: Cost", "title: Cost\ncolour: red", 1),
			[]string{"3 colour: unknown field"}},
		{"undefined name", strings.Replace(goodTemplate, `d:  {expr: "hw * hw * c"}`, `d:  {expr: "hw * width"}`, 1),
			[]string{"8 params.d.expr: expression \"hw * width\": unknown name width"}},
		{"marks do not add up", strings.Replace(goodTemplate, "marks: 5", "marks: 6", 1),
			[]string{"parts: part marks add up to 5, but the question is worth 6"}},
		{"canonical outside range", strings.Replace(goodTemplate, "c: 4,", "c: 9,", 1),
			[]string{"9 canonical.c: canonical value 9 is outside the range [2, 8]"}},
		{"canonical off grid", strings.Replace(goodTemplate, "c: 4,", "c: 3,", 1),
			[]string{"9 canonical.c: canonical value 3 is not on the grid"}},
		{"canonical not a choice", strings.Replace(goodTemplate, "hw: 28,", "hw: 30,", 1),
			[]string{"9 canonical.hw: canonical value 30 is not one of the choices"}},
		{"type mismatch", strings.Replace(goodTemplate, "marks: 5", "marks: five", 1),
			[]string{"3 marks: must be a number, not a string"}},
		{"unknown answer type", strings.Replace(goodTemplate, "type: number", "type: numeric", 1),
			[]string{"17 parts.a.answer.type: unknown answer type \"numeric\""}},
		{"placeholder undefined", strings.Replace(goodTemplate, "at {{x}}", "at {{y}}", 1),
			[]string{"16 parts.a.prompt: placeholder: expression \"y\": unknown name y"}},
		{"key not an option", strings.Replace(goodTemplate, "'yes' : 'no'", "'yes' : 'maybe'", 1),
			[]string{"parts.b.value: the key \"maybe\" is not one of the options"}},
		{"canonical breaks constraint", strings.Replace(goodTemplate, `"d > 100"`, `"d > 5000"`, 1),
			[]string{"9 canonical: template test/cost: the canonical values break constraint \"d > 5000\" (big enough)"}},
		{"several at once", strings.Replace(strings.Replace(goodTemplate, "marks: 5", "marks: 6", 1), "title: Cost", "title: Cost\nextra: 1", 1),
			[]string{"3 extra: unknown field", "parts: part marks add up"}},
		{"syntax error", "id: x\ntitle: [unclosed\n", []string{"2 : "}},
		{"missing required", "id: test/x\n", []string{"title: is required", "marks: is required", "parts: is required"}},
		{"duplicate part", strings.Replace(goodTemplate, "- id: b", "- id: a", 1),
			[]string{"18 parts[1].id: part \"a\" appears twice (first at line 14)"}},
		{"measure without a threshold", strings.Replace(goodTemplate, "reason: big enough", "reason: big enough\n    measure: {value: d}", 1),
			[]string{"13 constraints[0].measure: needs exactly one of at_least and at_most"}},
		{"measure with both thresholds", strings.Replace(goodTemplate, "reason: big enough", "reason: big enough\n    measure: {value: d, at_least: 100, at_most: 1e6}", 1),
			[]string{"13 constraints[0].measure: needs exactly one of at_least and at_most"}},
		{"measure of an unknown name", strings.Replace(goodTemplate, "reason: big enough", "reason: big enough\n    measure: {value: dd, at_least: 100}", 1),
			[]string{"13 constraints[0].measure.value: expression \"dd\": unknown name dd"}},
		{"measure that is not a number", strings.Replace(goodTemplate, "reason: big enough", "reason: big enough\n    measure: {value: \"d > 1\", at_least: 100}", 1),
			[]string{"13 constraints[0].measure: measure \"d > 1\" gave true, not a number"}},
		{"measure the canonical variant breaks", strings.Replace(goodTemplate, "reason: big enough", "reason: big enough\n    measure: {value: d, at_least: 5000}", 1),
			[]string{"13 constraints[0].measure: the canonical variant gives 3136, beyond the threshold 5000"}},
		{"lead with an unknown name", strings.Replace(goodTemplate, "  - id: b\n    marks: 2\n", "  - id: b\n    marks: 2\n    lead: \"Now {{zz}}\"\n", 1),
			[]string{"20 parts.b.lead: placeholder: expression \"zz\": unknown name zz"}},
		{"instruction with an unknown name", strings.Replace(goodTemplate, "value: \"d > 1000", "instruction: \"Pick {{zz}}\"\n      value: \"d > 1000", 1),
			[]string{"parts.b.answer.instruction: placeholder: expression \"zz\": unknown name zz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := problemsOf(t, tt.src)
			if len(ps) == 0 {
				t.Fatal("loaded without problems")
			}
			for _, w := range tt.want {
				found := false
				for _, p := range ps {
					s := p.Field + ": " + p.Message
					if p.Line > 0 {
						s = strings.TrimSpace(strings.Join([]string{itoa(p.Line), s}, " "))
					}
					if strings.Contains(s, w) || strings.Contains(p.Field+": "+p.Message, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("no problem like %q in:\n%v", w, (&ValidationError{Problems: ps}).Error())
				}
			}
			for _, p := range ps {
				if p.File != "t.yaml" {
					t.Errorf("problem %v names file %q", p, p.File)
				}
			}
		})
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}

func TestConstraintsThatNeverHold(t *testing.T) {
	src := strings.Replace(goodTemplate, `  - expr: "d > 100"
    reason: big enough`, `  - expr: "d > 100"
    reason: big enough
  - expr: "z == 7"
    reason: only the paper`, 1)
	src = strings.Replace(src, `  d:  {expr: "hw * hw * c"}`, `  d:  {expr: "hw * hw * c"}
  z:  {int: [1, 10000000]}`, 1)
	src = strings.Replace(src, "x: 0.3}", "x: 0.3, z: 7}", 1)
	ps := problemsOf(t, src)
	if len(ps) != 1 || ps[0].Field != "constraints" || !strings.Contains(ps[0].Message, "only the paper") || !strings.Contains(ps[0].Message, "no variant satisfied") {
		t.Fatalf("problems = %v, want one naming the constraint that never held", ps)
	}
}

func TestVariantDeterministicAndShuffled(t *testing.T) {
	tp, err := Load("t.yaml", []byte(goodTemplate))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := tp.Variant(42)
	b, _ := tp.Variant(42)
	if a.Parts[0].Prompt != b.Parts[0].Prompt || a.Parts[0].Answer.Key != b.Parts[0].Answer.Key {
		t.Fatal("the same seed gave different variants")
	}
	orders := map[string]bool{}
	for seed := uint64(1); seed <= 40; seed++ {
		v, err := tp.Variant(seed)
		if err != nil {
			t.Fatal(err)
		}
		opts := v.Parts[1].Answer.Options
		orders[opts[0].ID] = true
		for _, o := range opts {
			if o.Correct != (o.ID == v.Parts[1].Answer.Key) {
				t.Fatalf("seed %d: option %s correct=%v but key is %v", seed, o.ID, o.Correct, v.Parts[1].Answer.Key)
			}
		}
		if err := tp.Generator().Check(v.Params); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	if len(orders) != 2 {
		t.Errorf("over 40 seeds the first option was always the same: %v", orders)
	}
}

func TestPublicHidesKey(t *testing.T) {
	tp, _ := Load("t.yaml", []byte(goodTemplate))
	v, _ := tp.Variant(3)
	pub := v.Public()
	for _, p := range pub.Parts {
		if p.Answer.Key != nil || p.Answer.Follow != "" || p.Answer.Rubric != nil || p.Answer.Reference != "" {
			t.Errorf("public part %s leaks %+v", p.ID, p.Answer)
		}
		for _, o := range p.Answer.Options {
			if o.Correct {
				t.Errorf("public part %s marks option %s correct", p.ID, o.ID)
			}
		}
	}
	if pub.Params != nil {
		t.Error("public variant carries its parameters")
	}
	if v.Parts[0].Answer.Key == nil {
		t.Error("Public changed the original variant")
	}
}

func TestRebuildKeepsValuesWithCorrectedKey(t *testing.T) {
	v1, err := Load("t.yaml", []byte(goodTemplate))
	if err != nil {
		t.Fatal(err)
	}
	fixed := strings.Replace(strings.Replace(goodTemplate, `value: d, tolerance`, `value: "d * 2", tolerance`, 1), "title: Cost", "title: Cost\nversion: 2", 1)
	v2, err := Load("t.yaml", []byte(fixed))
	if err != nil {
		t.Fatal(err)
	}
	old, _ := v1.Variant(11)
	// Through JSON, as a stored paper is.
	b, _ := json.Marshal(old)
	var stored Variant
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	nv, err := v2.Rebuild(&stored)
	if err != nil {
		t.Fatal(err)
	}
	if nv.Parts[0].Prompt != old.Parts[0].Prompt || nv.Seed != 11 || nv.Version != 2 {
		t.Fatalf("rebuilt prompt %q v%d, want %q v2", nv.Parts[0].Prompt, nv.Version, old.Parts[0].Prompt)
	}
	if nv.Parts[0].Answer.Key != 2*old.Parts[0].Answer.Key.(float64) {
		t.Fatalf("rebuilt key %v, want twice %v", nv.Parts[0].Answer.Key, old.Parts[0].Answer.Key)
	}
}

// TestStoredVariantGradesAsDrawn round-trips every built-in template's
// variant through JSON, as a published paper is stored, and checks that
// the stored copy has the same keys, grades the key to full marks and
// rebuilds to the same variant.
func TestStoredVariantGradesAsDrawn(t *testing.T) {
	ts, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range ts {
		for _, seed := range []uint64{0, 5, 99} {
			v, err := tp.Variant(seed)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(v)
			var stored Variant
			if err := json.Unmarshal(b, &stored); err != nil {
				t.Fatalf("%s/%d: %v", tp.ID, seed, err)
			}
			b2, _ := json.Marshal(&stored)
			if string(b) != string(b2) {
				t.Fatalf("%s/%d: JSON round trip changed the variant", tp.ID, seed)
			}
			answers := map[string]string{}
			for _, p := range stored.Parts {
				answers[p.ID] = KeyAnswer(&p.Answer)
			}
			rs, err := stored.Grade(answers)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rs {
				if stored.Parts[i].Answer.Type != "essay" && !r.NeedsReview && r.Score != r.Max {
					t.Errorf("%s/%d part %s: stored key scores %v/%v (%s %s)", tp.ID, seed, r.Part, r.Score, r.Max, r.Rule, r.FormatError)
				}
			}
			re, err := tp.Rebuild(&stored)
			if err != nil {
				t.Fatalf("%s/%d: rebuild: %v", tp.ID, seed, err)
			}
			b3, _ := json.Marshal(re)
			if string(b3) != string(b) {
				t.Errorf("%s/%d: rebuilding with the same version changed the variant", tp.ID, seed)
			}
		}
	}
}
