package exams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/papercode"
)

// upload uploads body to the exam as the instructor, waits for the job
// and returns it as the GET route reports it.
func (h *harness) upload(t *testing.T, examID int64, body string, replace, dry bool) *marksmith.SubmissionJob {
	t.Helper()
	j, err := h.svc.UploadSubmissions(t.Context(), h.instructor, examID, marksmith.SubmissionUpload{Body: strings.NewReader(body), Replace: replace, DryRun: dry})
	if err != nil {
		t.Fatalf("UploadSubmissions: %v", err)
	}
	h.svc.WaitJobs()
	got, err := h.svc.FindSubmissionJob(t.Context(), h.instructor, examID, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != marksmith.JobDone {
		t.Fatalf("job %+v", got)
	}
	return got
}

func (h *harness) results(t *testing.T, examID, jobID int64) []string {
	t.Helper()
	var b bytes.Buffer
	if err := h.svc.SubmissionResults(t.Context(), h.instructor, examID, jobID, &b); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

func code(t *testing.T, examID int64, u *marksmith.User) string {
	t.Helper()
	c, err := papercode.New(examID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c.String()
}

func TestUploadSQLite(t *testing.T)   { testUpload(t, newHarness(t, 6)) }
func TestUploadPostgres(t *testing.T) { testUpload(t, setupHarness(t, openPostgres(t), 6)) }

// testUpload grades a file seeded with bad rows, uploads it again, replaces
// a row, dry-runs another, and checks what review, the gradebook and the
// statistics see.
func testUpload(t *testing.T, h *harness) {
	ctx := t.Context()
	e := h.published(t, h.input(6))
	s := h.students // s[1], s[3], s[5] have student numbers; the others only emails
	area := func(u *marksmith.User) string {
		v := h.paper(t, e.ID, u, 1)
		return strconv.Itoa(v.Params["w"].(int)*v.Params["h"].(int) + 1) // version 1's key
	}
	sum := func(u *marksmith.User) string { return keyOf(t, h.paper(t, e.ID, u, 2), "a") }
	other, err := papercode.New(e.ID+1, s[5].ID)
	if err != nil {
		t.Fatal(err)
	}
	mistyped := []byte(code(t, e.ID, s[5]))
	mistyped[len(mistyped)-1] = '0' + (mistyped[len(mistyped)-1]-'0'+1)%10
	file := strings.Join([]string{
		"\ufeffstudent;paper_code;1.a;1.b;1.c;2.a",
		fmt.Sprintf("%s;;%s;rect;;%s", s[1].StudentKey, area(s[1]), sum(s[1])),                // 2: right, essay blank: 8+8+0+3
		fmt.Sprintf("%s;;1;tri;;0", s[0].Email),                                               // 3: wrong: 0
		fmt.Sprintf(";%s;12 apples;;rows of unit squares;%s", code(t, e.ID, s[2]), sum(s[2])), // 4: format error; the essay matches its rubric (2 of 4, to review)
		"999;;1;;;", // 5: unknown student
		fmt.Sprintf("%s;%s;1;;;", s[3].StudentKey, code(t, e.ID, s[4])), // 6: another student's paper
		fmt.Sprintf(";%s;1;;;", mistyped),                               // 7: mistyped code
		fmt.Sprintf("%s;;1;;;", s[1].StudentKey),                        // 8: twice in one upload
		fmt.Sprintf(";%s;1;;;", other.String()),                         // 9: another exam's paper
	}, "\r\n") + "\r\n"

	j := h.upload(t, e.ID, file, false, false)
	if j.RowsRead != 8 || j.Graded != 3 || j.Rejected != 5 || j.Unchanged != 0 || len(j.SHA256) != 64 || j.Bytes != int64(len(file)) {
		t.Fatalf("receipt %+v", j)
	}
	lines := map[int]string{}
	for _, e := range j.Errors {
		lines[e.Line] = e.Field
	}
	for line, field := range map[int]string{5: "student", 6: "paper_code", 7: "paper_code", 8: "student", 9: "paper_code"} {
		if lines[line] != field {
			t.Errorf("line %d: errors %+v, want one on %s", line, j.Errors, field)
		}
	}
	res := h.results(t, e.ID, j.ID)
	if len(res) != 9 || res[0] != "line,student,paper_code,status,score,max,needs_review,format_errors,errors,q1,q2" {
		t.Fatalf("results:\n%s", strings.Join(res, "\n"))
	}
	for i, want := range []string{
		fmt.Sprintf("2,%s,,graded,19,23,,,,16,3", s[1].StudentKey),
		fmt.Sprintf("3,%s,,graded,0,23,,,,0,0", s[0].Email),
	} {
		if res[i+1] != want {
			t.Errorf("results line %d = %q, want %q", i+2, res[i+1], want)
		}
	}
	if !strings.Contains(res[3], ",graded,5,23,1.c,\"1.a: Unexpected ") {
		t.Errorf("results line 4 = %q", res[3])
	}
	if !strings.Contains(res[4], "rejected") || !strings.Contains(res[4], "999") {
		t.Errorf("results line 5 = %q", res[4])
	}

	// Paper attempts are attempts: the gradebook, the review queue and the
	// statistics see them.
	gb, err := h.svc.Gradebook(ctx, h.instructor, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{s[0].Email: "0", s[1].Email: "19", s[2].Email: "5"}
	for _, r := range gb.Rows {
		if w, ok := want[r.Email]; ok {
			if r.Total == nil || fmt.Sprint(*r.Total) != w || r.Mode != marksmith.DeliveryPaper || r.Status != string(marksmith.AttemptSubmitted) {
				t.Errorf("gradebook row %+v, want total %s, paper, submitted", r, w)
			}
		} else if r.Total != nil || r.Mode != "" {
			t.Errorf("gradebook row %+v has an attempt", r)
		}
	}
	queue, err := h.svc.ReviewQueue(ctx, h.instructor, e.ID)
	if err != nil || len(queue) != 1 || queue[0].Count != 1 {
		t.Fatalf("review queue %+v, %v", queue, err)
	}
	st, err := h.svc.Stats(ctx, h.instructor, e.ID)
	if err != nil || st.N != 3 || st.Paper != 3 || st.Online != 0 {
		t.Fatalf("stats %+v, %v", st, err)
	}
	a2, err := h.exams.FindAttempt(ctx, e.ID, s[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	grades, err := h.exams.FindGrades(ctx, a2.ID)
	if err != nil || len(grades) != 4 {
		t.Fatalf("grades %+v, %v", grades, err)
	}
	answers, err := h.exams.FindAnswers(ctx, a2.ID)
	if err != nil || len(answers) != 3 {
		t.Fatalf("answers %+v, %v", answers, err)
	}

	// The same file again: the same receipt, nothing written.
	h.clock.set(t0.Add(time.Hour))
	again := h.upload(t, e.ID, file, false, false)
	if again.SHA256 != j.SHA256 || again.RowsRead != 8 || again.Graded != 0 || again.Unchanged != 3 || again.Rejected != 5 {
		t.Fatalf("second receipt %+v", again)
	}
	grades2, err := h.exams.FindGrades(ctx, a2.ID)
	if err != nil || !grades2[0].GradedAt.Equal(grades[0].GradedAt) {
		t.Fatalf("grades rewritten: %+v, %v", grades2, err)
	}

	// Other answers for a graded student: refused, unless replace.
	fix := fmt.Sprintf("student,1.a,1.b\n%s,%s,rect\n", s[0].Email, area(s[0]))
	if j := h.upload(t, e.ID, fix, false, false); j.Rejected != 1 || !strings.Contains(j.Errors[0].Message, "replace=true") {
		t.Fatalf("replace refused: %+v", j)
	}
	if j := h.upload(t, e.ID, fix, true, false); j.Graded != 1 {
		t.Fatalf("replace: %+v", j)
	}
	a1, err := h.exams.FindAttempt(ctx, e.ID, s[0].ID)
	if err != nil || a1.Score == nil || *a1.Score != 16 {
		t.Fatalf("replaced attempt %+v, %v", a1, err)
	}
	audit, err := h.svc.Audit(ctx, h.instructor, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, en := range audit {
		if en.Action == "replace" && en.Target == fmt.Sprintf("attempt %d", a1.ID) {
			var before, after struct{ Score float64 }
			if json.Unmarshal(en.Before, &before) != nil || json.Unmarshal(en.After, &after) != nil || before.Score != 0 || after.Score != 16 {
				t.Errorf("audit %s → %s", en.Before, en.After)
			}
			found = true
		}
	}
	if !found {
		t.Errorf("no replace in the audit log: %+v", audit)
	}

	// A dry run grades and stores nothing; JSON lines are read too.
	dry := fmt.Sprintf(`{"paper_code": %q, "answers": {"1.a": %s, "2.a": "%s"}}`+"\n", code(t, e.ID, s[5]), area(s[5]), sum(s[5]))
	if j := h.upload(t, e.ID, dry, false, true); j.Graded != 1 || j.Format != "jsonl" || !j.DryRun {
		t.Fatalf("dry run %+v", j)
	}
	if _, err := h.exams.FindAttempt(ctx, e.ID, s[5].ID); marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
		t.Fatalf("dry run stored an attempt: %v", err)
	}

	// An online attempt in progress is not overwritten.
	h.clock.set(t0.Add(5 * time.Minute))
	h.start(t, s[3], e.ID)
	if j := h.upload(t, e.ID, fmt.Sprintf("student,2.a\n%s,1\n", s[3].StudentKey), false, false); j.Rejected != 1 {
		t.Fatalf("online attempt: %+v", j)
	}

	// A header that cannot be read is refused at once, with every problem.
	_, err = h.svc.UploadSubmissions(ctx, h.instructor, e.ID, marksmith.SubmissionUpload{Body: strings.NewReader("student,6d,9.a\n")})
	wantCode(t, "bad header", err, marksmith.EUNPROCESSABLE)
	if me := err.(*marksmith.Error); len(me.Details.([]marksmith.RowError)) != 2 {
		t.Errorf("header problems %+v", me.Details)
	}
	// Only the exam's instructor or an admin.
	_, err = h.svc.UploadSubmissions(ctx, h.other, e.ID, marksmith.SubmissionUpload{Body: strings.NewReader(file)})
	wantCode(t, "other instructor", err, marksmith.ENOTFOUND)
	_, err = h.svc.FindSubmissionJob(ctx, h.other, e.ID, j.ID)
	wantCode(t, "other instructor's GET", err, marksmith.ENOTFOUND)
	_, err = h.svc.UploadSubmissions(ctx, s[0], e.ID, marksmith.SubmissionUpload{Body: strings.NewReader(file)})
	wantCode(t, "student", err, marksmith.EFORBIDDEN)
	if _, err := h.svc.FindSubmissionJob(ctx, h.admin, e.ID, j.ID); err != nil {
		t.Errorf("admin: %v", err)
	}
	// Too large.
	h.svc.UploadBytes = 10
	_, err = h.svc.UploadSubmissions(ctx, h.instructor, e.ID, marksmith.SubmissionUpload{Body: strings.NewReader(file)})
	wantCode(t, "too large", err, marksmith.ETOOLARGE)
	h.svc.UploadBytes = 0
}

// An upload after a regrade grades with the corrected template version,
// rebuilt from each student's drawn values, and parses answers with the
// stored paper.
func TestUploadAfterRegrade(t *testing.T) {
	h := newHarness(t, 3)
	ctx := t.Context()
	e := h.published(t, h.input(3)) // test/area version 1: its key is w*h + 1
	if _, err := h.svc.Regrade(ctx, h.instructor, e.ID, marksmith.RegradeInput{Template: "test/area", Version: 2}); err != nil {
		t.Fatal(err)
	}
	s := h.students
	area := func(u *marksmith.User) int {
		v := h.paper(t, e.ID, u, 1)
		return v.Params["w"].(int) * v.Params["h"].(int)
	}
	file := fmt.Sprintf("student,1.a,1.c\n%s,%d,a unit square\n%s,%d,\n%s,%s,\n", s[0].Email, area(s[0]), s[1].Email, area(s[1])+1, s[2].Email, "lots")
	j := h.upload(t, e.ID, file, false, false)
	if j.Graded != 3 {
		t.Fatalf("job %+v", j)
	}
	res := h.results(t, e.ID, j.ID)
	for i, want := range []string{
		fmt.Sprintf("2,%s,,graded,10,23,1.c,,,10,0", s[0].Email), // 8 for 1.a (w*h, version 2's key), 2 for 1.c
		fmt.Sprintf("3,%s,,graded,0,23,,,,0,0", s[1].Email),
		fmt.Sprintf(`4,%s,,graded,0,23,,"1.a: Enter a number`, s[2].Email),
	} {
		if !strings.HasPrefix(res[i+1], want) {
			t.Errorf("results line %d = %q, want %q…", i+2, res[i+1], want)
		}
	}
	a, err := h.exams.FindAttempt(ctx, e.ID, s[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	grades, err := h.exams.FindGrades(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grades {
		if want := map[int]int{1: 2, 2: 1}[g.Position]; g.TemplateVersion != want {
			t.Errorf("grade %d.%s: template version %d, want %d", g.Position, g.Part, g.TemplateVersion, want)
		}
	}
}
