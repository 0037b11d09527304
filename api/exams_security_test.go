package api

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/storage"
)

// publishedExam creates an instructor and a student, and an exam of the
// instructor's on q7 for the student, published and open; it returns the
// instructor's and student's tokens and the exam's id.
func publishedExam(t *testing.T, h *harness, instructorEmail, studentEmail string) (prof, student string, examID int64) {
	t.Helper()
	admin := h.tokenFor(h.admin)
	h.call("POST", "/api/v1/users", admin, map[string]any{"email": instructorEmail, "name": "Prof", "role": "instructor", "password": testPassword}, 201, nil)
	h.call("POST", "/api/v1/users", admin, map[string]any{"email": studentEmail, "name": "Student", "password": testPassword}, 201, nil)
	prof = h.login(instructorEmail, testPassword).AccessToken
	student = h.login(studentEmail, testPassword).AccessToken
	now := h.clock.Now()
	var e marksmith.Exam
	h.call("POST", "/api/v1/exams", prof, map[string]any{
		"title": "Quiz of " + instructorEmail, "questions": []map[string]any{{"template": "dasc7606/q7"}, {"template": "dasc7606/q1"}},
		"opens_at": now.Add(-time.Minute), "closes_at": now.Add(time.Hour), "roster": []string{studentEmail},
		"feedback": map[string]string{"after_submit": "parts", "after_release": "parts"},
	}, 201, &e)
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/publish", e.ID), prof, nil, 200, nil)
	return prof, student, e.ID
}

// TestExamRouteAccess calls every exam route as each role that its access
// excludes, with a real exam and attempt behind it, and checks that the
// role is refused before anything happens: 403 (401 without a token).
// Students get 403 on every instructor route; instructors and admins on
// the routes where a student takes an exam.
func TestExamRouteAccess(t *testing.T) {
	h := newExamHarness(t, storage.DialectSQLite)
	prof, student, examID := publishedExam(t, h, "prof@example.edu", "sam@example.edu")
	var view marksmith.AttemptView
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", examID), student, nil, 200, &view)
	tokens := map[marksmith.Role]string{
		marksmith.RoleStudent:    student,
		marksmith.RoleInstructor: prof,
		marksmith.RoleAdmin:      h.tokenFor(h.admin),
	}
	fill := strings.NewReplacer(":question", "1", ":part", "a")
	checked := 0
	for _, r := range h.srv.routes() {
		if !strings.Contains(r.path, "/exams") && !strings.Contains(r.path, "/attempts") {
			continue
		}
		id := examID
		if strings.HasPrefix(r.path, "/api/v1/attempts/") {
			id = view.Attempt.ID
		}
		path := strings.Replace(fill.Replace(r.path), ":id", fmt.Sprint(id), 1)
		var body []byte
		if r.method == "POST" || r.method == "PUT" {
			body = []byte(`{}`)
		}
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			if got := h.do(request{method: r.method, path: path, body: body}); got.status != 401 {
				t.Errorf("anonymous: %d, want 401", got.status)
			}
			for _, role := range []marksmith.Role{marksmith.RoleStudent, marksmith.RoleInstructor, marksmith.RoleAdmin} {
				if slices.Contains(r.access.roles, role) {
					continue
				}
				checked++
				got := h.do(request{method: r.method, path: path, token: tokens[role], body: body})
				if got.status != 403 {
					t.Errorf("%s: %d, want 403: %s", role, got.status, got.body)
				}
				if role == marksmith.RoleStudent {
					if leaks := studentLeaks(got.body); len(leaks) > 0 {
						t.Errorf("the refusal shows %v", leaks)
					}
				}
			}
		})
	}
	// 31 staff routes refused to students; 4 student routes to instructors and admins.
	if checked != 31+2*4 {
		t.Errorf("checked %d refusals, want %d: has the route table changed?", checked, 31+2*4)
	}
}

// TestExamObjectAccess checks what the role check cannot: an instructor
// reaches only their own exams and their attempts, a student only their
// own attempt, and both get 404 (not 403), telling nothing of what exists.
func TestExamObjectAccess(t *testing.T) {
	h := newExamHarness(t, storage.DialectSQLite)
	prof, sam, examID := publishedExam(t, h, "prof@example.edu", "sam@example.edu")
	other, kim, otherExam := publishedExam(t, h, "other@example.edu", "kim@example.edu")
	var samView, kimView marksmith.AttemptView
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", examID), sam, nil, 200, &samView)
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", otherExam), kim, nil, 200, &kimView)
	samAttempt, kimAttempt := samView.Attempt.ID, kimView.Attempt.ID

	exam := func(id int64, tail string) string { return fmt.Sprintf("/api/v1/exams/%d%s", id, tail) }
	attempt := func(id int64, tail string) string { return fmt.Sprintf("/api/v1/attempts/%d%s", id, tail) }
	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"instructor reads own exam", "GET", exam(examID, ""), prof, nil, 200},
		{"instructor reads another's exam", "GET", exam(otherExam, ""), prof, nil, 404},
		{"instructor reads another's roster", "GET", exam(otherExam, "/roster"), prof, nil, 404},
		{"instructor reads another's review queue", "GET", exam(otherExam, "/review"), prof, nil, 404},
		{"instructor reads another's gradebook", "GET", exam(otherExam, "/gradebook"), prof, nil, 404},
		{"instructor reads another's stats", "GET", exam(otherExam, "/stats"), prof, nil, 404},
		{"instructor reads another's audit", "GET", exam(otherExam, "/audit"), prof, nil, 404},
		{"instructor releases another's exam", "POST", exam(otherExam, "/release"), prof, nil, 404},
		{"instructor deletes another's exam", "DELETE", exam(otherExam, ""), prof, nil, 404},
		{"instructor reads another's student's attempt", "GET", attempt(kimAttempt, ""), prof, nil, 404},
		{"instructor reads own student's attempt", "GET", attempt(samAttempt, ""), prof, nil, 200},
		{"other instructor reads own student's attempt", "GET", attempt(kimAttempt, ""), other, nil, 200},
		{"admin reads any exam", "GET", exam(otherExam, ""), h.tokenFor(h.admin), nil, 200},
		{"admin reads any attempt", "GET", attempt(samAttempt, ""), h.tokenFor(h.admin), nil, 200},
		{"student reads own attempt", "GET", attempt(samAttempt, ""), sam, nil, 200},
		{"student reads another's attempt", "GET", attempt(kimAttempt, ""), sam, nil, 404},
		{"student saves into another's attempt", "PUT", attempt(kimAttempt, "/answers/1/a"), sam, map[string]any{"answer": "A", "seq": 1}, 404},
		{"student submits another's attempt", "POST", attempt(kimAttempt, "/submit"), sam, nil, 404},
		{"student starts an exam not on their roster", "POST", exam(otherExam, "/attempts"), sam, nil, 404},
		{"student reads a missing attempt", "GET", attempt(kimAttempt+100, ""), sam, nil, 404},
		{"instructor prints another's exam as a job", "POST", exam(otherExam, "/papers/jobs?key=true"), prof, nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.call(tt.method, tt.path, tt.token, tt.body, tt.want, nil)
			if tt.token == sam || tt.token == kim {
				if leaks := studentLeaks(resp.body); len(leaks) > 0 {
					t.Errorf("a student's response shows %v", leaks)
				}
			}
		})
	}
	// A print job is reached only by its exam's instructor (or an admin),
	// and only through its own exam.
	var pj marksmith.PrintJob
	h.call("POST", exam(otherExam, "/papers/jobs?key=true"), other, nil, 202, &pj)
	h.call("GET", exam(otherExam, fmt.Sprintf("/papers/jobs/%d", pj.ID)), other, nil, 200, nil)
	h.call("GET", exam(otherExam, fmt.Sprintf("/papers/jobs/%d", pj.ID)), prof, nil, 404, nil)
	h.call("GET", exam(examID, fmt.Sprintf("/papers/jobs/%d", pj.ID)), prof, nil, 404, nil)
	h.call("GET", exam(examID, fmt.Sprintf("/papers/jobs/%d/file", pj.ID)), h.tokenFor(h.admin), nil, 404, nil)
	// The student's own attempt, and their list of exams, show no key.
	var mine myExamsResponse
	h.call("GET", "/api/v1/me/exams", sam, nil, 200, &mine)
	if len(mine.Exams) != 1 || mine.Exams[0].ID != examID {
		t.Errorf("sam's exams: %+v", mine.Exams)
	}
	// After submitting under an after-submit policy of parts, grades are
	// shown, never a key.
	var sub marksmith.AttemptView
	resp := h.call("POST", attempt(samAttempt, "/submit"), sam, nil, 200, &sub)
	if leaks := studentLeaks(resp.body); len(leaks) > 0 {
		t.Errorf("submitted attempt shows %v", leaks)
	}
	if len(sub.Questions) == 0 || len(sub.Questions[0].Grades) == 0 {
		t.Errorf("no grades after submit under a parts policy: %+v", sub.Questions)
	}
}

// TestExamDraftLifecycle edits and deletes drafts, and checks that a
// published exam can be neither.
func TestExamDraftLifecycle(t *testing.T) {
	h := newExamHarness(t, storage.DialectSQLite)
	admin := h.tokenFor(h.admin)
	h.call("POST", "/api/v1/users", admin, map[string]any{"email": "prof@example.edu", "name": "Prof", "role": "instructor", "password": testPassword}, 201, nil)
	prof := h.login("prof@example.edu", testPassword).AccessToken
	now := h.clock.Now()
	body := map[string]any{"title": "Draft", "questions": []map[string]any{{"template": "dasc7606/q7"}},
		"opens_at": now, "closes_at": now.Add(time.Hour)}
	var e marksmith.Exam
	h.call("POST", "/api/v1/exams", prof, body, 201, &e)
	path := fmt.Sprintf("/api/v1/exams/%d", e.ID)

	body["title"] = "Renamed"
	body["questions"] = []map[string]any{{"template": "dasc7606/q7", "marks": 20}, {"template": "dasc7606/q6"}}
	var updated marksmith.Exam
	h.call("PUT", path, prof, body, 200, &updated)
	if updated.Title != "Renamed" || len(updated.Questions) != 2 || updated.Questions[0].Marks != 20 || updated.Seed != e.Seed {
		t.Errorf("updated: %+v (want the new title and questions, the seed kept)", updated)
	}
	bad := map[string]any{"title": "", "questions": []map[string]any{{"template": "no/such"}}, "opens_at": now, "closes_at": now.Add(-time.Hour)}
	resp := h.call("PUT", path, prof, bad, 422, nil)
	if f := strings.Join(resp.fields(t), ","); !strings.Contains(f, "title") || !strings.Contains(f, "closes_at") || !strings.Contains(f, "questions[0].template") {
		t.Errorf("invalid draft: fields %s should name title, closes_at and the template", f)
	}
	h.call("POST", "/api/v1/exams", prof, map[string]any{"title": "x", "unknown": 1}, 400, nil)

	var list listExamsResponse
	h.call("GET", "/api/v1/exams?limit=10", prof, nil, 200, &list)
	if list.Total != 1 || list.Exams[0].ID != e.ID || list.Limit != 10 {
		t.Errorf("list: %+v", list)
	}
	h.call("DELETE", path, prof, nil, 204, nil)
	h.call("GET", path, prof, nil, 404, nil)
	h.call("DELETE", path, prof, nil, 404, nil)

	// A published exam stays.
	h.call("POST", "/api/v1/users", admin, map[string]any{"email": "sam@example.edu", "name": "Sam"}, 201, nil)
	body["roster"] = []string{"sam@example.edu"}
	var pub marksmith.Exam
	h.call("POST", "/api/v1/exams", prof, body, 201, &pub)
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/publish", pub.ID), prof, nil, 200, nil)
	h.call("DELETE", fmt.Sprintf("/api/v1/exams/%d", pub.ID), prof, nil, 409, nil)
	h.call("GET", fmt.Sprintf("/api/v1/exams/%d", pub.ID), prof, nil, 200, nil)
	h.call("GET", "/api/v1/exams/abc", prof, nil, 400, nil)
}

// TestLateWork checks the time limit and the late grace through the API:
// a save and a submit within the grace are accepted and marked late; after
// it a save is 410 and a submit finds the attempt closed and graded.
func TestLateWork(t *testing.T) {
	h := newExamHarness(t, storage.DialectSQLite)
	admin := h.tokenFor(h.admin)
	h.call("POST", "/api/v1/users", admin, map[string]any{"email": "prof@example.edu", "name": "Prof", "role": "instructor", "password": testPassword}, 201, nil)
	for _, e := range []string{"lea@example.edu", "max@example.edu"} {
		h.call("POST", "/api/v1/users", admin, map[string]any{"email": e, "name": e[:3], "password": testPassword}, 201, nil)
	}
	prof := h.login("prof@example.edu", testPassword).AccessToken
	lea := h.login("lea@example.edu", testPassword).AccessToken
	maxTok := h.login("max@example.edu", testPassword).AccessToken
	now := h.clock.Now()
	var e marksmith.Exam
	h.call("POST", "/api/v1/exams", prof, map[string]any{"title": "Timed", "questions": []map[string]any{{"template": "dasc7606/q7"}},
		"opens_at": now, "closes_at": now.Add(time.Hour), "time_limit_seconds": 600, "late_grace_seconds": 60,
		"roster": []string{"lea@example.edu", "max@example.edu"}, "feedback": map[string]string{"after_submit": "score", "after_release": "score"}}, 201, &e)
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/publish", e.ID), prof, nil, 200, nil)
	var leaView, maxView marksmith.AttemptView
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", e.ID), lea, nil, 200, &leaView)
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", e.ID), maxTok, nil, 200, &maxView)
	if leaView.RemainingSeconds != 600 || !leaView.GraceUntil.Equal(now.Add(660*time.Second)) {
		t.Errorf("deadline: %d s left, grace until %v", leaView.RemainingSeconds, leaView.GraceUntil)
	}
	save := func(tok string, id int64, seq int, want int) marksmith.SaveResult {
		var res marksmith.SaveResult
		h.call("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/a", id), tok, map[string]any{"answer": "A", "seq": seq}, want, &res)
		return res
	}
	if res := save(lea, leaView.Attempt.ID, 1, 200); res.Late {
		t.Errorf("an on-time save is late: %+v", res)
	}
	h.clock.Advance(630 * time.Second) // past the deadline, within the grace
	if res := save(lea, leaView.Attempt.ID, 2, 200); !res.Late || !res.Stored {
		t.Errorf("a save in the grace: %+v (want stored, late)", res)
	}
	var sub marksmith.AttemptView
	h.call("POST", fmt.Sprintf("/api/v1/attempts/%d/submit", leaView.Attempt.ID), lea, nil, 200, &sub)
	if sub.Attempt.Status != marksmith.AttemptSubmitted || !sub.Attempt.Late {
		t.Errorf("a submit in the grace: %+v (want submitted, late)", sub.Attempt)
	}
	h.clock.Advance(60 * time.Second) // past the grace
	lea = h.tokenFor(&marksmith.User{ID: sub.Attempt.UserID, Role: marksmith.RoleStudent})
	maxTok = h.tokenFor(&marksmith.User{ID: maxView.Attempt.UserID, Role: marksmith.RoleStudent})
	save(maxTok, maxView.Attempt.ID, 1, 410)
	h.call("POST", fmt.Sprintf("/api/v1/attempts/%d/submit", maxView.Attempt.ID), maxTok, nil, 200, &sub)
	if sub.Attempt.Status != marksmith.AttemptClosed || sub.Attempt.Score == nil || *sub.Attempt.Score != 0 {
		t.Errorf("a submit after the grace: %+v (want closed, graded 0 with nothing saved)", sub.Attempt)
	}
	// Too late to start: the window is still open, but Lea's attempt is done.
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", e.ID), lea, nil, 200, &leaView)
	if leaView.Attempt.Status != marksmith.AttemptSubmitted {
		t.Errorf("resume after submit: %+v", leaView.Attempt)
	}
}

// TestFeedbackPolicy checks what a student sees under a policy of nothing
// after submitting and the key after release: no score and no grades
// until the release, then grades and each part's key.
func TestFeedbackPolicy(t *testing.T) {
	h := newExamHarness(t, storage.DialectSQLite)
	admin := h.tokenFor(h.admin)
	h.call("POST", "/api/v1/users", admin, map[string]any{"email": "prof@example.edu", "name": "Prof", "role": "instructor", "password": testPassword}, 201, nil)
	h.call("POST", "/api/v1/users", admin, map[string]any{"email": "sam@example.edu", "name": "Sam", "password": testPassword}, 201, nil)
	prof := h.login("prof@example.edu", testPassword).AccessToken
	sam := h.login("sam@example.edu", testPassword).AccessToken
	now := h.clock.Now()
	var e marksmith.Exam
	h.call("POST", "/api/v1/exams", prof, map[string]any{"title": "Keys later", "questions": []map[string]any{{"template": "dasc7606/q7"}},
		"opens_at": now, "closes_at": now.Add(time.Hour), "roster": []string{"sam@example.edu"}, "shuffle_options": true,
		"feedback": map[string]string{"after_submit": "none", "after_release": "key"}}, 201, &e)
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/publish", e.ID), prof, nil, 200, nil)
	var v marksmith.AttemptView
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", e.ID), sam, nil, 200, &v)
	attempt := fmt.Sprintf("/api/v1/attempts/%d", v.Attempt.ID)
	var staff marksmith.AttemptView
	h.call("GET", attempt, prof, nil, 200, &staff)
	keys := map[string]string{}
	for _, p := range staff.Questions[0].Parts {
		keys[p.ID] = p.Key.Answer
		h.call("PUT", fmt.Sprintf("%s/answers/1/%s", attempt, p.ID), sam, map[string]any{"answer": keys[p.ID], "seq": 1}, 200, nil)
	}
	resp := h.call("POST", attempt+"/submit", sam, nil, 200, &v)
	if leaks := studentLeaks(resp.body); len(leaks) > 0 {
		t.Errorf("submitted attempt shows %v", leaks)
	}
	if v.Attempt.Score != nil || len(v.Questions[0].Grades) != 0 || v.Questions[0].Score != nil {
		t.Errorf("under after_submit none the student sees a score or grades: %+v %+v", v.Attempt, v.Questions[0])
	}
	var mine myExamsResponse
	h.call("GET", "/api/v1/me/exams", sam, nil, 200, &mine)
	if a := mine.Exams[0].Attempt; a == nil || a.Score != nil {
		t.Errorf("my exams before release: %+v", a)
	}

	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/release", e.ID), prof, nil, 200, nil)
	h.call("GET", attempt, sam, nil, 200, &v)
	if v.Attempt.Score == nil || *v.Attempt.Score != 12 || len(v.Questions[0].Grades) != 3 {
		t.Errorf("after release: score %v, %d grades (want 12 of 12, 3 grades)", v.Attempt.Score, len(v.Questions[0].Grades))
	}
	for _, p := range v.Questions[0].Parts {
		if p.Key == nil || p.Key.Answer != keys[p.ID] {
			t.Errorf("part %s after release with the key: key %+v, want %q", p.ID, p.Key, keys[p.ID])
		}
	}
	if q := v.Questions[0]; q.Variant != nil || q.Template != "" || q.Params != nil {
		t.Errorf("a student gets where the question came from: %+v", q)
	}
}
