package bank

import (
	"testing"

	"github.com/marksmith/marksmith/grader"
)

// TestReferencesEarnFullMarks grades each built-in essay's reference answer,
// in the canonical variant and in drawn ones: the rubric must suggest full
// marks for it, or the rubric and the model answer disagree.
func TestReferencesEarnFullMarks(t *testing.T) {
	ts, err := builtinOnce()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range ts {
		for seed := uint64(0); seed < 40; seed++ {
			v, err := tp.Variant(seed)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range v.Parts {
				if p.Answer.Type != grader.Essay {
					continue
				}
				r := gradeOne(t, v, p.ID, p.Answer.Reference)
				if r.Score != r.Max || !r.NeedsReview {
					t.Errorf("%s variant %d (%s): the reference answer scores %v of %v (review %v): %s\n%s", tp.ID, seed, p.ID, r.Score, r.Max, r.NeedsReview, r.Feedback, p.Answer.Reference)
				}
			}
		}
	}
}
