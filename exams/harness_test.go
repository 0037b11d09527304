package exams

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/storage"
)

// t0 is the time test clocks start at.
var t0 = time.Date(2026, 5, 19, 9, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// harness is the service over a fresh SQLite database with an admin, two
// instructors and students s1..sN, and the test templates stored.
type harness struct {
	db         *storage.DB
	store      *storage.Store
	exams      *storage.ExamStore
	users      *storage.UserStore
	templates  *storage.TemplateStore
	svc        *Service
	clock      *clock
	admin      *marksmith.User
	instructor *marksmith.User
	other      *marksmith.User
	students   []*marksmith.User
}

func newHarness(t testing.TB, students int) *harness {
	t.Helper()
	db, err := storage.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "exams.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return setupHarness(t, db, students)
}

// setupHarness migrates db and fills it as newHarness describes.
func setupHarness(t testing.TB, db *storage.DB, students int) *harness {
	t.Helper()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := &harness{db: db, store: storage.NewStore(db), clock: &clock{t: t0}}
	h.exams, h.users, h.templates = h.store.ExamStore, h.store.UserStore, h.store.TemplateStore
	db.Now = h.clock.now
	h.svc = New(h.store, h.clock.now, nil)
	h.admin = h.user(t, "admin@example.org", marksmith.RoleAdmin, "")
	h.instructor = h.user(t, "teacher@example.org", marksmith.RoleInstructor, "")
	h.other = h.user(t, "other@example.org", marksmith.RoleInstructor, "")
	for i := 1; i <= students; i++ {
		key := ""
		if i%2 == 0 {
			key = fmt.Sprintf("30350%05d", i)
		}
		h.students = append(h.students, h.user(t, fmt.Sprintf("s%d@example.org", i), marksmith.RoleStudent, key))
	}
	for _, name := range []string{"area_v1.yaml", "area_v2.yaml", "nokey.yaml", "wide.yaml"} {
		src, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		h.storeTemplate(t, src)
	}
	return h
}

func (h *harness) user(t testing.TB, email string, role marksmith.Role, key string) *marksmith.User {
	t.Helper()
	u := &marksmith.User{Email: email, Name: strings.ToUpper(email[:2]), Role: role, StudentKey: key, PasswordHash: "x"}
	if err := h.users.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// storeTemplate stores a template source as the next version of its ID.
func (h *harness) storeTemplate(t testing.TB, src []byte) *marksmith.TemplateVersion {
	t.Helper()
	tp, err := bank.Load("test.yaml", src)
	if err != nil {
		t.Fatalf("load template: %v", err)
	}
	tv := &marksmith.TemplateVersion{TemplateID: tp.ID, Title: tp.Title, Marks: tp.Marks, Format: tp.Format, Source: string(src)}
	if err := h.templates.CreateTemplateVersion(t.Context(), tv); err != nil {
		t.Fatal(err)
	}
	return tv
}

// storeBuiltin stores the built-in bank's templates.
func (h *harness) storeBuiltin(t testing.TB) []*bank.Template {
	t.Helper()
	ts, err := bank.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range ts {
		h.storeTemplate(t, tp.Source)
	}
	return ts
}

// emails returns the first n students' emails.
func (h *harness) emails(n int) []string {
	var out []string
	for _, u := range h.students[:n] {
		out = append(out, u.Email)
	}
	return out
}

// input is an exam open from t0 for two hours, with a 30-minute time
// limit and a 60-second grace, on the area template (20 marks) and the
// wide template (marks its own), for the first n students.
func (h *harness) input(n int) marksmith.ExamInput {
	seed := marksmith.Seed(7606)
	return marksmith.ExamInput{
		Title: "Midterm", Seed: &seed,
		Questions: []marksmith.QuestionInput{{Template: "test/area", Version: 1, Marks: 20}, {Template: "test/wide"}},
		OpensAt:   t0, ClosesAt: t0.Add(2 * time.Hour), TimeLimitSeconds: 1800, LateGraceSeconds: 60,
		Feedback: marksmith.FeedbackPolicy{AfterSubmit: marksmith.FeedbackScore, AfterRelease: marksmith.FeedbackKey},
		Roster:   h.emails(n),
	}
}

// published creates and publishes an exam from in.
func (h *harness) published(t testing.TB, in marksmith.ExamInput) *marksmith.Exam {
	t.Helper()
	e, err := h.svc.CreateExam(t.Context(), h.instructor, in)
	if err != nil {
		t.Fatalf("CreateExam: %v", err)
	}
	if _, err := h.svc.Publish(t.Context(), h.instructor, e.ID); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	e, err = h.svc.FindExam(t.Context(), h.instructor, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// paper returns a student's stored variant of the question at position,
// key included.
func (h *harness) paper(t testing.TB, examID int64, student *marksmith.User, position int) *bank.Variant {
	t.Helper()
	papers, err := h.exams.FindPapers(t.Context(), examID, student.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range papers {
		if p.Position == position {
			var v bank.Variant
			if err := json.Unmarshal(p.Variant, &v); err != nil {
				t.Fatal(err)
			}
			return &v
		}
	}
	t.Fatalf("student %s has no paper of question %d", student.Email, position)
	return nil
}

// save autosaves an answer and fails the test on error.
func (h *harness) save(t testing.TB, student *marksmith.User, attemptID int64, question int, part, raw string, seq int64) *marksmith.SaveResult {
	t.Helper()
	res, err := h.svc.SaveAnswer(t.Context(), student, marksmith.SaveInput{AttemptID: attemptID, Question: question, Part: part, Answer: raw, Seq: seq})
	if err != nil {
		t.Fatalf("SaveAnswer(%s q%d %s %q #%d): %v", student.Email, question, part, raw, seq, err)
	}
	return res
}

// start starts (or resumes) a student's attempt and fails the test on error.
func (h *harness) start(t testing.TB, student *marksmith.User, examID int64) *marksmith.AttemptView {
	t.Helper()
	v, err := h.svc.StartAttempt(t.Context(), student, examID)
	if err != nil {
		t.Fatalf("StartAttempt(%s): %v", student.Email, err)
	}
	return v
}

func wantCode(t testing.TB, what string, err error, code string) {
	t.Helper()
	if got := marksmith.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

// keyOf returns the part's key as a student would type it.
func keyOf(t testing.TB, v *bank.Variant, part string) string {
	t.Helper()
	for i := range v.Parts {
		if v.Parts[i].ID == part {
			return bank.KeyAnswer(&v.Parts[i].Answer)
		}
	}
	t.Fatalf("variant has no part %s", part)
	return ""
}
