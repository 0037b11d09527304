package view

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/bank"
)

// TestStudentQuestionIsQuestion checks that the light decoding of a stored
// variant gives the very view the full one does, for every built-in
// question over many variants.
func TestStudentQuestionIsQuestion(t *testing.T) {
	ts, err := bank.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range ts {
		for seed := uint64(0); seed < 40; seed++ {
			v, err := tp.Variant(seed)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var stored bank.Variant
			if err := json.Unmarshal(raw, &stored); err != nil {
				t.Fatal(err)
			}
			for _, marks := range []float64{0, 20, 7.5} {
				scale := 1.0
				if marks > 0 {
					scale = marks / v.Marks
				}
				want := Question(&stored, Options{Scale: scale})
				got, err := StudentQuestion(raw, marks)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s seed %d marks %v:\n got %+v\nwant %+v", tp.ID, seed, marks, got, want)
				}
			}
			for _, p := range Question(&stored, Options{}).Parts {
				if p.Key != nil {
					t.Fatalf("%s: a student's part carries a key", tp.ID)
				}
			}
		}
	}
}

// TestPromptAndHint checks that a part's instruction line moves from the
// prompt to the hint, and that its lead is kept.
func TestPromptAndHint(t *testing.T) {
	ts, err := bank.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	leads := 0
	for _, tp := range ts {
		v, err := tp.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		q := Question(v, Options{})
		for i, p := range q.Parts {
			pv := v.Parts[i]
			if pv.Instruction == "" {
				continue
			}
			if p.Hint != pv.Instruction || strings.HasSuffix(p.Prompt, pv.Instruction) || !strings.HasPrefix(pv.Prompt, p.Prompt) {
				t.Errorf("%s part %s: prompt %q, hint %q; want the instruction %q moved to the hint", tp.ID, p.ID, p.Prompt, p.Hint, pv.Instruction)
			}
			if p.Lead != pv.Lead {
				t.Errorf("%s part %s: lead %q, want %q", tp.ID, p.ID, p.Lead, pv.Lead)
			}
			if p.Lead != "" {
				leads++
			}
		}
	}
	if leads == 0 {
		t.Fatal("no built-in part has a lead; question 4's multiple-choice instruction should be one")
	}
}

// TestTableShape checks that every table part says its grid's shape,
// labelled or not: Q3 (c) has row labels only, and 8 columns.
func TestTableShape(t *testing.T) {
	ts, err := bank.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, tp := range ts {
		v, err := tp.Variant(0)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range Question(v, Options{}).Parts {
			if p.Type != "table" {
				continue
			}
			seen++
			if p.Height == 0 || p.Width == 0 || len(p.Rows) > 0 && len(p.Rows) != p.Height || len(p.Columns) > 0 && len(p.Columns) != p.Width {
				t.Errorf("%s (%s): shape %d×%d, labels %d rows %d columns", tp.ID, p.ID, p.Height, p.Width, len(p.Rows), len(p.Columns))
			}
			if tp.ID == "dasc7606/q3" && p.ID == "c" && (p.Width != 8 || len(p.Columns) != 0) {
				t.Errorf("q3 (c): %d columns, %d labels; want 8 unlabelled", p.Width, len(p.Columns))
			}
		}
	}
	if seen < 3 {
		t.Errorf("%d table parts in the bank, want at least 3", seen)
	}
}
