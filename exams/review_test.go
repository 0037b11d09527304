package exams

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// sitAll starts, answers (answer(i) gives student i's answers by
// "question/part") and submits every student's attempt, and returns the
// attempt IDs.
func (h *harness) sitAll(t *testing.T, examID int64, answer func(i int) map[[2]any]string) []int64 {
	t.Helper()
	var ids []int64
	for i, u := range h.students {
		v := h.start(t, u, examID)
		for k, raw := range answer(i) {
			h.save(t, u, v.Attempt.ID, k[0].(int), k[1].(string), raw, 1)
		}
		if _, err := h.svc.Submit(t.Context(), u, v.Attempt.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.Attempt.ID)
	}
	return ids
}

func TestReviewAndOverride(t *testing.T) {
	h := newHarness(t, 4)
	ctx := t.Context()
	e := h.published(t, h.input(4))
	essays := []string{
		"Rows of unit squares.",
		"  rows OF unit   squares. ", // the same, normalised
		"Rows of unit squares.",
		"I do not know",
	}
	ids := h.sitAll(t, e.ID, func(i int) map[[2]any]string {
		return map[[2]any]string{{1, "c"}: essays[i], {1, "b"}: "rect"}
	})
	queue, err := h.svc.ReviewQueue(ctx, h.instructor, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(queue) != 2 {
		t.Fatalf("queue %+v", queue)
	}
	g0, g1 := queue[0], queue[1]
	if g0.Question != 1 || g0.Part != "c" || g0.Answer != "rows of unit squares." || g0.Count != 3 ||
		!slices.Equal(g0.AttemptIDs, []int64{ids[0], ids[1], ids[2]}) || g0.Suggested != 2 || g0.Max != 4 ||
		len(g0.Rubric) != 2 || g0.Reference == "" {
		t.Fatalf("first group %+v", g0)
	}
	if g1.Answer != "i do not know" || g1.Count != 1 || g1.Suggested != 0 {
		t.Fatalf("second group %+v", g1)
	}
	// Each group quotes the reference of its first answer's variant, and each
	// member its own answer as typed and its own variant's reference.
	for _, c := range []struct {
		g       marksmith.ReviewGroup
		student int
	}{{g0, 0}, {g1, 3}} {
		if want := partSpec(h.paper(t, e.ID, h.students[c.student], 1), "c").Reference; c.g.Reference != want {
			t.Fatalf("group %q: reference %q, want %q", c.g.Answer, c.g.Reference, want)
		}
	}
	for i, m := range g0.Members {
		want := partSpec(h.paper(t, e.ID, h.students[i], 1), "c").Reference
		if m.AttemptID != ids[i] || m.Answer != essays[i] || m.Reference != want || m.Suggested != 2 {
			t.Fatalf("member %d = %+v; want attempt %d, answer %q, reference %q", i, m, ids[i], essays[i], want)
		}
	}
	if g0.Version == "" || g0.Version == g1.Version {
		t.Fatalf("group versions %q and %q", g0.Version, g1.Version)
	}
	_, err = h.svc.ReviewQueue(ctx, h.other, e.ID)
	wantCode(t, "other instructor's queue", err, marksmith.ENOTFOUND)
	_, err = h.svc.ReviewQueue(ctx, h.students[0], e.ID)
	wantCode(t, "student's queue", err, marksmith.EFORBIDDEN)

	for _, tc := range []struct {
		name string
		in   marksmith.ReviewDecision
		code string
	}{
		{"no reason", marksmith.ReviewDecision{Question: 1, Part: "c", Answer: g0.Answer, Group: g0.Version, Score: 3}, marksmith.EUNPROCESSABLE},
		{"over the maximum", marksmith.ReviewDecision{Question: 1, Part: "c", Answer: g0.Answer, Group: g0.Version, Score: 4.5, Reason: "r"}, marksmith.EUNPROCESSABLE},
		{"negative", marksmith.ReviewDecision{Question: 1, Part: "c", Answer: g0.Answer, Group: g0.Version, Score: -1, Reason: "r"}, marksmith.EUNPROCESSABLE},
		{"no such question", marksmith.ReviewDecision{Question: 9, Part: "c", AttemptIDs: ids[:1], Score: 1, Reason: "r"}, marksmith.EUNPROCESSABLE},
		{"no such part", marksmith.ReviewDecision{Question: 1, Part: "z", Answer: g0.Answer, Group: g0.Version, Score: 1, Reason: "r"}, marksmith.EUNPROCESSABLE},
		{"an answer without its version", marksmith.ReviewDecision{Question: 1, Part: "c", Answer: g0.Answer, Score: 1, Reason: "r"}, marksmith.EUNPROCESSABLE},
		{"no group", marksmith.ReviewDecision{Question: 1, Part: "c", Score: 1, Reason: "r"}, marksmith.EUNPROCESSABLE},
		{"an outdated version", marksmith.ReviewDecision{Question: 1, Part: "c", Answer: g0.Answer, Group: g1.Version, Score: 1, Reason: "r"}, marksmith.ECONFLICT},
		{"no such answer", marksmith.ReviewDecision{Question: 1, Part: "c", Answer: "nothing like it", Group: g0.Version, Score: 1, Reason: "r"}, marksmith.ECONFLICT},
		{"attempt of no one", marksmith.ReviewDecision{Question: 1, Part: "c", AttemptIDs: []int64{999}, Score: 1, Reason: "r"}, marksmith.ENOTFOUND},
	} {
		_, err := h.svc.Review(ctx, h.instructor, e.ID, tc.in)
		wantCode(t, tc.name, err, tc.code)
	}

	h.clock.set(t0.Add(4 * time.Hour))
	res, err := h.svc.Review(ctx, h.instructor, e.ID, marksmith.ReviewDecision{Question: 1, Part: "c", Answer: "ROWS of unit squares.", Group: g0.Version, Score: 3, Reason: "counts rows, names unit squares"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Updated != 3 || len(res.Changes) != 3 {
		t.Fatalf("override %+v", res)
	}
	for i, c := range res.Changes {
		if c.AttemptID != ids[i] || c.Before != 2 || c.After != 3 || c.Student != h.students[i].Email {
			t.Errorf("change %+v", c)
		}
	}
	queue, _ = h.svc.ReviewQueue(ctx, h.instructor, e.ID)
	if len(queue) != 1 || queue[0].Answer != "i do not know" {
		t.Fatalf("queue after override %+v", queue)
	}
	for i, id := range ids[:3] {
		a, _ := h.exams.FindAttemptByID(ctx, id)
		gs, _ := h.exams.FindGrades(ctx, id)
		var c *marksmith.Grade
		for _, g := range gs {
			if g.Position == 1 && g.Part == "c" {
				c = g
			}
		}
		// b is right (8), a blank, the essay 3, question 2 blank.
		if *a.Score != 11 || c.Score != 3 || c.Rule != RuleOverride || c.NeedsReview || *c.Suggested != 2 ||
			*c.ReviewedBy != h.instructor.ID || c.ReviewReason != "counts rows, names unit squares" || !c.ReviewedAt.Equal(t0.Add(4*time.Hour)) {
			t.Fatalf("student %d after override: score %v, grade %+v", i, *a.Score, c)
		}
	}
	log, _ := h.exams.FindAudit(ctx, e.ID)
	var overrides []*marksmith.AuditEntry
	for _, entry := range log {
		if entry.Action == "override" {
			overrides = append(overrides, entry)
		}
	}
	if len(overrides) != 3 {
		t.Fatalf("audit %+v", log)
	}
	var before, after marksmith.Grade
	if err := json.Unmarshal(overrides[0].Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(overrides[0].After, &after); err != nil {
		t.Fatal(err)
	}
	if overrides[0].Actor != h.instructor.ID || overrides[0].Reason == "" || before.Score != 2 || !before.NeedsReview || after.Score != 3 || after.Rule != RuleOverride {
		t.Fatalf("audit entry %+v: before %+v after %+v", overrides[0], before, after)
	}
	// Overriding by attempt, again: the grader's suggestion is kept.
	if _, err := h.svc.Review(ctx, h.admin, e.ID, marksmith.ReviewDecision{Question: 1, Part: "c", AttemptIDs: []int64{ids[0]}, Score: 4, Reason: "second look"}); err != nil {
		t.Fatal(err)
	}
	gs, _ := h.exams.FindGrades(ctx, ids[0])
	for _, g := range gs {
		if g.Part == "c" && (g.Score != 4 || *g.Suggested != 2 || *g.ReviewedBy != h.admin.ID) {
			t.Fatalf("second override %+v", g)
		}
	}
}

// TestReviewAppliesToWhatWasSeen is the case of a decision reaching
// attempts its reviewer never saw: two attempts decided, then a third
// student submits the same text. The queue holds only the new answer, and
// deciding its group changes only it; a decision made on the queue as it
// was before the new answer arrived is refused.
func TestReviewAppliesToWhatWasSeen(t *testing.T) {
	h := newHarness(t, 3)
	ctx := t.Context()
	e := h.published(t, h.input(3))
	same := "Rows of unit squares."
	var ids []int64
	for _, u := range h.students[:2] {
		v := h.start(t, u, e.ID)
		h.save(t, u, v.Attempt.ID, 1, "c", same, 1)
		if _, err := h.svc.Submit(ctx, u, v.Attempt.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v.Attempt.ID)
	}
	queue, err := h.svc.ReviewQueue(ctx, h.instructor, e.ID)
	if err != nil || len(queue) != 1 || queue[0].Count != 2 {
		t.Fatalf("queue %+v, %v", queue, err)
	}
	seen := queue[0]
	if _, err := h.svc.Review(ctx, h.instructor, e.ID, marksmith.ReviewDecision{Question: 1, Part: "c", AttemptIDs: ids, Score: 1.5, Reason: "half"}); err != nil {
		t.Fatal(err)
	}
	// The third student submits the same text.
	u := h.students[2]
	v := h.start(t, u, e.ID)
	h.save(t, u, v.Attempt.ID, 1, "c", same, 1)
	if _, err := h.svc.Submit(ctx, u, v.Attempt.ID); err != nil {
		t.Fatal(err)
	}
	// A decision made on the old view of the group is refused.
	_, err = h.svc.Review(ctx, h.instructor, e.ID, marksmith.ReviewDecision{Question: 1, Part: "c", Answer: seen.Answer, Group: seen.Version, Score: 0, Reason: "none"})
	wantCode(t, "decision on an outdated group", err, marksmith.ECONFLICT)
	queue, _ = h.svc.ReviewQueue(ctx, h.instructor, e.ID)
	if len(queue) != 1 || queue[0].Count != 1 || queue[0].AttemptIDs[0] != v.Attempt.ID {
		t.Fatalf("queue after the third submission %+v", queue)
	}
	res, err := h.svc.Review(ctx, h.instructor, e.ID, marksmith.ReviewDecision{Question: 1, Part: "c", Answer: queue[0].Answer, Group: queue[0].Version, Score: 0, Reason: "none"})
	if err != nil || res.Updated != 1 || res.Changes[0].AttemptID != v.Attempt.ID {
		t.Fatalf("decision on the new group = %+v, %v; want exactly the third attempt", res, err)
	}
	for _, id := range ids {
		gs, _ := h.exams.FindGrades(ctx, id)
		for _, g := range gs {
			if g.Part == "c" && g.Score != 1.5 {
				t.Fatalf("attempt %d's decided grade became %v", id, g.Score)
			}
		}
	}
	// The students read the reviewer's reason as feedback once released.
	if _, err := h.svc.Release(ctx, h.instructor, e.ID, marksmith.ReleaseInput{}); err != nil {
		t.Fatal(err)
	}
	sv, err := h.svc.GetAttempt(ctx, h.students[0], ids[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range sv.Questions[0].Grades {
		if g.Part == "c" && (g.Feedback != "half" || g.Score != 1.5) {
			t.Fatalf("student reads %+v; want the reason as feedback", g)
		}
	}
}

func TestAcceptSuggested(t *testing.T) {
	h := newHarness(t, 3)
	ctx := t.Context()
	e := h.published(t, h.input(3))
	ids := h.sitAll(t, e.ID, func(i int) map[[2]any]string {
		return map[[2]any]string{{1, "c"}: []string{"Rows of unit squares.", "squares", "I do not know"}[i]}
	})
	_, err := h.svc.AcceptSuggested(ctx, h.instructor, e.ID, marksmith.AcceptInput{Part: "c"})
	wantCode(t, "a part without its question", err, marksmith.EUNPROCESSABLE)
	_, err = h.svc.AcceptSuggested(ctx, h.other, e.ID, marksmith.AcceptInput{})
	wantCode(t, "other instructor", err, marksmith.ENOTFOUND)
	before := map[int64]float64{}
	for _, id := range ids {
		gs, _ := h.exams.FindGrades(ctx, id)
		for _, g := range gs {
			if g.Part == "c" {
				before[id] = g.Score
			}
		}
	}
	res, err := h.svc.AcceptSuggested(ctx, h.instructor, e.ID, marksmith.AcceptInput{Question: 1, Part: "c", Reason: "rubric checked"})
	if err != nil || res.Updated != 3 {
		t.Fatalf("AcceptSuggested = %+v, %v; want 3 updated", res, err)
	}
	for _, id := range ids {
		gs, _ := h.exams.FindGrades(ctx, id)
		for _, g := range gs {
			if g.Part == "c" && (g.NeedsReview || g.Score != before[id] || g.Suggested == nil || *g.Suggested != before[id] || g.ReviewedBy == nil) {
				t.Fatalf("attempt %d after accepting: %+v", id, g)
			}
		}
	}
	if q, _ := h.svc.ReviewQueue(ctx, h.instructor, e.ID); len(q) != 0 {
		t.Fatalf("queue after accepting all: %+v", q)
	}
	var accepted []*marksmith.AuditEntry
	log, _ := h.exams.FindAudit(ctx, e.ID)
	for _, entry := range log {
		if entry.Action == "accept-suggested" {
			accepted = append(accepted, entry)
		}
	}
	if len(accepted) != 1 || accepted[0].Reason != "rubric checked" || accepted[0].Target != fmt.Sprintf("exam %d question 1 part c", e.ID) {
		t.Fatalf("audit of the acceptance: %+v", accepted)
	}
	// Nothing left: the exam-wide acceptance changes nothing.
	if res, err := h.svc.AcceptSuggested(ctx, h.instructor, e.ID, marksmith.AcceptInput{}); err != nil || res.Updated != 0 {
		t.Fatalf("second acceptance = %+v, %v", res, err)
	}
}

// TestTwoReviewersRace makes two reviewers decide the same group at once,
// many times, on both databases: exactly one decision applies, the other
// is refused because the group changed, and the totals are right.
func TestTwoReviewersRace(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var h *harness
			if dialect == "postgres" {
				h = setupHarness(t, openPostgres(t), 2)
			} else {
				h = newHarness(t, 2)
			}
			ctx := t.Context()
			rounds := 30
			if testing.Short() {
				rounds = 5
			}
			for round := range rounds {
				e := h.published(t, h.input(2))
				ids := h.sitAll(t, e.ID, func(int) map[[2]any]string { return map[[2]any]string{{1, "c"}: "Rows of unit squares."} })
				q, err := h.svc.ReviewQueue(ctx, h.instructor, e.ID)
				if err != nil || len(q) != 1 {
					t.Fatalf("round %d: queue %+v, %v", round, q, err)
				}
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for i, reviewer := range []*marksmith.User{h.instructor, h.admin} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i] = h.svc.Review(ctx, reviewer, e.ID, marksmith.ReviewDecision{Question: 1, Part: "c",
							Answer: q[0].Answer, Group: q[0].Version, Score: float64(i + 1), Reason: "decided"})
					}()
				}
				wg.Wait()
				ok, conflicts := 0, 0
				for _, err := range errs {
					switch marksmith.ErrorCode(err) {
					case "":
						ok++
					case marksmith.ECONFLICT:
						conflicts++
					default:
						t.Fatalf("round %d: %v", round, err)
					}
				}
				if ok != 1 || conflicts != 1 {
					t.Fatalf("round %d: %d decisions applied, %d refused; want 1 and 1", round, ok, conflicts)
				}
				for _, id := range ids {
					a, _ := h.exams.FindAttemptByID(ctx, id)
					gs, _ := h.exams.FindGrades(ctx, id)
					var sum float64
					for _, g := range gs {
						sum += g.Score
					}
					if *a.Score != sum {
						t.Fatalf("round %d: attempt %d total %v, grades sum to %v", round, id, *a.Score, sum)
					}
				}
			}
		})
	}
}

func TestRegrade(t *testing.T) {
	h := newHarness(t, 3)
	ctx := t.Context()
	e := h.published(t, h.input(3)) // test/area version 1: its key is w*h + 1
	// s1 answers w*h (right, but the key says otherwise), s2 w*h + 1, s3 blank.
	ids := h.sitAll(t, e.ID, func(i int) map[[2]any]string {
		p := h.paper(t, e.ID, h.students[i], 1)
		area := p.Params["w"].(int) * p.Params["h"].(int)
		switch i {
		case 0:
			return map[[2]any]string{{1, "a"}: strconv.Itoa(area)}
		case 1:
			return map[[2]any]string{{1, "a"}: strconv.Itoa(area + 1)}
		}
		return nil
	})
	scores := func() []float64 {
		var out []float64
		for _, id := range ids {
			a, _ := h.exams.FindAttemptByID(ctx, id)
			out = append(out, *a.Score)
		}
		return out
	}
	if got := scores(); !slices.Equal(got, []float64{0, 8, 0}) {
		t.Fatalf("scores before regrade %v", got)
	}
	_, err := h.svc.Regrade(ctx, h.instructor, e.ID, marksmith.RegradeInput{Template: "test/none", DryRun: true})
	wantCode(t, "regrade a template not in the exam", err, marksmith.EUNPROCESSABLE)
	_, err = h.svc.Regrade(ctx, h.other, e.ID, marksmith.RegradeInput{Template: "test/area", DryRun: true})
	wantCode(t, "other instructor regrades", err, marksmith.ENOTFOUND)

	dry, err := h.svc.Regrade(ctx, h.instructor, e.ID, marksmith.RegradeInput{Template: "test/area", Version: 2, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []marksmith.ScoreChange{
		{AttemptID: ids[0], UserID: h.students[0].ID, Student: h.students[0].Email, Question: 1, Part: "a", Before: 0, After: 8},
		{AttemptID: ids[1], UserID: h.students[1].ID, Student: h.students[1].Email, Question: 1, Part: "a", Before: 8, After: 0},
	}
	if !dry.DryRun || dry.Version != 2 || dry.Attempts != 3 || !slices.Equal(dry.Changes, want) || !slices.Equal(dry.Questions, []int{1}) {
		t.Fatalf("dry run %+v", dry)
	}
	if got := scores(); !slices.Equal(got, []float64{0, 8, 0}) {
		t.Fatalf("a dry run changed scores to %v", got)
	}
	if log, _ := h.exams.FindAudit(ctx, e.ID); len(log) != 1 {
		t.Fatalf("a dry run wrote audit %+v", log)
	}

	real, err := h.svc.Regrade(ctx, h.instructor, e.ID, marksmith.RegradeInput{Template: "test/area"}) // latest: 2
	if err != nil {
		t.Fatal(err)
	}
	if real.DryRun || !slices.Equal(real.Changes, want) {
		t.Fatalf("regrade %+v", real)
	}
	if got := scores(); !slices.Equal(got, []float64{8, 0, 0}) {
		t.Fatalf("scores after regrade %v", got)
	}
	gs, _ := h.exams.FindGrades(ctx, ids[0])
	for _, g := range gs {
		if want := map[int]int{1: 2, 2: 1}[g.Position]; g.TemplateVersion != want {
			t.Fatalf("grade %+v records version %d, want %d", g, g.TemplateVersion, want)
		}
	}
	var regrades int
	log, _ := h.exams.FindAudit(ctx, e.ID)
	for _, entry := range log {
		if entry.Action == "regrade" {
			regrades++
		}
	}
	if regrades != 2 {
		t.Fatalf("audit %+v", log)
	}
	got, _ := h.svc.FindExam(ctx, h.instructor, e.ID)
	if got.Questions[0].GradeVersion != 2 || got.Questions[0].Version != 1 {
		t.Fatalf("questions after regrade %+v", got.Questions)
	}
	// The issued paper is unchanged; its key is still version 1's.
	if p := h.paper(t, e.ID, h.students[0], 1); p.Version != 1 {
		t.Fatalf("paper rewritten to version %d", p.Version)
	}
	again, err := h.svc.Regrade(ctx, h.instructor, e.ID, marksmith.RegradeInput{Template: "test/area", Version: 2, DryRun: true})
	if err != nil || len(again.Changes) != 0 {
		t.Fatalf("second regrade dry run %+v, %v", again, err)
	}
}

func TestRegradeGradesLaterSubmissions(t *testing.T) {
	h := newHarness(t, 2)
	ctx := t.Context()
	e := h.published(t, h.input(2))
	s1, s2 := h.students[0], h.students[1]
	a1 := h.start(t, s1, e.ID).Attempt
	if _, err := h.svc.Submit(ctx, s1, a1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Regrade(ctx, h.instructor, e.ID, marksmith.RegradeInput{Template: "test/area", Version: 2}); err != nil {
		t.Fatal(err)
	}
	// s2 sits after the correction: the right area scores.
	a2 := h.start(t, s2, e.ID).Attempt
	p := h.paper(t, e.ID, s2, 1)
	h.save(t, s2, a2.ID, 1, "a", strconv.Itoa(p.Params["w"].(int)*p.Params["h"].(int)), 1)
	v, err := h.svc.Submit(ctx, s2, a2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *v.Attempt.Score != 8 {
		t.Fatalf("score %v after the correction, want 8", *v.Attempt.Score)
	}
	gs, _ := h.exams.FindGrades(ctx, a2.ID)
	if gs[0].Position != 1 || gs[0].Part != "a" || gs[0].TemplateVersion != 2 || gs[0].Score != 8 {
		t.Fatalf("grade %+v", gs[0])
	}
}
