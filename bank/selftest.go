package bank

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/marksmith/marksmith/grader"
	"github.com/marksmith/marksmith/variants"
)

// TestReport is what a template's self-test found over a number of drawn
// variants.
type TestReport struct {
	Template  string   `json:"template"`
	Version   int      `json:"version"`
	Count     int      `json:"count"`
	Distinct  int      `json:"distinct"`
	SpaceSize float64  `json:"space_size"` // upper bound before constraints
	Failures  []string `json:"failures,omitempty"`
	Spread    []Spread `json:"spread"`
}

// OK reports whether the self-test passed.
func (r *TestReport) OK() bool { return len(r.Failures) == 0 }

// Spread summarises one part's keys across the drawn variants.
type Spread struct {
	Part     string       `json:"part"`
	Type     grader.Type  `json:"type"`
	Distinct int          `json:"distinct"`
	Min      *float64     `json:"min,omitempty"`
	Median   *float64     `json:"median,omitempty"`
	Max      *float64     `json:"max,omitempty"`
	Top      []ValueCount `json:"top,omitempty"` // most frequent keys, for non-numeric parts
}

// ValueCount is how often one key occurred.
type ValueCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// maxFailures bounds the failures a report lists.
const maxFailures = 20

// SelfTest draws count variants (distinct where the space allows, as for a
// cohort with exam seed seed) and checks each: the constraints hold, every
// key exists and is finite, a choice has exactly one right option, the key
// itself grades to full marks and a blank answer to zero.
func (t *Template) SelfTest(seed uint64, count int) (*TestReport, error) {
	rep := &TestReport{Template: t.ID, Version: t.Version, Count: count, SpaceSize: t.gen.SpaceSize()}
	students := make([]string, count)
	for i := range students {
		students[i] = strconv.Itoa(i + 1)
	}
	cohort, err := t.gen.DrawCohort(seed, t.ID, students, 8)
	if err != nil {
		return nil, err
	}
	rep.Distinct = cohort.Distinct
	if cohort.Distinct < count && float64(cohort.Distinct) < rep.SpaceSize && !cohort.Exhausted {
		rep.fail("only %d distinct variants for %d students", cohort.Distinct, count)
	}
	numbers := make([][]float64, len(t.parts))
	others := make([]map[string]int, len(t.parts))
	for i := range others {
		others[i] = map[string]int{}
	}
	for _, s := range cohort.Seeds {
		v, err := t.Variant(s)
		if err != nil {
			rep.fail("variant %d: %v", s, err)
			continue
		}
		if err := t.gen.Check(v.Params); err != nil {
			rep.fail("variant %d: %v", s, err)
		}
		t.checkVariant(rep, v)
		for i, p := range v.Parts {
			switch k := p.Answer.Key.(type) {
			case float64:
				numbers[i] = append(numbers[i], k)
			case int:
				numbers[i] = append(numbers[i], float64(k))
			default:
				others[i][variants.Format(KeyValue(&p.Answer))]++
			}
		}
	}
	for i, p := range t.parts {
		sp := Spread{Part: p.id, Type: p.typ}
		if len(numbers[i]) > 0 {
			xs := numbers[i]
			sort.Float64s(xs)
			lo, med, hi := xs[0], xs[len(xs)/2], xs[len(xs)-1]
			sp.Min, sp.Median, sp.Max = &lo, &med, &hi
			sp.Distinct = countDistinct(xs)
		} else {
			sp.Distinct = len(others[i])
			for v, n := range others[i] {
				sp.Top = append(sp.Top, ValueCount{Value: v, Count: n})
			}
			sort.Slice(sp.Top, func(a, b int) bool {
				if sp.Top[a].Count != sp.Top[b].Count {
					return sp.Top[a].Count > sp.Top[b].Count
				}
				return sp.Top[a].Value < sp.Top[b].Value
			})
			if len(sp.Top) > 5 {
				sp.Top = sp.Top[:5]
			}
		}
		rep.Spread = append(rep.Spread, sp)
	}
	return rep, nil
}

func (r *TestReport) fail(format string, args ...any) {
	if len(r.Failures) < maxFailures {
		r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
	}
}

func (t *Template) checkVariant(rep *TestReport, v *Variant) {
	q, err := v.Grader()
	if err != nil {
		rep.fail("variant %d: %v", v.Seed, err)
		return
	}
	keyed := map[string]string{}
	for _, p := range v.Parts {
		s := &p.Answer
		switch s.Type {
		case grader.Choice:
			right := 0
			for _, o := range s.Options {
				if o.Correct {
					right++
				}
			}
			if right != 1 {
				rep.fail("variant %d part %s: %d right options, want exactly 1", v.Seed, p.ID, right)
			}
		case grader.Number:
			if f, ok := s.Key.(float64); !ok || math.IsNaN(f) || math.IsInf(f, 0) {
				rep.fail("variant %d part %s: key %v is not a finite number", v.Seed, p.ID, s.Key)
			}
		case grader.Multi:
			if ids, _ := s.Key.([]string); len(ids) == 0 {
				rep.fail("variant %d part %s: no option is right", v.Seed, p.ID)
			}
		}
		if s.Type != grader.Essay {
			keyed[p.ID] = KeyAnswer(s)
		}
	}
	for _, r := range q.Grade(keyed) {
		if _, graded := keyed[r.Part]; !graded || r.NeedsReview {
			continue
		}
		if r.FormatError != "" || math.Abs(r.Score-r.Max) > 1e-9 {
			rep.fail("variant %d part %s: the key %q scores %v of %v (%s%s)", v.Seed, r.Part, keyed[r.Part], r.Score, r.Max, r.Rule, r.FormatError)
		}
	}
	for _, r := range q.Grade(map[string]string{}) {
		if r.Score != 0 {
			rep.fail("variant %d part %s: a blank answer scores %v", v.Seed, r.Part, r.Score)
		}
	}
}

func countDistinct(sorted []float64) int {
	n := 0
	for i, x := range sorted {
		if i == 0 || x != sorted[i-1] {
			n++
		}
	}
	return n
}
