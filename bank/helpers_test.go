package bank

import (
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
// variants, as `marksmith bank test --count 1000` does in CI, and checks
// how many distinct variants a cohort of 1,000 gets.
func TestBuiltinSelfTest(t *testing.T) {
	minDistinct := map[string]int{"dasc7606/q4": 999} // q4's space after constraints is small
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
