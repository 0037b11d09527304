package bank

import (
	"context"
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
	Template string `json:"template"`
	Version  int    `json:"version"`
	Count    int    `json:"count"`
	// Distinct is how many distinct variants a cohort of Count students
	// gets, a repeat being drawn again while the space allows.
	Distinct int `json:"distinct"`
	// Independent is how many distinct variants Count independent draws
	// (each student's own seed, repeats kept) gave.
	Independent int `json:"independent"`
	// SpaceSize bounds the number of variants: every drawn parameter's
	// choices multiplied, before constraints.
	SpaceSize float64 `json:"space_size"`
	// Accepted is the share of draws that met every constraint.
	Accepted float64 `json:"accepted"`
	// EstimatedSpace is SpaceSize × Accepted: the number of variants the
	// constraints leave, since every parameter is drawn uniformly and a
	// draw is kept only when it meets them.
	EstimatedSpace float64 `json:"estimated_space"`
	// RepeatEstimate estimates the same from the repeats among the
	// independent draws: the size of a space in which Count uniform draws
	// give Independent distinct values on average. With no repeat at all it
	// is a lower bound (RepeatBound): smaller spaces would show a repeat
	// 95 times in 100.
	RepeatEstimate float64 `json:"repeat_estimate"`
	RepeatBound    bool    `json:"repeat_bound,omitempty"`
	// Time is the time to draw, render and key one variant, when the test
	// was given a clock.
	Time     *Timing   `json:"time_us,omitempty"`
	Failures []string  `json:"failures,omitempty"`
	Spread   []Spread  `json:"spread"`
	Closest  []Closest `json:"closest,omitempty"`
}

// OK reports whether the self-test passed.
func (r *TestReport) OK() bool { return len(r.Failures) == 0 }

// Timing summarises the time per variant, in microseconds.
type Timing struct {
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
}

// Spread summarises one part's keys across the drawn variants.
type Spread struct {
	Part     string       `json:"part"`
	Type     grader.Type  `json:"type"`
	Distinct int          `json:"distinct"`
	Min      *float64     `json:"min,omitempty"`
	Median   *float64     `json:"median,omitempty"`
	Max      *float64     `json:"max,omitempty"`
	Top      []ValueCount `json:"top,omitempty"` // most frequent keys, for non-numeric parts
	// Options says, for a choice or multi-select part, how often the
	// option shown at each label is (in) the key.
	Options []ValueCount `json:"options,omitempty"`
	// Uniformity is, for a choice part, how often the least likely label
	// is the key against the likeliest: 1 when every label is the key
	// equally often, 0 when one never is.
	Uniformity float64 `json:"uniformity,omitempty"`
}

// ValueCount is how often one key occurred.
type ValueCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Closest is the nearest any variant came to one threshold of a
// constraint that keeps variants unambiguous.
type Closest struct {
	Constraint string  `json:"constraint"`
	Measure    string  `json:"measure"`
	Limit      float64 `json:"limit"`
	AtMost     bool    `json:"at_most,omitempty"`
	Value      float64 `json:"value"`
	Variant    uint64  `json:"variant"`
}

// maxFailures bounds the failures a report lists.
const maxFailures = 20

// TestOptions are the settings of a self-test.
type TestOptions struct {
	Seed  uint64 // the exam seed the cohort is drawn with
	Count int    // the number of students
	// Clock, if set, returns a monotonic reading in nanoseconds; the report
	// then gives the time per variant. The bank reads no clock itself.
	Clock func() int64
}

// SelfTest draws count variants (distinct where the space allows, as for a
// cohort with exam seed seed) and checks each: the constraints hold, every
// key exists and is finite, a choice has exactly one right option, the key
// itself grades to full marks and a blank answer to zero.
func (t *Template) SelfTest(seed uint64, count int) (*TestReport, error) {
	return t.SelfTestContext(context.Background(), seed, count)
}

// SelfTestContext is SelfTest that gives up with ctx's error once ctx is
// done; it looks at ctx before each draw.
func (t *Template) SelfTestContext(ctx context.Context, seed uint64, count int) (*TestReport, error) {
	return t.TestContext(ctx, TestOptions{Seed: seed, Count: count})
}

// Test is SelfTest with its options; it also estimates the size of the
// space, the distribution of every key, how close variants come to the
// thresholds of the constraints' measures and, with a clock, the time per
// variant.
func (t *Template) Test(o TestOptions) (*TestReport, error) {
	return t.TestContext(context.Background(), o)
}

// TestContext is Test that gives up with ctx's error once ctx is done.
func (t *Template) TestContext(ctx context.Context, o TestOptions) (*TestReport, error) {
	count := o.Count
	rep := &TestReport{Template: t.ID, Version: t.Version, Count: count, SpaceSize: t.gen.SpaceSize()}
	students := make([]string, count)
	for i := range students {
		students[i] = strconv.Itoa(i + 1)
	}
	cohort, err := t.gen.DrawCohortContext(ctx, o.Seed, t.ID, students, 8)
	if err != nil {
		return nil, err
	}
	rep.Distinct, rep.Independent = cohort.Distinct, cohort.FirstDistinct
	if cohort.Distinct < count && float64(cohort.Distinct) < rep.SpaceSize && !cohort.Exhausted {
		rep.fail("only %d distinct variants for %d students", cohort.Distinct, count)
	}
	rep.RepeatEstimate, rep.RepeatBound = EstimateSpace(count, cohort.FirstDistinct)
	numbers := make([][]float64, len(t.parts))
	others := make([]map[string]int, len(t.parts))
	labels := make([]map[string]int, len(t.parts))
	for i := range others {
		others[i] = map[string]int{}
		labels[i] = map[string]int{}
	}
	closest := make([]Closest, len(t.measures))
	for i, m := range t.measures {
		closest[i] = Closest{Constraint: t.gen.Constraints[m.constraint].Expr.Source(), Measure: m.value.Source(), Limit: m.limit, AtMost: m.upper, Value: math.Inf(1)}
		if m.upper {
			closest[i].Value = math.Inf(-1)
		}
	}
	var times []int64
	if o.Clock != nil {
		times = make([]int64, 0, count)
	}
	draws := 0
	for _, s := range cohort.Seeds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var start int64
		if o.Clock != nil {
			start = o.Clock()
		}
		v, n, err := t.variantCounted(ctx, s)
		if o.Clock != nil {
			times = append(times, o.Clock()-start)
		}
		draws += n
		if err != nil {
			rep.fail("variant %d: %v", s, err)
			continue
		}
		env := t.gen.WithConstants(v.Params)
		if err := t.gen.Check(env); err != nil {
			rep.fail("variant %d: %v", s, err)
		}
		for i, m := range t.measures {
			x, err := m.eval(env)
			if err != nil {
				rep.fail("variant %d: %v", s, err)
				continue
			}
			if m.upper && x > closest[i].Value || !m.upper && x < closest[i].Value {
				closest[i].Value, closest[i].Variant = x, s
			}
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
			for _, o := range p.Answer.Options {
				if _, ok := labels[i][o.Label]; !ok {
					labels[i][o.Label] = 0
				}
				if o.Correct {
					labels[i][o.Label]++
				}
			}
		}
	}
	if draws > 0 {
		rep.Accepted = float64(len(cohort.Seeds)) / float64(draws)
		rep.EstimatedSpace = rep.SpaceSize * rep.Accepted
	}
	if o.Clock != nil {
		rep.Time = timing(times)
	}
	for i := range closest {
		if !math.IsInf(closest[i].Value, 0) {
			rep.Closest = append(rep.Closest, closest[i])
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
			sortCounts(sp.Top)
			if len(sp.Top) > 5 {
				sp.Top = sp.Top[:5]
			}
		}
		if len(labels[i]) > 0 {
			lo, hi := math.Inf(1), 0.0
			for l, n := range labels[i] {
				sp.Options = append(sp.Options, ValueCount{Value: l, Count: n})
				lo, hi = math.Min(lo, float64(n)), math.Max(hi, float64(n))
			}
			sort.Slice(sp.Options, func(a, b int) bool { return sp.Options[a].Value < sp.Options[b].Value })
			if p.typ == grader.Choice && hi > 0 {
				sp.Uniformity = lo / hi
			}
		}
		rep.Spread = append(rep.Spread, sp)
	}
	return rep, nil
}

// variantCounted is Variant that also says how many draws it took, and
// stops drawing once ctx is done.
func (t *Template) variantCounted(ctx context.Context, seed uint64) (*Variant, int, error) {
	env, n, err := t.gen.DrawCountedContext(ctx, seed)
	if err != nil {
		return nil, n, fmt.Errorf("template %s: %w", t.ID, err)
	}
	v, err := t.build(seed, env)
	return v, n, err
}

// EstimateSpace estimates the number of equally likely variants from n
// independent draws that gave d distinct ones: the size s for which n
// uniform draws give d distinct values on average, d = s·(1 − (1 − 1/s)^n).
// When no draw repeated another (d = n) it returns a lower bound instead,
// and bound true: the smallest s in which n draws show no repeat at least
// one time in twenty, n²/(2·ln 20).
func EstimateSpace(n, d int) (float64, bool) {
	if n <= 0 || d <= 0 {
		return 0, false
	}
	if d >= n {
		if n == 1 {
			return 1, true
		}
		return float64(n) * float64(n-1) / (2 * math.Log(20)), true
	}
	N, D := float64(n), float64(d)
	expected := func(s float64) float64 { return s * -math.Expm1(N*math.Log1p(-1/s)) }
	lo, hi := D, D
	for expected(hi) < D {
		hi *= 2
	}
	for range 200 {
		mid := (lo + hi) / 2
		if expected(mid) < D {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2, false
}

// timing summarises durations in nanoseconds as microseconds.
func timing(ns []int64) *Timing {
	if len(ns) == 0 {
		return nil
	}
	sorted := append([]int64(nil), ns...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(sorted)))) - 1
		return float64(sorted[max(0, i)]) / 1e3
	}
	return &Timing{Median: at(0.5), P99: at(0.99), Max: float64(sorted[len(sorted)-1]) / 1e3}
}

func sortCounts(l []ValueCount) {
	sort.Slice(l, func(a, b int) bool {
		if l[a].Count != l[b].Count {
			return l[a].Count > l[b].Count
		}
		return l[a].Value < l[b].Value
	})
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
