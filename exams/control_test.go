package exams

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

func TestAddAndRemoveStudents(t *testing.T) {
	h := newHarness(t, 6)
	ctx := t.Context()
	in := h.input(3)
	in.Questions = []marksmith.QuestionInput{{Template: "test/wide"}} // a space of thousands
	e := h.published(t, in)
	s4, s5, s6 := h.students[3], h.students[4], h.students[5]

	res, err := h.svc.AddStudents(ctx, h.instructor, e.ID, []string{s4.Email, s5.StudentKey, "nobody@example.org", h.students[0].Email})
	if err != nil {
		t.Fatal(err)
	}
	if res.Students != 5 || len(res.Unknown) != 1 || res.Unknown[0] != "nobody@example.org" {
		t.Fatalf("AddStudents = %+v; want 5 on the roster and one unknown", res)
	}
	// The added students have papers, distinct from the cohort's.
	papers, err := h.exams.FindExamPapers(ctx, e.ID, 1)
	if err != nil || len(papers) != 5 {
		t.Fatalf("%d papers, %v; want 5", len(papers), err)
	}
	seen := map[marksmith.Seed]bool{}
	for _, p := range papers {
		if seen[p.Seed] {
			t.Fatalf("two students share variant %d", p.Seed)
		}
		seen[p.Seed] = true
	}
	v := h.start(t, s4, e.ID)
	if len(v.Questions) != 1 || len(v.Questions[0].Parts) == 0 {
		t.Fatalf("the added student's paper: %+v", v.Questions)
	}
	_, err = h.svc.AddStudents(ctx, h.other, e.ID, []string{s6.Email})
	wantCode(t, "other instructor adds", err, marksmith.ENOTFOUND)

	// Remove: refused once started, allowed before.
	wantCode(t, "remove a student who started", h.svc.RemoveStudent(ctx, h.instructor, e.ID, s4.ID), marksmith.ECONFLICT)
	if err := h.svc.RemoveStudent(ctx, h.instructor, e.ID, s5.ID); err != nil {
		t.Fatalf("RemoveStudent: %v", err)
	}
	_, err = h.svc.StartAttempt(ctx, s5, e.ID)
	wantCode(t, "a removed student starts", err, marksmith.ENOTFOUND)
	if ps, _ := h.exams.FindPapers(ctx, e.ID, s5.ID); len(ps) != 0 {
		t.Fatalf("a removed student keeps %d papers", len(ps))
	}
	wantCode(t, "remove twice", h.svc.RemoveStudent(ctx, h.instructor, e.ID, s5.ID), marksmith.ENOTFOUND)
	// Added again later: a paper of their own once more.
	if _, err := h.svc.AddStudents(ctx, h.instructor, e.ID, []string{s5.Email}); err != nil {
		t.Fatal(err)
	}
	if ps, _ := h.exams.FindPapers(ctx, e.ID, s5.ID); len(ps) != 1 {
		t.Fatalf("re-added student has %d papers", len(ps))
	}
	actions := auditActions(t, h, e.ID)
	if actions["add-students"] != 2 || actions["remove-student"] != 1 {
		t.Fatalf("audit actions %v", actions)
	}
}

// auditActions counts an exam's audit entries by action.
func auditActions(t *testing.T, h *harness, examID int64) map[string]int {
	t.Helper()
	log, err := h.exams.FindAudit(t.Context(), examID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range log {
		out[e.Action]++
	}
	return out
}

func TestAccommodations(t *testing.T) {
	h := newHarness(t, 3)
	ctx := t.Context()
	e := h.published(t, h.input(3)) // 30-minute limit, 60 s grace, window t0..t0+2h
	s1, s2, s3 := h.students[0], h.students[1], h.students[2]

	// Before the exam: s1 gets 15 more minutes.
	if _, err := h.svc.SetAccommodation(ctx, h.instructor, e.ID, s1.ID, marksmith.Accommodation{ExtraSeconds: 900, Reason: "letter 12"}); err != nil {
		t.Fatal(err)
	}
	a1 := h.start(t, s1, e.ID).Attempt
	if want := t0.Add(45 * time.Minute); !a1.DeadlineAt.Equal(want) || !a1.GraceUntil.Equal(want.Add(time.Minute)) {
		t.Fatalf("deadline %v, grace %v; want %v and a minute more", a1.DeadlineAt, a1.GraceUntil, want)
	}
	// During the exam: s2 started with the plain limit, then gets 10 more
	// minutes; a save after the old deadline and grace is accepted.
	a2 := h.start(t, s2, e.ID).Attempt
	h.clock.set(t0.Add(20 * time.Minute))
	entry, err := h.svc.SetAccommodation(ctx, h.instructor, e.ID, s2.ID, marksmith.Accommodation{ExtraSeconds: 600, Reason: "fire alarm"})
	if err != nil || entry.ExtraSeconds != 600 {
		t.Fatalf("SetAccommodation = %+v, %v", entry, err)
	}
	h.clock.set(t0.Add(35 * time.Minute))
	if res := h.save(t, s2, a2.ID, 1, "a", "3", 1); !res.Stored || res.Late {
		t.Fatalf("save after the old deadline and grace = %+v; want stored on time (the deadline moved to 40m)", res)
	}
	got, _ := h.exams.FindAttemptByID(ctx, a2.ID)
	if !got.DeadlineAt.Equal(t0.Add(40*time.Minute)) || !got.GraceUntil.Equal(t0.Add(41*time.Minute)) {
		t.Fatalf("moved deadline %v, grace %v", got.DeadlineAt, got.GraceUntil)
	}
	// A later close of the window lets s3 start after everyone else's.
	closes := t0.Add(3 * time.Hour)
	if _, err := h.svc.SetAccommodation(ctx, h.instructor, e.ID, s3.ID, marksmith.Accommodation{ClosesAt: &closes, Reason: "sat late"}); err != nil {
		t.Fatal(err)
	}
	h.clock.set(t0.Add(150 * time.Minute))
	a3 := h.start(t, s3, e.ID).Attempt
	if !a3.DeadlineAt.Equal(closes) {
		t.Fatalf("late sitter's deadline %v, want %v (the limit would pass the close)", a3.DeadlineAt, closes)
	}
	mine, _ := h.svc.MyExams(ctx, s3)
	if len(mine) != 1 || !mine[0].ClosesAt.Equal(closes) {
		t.Fatalf("MyExams of the late sitter: %+v", mine)
	}
	for _, tc := range []struct {
		name string
		acc  marksmith.Accommodation
		user int64
		code string
	}{
		{"negative", marksmith.Accommodation{ExtraSeconds: -1}, s1.ID, marksmith.EUNPROCESSABLE},
		{"over a week", marksmith.Accommodation{ExtraSeconds: MaxExtraSeconds + 1}, s1.ID, marksmith.EUNPROCESSABLE},
		{"close before the opening", marksmith.Accommodation{ClosesAt: &t0}, s1.ID, marksmith.EUNPROCESSABLE},
		{"not on the roster", marksmith.Accommodation{ExtraSeconds: 60}, h.other.ID, marksmith.ENOTFOUND},
	} {
		_, err := h.svc.SetAccommodation(ctx, h.instructor, e.ID, tc.user, tc.acc)
		wantCode(t, tc.name, err, tc.code)
	}
	if n := auditActions(t, h, e.ID)["accommodation"]; n != 3 {
		t.Fatalf("%d accommodation audit entries, want 3", n)
	}
}

func TestEndExamReopenAndPartialRelease(t *testing.T) {
	h := newHarness(t, 4)
	ctx := t.Context()
	in := h.input(4)
	in.Feedback = marksmith.FeedbackPolicy{AfterSubmit: marksmith.FeedbackNone, AfterRelease: marksmith.FeedbackParts}
	e := h.published(t, in)
	s1, s2, s3, s4 := h.students[0], h.students[1], h.students[2], h.students[3]
	a1 := h.start(t, s1, e.ID).Attempt
	a2 := h.start(t, s2, e.ID).Attempt
	a3 := h.start(t, s3, e.ID).Attempt
	h.clock.set(t0.Add(5 * time.Minute))
	p1 := h.paper(t, e.ID, s1, 1)
	h.save(t, s1, a1.ID, 1, "a", keyOf(t, p1, "a"), 1)
	h.save(t, s2, a2.ID, 1, "c", "Rows of unit squares.", 1) // awaits review
	if _, err := h.svc.Submit(ctx, s1, a1.ID); err != nil {
		t.Fatal(err)
	}

	// A release now would leave open attempts behind: refused unless partial.
	_, err := h.svc.Release(ctx, h.instructor, e.ID, marksmith.ReleaseInput{})
	wantCode(t, "release with open attempts", err, marksmith.ECONFLICT)

	// Close one attempt: graded with what was saved.
	rep, err := h.svc.CloseAttempts(ctx, h.instructor, e.ID, marksmith.CloseInput{AttemptIDs: []int64{a3.ID}, Reason: "left the room"})
	if err != nil || rep.Closed != 1 || rep.Attempts[0] != a3.ID {
		t.Fatalf("CloseAttempts = %+v, %v", rep, err)
	}
	_, err = h.svc.SaveAnswer(ctx, s3, marksmith.SaveInput{AttemptID: a3.ID, Question: 1, Part: "a", Answer: "1", Seq: 9})
	wantCode(t, "save to a closed attempt", err, marksmith.EGONE)
	// End the exam: every open attempt closed, and nobody starts after.
	rep, err = h.svc.CloseAttempts(ctx, h.instructor, e.ID, marksmith.CloseInput{All: true, Reason: "time"})
	if err != nil || rep.Closed != 1 || rep.Attempts[0] != a2.ID {
		t.Fatalf("end the exam = %+v, %v", rep, err)
	}
	_, err = h.svc.StartAttempt(ctx, s4, e.ID)
	wantCode(t, "start after the exam ended", err, marksmith.EGONE)
	got, _ := h.exams.FindAttemptByID(ctx, a2.ID)
	if got.Status != marksmith.AttemptClosed || got.Score == nil {
		t.Fatalf("attempt after the end: %+v", got)
	}
	_, err = h.svc.CloseAttempts(ctx, h.instructor, e.ID, marksmith.CloseInput{})
	wantCode(t, "close nothing", err, marksmith.EUNPROCESSABLE)

	// Reopen s3 for ten minutes: they save and submit again.
	_, err = h.svc.ReopenAttempt(ctx, h.instructor, a3.ID, marksmith.ReopenInput{Seconds: 600})
	wantCode(t, "reopen without a reason", err, marksmith.EUNPROCESSABLE)
	_, err = h.svc.ReopenAttempt(ctx, h.other, a3.ID, marksmith.ReopenInput{Seconds: 600, Reason: "x"})
	wantCode(t, "other instructor reopens", err, marksmith.ENOTFOUND)
	_, err = h.svc.ReopenAttempt(ctx, s3, a3.ID, marksmith.ReopenInput{Seconds: 600, Reason: "x"})
	wantCode(t, "student reopens", err, marksmith.EFORBIDDEN)
	ra, err := h.svc.ReopenAttempt(ctx, h.instructor, a3.ID, marksmith.ReopenInput{Seconds: 600, Reason: "the laptop died"})
	if err != nil || ra.Status != marksmith.AttemptOpen || !ra.DeadlineAt.Equal(t0.Add(15*time.Minute)) || ra.Score != nil {
		t.Fatalf("ReopenAttempt = %+v, %v", ra, err)
	}
	if gs, _ := h.exams.FindGrades(ctx, a3.ID); len(gs) != 0 {
		t.Fatalf("a reopened attempt keeps %d grades", len(gs))
	}
	p3 := h.paper(t, e.ID, s3, 1)
	h.save(t, s3, a3.ID, 1, "a", keyOf(t, p3, "a"), 10)
	if v, err := h.svc.Submit(ctx, s3, a3.ID); err != nil || v.Attempt.Status != marksmith.AttemptSubmitted {
		t.Fatalf("resubmit = %+v, %v", v, err)
	}
	_, err = h.svc.ReopenAttempt(ctx, h.instructor, a1.ID, marksmith.ReopenInput{Seconds: 30, Reason: "x"})
	wantCode(t, "reopen for less than a minute", err, marksmith.EUNPROCESSABLE)

	// Partial release: s1 and s3 (finished, nothing to review) see results;
	// s2's answer awaits review and stays hidden until reviewed.
	rr, err := h.svc.Release(ctx, h.instructor, e.ID, marksmith.ReleaseInput{Partial: true})
	if err != nil || !rr.Exam.Released || rr.Released != 2 || rr.Pending != 1 {
		t.Fatalf("partial release = %+v, %v", rr, err)
	}
	v1, _ := h.svc.GetAttempt(ctx, s1, a1.ID)
	v2, _ := h.svc.GetAttempt(ctx, s2, a2.ID)
	if !v1.Released || v1.Attempt.Score == nil || len(v1.Questions[0].Grades) == 0 {
		t.Fatalf("released attempt %+v", v1.Attempt)
	}
	if v2.Released || v2.Attempt.Score != nil || len(v2.Questions[0].Grades) != 0 {
		t.Fatalf("attempt under review shown: %+v %+v", v2.Attempt, v2.Questions[0].Grades)
	}
	if _, err := h.svc.AcceptSuggested(ctx, h.instructor, e.ID, marksmith.AcceptInput{}); err != nil {
		t.Fatal(err)
	}
	if v2, _ = h.svc.GetAttempt(ctx, s2, a2.ID); !v2.Released || v2.Attempt.Score == nil {
		t.Fatalf("reviewed attempt after the partial release: %+v", v2.Attempt)
	}
	actions := auditActions(t, h, e.ID)
	if actions["close-attempt"] != 2 || actions["end-exam"] != 1 || actions["reopen"] != 1 || actions["release"] != 1 {
		t.Fatalf("audit actions %v", actions)
	}
}

func TestUnpublishAndMonitor(t *testing.T) {
	h := newHarness(t, 3)
	ctx := t.Context()
	e := h.published(t, h.input(3))
	if _, err := h.svc.Unpublish(ctx, h.other, e.ID); marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
		t.Fatalf("other instructor unpublishes: %v", err)
	}
	d, err := h.svc.Unpublish(ctx, h.instructor, e.ID)
	if err != nil || d.Status != marksmith.ExamDraft {
		t.Fatalf("Unpublish = %+v, %v", d, err)
	}
	if ps, _ := h.exams.FindExamPapers(ctx, e.ID, 0); len(ps) != 0 {
		t.Fatalf("an unpublished exam keeps %d papers", len(ps))
	}
	if _, err := h.svc.Publish(ctx, h.instructor, e.ID); err != nil {
		t.Fatal(err)
	}
	a1 := h.start(t, h.students[0], e.ID).Attempt
	h.clock.set(t0.Add(3 * time.Minute))
	h.save(t, h.students[0], a1.ID, 1, "a", "12", 1)
	h.save(t, h.students[0], a1.ID, 1, "c", "  ", 1)
	a2 := h.start(t, h.students[1], e.ID).Attempt
	if _, err := h.svc.Submit(ctx, h.students[1], a2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Unpublish(ctx, h.instructor, e.ID)
	wantCode(t, "unpublish a started exam", err, marksmith.ECONFLICT)
	m, err := h.svc.Monitor(ctx, h.instructor, e.ID)
	if err != nil || m.NotStarted != 1 || m.Working != 1 || m.Finished != 1 || len(m.Students) != 3 {
		t.Fatalf("Monitor = %+v, %v", m, err)
	}
	r := m.Students[0]
	if r.Email != h.students[0].Email || r.Status != "open" || r.Answered != 1 || r.LastSaveAt == nil || !r.LastSaveAt.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("working student's row %+v", r)
	}
	if m.Students[2].Status != marksmith.StatusNotStarted || m.Students[2].AttemptID != nil {
		t.Fatalf("student who has not started: %+v", m.Students[2])
	}
	_, err = h.svc.Monitor(ctx, h.students[0], e.ID)
	wantCode(t, "student monitors", err, marksmith.EFORBIDDEN)
}

// failingStore is a Store whose named method, inside a transaction, does
// its work and then fails: an injected failure halfway through a use case.
type failingStore struct {
	marksmith.Store
	fail string
	inTx bool
}

func (f *failingStore) WithTx(ctx context.Context, fn func(tx marksmith.Store) error) error {
	return f.Store.WithTx(ctx, func(tx marksmith.Store) error {
		return fn(&failingStore{Store: tx, fail: f.fail, inTx: true})
	})
}

func (f *failingStore) injected(method string, err error) error {
	if err == nil && f.inTx && method == f.fail {
		return errInjected
	}
	return err
}

var errInjected = errors.New("injected failure")

func (f *failingStore) MarkPublished(ctx context.Context, id int64, at time.Time) error {
	return f.injected("MarkPublished", f.Store.MarkPublished(ctx, id, at))
}

func (f *failingStore) SetGradeVersion(ctx context.Context, id int64, pos, v int) error {
	return f.injected("SetGradeVersion", f.Store.SetGradeVersion(ctx, id, pos, v))
}

func (f *failingStore) UpdateGrades(ctx context.Context, gs []*marksmith.Grade, audit []*marksmith.AuditEntry) error {
	return f.injected("UpdateGrades", f.Store.UpdateGrades(ctx, gs, audit))
}

func (f *failingStore) CloseAttempt(ctx context.Context, a *marksmith.Attempt, gs []*marksmith.Grade) error {
	return f.injected("CloseAttempt", f.Store.CloseAttempt(ctx, a, gs))
}

func (f *failingStore) AddAudit(ctx context.Context, e *marksmith.AuditEntry) error {
	return f.injected("AddAudit", f.Store.AddAudit(ctx, e))
}

// snapshot is what a use case could change: the exam, papers, attempts,
// grades and the audit log.
func snapshot(t *testing.T, h *harness, examID int64) string {
	t.Helper()
	ctx := t.Context()
	e, err := h.exams.FindExamByID(ctx, examID)
	if err != nil {
		t.Fatal(err)
	}
	papers, _ := h.exams.FindExamPapers(ctx, examID, 0)
	attempts, _ := h.exams.FindAttempts(ctx, examID)
	grades, _ := h.exams.FindExamGrades(ctx, examID)
	log, _ := h.exams.FindAudit(ctx, examID)
	out := fmt.Sprintf("exam %s released %v questions %+v; %d papers; %d audit", e.Status, e.Released, e.Questions, len(papers), len(log))
	for _, a := range attempts {
		out += fmt.Sprintf("; attempt %d %s %v", a.ID, a.Status, fmtScore(a.Score))
	}
	for _, g := range grades {
		out += fmt.Sprintf("; grade %d/%d%s %v %s %v", g.AttemptID, g.Position, g.Part, g.Score, g.Rule, g.NeedsReview)
	}
	return out
}

func fmtScore(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprint(*f)
}

// TestUseCasesAreAtomic injects a failure halfway through publish, regrade,
// a review decision, accepting suggestions and a submit, on Postgres and
// SQLite: each leaves nothing changed.
func TestUseCasesAreAtomic(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var h *harness
			if dialect == "postgres" {
				h = setupHarness(t, openPostgres(t), 3)
			} else {
				h = newHarness(t, 3)
			}
			ctx := t.Context()
			with := func(method string) *Service {
				svc := New(&failingStore{Store: h.store, fail: method}, h.clock.now, nil)
				svc.BatchSize = 1 // several batches before the failure
				return svc
			}
			// Publish fails after its last batch and the status change.
			e, err := h.svc.CreateExam(ctx, h.instructor, h.input(3))
			if err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, h, e.ID)
			for _, method := range []string{"MarkPublished", "AddAudit"} {
				if _, err := with(method).Publish(ctx, h.instructor, e.ID); !errors.Is(err, errInjected) {
					t.Fatalf("publish failing at %s: %v", method, err)
				}
				if after := snapshot(t, h, e.ID); after != before {
					t.Fatalf("publish failing at %s left\n%s\nwas\n%s", method, after, before)
				}
			}
			if _, err := h.svc.Publish(ctx, h.instructor, e.ID); err != nil {
				t.Fatalf("publish after the failures: %v", err)
			}
			ids := h.sitAll(t, e.ID, func(i int) map[[2]any]string {
				return map[[2]any]string{{1, "c"}: "Rows of unit squares.", {1, "a"}: fmt.Sprint(i)}
			})
			// A submit that fails while storing its grades leaves the
			// attempt open with its answers.
			extra := h.published(t, h.input(1))
			a := h.start(t, h.students[0], extra.ID).Attempt
			h.save(t, h.students[0], a.ID, 1, "a", "5", 1)
			was := snapshot(t, h, extra.ID)
			if _, err := with("CloseAttempt").Submit(ctx, h.students[0], a.ID); !errors.Is(err, errInjected) {
				t.Fatalf("submit failing: %v", err)
			}
			if after := snapshot(t, h, extra.ID); after != was {
				t.Fatalf("a failed submit left\n%s\nwas\n%s", after, was)
			}
			before = snapshot(t, h, e.ID)
			q, err := h.svc.ReviewQueue(ctx, h.instructor, e.ID)
			if err != nil || len(q) != 1 {
				t.Fatalf("queue %+v, %v", q, err)
			}
			steps := []struct {
				name string
				run  func(svc *Service) error
				fail string
			}{
				{"review", func(svc *Service) error {
					_, err := svc.Review(ctx, h.instructor, e.ID, marksmith.ReviewDecision{Question: 1, Part: "c", AttemptIDs: ids, Score: 1, Reason: "r"})
					return err
				}, "UpdateGrades"},
				{"accept suggested", func(svc *Service) error {
					_, err := svc.AcceptSuggested(ctx, h.instructor, e.ID, marksmith.AcceptInput{})
					return err
				}, "UpdateGrades"},
				{"regrade", func(svc *Service) error {
					_, err := svc.Regrade(ctx, h.instructor, e.ID, marksmith.RegradeInput{Template: "test/area", Version: 2})
					return err
				}, "SetGradeVersion"},
			}
			for _, st := range steps {
				if err := st.run(with(st.fail)); !errors.Is(err, errInjected) {
					t.Fatalf("%s failing at %s: %v", st.name, st.fail, err)
				}
				if after := snapshot(t, h, e.ID); after != before {
					t.Fatalf("%s failing at %s left\n%s\nwas\n%s", st.name, st.fail, after, before)
				}
			}
			// And each succeeds without the failure.
			for _, st := range steps {
				if err := st.run(h.svc); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
			}
		})
	}
}

// TestSaveRacesSubmit saves and submits at once, hundreds of times on each
// database: every save acknowledged as stored is the answer graded, and
// every other save is refused (409 or 410), never lost in between.
func TestSaveRacesSubmit(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			rounds := 200
			if testing.Short() {
				rounds = 20
			}
			var h *harness
			if dialect == "postgres" {
				h = setupHarness(t, openPostgres(t), rounds)
			} else {
				h = newHarness(t, rounds)
			}
			ctx := t.Context()
			e := h.published(t, h.input(rounds))
			for i, u := range h.students {
				a := h.start(t, u, e.ID).Attempt
				var wg sync.WaitGroup
				type ack struct {
					part string
					raw  string
				}
				acks := make(chan ack, 8)
				for k, part := range []string{"a", "c"} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						raw := fmt.Sprintf("%d", 100+k)
						res, err := h.svc.SaveAnswer(ctx, u, marksmith.SaveInput{AttemptID: a.ID, Question: 1, Part: part, Answer: raw, Seq: 1})
						switch code := marksmith.ErrorCode(err); {
						case err == nil && res.Stored:
							acks <- ack{part, raw}
						case code == marksmith.ECONFLICT || code == marksmith.EGONE:
						default:
							t.Errorf("round %d: save %s: %+v, %v", i, part, res, err)
						}
					}()
				}
				v, err := h.svc.Submit(ctx, u, a.ID)
				if err != nil {
					t.Fatal(err)
				}
				wg.Wait()
				close(acks)
				answers, _ := h.exams.FindAnswers(ctx, a.ID)
				grades, _ := h.exams.FindGrades(ctx, a.ID)
				graded := map[string]bool{}
				for _, g := range grades {
					if g.Position == 1 && g.Rule != "blank" {
						graded[g.Part] = true
					}
				}
				for ack := range acks {
					if !graded[ack.part] {
						t.Fatalf("round %d: the acknowledged save %s=%q was not graded (answers %+v, grades %+v)", i, ack.part, ack.raw, answers, grades)
					}
					for _, ans := range answers {
						if ans.Part == ack.part && ans.SavedAt.After(*v.Attempt.SubmittedAt) {
							t.Fatalf("round %d: answer %s saved at %v, after the submission at %v", i, ack.part, ans.SavedAt, *v.Attempt.SubmittedAt)
						}
					}
				}
			}
		})
	}
}
