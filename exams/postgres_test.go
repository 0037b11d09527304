package exams

import (
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// TestJourneyPostgres runs the service end to end on Postgres: publish,
// autosave (stale and repeated saves), submit and overdue closing, review
// and override, regrade, release, gradebook and statistics.
func TestJourneyPostgres(t *testing.T) {
	h := setupHarness(t, openPostgres(t), 3)
	ctx := t.Context()
	h.svc.BatchSize = 2
	e := h.published(t, h.input(3))
	s1, s2, s3 := h.students[0], h.students[1], h.students[2]
	papers, err := h.exams.FindExamPapers(ctx, e.ID, 0)
	if err != nil || len(papers) != 6 {
		t.Fatalf("%d papers, %v", len(papers), err)
	}

	right := func(u *marksmith.User) string {
		p := h.paper(t, e.ID, u, 1)
		return strconv.Itoa(p.Params["w"].(int) * p.Params["h"].(int))
	}
	a1 := h.start(t, s1, e.ID).Attempt
	a2 := h.start(t, s2, e.ID).Attempt
	a3 := h.start(t, s3, e.ID).Attempt
	h.clock.set(t0.Add(5 * time.Minute))
	h.save(t, s1, a1.ID, 1, "a", "1", 1)
	if res := h.save(t, s1, a1.ID, 1, "a", right(s1), 3); !res.Stored {
		t.Fatalf("save #3 %+v", res)
	}
	if res := h.save(t, s1, a1.ID, 1, "a", "2", 2); res.Stored || !res.Stale || res.Answer.Raw != right(s1) {
		t.Fatalf("stale save %+v", res)
	}
	if res := h.save(t, s1, a1.ID, 1, "a", right(s1), 3); res.Stored || res.Stale {
		t.Fatalf("repeated save %+v", res)
	}
	if res := h.save(t, s1, a1.ID, 1, "b", "Q", 1); res.FormatError == "" {
		t.Fatalf("format error not reported: %+v", res)
	}
	h.save(t, s1, a1.ID, 1, "c", "Rows of unit squares", 1)
	h.save(t, s2, a2.ID, 1, "c", "rows of UNIT squares", 1)
	h.save(t, s2, a2.ID, 1, "a", right(s2), 1)
	h.save(t, s3, a3.ID, 1, "b", "rect", 1)
	for _, x := range []struct {
		u *marksmith.User
		a *marksmith.Attempt
	}{{s1, a1}, {s2, a2}} {
		if _, err := h.svc.Submit(ctx, x.u, x.a.ID); err != nil {
			t.Fatal(err)
		}
	}
	// s3 never submits: closed at the deadline with what was saved.
	h.clock.set(t0.Add(40 * time.Minute))
	if n, err := h.svc.CloseOverdue(ctx); err != nil || n != 1 {
		t.Fatalf("CloseOverdue = %d, %v", n, err)
	}
	queue, err := h.svc.ReviewQueue(ctx, h.instructor, e.ID)
	if err != nil || len(queue) != 1 || queue[0].Count != 2 {
		t.Fatalf("queue %+v, %v", queue, err)
	}
	if _, err := h.svc.Review(ctx, h.instructor, e.ID, marksmith.ReviewDecision{Question: 1, Part: "c", Answer: queue[0].Answer, Group: queue[0].Version, Score: 1, Reason: "no reasoning"}); err != nil {
		t.Fatal(err)
	}
	// Version 1's key is w*h + 1: the right areas earn nothing until the regrade.
	dry, err := h.svc.Regrade(ctx, h.instructor, e.ID, marksmith.RegradeInput{Template: "test/area", Version: 2, DryRun: true})
	if err != nil || len(dry.Changes) != 2 {
		t.Fatalf("dry run %+v, %v", dry, err)
	}
	if _, err := h.svc.Regrade(ctx, h.instructor, e.ID, marksmith.RegradeInput{Template: "test/area", Version: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Release(ctx, h.instructor, e.ID, marksmith.ReleaseInput{}); err != nil {
		t.Fatal(err)
	}
	gb, err := h.svc.Gradebook(ctx, h.instructor, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	// s1: a 8, b format error 0, c 1 → 9; s2: a 8, c 1 → 9; s3: b 8.
	for i, want := range []string{"9", "9", "8"} {
		if got := fmt.Sprint(*gb.Rows[i].Total); got != want || gb.Rows[i].Email != h.students[i].Email {
			t.Errorf("row %d: %s total %s, want %s", i, gb.Rows[i].Email, got, want)
		}
	}
	if gb.Rows[2].Status != string(marksmith.AttemptClosed) {
		t.Errorf("s3 status %s", gb.Rows[2].Status)
	}
	st, err := h.svc.Stats(ctx, h.instructor, e.ID)
	if err != nil || st.N != 3 || math.Abs(st.Questions[0].Mean-26.0/3) > 1e-6 {
		t.Fatalf("stats %+v, %v", st, err)
	}
	v, err := h.svc.GetAttempt(ctx, s1, a1.ID)
	if err != nil || v.Questions[0].Parts[0].Key == nil || *v.Attempt.Score != 9 {
		t.Fatalf("released view %+v, %v", v, err)
	}
}
