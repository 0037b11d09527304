package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/marksmith/marksmith"
)

// TestCreateExam reads the exam form into the service's input: the ticked
// questions in their order with their marks, the window sent as UTC by the
// page's script, the policy.
func TestCreateExam(t *testing.T) {
	h := newHarness(t, Config{})
	var got marksmith.ExamInput
	h.exams.createHook = func(in marksmith.ExamInput) { got = in }
	b := h.as(instructor)
	form := url.Values{
		"title": {"Midterm"}, "q": {"dasc7606/q6", "dasc7606/q1"},
		"pos:dasc7606/q6": {"2"}, "pos:dasc7606/q1": {"1"}, "marks:dasc7606/q6": {"24"}, "marks:dasc7606/q1": {"6"},
		"opens_at": {"2026-05-19T01:00:00Z"}, "opens_at_local": {"2026-05-19T09:00"},
		"closes_at": {""}, "closes_at_local": {"2026-05-19T12:00"},
		"time_limit": {"60"}, "late_grace": {"2"}, "shuffle_options": {"on"}, "delivery": {"both"},
		"after_submit": {"score"}, "after_release": {"key"}, "roster": {"ann@example.edu\n3035000002, cat@example.edu"},
	}
	res := b.post("/instructor/exams", form)
	if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/instructor/exams/2" {
		t.Fatalf("create: %s", res)
	}
	if got.Title != "Midterm" || len(got.Questions) != 2 || got.Questions[0] != (marksmith.QuestionInput{Template: "dasc7606/q1", Marks: 6}) ||
		got.Questions[1] != (marksmith.QuestionInput{Template: "dasc7606/q6", Marks: 24}) {
		t.Errorf("questions: %+v", got)
	}
	if got.OpensAt != testDate(1, 0) || got.ClosesAt != testDate(12, 0) || got.TimeLimitSeconds != 3600 || got.LateGraceSeconds != 120 ||
		!got.ShuffleOptions || got.ShuffleQuestions || got.Delivery != marksmith.DeliveryBoth || got.Feedback != (marksmith.FeedbackPolicy{AfterSubmit: "score", AfterRelease: "key"}) {
		t.Errorf("settings: %+v", got)
	}
	if strings.Join(got.Roster, " ") != "ann@example.edu 3035000002 cat@example.edu" || got.Seed != nil {
		t.Errorf("roster %q, seed %v", got.Roster, got.Seed)
	}
	// The service's validation errors come back on the form, with what was typed.
	form.Set("title", "")
	res = b.post("/instructor/exams", form)
	if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body.String(), "title is required") || !strings.Contains(res.Body.String(), `value="6"`) {
		t.Errorf("invalid exam: %s", res)
	}
	form.Set("title", "T")
	form.Del("q")
	if res := b.post("/instructor/exams", form); !strings.Contains(res.Body.String(), "Pick at least one question") {
		t.Errorf("no questions: %s", res)
	}
}

// TestExamDayControls calls one service method per control, with what
// the form says.
func TestExamDayControls(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(instructor)
	cases := []struct {
		path string
		form url.Values
		call string
	}{
		{"/instructor/exams/1/students", url.Values{"students": {"dan@example.edu\neve@example.edu"}}, "AddStudents dan@example.edu eve@example.edu"},
		{"/instructor/exams/1/students/3/time", url.Values{"extra_minutes": {"15"}, "reason": {"SEN"}}, "SetAccommodation 3 900 SEN"},
		{"/instructor/exams/1/students/4/remove", nil, "RemoveStudent 4"},
		{"/instructor/exams/1/attempts/11/reopen", url.Values{"minutes": {"10"}, "reason": {"crash"}}, "ReopenAttempt 11 600"},
		{"/instructor/exams/1/release", url.Values{"partial": {"1"}}, "Release partial=true"},
		{"/instructor/exams/2/publish", nil, "Publish"},
		{"/instructor/exams/2/roster", url.Values{"students": {"ann@example.edu, ben@example.edu"}}, "SetRoster ann@example.edu ben@example.edu"},
	}
	for _, tc := range cases {
		res := b.post(tc.path, tc.form)
		if res.Code != http.StatusSeeOther && res.Code != http.StatusOK {
			t.Errorf("POST %s: %s", tc.path, res)
		}
		if last := h.exams.calls[len(h.exams.calls)-1]; last != tc.call {
			t.Errorf("POST %s called %q, want %q", tc.path, last, tc.call)
		}
	}
	res := b.post("/instructor/exams/1/close", url.Values{"all": {"1"}, "reason": {"fire alarm"}, "back": {"/instructor/exams/1/monitor"}})
	if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/instructor/exams/1/monitor" || len(h.exams.closes) != 1 ||
		!h.exams.closes[0].All || h.exams.closes[0].Reason != "fire alarm" {
		t.Errorf("end the exam: %d %q %+v", res.Code, res.Header.Get("Location"), h.exams.closes)
	}
	// A refused control shows the service's message on the exam page.
	res = b.post("/instructor/exams/1/unpublish", nil)
	if res.Code != http.StatusConflict || !strings.Contains(res.Body.String(), "cannot go back to draft") {
		t.Errorf("refused unpublish: %s", res)
	}
	// The publish report is shown.
	if res := b.post("/instructor/exams/2/publish", nil); !strings.Contains(res.Body.String(), "16 papers for 2 students") {
		t.Errorf("publish report: %s", res)
	}
}

// TestRosterImport creates the accounts of a CSV and puts them on the
// roster, reporting each row (one-time passwords shown once).
func TestRosterImport(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(instructor)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField(csrfField, b.token)
	fw, _ := mw.CreateFormFile("file", "roster.csv")
	fw.Write([]byte("email,name,student_key\ndan@example.edu,Dan,1\nnot-an-email,Bad,2\n"))
	mw.Close()
	res := b.do(http.MethodPost, "/instructor/exams/2/roster/import", &body, map[string]string{"Content-Type": mw.FormDataContentType()})
	page := res.Body.String()
	if res.Code != 200 || !strings.Contains(page, "otp-dan@example.edu") || !strings.Contains(page, "is not an email address") || !strings.Contains(page, "1 row(s) with problems") {
		t.Errorf("import: %s", res)
	}
	if last := h.exams.calls[len(h.exams.calls)-1]; last != "SetRoster ann@example.edu ben@example.edu dan@example.edu" {
		t.Errorf("roster set to %q", last)
	}
}

// TestReview scores a group (htmx: the card comes back done; a refusal
// goes to the card's error slot), and accepts every suggestion.
func TestReview(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(instructor)
	form := url.Values{"question": {"1"}, "part": {"e"}, "answer": {"it is smooth"}, "group": {"v1"}, "attempt_ids": {"10,11"},
		"score": {"3"}, "reason": {"Smooth, one limit."}, "max": {"4"}, "position": {"1"}}
	htmx := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"}
	form.Set(csrfField, b.token)
	res := b.do(http.MethodPost, "/instructor/exams/1/review", strings.NewReader(form.Encode()), htmx)
	if res.Code != 200 || !strings.Contains(res.Body.String(), `class="review-card done"`) || !strings.Contains(res.Body.String(), "given to 2 answer(s)") {
		t.Errorf("decide: %s", res)
	}
	want := marksmith.ReviewDecision{Question: 1, Part: "e", Answer: "it is smooth", Group: "v1", AttemptIDs: []int64{10, 11}, Score: 3, Reason: "Smooth, one limit."}
	if len(h.exams.reviews) != 1 || !equalDecision(h.exams.reviews[0], want) {
		t.Errorf("decision %+v, want %+v", h.exams.reviews, want)
	}
	form.Set("reason", "")
	res = b.do(http.MethodPost, "/instructor/exams/1/review", strings.NewReader(form.Encode()), htmx)
	if res.Code != http.StatusUnprocessableEntity || res.Header.Get("HX-Retarget") != "#g-1-e-1-error" || !strings.Contains(res.Body.String(), "reason is required") {
		t.Errorf("no reason: %s %v", res, res.Header)
	}
	form.Set("reason", "x")
	form.Set("group", "stale")
	res = b.do(http.MethodPost, "/instructor/exams/1/review", strings.NewReader(form.Encode()), htmx)
	if res.Code != http.StatusConflict || !strings.Contains(res.Body.String(), "Reload the queue") {
		t.Errorf("stale group: %s", res)
	}
	// Without htmx the form goes back to the queue.
	form.Set("group", "v1")
	if res := b.post("/instructor/exams/1/review", form); res.Code != http.StatusSeeOther {
		t.Errorf("plain decide: %s", res)
	}
	if res := b.post("/instructor/exams/1/review/accept", url.Values{"reason": {"ok"}}); res.Code != http.StatusSeeOther || len(h.exams.accepts) != 1 || h.exams.accepts[0].Reason != "ok" {
		t.Errorf("accept all: %d %+v", res.Code, h.exams.accepts)
	}
}

func equalDecision(a, b marksmith.ReviewDecision) bool {
	if len(a.AttemptIDs) != len(b.AttemptIDs) {
		return false
	}
	for i := range a.AttemptIDs {
		if a.AttemptIDs[i] != b.AttemptIDs[i] {
			return false
		}
	}
	a.AttemptIDs, b.AttemptIDs = nil, nil
	return a.Question == b.Question && a.Part == b.Part && a.Answer == b.Answer && a.Group == b.Group && a.Score == b.Score && a.Reason == b.Reason
}

var rowName = regexp.MustCompile(`<th scope="row">(?:<a [^>]*>)?([A-Z][a-z]+)`)

// TestGradebookSort sorts on the server by any column, both ways, the
// ungraded last; and the CSV is the one Deps.GradebookCSV writes.
func TestGradebookSort(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(instructor)
	cases := map[string]string{
		"":                      "Ann Ben Cat",
		"?sort=total&dir=desc":  "Ben Ann Cat",
		"?sort=total&dir=asc":   "Ann Ben Cat",
		"?sort=q1&dir=asc":      "Ben Ann Cat",
		"?sort=q2&dir=desc":     "Ben Ann Cat",
		"?sort=name&dir=desc":   "Cat Ben Ann",
		"?sort=review&dir=desc": "Ben Ann Cat",
		"?sort=status&dir=asc":  "Cat Ann Ben",
	}
	for q, want := range cases {
		body := b.get("/instructor/exams/1/gradebook" + q).Body.String()
		var names []string
		for _, m := range rowName.FindAllStringSubmatch(body, -1) {
			names = append(names, m[1])
		}
		if got := strings.Join(names, " "); got != want {
			t.Errorf("gradebook%s: %s, want %s", q, got, want)
		}
	}
	res := b.get("/instructor/exams/1/gradebook.csv")
	if res.Code != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(res.Header.Get("Content-Disposition"), "exam-1-gradebook.csv") ||
		res.Body.String() != "email,total\nann@example.edu,21\nben@example.edu,22\ncat@example.edu,\n" {
		t.Errorf("CSV: %s %v", res, res.Header)
	}
	if res := h.as(otherProf).get("/instructor/exams/1/gradebook.csv"); res.Code != http.StatusNotFound {
		t.Errorf("another instructor's CSV: %d", res.Code)
	}
}

// TestMoodleDownloads downloads a template's variants and an exam's
// questions as Moodle XML from the pages, with the form's count and seed;
// bad numbers are a page saying what is wrong, another instructor's exam
// is not found.
func TestMoodleDownloads(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(instructor)
	page := b.get("/instructor/bank/template?id=dasc7606/q7").Body.String()
	if !strings.Contains(page, `action="/instructor/bank/template/moodle.xml"`) {
		t.Fatal("the template page has no Moodle export form")
	}
	res := b.get("/instructor/bank/template/moodle.xml?id=dasc7606/q7&version=1&count=30&seed=9")
	if res.Code != 200 || res.Header.Get("Content-Type") != "application/xml; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != "attachment; filename=dasc7606-q7-moodle.xml" ||
		res.Body.String() != "<quiz><!-- dasc7606/q7 v1 count 30 seed 9 --></quiz>\n" {
		t.Errorf("template export: %d %v %q", res.Code, res.Header, res.Body)
	}
	if !strings.Contains(b.get("/instructor/exams/1").Body.String(), `href="/instructor/exams/1/moodle.xml"`) {
		t.Error("the exam page has no Moodle XML link")
	}
	res = b.get("/instructor/exams/1/moodle.xml")
	if res.Code != 200 || res.Body.String() != "<quiz><!-- exam 1 count 100 seed 1 --></quiz>\n" ||
		res.Header.Get("Content-Disposition") != "attachment; filename=exam-1-moodle.xml" {
		t.Errorf("exam export: %d %v %q", res.Code, res.Header, res.Body)
	}
	for _, q := range []string{"count=x", "count=0", "count=501", "seed=-3"} {
		res := b.get("/instructor/bank/template/moodle.xml?id=dasc7606/q7&" + q)
		if res.Code < 400 || res.Code >= 500 || !strings.Contains(res.Body.String(), "must be a whole number") {
			t.Errorf("%s: %d %s", q, res.Code, res.Body)
		}
	}
	if res := h.as(otherProf).get("/instructor/exams/1/moodle.xml"); res.Code != http.StatusNotFound {
		t.Errorf("another instructor's exam: %d", res.Code)
	}
	if res := h.as(ann).get("/instructor/exams/1/moodle.xml"); res.Code != http.StatusForbidden {
		t.Errorf("a student: %d", res.Code)
	}
}

// TestUploadShowsProblemsAtTheirLines renders a rejected template with each
// problem under its line.
func TestUploadShowsProblemsAtTheirLines(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(instructor)
	res := b.post("/instructor/bank/upload", url.Values{"source": {"id: mine/q1\nmarks: bad\n"}, "format": {"yaml"}})
	body := res.Body.String()
	if res.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `<li id="line-2" class="has-problem"><code>marks: bad</code><span class="problem">column 7: marks: must be a number, not bad</span>`) ||
		!strings.Contains(body, `href="#line-2"`) {
		t.Errorf("upload with a problem: %s", res)
	}
	res = b.post("/instructor/bank/upload", url.Values{"source": {"id: mine/q1\n"}, "format": {"json"}})
	if res.Code != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "id=mine%2Fq1&version=3") || h.tmpl.uploaded[1].Format != "json" {
		t.Errorf("good upload: %s %q", res, res.Header.Get("Location"))
	}
}

// TestAdminUsers creates an account (its one-time password shown once),
// resets a password, and disables an account.
func TestAdminUsers(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(admin)
	res := b.post("/admin/users", url.Values{"email": {"dan@example.edu"}, "name": {"Dan"}, "role": {"instructor"}})
	if res.Code != 200 || !strings.Contains(res.Body.String(), "one-time-secret-1") || h.users.created[0].Role != marksmith.RoleInstructor {
		t.Errorf("create: %s", res)
	}
	res = b.post("/admin/users", url.Values{"email": {"nope"}, "name": {"X"}, "role": {"student"}})
	if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body.String(), "is not an email address") {
		t.Errorf("invalid create: %s", res)
	}
	if res := b.post("/admin/users/3/reset", nil); !strings.Contains(res.Body.String(), "reset-secret-2") {
		t.Errorf("reset: %s", res)
	}
	if res := b.post("/admin/users/3/disable", nil); res.Code != http.StatusSeeOther || !h.users.disabled[3] {
		t.Errorf("disable: %d %v", res.Code, h.users.disabled)
	}
	if res := h.as(instructor).post("/admin/users/3/disable", nil); res.Code != http.StatusForbidden {
		t.Errorf("an instructor disables an account: %d", res.Code)
	}
}
