package exams

import (
	"testing"

	"github.com/marksmith/marksmith"
)

func TestPapers(t *testing.T) {
	h := newHarness(t, 4)
	ctx := t.Context()
	in := h.input(4)
	in.Delivery = marksmith.DeliveryPaper
	in.ShuffleQuestions = true
	e := h.published(t, in)

	// A paper-only exam: nothing to start online, but every student's
	// paper is stored as for an online exam.
	_, err := h.svc.StartAttempt(ctx, h.students[0], e.ID)
	wantCode(t, "start a paper exam online", err, marksmith.ECONFLICT)

	all, err := h.svc.Papers(ctx, h.instructor, e.ID, marksmith.PaperQuery{})
	if err != nil {
		t.Fatalf("Papers: %v", err)
	}
	if len(all.Students) != 4 || all.Key || all.Exam.ID != e.ID {
		t.Fatalf("papers: %d students, key %v", len(all.Students), all.Key)
	}
	for i, sp := range all.Students {
		if i > 0 && all.Students[i-1].Number >= sp.Number {
			t.Errorf("students not in number order: %q then %q", all.Students[i-1].Number, sp.Number)
		}
		if len(sp.Questions) != 2 {
			t.Fatalf("student %s: %d questions", sp.Number, len(sp.Questions))
		}
		for j, q := range sp.Questions {
			if q.Order != j+1 {
				t.Errorf("student %s question %d: order %d", sp.Number, j, q.Order)
			}
			for _, p := range q.Parts {
				if p.Key != nil {
					t.Errorf("student %s: a question paper shows the key of %d.%s", sp.Number, q.Position, p.ID)
				}
			}
			if q.Position == 1 && q.Marks != 20 {
				t.Errorf("question 1 marks %v, want 20", q.Marks)
			}
		}
		// The same variant the student's stored paper holds.
		u := h.studentByID(t, sp.UserID)
		v := h.paper(t, e.ID, u, sp.Questions[0].Position)
		if sp.Questions[0].Stem != v.Stem {
			t.Errorf("student %s: stem %q, stored %q", sp.Number, sp.Questions[0].Stem, v.Stem)
		}
	}

	one, err := h.svc.Papers(ctx, h.admin, e.ID, marksmith.PaperQuery{Student: h.students[1].StudentKey, Key: true})
	if err != nil {
		t.Fatalf("Papers of one: %v", err)
	}
	if len(one.Students) != 1 || one.Students[0].UserID != h.students[1].ID || !one.Key {
		t.Fatalf("one student: %+v", one.Students)
	}
	for _, q := range one.Students[0].Questions {
		for _, p := range q.Parts {
			if p.Key == nil {
				t.Errorf("key of %d.%s missing", q.Position, p.ID)
			}
		}
	}
	byEmail, err := h.svc.Papers(ctx, h.instructor, e.ID, marksmith.PaperQuery{Student: "S1@example.org"})
	if err != nil || len(byEmail.Students) != 1 || byEmail.Students[0].UserID != h.students[0].ID {
		t.Fatalf("by email: %v", err)
	}

	for _, c := range []struct {
		name  string
		actor *marksmith.User
		id    int64
		q     marksmith.PaperQuery
		code  string
	}{
		{"a student", h.students[0], e.ID, marksmith.PaperQuery{}, marksmith.EFORBIDDEN},
		{"another instructor", h.other, e.ID, marksmith.PaperQuery{}, marksmith.ENOTFOUND},
		{"no such exam", h.admin, e.ID + 100, marksmith.PaperQuery{}, marksmith.ENOTFOUND},
		{"not on the roster", h.instructor, e.ID, marksmith.PaperQuery{Student: "nobody"}, marksmith.ENOTFOUND},
		{"over the limit", h.instructor, e.ID, marksmith.PaperQuery{Max: 3}, marksmith.ETOOLARGE},
	} {
		_, err := h.svc.Papers(ctx, c.actor, c.id, c.q)
		wantCode(t, c.name, err, c.code)
	}
	if _, err := h.svc.Papers(ctx, h.instructor, e.ID, marksmith.PaperQuery{Max: 4}); err != nil {
		t.Errorf("at the limit: %v", err)
	}

	// A draft has no papers; an online exam prints keys only.
	draft, err := h.svc.CreateExam(ctx, h.instructor, h.input(2))
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Papers(ctx, h.instructor, draft.ID, marksmith.PaperQuery{})
	wantCode(t, "a draft", err, marksmith.ECONFLICT)
	online := h.published(t, h.input(2))
	_, err = h.svc.Papers(ctx, h.instructor, online.ID, marksmith.PaperQuery{})
	wantCode(t, "papers of an online exam", err, marksmith.ECONFLICT)
	if keys, err := h.svc.Papers(ctx, h.instructor, online.ID, marksmith.PaperQuery{Key: true}); err != nil || len(keys.Students) != 2 {
		t.Errorf("keys of an online exam: %v", err)
	}
}

// studentByID returns the harness's student with the id.
func (h *harness) studentByID(t testing.TB, id int64) *marksmith.User {
	t.Helper()
	for _, u := range h.students {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("no student %d", id)
	return nil
}
