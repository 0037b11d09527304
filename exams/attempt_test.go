package exams

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

func TestAttemptWindow(t *testing.T) {
	// The exam is open from t0 for two hours, with a 30-minute time limit
	// and 60 seconds' grace.
	for _, tc := range []struct {
		name      string
		start     time.Duration // after t0
		startCode string
		deadline  time.Duration // after t0
	}{
		{"before the window", -time.Second, marksmith.ECONFLICT, 0},
		{"at the opening", 0, "", 30 * time.Minute},
		{"mid-window", 40 * time.Minute, "", 70 * time.Minute},
		{"near the close: the window wins", 110 * time.Minute, "", 120 * time.Minute},
		{"at the close", 120 * time.Minute, marksmith.EGONE, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 1)
			e := h.published(t, h.input(1))
			h.clock.set(t0.Add(tc.start))
			v, err := h.svc.StartAttempt(t.Context(), h.students[0], e.ID)
			wantCode(t, "start", err, tc.startCode)
			if err != nil {
				return
			}
			a := v.Attempt
			if !a.StartedAt.Equal(t0.Add(tc.start)) || !a.DeadlineAt.Equal(t0.Add(tc.deadline)) || a.Status != marksmith.AttemptOpen {
				t.Fatalf("attempt %+v, want deadline t0+%v", a, tc.deadline)
			}
			if want := int((tc.deadline - tc.start) / time.Second); v.RemainingSeconds != want || !v.GraceUntil.Equal(a.DeadlineAt.Add(time.Minute)) {
				t.Fatalf("remaining %d s (want %d), grace until %v", v.RemainingSeconds, want, v.GraceUntil)
			}
			// Resuming returns the same attempt.
			h.clock.set(t0.Add(tc.start + time.Minute))
			again := h.start(t, h.students[0], e.ID)
			if again.Attempt.ID != a.ID || !again.Attempt.DeadlineAt.Equal(a.DeadlineAt) {
				t.Fatalf("resume gave %+v", again.Attempt)
			}
		})
	}
}

func TestSaveAndDeadline(t *testing.T) {
	h := newHarness(t, 2)
	ctx := t.Context()
	e := h.published(t, h.input(2))
	s1, s2 := h.students[0], h.students[1]
	v := h.start(t, s1, e.ID)
	id := v.Attempt.ID
	p := h.paper(t, e.ID, s1, 1)
	key := keyOf(t, p, "a")

	for _, tc := range []struct {
		name                 string
		at                   time.Duration
		question             int
		part, raw            string
		seq                  int64
		stored, stale, late  bool
		wantRaw, formatError string
		code                 string
	}{
		{"first save", time.Minute, 1, "a", "12", 1, true, false, false, "12", "", ""},
		{"newer save", 2 * time.Minute, 1, "a", key, 2, true, false, false, key, "", ""},
		{"repeated save", 3 * time.Minute, 1, "a", key, 2, false, false, false, key, "", ""},
		{"stale save", 4 * time.Minute, 1, "a", "12", 1, false, true, false, key, "", ""},
		{"format error is stored and returned", 5 * time.Minute, 1, "b", "Z", 1, true, false, false, "Z", "x", ""},
		{"format error corrected", 6 * time.Minute, 1, "b", "A", 2, true, false, false, "A", "", ""},
		{"no such question", 7 * time.Minute, 9, "a", "1", 1, false, false, false, "", "", marksmith.ENOTFOUND},
		{"no such part", 7 * time.Minute, 1, "z", "1", 1, false, false, false, "", "", marksmith.ENOTFOUND},
		{"seq zero", 7 * time.Minute, 1, "a", "1", 0, false, false, false, "", "", marksmith.EUNPROCESSABLE},
		{"seq past 2^53", 7 * time.Minute, 1, "a", "1", 1 << 53, false, false, false, "", "", marksmith.EUNPROCESSABLE},
		{"a NUL in the answer", 7 * time.Minute, 1, "a", "1\x002", 3, false, false, false, "", "", marksmith.EUNPROCESSABLE},
		{"invalid UTF-8", 7 * time.Minute, 1, "a", "\xff", 3, false, false, false, "", "", marksmith.EUNPROCESSABLE},
		{"in the grace: late", 30*time.Minute + 30*time.Second, 2, "a", "5", 1, true, false, true, "5", "", ""},
	} {
		h.clock.set(t0.Add(tc.at))
		res, err := h.svc.SaveAnswer(ctx, s1, marksmith.SaveInput{AttemptID: id, Question: tc.question, Part: tc.part, Answer: tc.raw, Seq: tc.seq})
		wantCode(t, tc.name, err, tc.code)
		if err != nil {
			continue
		}
		if res.Stored != tc.stored || res.Stale != tc.stale || res.Late != tc.late || res.Answer.Raw != tc.wantRaw ||
			(res.FormatError != "") != (tc.formatError != "") || res.Answer.FormatError != res.FormatError {
			t.Errorf("%s: SaveAnswer = %+v", tc.name, res)
		}
	}

	// Another student cannot touch the attempt.
	_, err := h.svc.SaveAnswer(ctx, s2, marksmith.SaveInput{AttemptID: id, Question: 1, Part: "a", Answer: "1", Seq: 9})
	wantCode(t, "other student saves", err, marksmith.ENOTFOUND)
	_, err = h.svc.GetAttempt(ctx, s2, id)
	wantCode(t, "other student reads", err, marksmith.ENOTFOUND)
	_, err = h.svc.Submit(ctx, s2, id)
	wantCode(t, "other student submits", err, marksmith.ENOTFOUND)
	_, err = h.svc.GetAttempt(ctx, h.other, id)
	wantCode(t, "other instructor reads", err, marksmith.ENOTFOUND)
	_, err = h.svc.SaveAnswer(ctx, h.instructor, marksmith.SaveInput{AttemptID: id, Question: 1, Part: "a", Answer: "1", Seq: 9})
	wantCode(t, "instructor saves", err, marksmith.EFORBIDDEN)

	// Past the grace: the save is refused and the attempt closed with what was saved.
	h.clock.set(t0.Add(31*time.Minute + time.Second))
	_, err = h.svc.SaveAnswer(ctx, s1, marksmith.SaveInput{AttemptID: id, Question: 1, Part: "a", Answer: "13", Seq: 10})
	wantCode(t, "save after the grace", err, marksmith.EGONE)
	got, err := h.svc.GetAttempt(ctx, s1, id)
	if err != nil {
		t.Fatal(err)
	}
	a := got.Attempt
	if a.Status != marksmith.AttemptClosed || !a.Late || a.SubmittedAt == nil || a.Score == nil {
		t.Fatalf("closed attempt %+v", a)
	}
	// a right (8 of 20 after scaling 4 of 10), b right (8), c blank, q2 wrong.
	if *a.Score != 16 || a.Max != 23 {
		t.Fatalf("score %v of %v, want 16 of 23", *a.Score, a.Max)
	}
	_, err = h.svc.SaveAnswer(ctx, s1, marksmith.SaveInput{AttemptID: id, Question: 1, Part: "a", Answer: "13", Seq: 11})
	wantCode(t, "save to a closed attempt", err, marksmith.EGONE)
	again, err := h.svc.Submit(ctx, s1, id)
	if err != nil || again.Attempt.Status != marksmith.AttemptClosed || *again.Attempt.Score != 16 {
		t.Fatalf("submit after close = %+v, %v", again, err)
	}
}

func TestSubmitAndViews(t *testing.T) {
	h := newHarness(t, 2)
	ctx := t.Context()
	in := h.input(2)
	in.Feedback = marksmith.FeedbackPolicy{AfterSubmit: marksmith.FeedbackNone, AfterRelease: marksmith.FeedbackKey}
	e := h.published(t, in)
	s1, s2 := h.students[0], h.students[1]
	v := h.start(t, s1, e.ID)
	id := v.Attempt.ID
	// The student's paper carries no key, parameters or seed.
	for _, q := range v.Questions {
		if q.Params != nil || q.Variant != nil || q.Template != "" {
			t.Fatalf("student sees params, seed or template: %+v", q)
		}
		for _, p := range q.Parts {
			if p.Key != nil {
				t.Fatalf("student sees the key of question %d part %s: %+v", q.Position, p.ID, p.Key)
			}
			if p.Hint == "" || p.Type == "" {
				t.Fatalf("question %d part %s has no type or hint: %+v", q.Position, p.ID, p)
			}
		}
	}
	p1, p2 := h.paper(t, e.ID, s1, 1), h.paper(t, e.ID, s1, 2)
	h.clock.set(t0.Add(10 * time.Minute))
	h.save(t, s1, id, 1, "a", keyOf(t, p1, "a"), 1)
	h.save(t, s1, id, 1, "b", "tri", 1) // wrong, by option id
	h.save(t, s1, id, 1, "c", "Each unit square fills one cell of the rows.", 1)
	h.save(t, s1, id, 2, "a", keyOf(t, p2, "a"), 1)

	first, err := h.svc.Submit(ctx, s1, id)
	if err != nil {
		t.Fatal(err)
	}
	if first.Attempt.Status != marksmith.AttemptSubmitted || first.Attempt.Late || first.Attempt.Score != nil {
		t.Fatalf("submitted (feedback none) %+v", first.Attempt)
	}
	for _, q := range first.Questions {
		if q.Grades != nil || q.Score != nil {
			t.Fatalf("feedback none shows grades: %+v", q)
		}
	}
	h.clock.set(t0.Add(11 * time.Minute))
	second, err := h.svc.Submit(ctx, s1, id)
	if err != nil || !reflect.DeepEqual(second.Attempt, first.Attempt) {
		t.Fatalf("second submit = %+v, %v\nwant %+v", second.Attempt, err, first.Attempt)
	}
	_, err = h.svc.SaveAnswer(ctx, s1, marksmith.SaveInput{AttemptID: id, Question: 1, Part: "a", Answer: "1", Seq: 5})
	wantCode(t, "save after submit", err, marksmith.ECONFLICT)

	// The instructor sees everything: a 8/8 (scaled from 4 of 10), b 0, c the
	// rubric's suggestion (2 of 2 → 4) for review, q2 3 of 3.
	iv, err := h.svc.GetAttempt(ctx, h.instructor, id)
	if err != nil {
		t.Fatal(err)
	}
	if *iv.Attempt.Score != 15 || iv.Attempt.Max != 23 {
		t.Fatalf("instructor sees score %v of %v, want 15 of 23", *iv.Attempt.Score, iv.Attempt.Max)
	}
	want := map[string]marksmith.Grade{
		"1a": {Score: 8, Max: 8, Rule: "exact"},
		"1b": {Score: 0, Max: 8, Rule: "wrong"},
		"1c": {Score: 4, Max: 4, Rule: "rubric", NeedsReview: true},
		"2a": {Score: 3, Max: 3, Rule: "exact"},
	}
	for _, q := range iv.Questions {
		if q.Params == nil || q.Variant == nil || q.Parts[0].Key == nil {
			t.Fatalf("instructor view of question %d has no parameters, seed or key", q.Position)
		}
		for _, g := range q.Grades {
			k := string(rune('0'+g.Position)) + g.Part
			w := want[k]
			if g.Score != w.Score || g.Max != w.Max || g.Rule != w.Rule || g.NeedsReview != w.NeedsReview || g.TemplateVersion != 1 {
				t.Errorf("grade %s = %+v, want %+v", k, g, w)
			}
			delete(want, k)
		}
	}
	if len(want) != 0 {
		t.Fatalf("grades missing: %v", want)
	}

	// After release (key policy) the student sees scores, grades and the key.
	h.clock.set(t0.Add(3 * time.Hour))
	_, err = h.svc.Release(ctx, h.instructor, e.ID, marksmith.ReleaseInput{})
	wantCode(t, "release with answers awaiting review", err, marksmith.ECONFLICT)
	if _, err := h.svc.Review(ctx, h.instructor, e.ID, marksmith.ReviewDecision{Question: 1, Part: "c", AttemptIDs: []int64{id}, Score: 3, Reason: "vague"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Release(ctx, h.instructor, e.ID, marksmith.ReleaseInput{}); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if _, err := h.svc.Release(ctx, h.instructor, e.ID, marksmith.ReleaseInput{}); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	rv, err := h.svc.GetAttempt(ctx, s1, id)
	if err != nil {
		t.Fatal(err)
	}
	if rv.Attempt.Score == nil || *rv.Attempt.Score != 14 || !rv.Released {
		t.Fatalf("released view %+v", rv.Attempt)
	}
	if rv.Questions[0].Parts[0].Key == nil || len(rv.Questions[0].Grades) == 0 {
		t.Fatalf("released view lacks the key or grades: %+v", rv.Questions[0])
	}
	// The overridden part's feedback is the reviewer's reason.
	for _, q := range rv.Questions {
		for _, g := range q.Grades {
			if q.Position == 1 && g.Part == "c" && (g.Feedback != "vague" || g.Score != 3 || g.Rule != "" || g.ReviewedBy != nil) {
				t.Fatalf("the student's grade of the reviewed part = %+v; want the reason as feedback and no staff fields", g)
			}
		}
	}
	// s2 never started: a start after release is refused.
	_, err = h.svc.StartAttempt(ctx, s2, e.ID)
	wantCode(t, "start after the window", err, marksmith.EGONE)
	mine, err := h.svc.MyExams(ctx, s1)
	if err != nil || len(mine) != 1 || mine[0].Attempt == nil || *mine[0].Attempt.Score != 14 || mine[0].State != marksmith.StateClosed || mine[0].CanStart {
		t.Fatalf("MyExams = %+v, %v", mine, err)
	}
	_, err = h.svc.MyExams(ctx, h.instructor)
	wantCode(t, "instructor MyExams", err, marksmith.EFORBIDDEN)
}

func TestMyExamsAndOverdue(t *testing.T) {
	h := newHarness(t, 3)
	ctx := t.Context()
	e := h.published(t, h.input(2)) // s3 is not on the roster
	draft, _ := h.svc.CreateExam(ctx, h.instructor, h.input(3))
	s1, s2, s3 := h.students[0], h.students[1], h.students[2]
	h.clock.set(t0.Add(-time.Minute))
	mine, err := h.svc.MyExams(ctx, s1)
	if err != nil || len(mine) != 1 || mine[0].ID != e.ID || mine[0].State != marksmith.StateUpcoming || mine[0].CanStart || mine[0].Max != 23 {
		t.Fatalf("MyExams before opening = %+v, %v", mine, err)
	}
	if mine, _ := h.svc.MyExams(ctx, s3); len(mine) != 0 {
		t.Fatalf("a student off the roster sees %+v", mine)
	}
	_, err = h.svc.StartAttempt(ctx, s3, e.ID)
	wantCode(t, "start off the roster", err, marksmith.ENOTFOUND)
	_, err = h.svc.StartAttempt(ctx, s1, draft.ID)
	wantCode(t, "start a draft", err, marksmith.ENOTFOUND)

	h.clock.set(t0)
	a1 := h.start(t, s1, e.ID).Attempt
	h.clock.set(t0.Add(20 * time.Minute))
	a2 := h.start(t, s2, e.ID).Attempt
	h.save(t, s2, a2.ID, 2, "a", keyOf(t, h.paper(t, e.ID, s2, 2), "a"), 1)
	if mine, _ := h.svc.MyExams(ctx, s1); !mine[0].CanStart || mine[0].State != marksmith.StateOpen || mine[0].Attempt.ID != a1.ID {
		t.Fatalf("MyExams with an open attempt = %+v", mine[0])
	}
	// At t0+40m s1 (deadline t0+30m, grace 1m) is overdue, s2 not.
	h.clock.set(t0.Add(40 * time.Minute))
	n, err := h.svc.CloseOverdue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("CloseOverdue = %d, %v; want 1", n, err)
	}
	got, _ := h.exams.FindAttemptByID(ctx, a1.ID)
	if got.Status != marksmith.AttemptClosed || got.Score == nil || *got.Score != 0 {
		t.Fatalf("overdue attempt %+v", got)
	}
	if n, _ := h.svc.CloseOverdue(ctx); n != 0 {
		t.Fatalf("second sweep closed %d", n)
	}
	h.clock.set(t0.Add(3 * time.Hour))
	n, err = h.svc.CloseOverdue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("CloseOverdue later = %d, %v; want 1", n, err)
	}
	got, _ = h.exams.FindAttemptByID(ctx, a2.ID)
	if got.Status != marksmith.AttemptClosed || *got.Score != 3 || got.Late {
		t.Fatalf("second overdue attempt %+v", got)
	}
	if !strings.Contains(marksmith.ErrorMessage(func() error {
		_, err := h.svc.SaveAnswer(ctx, s2, marksmith.SaveInput{AttemptID: a2.ID, Question: 2, Part: "a", Answer: "1", Seq: 2})
		return err
	}()), "closed") {
		t.Fatal("save to an overdue-closed attempt does not say it is closed")
	}
}
