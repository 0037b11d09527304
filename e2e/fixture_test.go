package e2e

import (
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// bankIDs returns the ids of every template in the built-in bank, in
// order.
func (s *server) bankIDs(t *testing.T, actor *marksmith.User) []string {
	t.Helper()
	tvs, n, err := s.app.Templates.FindTemplates(t.Context(), actor, marksmith.TemplateFilter{Query: "dasc7606/", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if n != 8 || len(tvs) != 8 {
		t.Fatalf("the bank has %d templates (%d listed), want the 8 questions of DASC7606", n, len(tvs))
	}
	ids := make([]string, len(tvs))
	for i, tv := range tvs {
		ids[i] = tv.TemplateID
	}
	return ids
}

// publishExam creates and publishes, through the exam service, an exam of
// the templates with the roster, open now for an hour.
func (s *server) publishExam(t *testing.T, prof *marksmith.User, title string, ids []string, roster ...string) *marksmith.Exam {
	t.Helper()
	qs := make([]marksmith.QuestionInput, len(ids))
	for i, id := range ids {
		qs[i] = marksmith.QuestionInput{Template: id}
	}
	now := time.Now()
	e, err := s.app.Exams.CreateExam(t.Context(), prof, marksmith.ExamInput{
		Title: title, Questions: qs, OpensAt: now.Add(-time.Minute), ClosesAt: now.Add(time.Hour),
		TimeLimitSeconds: 3600, Roster: roster,
		Feedback: marksmith.FeedbackPolicy{AfterSubmit: marksmith.FeedbackNone, AfterRelease: marksmith.FeedbackKey},
	})
	if err != nil {
		t.Fatalf("create %s: %v", title, err)
	}
	rep, err := s.app.Exams.Publish(t.Context(), prof, e.ID)
	if err != nil {
		t.Fatalf("publish %s: %v", title, err)
	}
	if rep.Students != len(roster) || rep.Questions != len(ids) {
		t.Fatalf("publish %s: %+v", title, rep)
	}
	return e
}
