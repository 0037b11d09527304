package bank

import (
	"math"
	"sync"
	"testing"

	"github.com/marksmith/marksmith/grader"
)

// builtinOnce loads the built-in bank once for all tests of the package.
var builtinOnce = sync.OnceValues(Builtin)

// builtinTemplate returns the built-in template with id, failing the test
// when the bank does not load or has no such template.
func builtinTemplate(t testing.TB, id string) *Template {
	t.Helper()
	ts, err := builtinOnce()
	if err != nil {
		t.Fatal(err)
	}
	tp := Find(ts, id)
	if tp == nil {
		t.Fatalf("%s is not in the built-in bank", id)
	}
	return tp
}

// TestBuiltinSelfTest runs every built-in template's self-test over 1,000
// variants, as `marksmith bank test --count 1000` does in CI, checks how
// many distinct variants a cohort of 1,000 gets, and that every question
// whose numbers vary has room for at least 20,000 distinct variants, by
// both estimates.
func TestBuiltinSelfTest(t *testing.T) {
	minDistinct := map[string]int{}
	// q7's numbers never vary: its variants are the orders of its options,
	// 24 × 24 × 24 = 13,824 of them.
	minSpace := map[string]float64{"dasc7606/q7": 13824}
	ts, err := builtinOnce()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range ts {
		t.Run(tp.ID, func(t *testing.T) {
			rep, err := tp.SelfTest(1, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Fatalf("self-test failures: %v", rep.Failures)
			}
			want, ok := minDistinct[tp.ID]
			if !ok {
				want = 1000
			}
			if rep.Distinct < want {
				t.Errorf("%d distinct variants of 1000, want at least %d", rep.Distinct, want)
			}
			space, ok := minSpace[tp.ID]
			if !ok {
				space = 20000
			}
			if rep.EstimatedSpace < space {
				t.Errorf("about %.0f variants (%.1f%% of %.0f draws accepted), want at least %.0f", rep.EstimatedSpace, 100*rep.Accepted, rep.SpaceSize, space)
			}
			// From repeats among 1,000 draws the estimate is rough: a
			// quarter either way.
			if rep.RepeatEstimate < 0.75*space {
				t.Errorf("repeats among 1000 independent draws (%d distinct) suggest %.0f variants, want at least %.0f", rep.Independent, rep.RepeatEstimate, space)
			}
		})
	}
}

// gradeOne grades a single part's answer on v and returns its result.
func gradeOne(t *testing.T, v *Variant, part, answer string) grader.Result {
	t.Helper()
	rs, err := v.Grade(map[string]string{part: answer})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Part == part {
			return r
		}
	}
	t.Fatalf("variant has no part %q", part)
	return grader.Result{}
}

func TestEstimateSpace(t *testing.T) {
	tests := []struct {
		n, d  int
		want  float64
		bound bool
	}{
		{1000, 1000, 1000 * 999 / (2 * 2.995732273553991), true},
		{10000, 10000, 10000 * 9999 / (2 * 2.995732273553991), true},
		// 1000 draws from 1000 values give 632 distinct on average.
		{1000, 632, 1000, false},
		// 10,000 draws from 20,000 give 7,869 distinct on average.
		{10000, 7869, 20000, false},
		{10, 1, 1, false},
		{0, 0, 0, false},
	}
	for _, tc := range tests {
		got, bound := EstimateSpace(tc.n, tc.d)
		if bound != tc.bound || math.Abs(got-tc.want) > 0.002*tc.want+1e-9 {
			t.Errorf("EstimateSpace(%d, %d) = %v, %v; want about %v, %v", tc.n, tc.d, got, bound, tc.want, tc.bound)
		}
	}
}
