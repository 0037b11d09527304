package exams

import (
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/variants"
)

// smallCohort publishes the area (20 marks) and wide (3 marks) exam to
// five students; four sit it with known answers:
//
//	s1: 1a right, 1b right, 1c two rubric criteria, 2a right → 8+8+4+3 = 23
//	s2: 1a right, 1b wrong,                          2a right → 8+3     = 11
//	s3: 1a wrong, 1b right                                    → 8       = 8
//	s4: nothing                                               → 0
//
// and s5 never starts.
func smallCohort(t *testing.T) (*harness, *marksmith.Exam, []int64) {
	h := newHarness(t, 5)
	e := h.published(t, h.input(5))
	sitting := h.students[:4]
	var ids []int64
	for i, u := range sitting {
		v := h.start(t, u, e.ID)
		p1, p2 := h.paper(t, e.ID, u, 1), h.paper(t, e.ID, u, 2)
		answers := [][3]string{}
		switch i {
		case 0:
			answers = [][3]string{{"1", "a", keyOf(t, p1, "a")}, {"1", "b", "rect"}, {"1", "c", "A unit square per cell, rows times columns"}, {"2", "a", keyOf(t, p2, "a")}}
		case 1:
			answers = [][3]string{{"1", "a", keyOf(t, p1, "a")}, {"1", "b", "hex"}, {"2", "a", keyOf(t, p2, "a")}}
		case 2:
			answers = [][3]string{{"1", "a", "1"}, {"1", "b", "rect"}}
		}
		for _, a := range answers {
			q, _ := strconv.Atoi(a[0])
			h.save(t, u, v.Attempt.ID, q, a[1], a[2], 1)
		}
		if _, err := h.svc.Submit(t.Context(), u, v.Attempt.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.Attempt.ID)
	}
	return h, e, ids
}

func TestStats(t *testing.T) {
	h, e, _ := smallCohort(t)
	st, err := h.svc.Stats(t.Context(), h.instructor, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	// Totals 23, 11, 8, 0 of 23.
	if st.N != 4 || st.Max != 23 {
		t.Fatalf("stats %+v", st.Summary)
	}
	near("mean", st.Mean, 10.5)
	near("difficulty", st.Difficulty, 10.5/23)
	if st.Discrimination != nil {
		t.Errorf("the exam total has a discrimination %v", *st.Discrimination)
	}
	counts := make([]int, HistogramBins)
	for i, b := range st.Histogram {
		counts[i] = b.Count
	}
	// Bins of 2.3: 0 → 0, 8 → 3, 11 → 4, 23 → 9 (the last bin is closed).
	if want := []int{1, 0, 0, 1, 1, 0, 0, 0, 0, 1}; !slicesEqual(counts, want) {
		t.Errorf("histogram %v, want %v", counts, want)
	}
	near("last bin", st.Histogram[9].To, 23)

	if len(st.Questions) != 2 {
		t.Fatalf("questions %+v", st.Questions)
	}
	q1, q2 := st.Questions[0], st.Questions[1]
	// Question 1: 20, 8, 8, 0; the rest (question 2): 3, 3, 0, 0.
	near("q1 mean", q1.Mean, 9)
	near("q1 difficulty", q1.Difficulty, 0.45)
	if q1.Discrimination == nil {
		t.Fatal("q1 has no discrimination")
	}
	near("q1 discrimination", *q1.Discrimination, 30/math.Sqrt(204*9))
	near("q2 mean", q2.Mean, 1.5)
	near("q2 difficulty", q2.Difficulty, 0.5)
	if len(q1.Parts) != 3 || q1.Parts[0].Part != "a" || q1.Parts[2].Part != "c" {
		t.Fatalf("q1 parts %+v", q1.Parts)
	}
	near("1a mean", q1.Parts[0].Mean, 4) // 8, 8, 0, 0
	near("1b mean", q1.Parts[1].Mean, 4) // 8, 0, 8, 0
	near("1c mean", q1.Parts[2].Mean, 1) // 4, 0, 0, 0
	near("1c difficulty", q1.Parts[2].Difficulty, 0.25)

	// Fairness of question 1 by drawn value, from the stored papers.
	q1score := []float64{20, 8, 8, 0}
	for _, param := range []string{"w", "h"} {
		sums, ns := map[string]float64{}, map[string]int{}
		for i, u := range h.students[:4] {
			v := variants.Format(h.paper(t, e.ID, u, 1).Params[param])
			sums[v] += q1score[i] / 20
			ns[v]++
		}
		var pf *marksmith.ParamFairness
		for i := range q1.Fairness {
			if q1.Fairness[i].Param == param {
				pf = &q1.Fairness[i]
			}
		}
		if pf == nil || len(pf.Values) != len(sums) {
			t.Fatalf("fairness of %s: %+v, want values %v", param, pf, sums)
		}
		lo, hi, counted := math.Inf(1), math.Inf(-1), 0
		for _, vs := range pf.Values {
			want := sums[vs.Value] / float64(ns[vs.Value])
			near("mean for "+param+"="+vs.Value, vs.Mean, want)
			if vs.N != ns[vs.Value] {
				t.Errorf("%s=%s: n %d, want %d", param, vs.Value, vs.N, ns[vs.Value])
			}
			if vs.N >= FairnessMinN {
				lo, hi, counted = math.Min(lo, want), math.Max(hi, want), counted+1
			}
		}
		gap := 0.0
		if counted >= 2 {
			gap = hi - lo
		}
		near("gap of "+param, pf.Gap, gap)
		if pf.Flagged != (gap > FairnessGap) {
			t.Errorf("%s flagged %v with gap %v", param, pf.Flagged, gap)
		}
	}
	if len(q2.Fairness) != 2 || q2.Fairness[0].Param != "x" || q2.Fairness[1].Param != "y" {
		t.Fatalf("q2 fairness %+v", q2.Fairness)
	}
	_, err = h.svc.Stats(t.Context(), h.other, e.ID)
	wantCode(t, "other instructor", err, marksmith.ENOTFOUND)
}

func TestParamFairness(t *testing.T) {
	var many []observation
	for v := 1; v <= 20; v++ {
		frac := 0.0
		if v <= 10 {
			frac = 1
		}
		many = append(many, observation{v, frac})
	}
	twice := append(append([]observation{}, many...), many...)
	for _, tc := range []struct {
		name    string
		obs     []observation
		values  []marksmith.ValueScore
		gap     float64
		flagged bool
	}{
		{"by value, one-student values ignored in the gap",
			[]observation{{"relu", 1}, {"relu", 0.5}, {"tanh", 0.5}, {"tanh", 0.5}, {"sine", 0}},
			[]marksmith.ValueScore{{Value: "relu", N: 2, Mean: 0.75}, {Value: "sine", N: 1, Mean: 0}, {Value: "tanh", N: 2, Mean: 0.5}}, 0.25, true},
		{"numeric, in value order", []observation{{10, 1}, {2, 0}, {10, 0.5}, {2, 0.5}},
			[]marksmith.ValueScore{{Value: "2", N: 2, Mean: 0.25}, {Value: "10", N: 2, Mean: 0.75}}, 0.5, true},
		{"a single value has no gap", []observation{{3, 1}, {3, 0}}, []marksmith.ValueScore{{Value: "3", N: 2, Mean: 0.5}}, 0, false},
		{"many numeric values in five ranges", twice,
			[]marksmith.ValueScore{{Value: "1–4", N: 8, Mean: 1}, {Value: "5–8", N: 8, Mean: 1}, {Value: "9–12", N: 8, Mean: 0.5}, {Value: "13–16", N: 8, Mean: 0}, {Value: "17–20", N: 8, Mean: 0}}, 1, true},
	} {
		pf := paramFairness("p", tc.obs)
		if !slices.Equal(pf.Values, tc.values) || math.Abs(pf.Gap-tc.gap) > 1e-9 || pf.Flagged != tc.flagged {
			t.Errorf("%s: %+v\nwant values %+v gap %v flagged %v", tc.name, pf, tc.values, tc.gap, tc.flagged)
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHistogramAndPearson(t *testing.T) {
	for _, tc := range []struct {
		scores []float64
		max    float64
		want   []int
	}{
		{[]float64{0, 0.3, 0.6, 0.9, 1.2, 3}, 3, []int{1, 1, 1, 1, 1, 0, 0, 0, 0, 1}},
		{[]float64{2.5, 5, 7.5, 10}, 10, []int{0, 0, 1, 0, 0, 1, 0, 1, 0, 1}},
		{nil, 0, []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	} {
		var got []int
		for _, b := range histogram(tc.scores, tc.max) {
			got = append(got, b.Count)
		}
		if !slicesEqual(got, tc.want) {
			t.Errorf("histogram(%v, %v) = %v, want %v", tc.scores, tc.max, got, tc.want)
		}
	}
	for _, tc := range []struct {
		xs, ys []float64
		want   float64
		ok     bool
	}{
		{[]float64{1, 2, 3}, []float64{2, 4, 6}, 1, true},
		{[]float64{1, 2, 3}, []float64{3, 2, 1}, -1, true},
		{[]float64{1, 1, 1}, []float64{1, 2, 3}, 0, false},
		{[]float64{1, 2}, []float64{1, 2}, 0, false},
	} {
		got, ok := pearson(tc.xs, tc.ys)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("pearson(%v, %v) = %v, %v; want %v, %v", tc.xs, tc.ys, got, ok, tc.want, tc.ok)
		}
	}
}

func TestGradebook(t *testing.T) {
	h, e, ids := smallCohort(t)
	gb, err := h.svc.Gradebook(t.Context(), h.instructor, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gb.Max != 23 || len(gb.Questions) != 2 || gb.Questions[1].Marks != 3 || len(gb.Rows) != 5 {
		t.Fatalf("gradebook %+v", gb)
	}
	wantTotals := []string{"23", "11", "8", "0", ""}
	for i, r := range gb.Rows {
		if r.Email != h.students[i].Email || optNum(r.Total) != wantTotals[i] {
			t.Errorf("row %d: %s total %s, want %s %s", i, r.Email, optNum(r.Total), h.students[i].Email, wantTotals[i])
		}
	}
	r0 := gb.Rows[0]
	if r0.Status != "submitted" || *r0.AttemptID != ids[0] || optNum(r0.Scores[0]) != "20" || optNum(r0.Scores[1]) != "3" || r0.NeedsReview != 1 {
		t.Fatalf("first row %+v", r0)
	}
	if r := gb.Rows[4]; r.Status != marksmith.StatusNotStarted || r.AttemptID != nil || r.Scores[0] != nil {
		t.Fatalf("student who never started: %+v", r)
	}
	if r0.Mode != marksmith.DeliveryOnline {
		t.Fatalf("first row's mode %q, want online", r0.Mode)
	}
	_, err = h.svc.Gradebook(t.Context(), h.students[0], e.ID)
	wantCode(t, "student reads the gradebook", err, marksmith.EFORBIDDEN)
}

// optNum writes an optional score as the gradebook CSV does.
func optNum(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}
