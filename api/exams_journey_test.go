package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/exams"
	"github.com/marksmith/marksmith/grader"
	"github.com/marksmith/marksmith/storage"
)

// journeyExam is the exam the journey builds: a numeric question with
// error carried forward (q6), a multi-select question (q7) and a question
// with multi-select parts and an essay that needs review (q1).
var journeyQuestions = []map[string]any{
	{"template": "dasc7606/q6"},
	{"template": "dasc7606/q7"},
	{"template": "dasc7606/q1", "marks": 6}, // scaled from the template's 12
}

// journeyStudent is one student of the journey.
type journeyStudent struct {
	email   string
	token   string
	attempt int64
	seq     int64
	// papers are the student's questions with their keys, read through the
	// instructor's view of the attempt, by exam position.
	papers map[int]*bank.Variant
	// answers are what the student saved last, by position and part.
	answers map[int]map[string]string
}

// TestExamJourney drives the whole exam journey through the HTTP API on
// Postgres (and on SQLite, which needs nothing): an admin creates an
// instructor, who assembles an exam from the built-in bank, sets a roster
// of three students and publishes; each student starts, autosaves
// (including a stale and a repeated save) and submits, one overdue; the
// scores are checked against the keys; then a review override, a regrade
// dry run and a regrade against a corrected template, the release, what
// students see, and the gradebook as JSON and CSV. Every request and
// response is checked against openapi.json, and every response a student
// gets is scanned for keys.
func TestExamJourney(t *testing.T) {
	for _, dialect := range []string{storage.DialectPostgres, storage.DialectSQLite} {
		t.Run(dialect, func(t *testing.T) {
			runJourney(t, newExamHarness(t, dialect))
		})
	}
}

// asStudent is h.call for a student's request: the response must not
// hold anything of a key.
func (h *harness) asStudent(method, path string, s *journeyStudent, body any, want int, out any) response {
	h.t.Helper()
	resp := h.call(method, path, s.token, body, want, out)
	if leaks := studentLeaks(resp.body); len(leaks) > 0 {
		h.t.Fatalf("%s %s as student %s: the response shows %v:\n%.800s", method, path, s.email, leaks, resp.body)
	}
	return resp
}

// save autosaves one part for s with the next seq and returns the result.
func (h *harness) save(s *journeyStudent, question int, part, answer string) saveResponse {
	h.t.Helper()
	s.seq++
	var res saveResponse
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/%d/%s", s.attempt, question, part), s,
		map[string]any{"answer": answer, "seq": s.seq}, 200, &res)
	if !res.Stored || res.Stale || res.Answer == nil || res.Answer.Answer != answer || res.Answer.Seq != s.seq {
		h.t.Fatalf("save %s q%d%s=%q seq %d: %+v", s.email, question, part, answer, s.seq, res)
	}
	if s.answers[question] == nil {
		s.answers[question] = map[string]string{}
	}
	s.answers[question][part] = answer
	return res
}

// expectedGrades grades a student's saved answers with the bank, scaled to
// the exam's marks: the scores the server must give, computed apart from
// it.
func expectedGrades(t *testing.T, v *bank.Variant, answers map[string]string, marks float64) map[string]grader.Result {
	t.Helper()
	rs, err := v.Grade(answers)
	if err != nil {
		t.Fatalf("grade %s: %v", v.Template, err)
	}
	out := map[string]grader.Result{}
	for _, r := range rs {
		r.Score *= marks / v.Marks
		r.Max *= marks / v.Marks
		out[r.Part] = r
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func runJourney(t *testing.T, h *harness) {
	admin := h.tokenFor(h.admin)

	// The admin creates two instructors through the users API.
	for _, email := range []string{"prof@example.edu", "other@example.edu"} {
		h.call("POST", "/api/v1/users", admin, map[string]any{"email": email, "name": "Prof " + email[:4], "role": "instructor", "password": testPassword}, 201, nil)
	}
	prof := h.login("prof@example.edu", testPassword).AccessToken
	other := h.login("other@example.edu", testPassword).AccessToken

	// The instructor imports three students.
	var imp importResponse
	h.call("POST", "/api/v1/users/import", prof, []map[string]any{
		{"email": "ann@example.edu", "name": "Ann", "student_key": "3035000001", "password": testPassword},
		{"email": "ben@example.edu", "name": "Ben", "student_key": "3035000002", "password": testPassword},
		{"email": "cat@example.edu", "name": "Cat", "student_key": "3035000003", "password": testPassword},
	}, 200, &imp)
	if imp.Created != 3 {
		t.Fatalf("import: %+v", imp)
	}

	// The exam: opens now, for three hours, one hour each, two minutes' grace.
	start := h.clock.Now()
	examBody := map[string]any{
		"title": "DASC7606 midterm", "seed": 20260519, "questions": journeyQuestions,
		"opens_at": start, "closes_at": start.Add(3 * time.Hour),
		"time_limit_seconds": 3600, "late_grace_seconds": 120,
		"shuffle_questions": true, "shuffle_options": true,
		"feedback": map[string]string{"after_submit": "score", "after_release": "parts"},
	}
	var exam marksmith.Exam
	h.call("POST", "/api/v1/exams", prof, examBody, 201, &exam)
	if exam.Status != marksmith.ExamDraft || len(exam.Questions) != 3 || exam.Seed != 20260519 {
		t.Fatalf("created exam: %+v", exam)
	}
	for i, q := range exam.Questions {
		if q.Position != i+1 || q.Version != 1 || q.TemplateID != journeyQuestions[i]["template"] {
			t.Errorf("question %d: %+v (want position %d, the template pinned at version 1)", i, q, i+1)
		}
	}
	if exam.Questions[2].Marks != 6 || exam.Questions[0].Marks != 24 {
		t.Errorf("marks: %+v (want q6's 24 and q1 scaled to 6)", exam.Questions)
	}
	examPath := fmt.Sprintf("/api/v1/exams/%d", exam.ID)

	// Another instructor sees nothing of it.
	h.call("GET", examPath, other, nil, 404, nil)
	h.call("PUT", examPath+"/roster", other, map[string]any{"students": []string{"ann@example.edu"}}, 404, nil)
	var otherList listExamsResponse
	h.call("GET", "/api/v1/exams", other, nil, 200, &otherList)
	if otherList.Total != 0 || len(otherList.Exams) != 0 {
		t.Errorf("another instructor lists %+v", otherList)
	}

	// The roster: two by email, one by student key.
	var roster struct {
		Students int      `json:"students"`
		Unknown  []string `json:"unknown"`
	}
	h.call("PUT", examPath+"/roster", prof, map[string]any{"students": []string{"ann@example.edu", "BEN@example.edu", "3035000003"}}, 200, &roster)
	if roster.Students != 3 || len(roster.Unknown) != 0 {
		t.Fatalf("roster: %+v", roster)
	}
	var rosterList rosterResponse
	h.call("GET", examPath+"/roster", prof, nil, 200, &rosterList)
	if len(rosterList.Students) != 3 {
		t.Fatalf("roster list: %+v", rosterList)
	}

	// Students cannot start a draft.
	students := []*journeyStudent{{email: "ann@example.edu"}, {email: "ben@example.edu"}, {email: "cat@example.edu"}}
	for _, s := range students {
		s.token = h.login(s.email, testPassword).AccessToken
		s.papers, s.answers = map[int]*bank.Variant{}, map[int]map[string]string{}
	}
	h.asStudent("POST", examPath+"/attempts", students[0], nil, 404, nil)

	// Publish; a second publish is a conflict.
	var pub struct {
		Students, Questions, Papers int
	}
	h.call("POST", examPath+"/publish", prof, nil, 200, &pub)
	if pub.Students != 3 || pub.Questions != 3 || pub.Papers != 9 {
		t.Fatalf("publish: %+v", pub)
	}
	h.call("POST", examPath+"/publish", prof, nil, 409, nil)
	h.call("PUT", examPath, prof, examBody, 409, nil)

	// Each student finds the exam, starts, and resumes the same attempt.
	for _, s := range students {
		var mine myExamsResponse
		h.asStudent("GET", "/api/v1/me/exams", s, nil, 200, &mine)
		if len(mine.Exams) != 1 || mine.Exams[0].ID != exam.ID || !mine.Exams[0].CanStart || mine.Exams[0].Attempt != nil {
			t.Fatalf("%s: my exams %+v", s.email, mine.Exams)
		}
		var view attemptResponse
		h.asStudent("POST", examPath+"/attempts", s, nil, 200, &view)
		s.attempt = view.Attempt.ID
		if view.Attempt.Status != marksmith.AttemptOpen || len(view.Questions) != 3 || !view.Deadline.Equal(start.Add(time.Hour)) {
			t.Fatalf("%s: attempt %+v", s.email, view)
		}
		var again attemptResponse
		h.asStudent("POST", examPath+"/attempts", s, nil, 200, &again)
		if again.Attempt.ID != s.attempt {
			t.Fatalf("%s: resumed attempt %d, first %d", s.email, again.Attempt.ID, s.attempt)
		}
		// The instructor's view of the same attempt has the keys.
		var staff attemptResponse
		h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", s.attempt), prof, nil, 200, &staff)
		for i, q := range staff.Questions {
			if q.Variant == nil {
				t.Fatalf("%s: the instructor's view of question %d has no variant", s.email, q.Question)
			}
			if got := view.Questions[i]; got.Question != q.Question || len(got.Parts) != len(q.Variant.Parts) {
				t.Fatalf("%s: the student's paper differs from the instructor's: %+v", s.email, got)
			}
			s.papers[q.Question] = q.Variant
		}
	}

	key := func(s *journeyStudent, question int, part string) string {
		for _, p := range s.papers[question].Parts {
			if p.ID == part {
				return bank.KeyAnswer(&p.Answer)
			}
		}
		t.Fatalf("%s: question %d has no part %s", s.email, question, part)
		return ""
	}
	const essay = "With beta = 0 swish is linear, x/2; as beta grows it approaches ReLU, and it is smooth."
	answerAll := func(s *journeyStudent) {
		for q := 1; q <= 3; q++ {
			for _, p := range s.papers[q].Parts {
				if p.Answer.Type == grader.Essay {
					h.save(s, q, p.ID, essay)
				} else {
					h.save(s, q, p.ID, key(s, q, p.ID))
				}
			}
		}
	}
	ann, ben, cat := students[0], students[1], students[2]

	// Ann answers every part with its key, after a format error she fixes,
	// then sends a stale save and a repeat; neither changes anything.
	res := h.save(ann, 1, "d", "twelve thousand")
	if res.FormatError == "" || res.Answer.FormatError == "" {
		t.Errorf("a number written in words: no format error in %+v", res)
	}
	answerAll(ann)
	annD := ann.answers[1]["d"]
	var stale saveResponse
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/d", ann.attempt), ann, map[string]any{"answer": "1", "seq": 2}, 200, &stale)
	if stale.Stored || !stale.Stale || stale.Answer.Answer != annD {
		t.Errorf("stale save: %+v (want not stored, stale, the stored answer %q kept)", stale, annD)
	}
	var repeat saveResponse
	lastSeq := ann.seq
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/3/e", ann.attempt), ann, map[string]any{"answer": essay, "seq": lastSeq}, 200, &repeat)
	if repeat.Stored || repeat.Stale || repeat.Answer.Answer != essay || repeat.Answer.Seq != lastSeq {
		t.Errorf("repeated save: %+v (want not stored, not stale, the same answer)", repeat)
	}
	// The same seq with another answer is stale: the first save with a seq wins.
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/3/e", ann.attempt), ann, map[string]any{"answer": "something else", "seq": lastSeq}, 200, &repeat)
	if repeat.Stored || !repeat.Stale || repeat.Answer.Answer != essay {
		t.Errorf("same seq, another answer: %+v (want not stored, stale, the first answer kept)", repeat)
	}
	// A question or part the paper does not have, and a save without its seq.
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/9/a", ann.attempt), ann, map[string]any{"answer": "1", "seq": 99}, 404, nil)
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/zz", ann.attempt), ann, map[string]any{"answer": "1", "seq": 99}, 404, nil)
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/d", ann.attempt), ann, map[string]any{"answer": "1"}, 422, nil)

	// Ben gets (d) wrong and carries the error forward into (f), which
	// earns its marks from his own (d) and (e).
	answerAll(ben)
	dKey, _ := strconv.ParseFloat(key(ben, 1, "d"), 64)
	eKey, _ := strconv.ParseFloat(key(ben, 1, "e"), 64)
	wrongD := dKey * 2
	h.save(ben, 1, "d", strconv.FormatFloat(wrongD, 'f', -1, 64))
	h.save(ben, 1, "f", strconv.FormatFloat(wrongD-eKey, 'f', -1, 64))

	// Cat saves two parts and never submits.
	h.save(cat, 1, "a", key(cat, 1, "a"))
	h.save(cat, 2, "a", key(cat, 2, "a"))

	// Ann and Ben submit, twice: the second submit changes nothing.
	for _, s := range []*journeyStudent{ann, ben} {
		var first, second attemptResponse
		h.clock.Advance(time.Minute)
		h.asStudent("POST", fmt.Sprintf("/api/v1/attempts/%d/submit", s.attempt), s, nil, 200, &first)
		h.asStudent("POST", fmt.Sprintf("/api/v1/attempts/%d/submit", s.attempt), s, nil, 200, &second)
		if first.Attempt.Status != marksmith.AttemptSubmitted || first.Attempt.Score == nil || second.Attempt.Score == nil ||
			*first.Attempt.Score != *second.Attempt.Score || !first.Attempt.SubmittedAt.Equal(*second.Attempt.SubmittedAt) {
			t.Fatalf("%s: submit %+v then %+v", s.email, first.Attempt, second.Attempt)
		}
		// Policy after submit: the score, not the parts.
		for _, q := range first.Questions {
			if len(q.Grades) > 0 {
				t.Errorf("%s: grades shown after submit under a score-only policy: %+v", s.email, q.Grades)
			}
		}
		h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/a", s.attempt), s, map[string]any{"answer": "1", "seq": 1000}, 409, nil)
	}

	// A student reaches only their own attempt.
	h.asStudent("GET", fmt.Sprintf("/api/v1/attempts/%d", ann.attempt), ben, nil, 404, nil)
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/a", cat.attempt), ben, map[string]any{"answer": "1", "seq": 1000}, 404, nil)
	h.asStudent("POST", fmt.Sprintf("/api/v1/attempts/%d/submit", cat.attempt), ann, nil, 404, nil)

	// Cat's hour and grace run out: her attempt is closed and graded with
	// what she saved, and saves are refused.
	h.clock.Advance(time.Hour + 3*time.Minute)
	for _, s := range students {
		s.token = h.tokenFor(&marksmith.User{ID: mustUserID(t, h, s.email), Role: marksmith.RoleStudent})
	}
	prof = h.login("prof@example.edu", testPassword).AccessToken
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/b", cat.attempt), cat, map[string]any{"answer": "1", "seq": 1000}, 410, nil)
	var catView attemptResponse
	h.asStudent("GET", fmt.Sprintf("/api/v1/attempts/%d", cat.attempt), cat, nil, 200, &catView)
	if catView.Attempt.Status != marksmith.AttemptClosed || catView.Attempt.Score == nil {
		t.Fatalf("overdue attempt: %+v", catView.Attempt)
	}

	// Scores: every part as the bank grades the saved answers.
	graded := map[int64]attemptResponse{}
	for _, s := range students {
		var v attemptResponse
		h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", s.attempt), prof, nil, 200, &v)
		graded[s.attempt] = v
		total := 0.0
		for _, q := range v.Questions {
			want := expectedGrades(t, s.papers[q.Question], s.answers[q.Question], exam.Questions[q.Question-1].Marks)
			if len(q.Grades) != len(want) {
				t.Fatalf("%s question %d: %d grades, want %d", s.email, q.Question, len(q.Grades), len(want))
			}
			for _, g := range q.Grades {
				w := want[g.Part]
				if !near(g.Score, w.Score) || !near(g.Max, w.Max) || g.NeedsReview != w.NeedsReview {
					t.Errorf("%s question %d part %s: score %v/%v review %v, want %v/%v review %v", s.email, q.Question, g.Part, g.Score, g.Max, g.NeedsReview, w.Score, w.Max, w.NeedsReview)
				}
				total += g.Score
			}
		}
		if v.Attempt.Score == nil || !near(*v.Attempt.Score, total) {
			t.Errorf("%s: total %v, want the sum of the parts %v", s.email, v.Attempt.Score, total)
		}
	}
	// The known answers, in plain figures: Ann full marks on every part a
	// machine grades; Ben none for (d) but all of (f); Cat only her two parts.
	partScore := func(s *journeyStudent, question int, part string) (float64, float64) {
		for _, q := range graded[s.attempt].Questions {
			for _, g := range q.Grades {
				if q.Question == question && g.Part == part {
					return g.Score, g.Max
				}
			}
		}
		t.Fatalf("%s: no grade for question %d part %s", s.email, question, part)
		return 0, 0
	}
	for _, q := range graded[ann.attempt].Questions {
		for _, g := range q.Grades {
			if !g.NeedsReview && !near(g.Score, g.Max) {
				t.Errorf("ann question %d part %s: %v of %v with the key", q.Question, g.Part, g.Score, g.Max)
			}
		}
	}
	if sc, _ := partScore(ben, 1, "d"); sc != 0 {
		t.Errorf("ben (d) wrong: score %v", sc)
	}
	if sc, mx := partScore(ben, 1, "f"); !near(sc, mx) || mx == 0 {
		t.Errorf("ben (f) carried forward: %v of %v", sc, mx)
	}
	if sc, mx := partScore(cat, 1, "a"); !near(sc, mx) {
		t.Errorf("cat (a): %v of %v", sc, mx)
	}
	if sc, _ := partScore(cat, 1, "b"); sc != 0 {
		t.Errorf("cat unanswered (b): %v", sc)
	}

	// Review: Ann's and Ben's identical essays are one group.
	var queue reviewResponse
	h.call("GET", examPath+"/review", prof, nil, 200, &queue)
	var group *exams.ReviewGroup
	for i, g := range queue.Groups {
		if g.Question == 3 && g.Part == "e" {
			if group != nil {
				t.Fatalf("two review groups for identical essays: %+v", queue.Groups)
			}
			group = &queue.Groups[i]
		}
	}
	if group == nil || group.Count != 2 || len(group.AttemptIDs) != 2 || group.Reference == "" || len(group.Rubric) == 0 {
		t.Fatalf("review group of the shared essay: %+v", group)
	}
	override := map[string]any{"question": 3, "part": "e", "answer": group.Answer, "score": 1.5}
	h.call("POST", examPath+"/review", prof, override, 422, nil)
	override["reason"] = "Names the linear and ReLU limits but not the non-monotonic bump."
	h.call("POST", examPath+"/review", prof, override, 200, nil)
	for _, s := range []*journeyStudent{ann, ben} {
		var v attemptResponse
		h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", s.attempt), prof, nil, 200, &v)
		for _, q := range v.Questions {
			for _, g := range q.Grades {
				if q.Question == 3 && g.Part == "e" && (g.Score != 1.5 || g.ReviewReason == "" || g.NeedsReview) {
					t.Errorf("%s essay after override: %+v", s.email, g)
				}
			}
		}
		graded[s.attempt] = v
	}

	// Regrade: a corrected q7 whose part (a) key drops cross-entropy.
	src, err := bank.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	q7 := bank.Find(src, "dasc7606/q7")
	corrected := strings.Replace(string(q7.Source), "key: [cross_entropy, binary_logistic]", "key: [binary_logistic]", 1)
	if corrected == string(q7.Source) {
		t.Fatal("q7's source no longer has the key the test corrects")
	}
	var up uploadResponse
	resp := h.do(request{method: "POST", path: "/api/v1/templates", token: prof, contentType: "application/yaml", body: []byte(corrected)})
	if resp.status != 201 {
		t.Fatalf("upload corrected q7: %d %s", resp.status, resp.body)
	}
	resp.decode(t, &up)
	fixed, err := bank.Load("q7.yaml", []byte(corrected))
	if err != nil {
		t.Fatal(err)
	}
	// What must change: every attempt's q7 (a), graded against the rebuilt paper.
	wantChange := map[int64]float64{}
	for _, s := range students {
		if s.answers[2]["a"] == "" {
			continue
		}
		nv, err := fixed.Rebuild(s.papers[2])
		if err != nil {
			t.Fatal(err)
		}
		after := expectedGrades(t, nv, s.answers[2], exam.Questions[1].Marks)["a"].Score
		if before, _ := partScore(s, 2, "a"); !near(before, after) {
			wantChange[s.attempt] = after
		}
	}
	if len(wantChange) != 3 {
		t.Fatalf("the corrected key should change all three q7 (a) scores: %v", wantChange)
	}
	regrade := map[string]any{"template": "dasc7606/q7", "version": up.Version, "dry_run": true}
	var dry exams.RegradeReport
	h.call("POST", examPath+"/regrade", prof, regrade, 200, &dry)
	checkRegrade := func(rep exams.RegradeReport) {
		t.Helper()
		got := map[int64]float64{}
		for _, c := range rep.Changes {
			if c.Question != 2 || c.Part != "a" {
				t.Errorf("unexpected change %+v", c)
			}
			got[c.AttemptID] = c.After
		}
		if len(got) != len(wantChange) {
			t.Errorf("changes %+v, want %v", rep.Changes, wantChange)
		}
		for id, after := range wantChange {
			if !near(got[id], after) {
				t.Errorf("attempt %d: after %v, want %v", id, got[id], after)
			}
		}
	}
	checkRegrade(dry)
	if sc, _ := partScore(ann, 2, "a"); sc == wantChange[ann.attempt] {
		t.Fatal("test is vacuous")
	}
	var afterDry attemptResponse
	h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", ann.attempt), prof, nil, 200, &afterDry)
	if *afterDry.Attempt.Score != *graded[ann.attempt].Attempt.Score {
		t.Errorf("a dry run changed the score: %v -> %v", *graded[ann.attempt].Attempt.Score, *afterDry.Attempt.Score)
	}
	regrade["dry_run"] = false
	var real exams.RegradeReport
	h.call("POST", examPath+"/regrade", prof, regrade, 200, &real)
	checkRegrade(real)
	finalScore := map[int64]float64{}
	questionScores := map[int][]float64{} // by position, one per student
	for _, s := range students {
		var v attemptResponse
		h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", s.attempt), prof, nil, 200, &v)
		for _, q := range v.Questions {
			sum := 0.0
			for _, g := range q.Grades {
				sum += g.Score
			}
			questionScores[q.Question] = append(questionScores[q.Question], sum)
		}
		before, _ := partScore(s, 2, "a")
		if want := *graded[s.attempt].Attempt.Score - before + wantChange[s.attempt]; !near(*v.Attempt.Score, want) {
			t.Errorf("%s: score after regrade %v, want %v", s.email, *v.Attempt.Score, want)
		}
		finalScore[s.attempt] = *v.Attempt.Score
	}

	// The audit log has the override (one entry per attempt) and the regrade.
	var audit auditResponse
	h.call("GET", examPath+"/audit", prof, nil, 200, &audit)
	actions := map[string]int{}
	for _, e := range audit.Entries {
		actions[e.Action]++
		if e.Action == "override" && e.Reason == "" {
			t.Errorf("override without its reason in the log: %+v", e)
		}
	}
	if actions["override"] < 2 || actions["regrade"] < 1 || actions["publish"] != 1 {
		t.Errorf("audit actions %v", actions)
	}

	// Before release a student sees the score only; after, the parts.
	var annView attemptResponse
	h.asStudent("GET", fmt.Sprintf("/api/v1/attempts/%d", ann.attempt), ann, nil, 200, &annView)
	if annView.Released || annView.Attempt.Score == nil || *annView.Attempt.Score != finalScore[ann.attempt] {
		t.Errorf("ann before release: %+v", annView.Attempt)
	}
	var released marksmith.Exam
	h.call("POST", examPath+"/release", prof, nil, 200, &released)
	if !released.Released || released.ReleasedAt == nil {
		t.Fatalf("release: %+v", released)
	}
	h.asStudent("GET", fmt.Sprintf("/api/v1/attempts/%d", ann.attempt), ann, nil, 200, &annView)
	grades := 0
	for _, q := range annView.Questions {
		grades += len(q.Grades)
		for _, g := range q.Grades {
			if g.Rule != "" || g.ReviewReason != "" {
				t.Errorf("a student sees grading internals: %+v", g)
			}
		}
	}
	if !annView.Released || grades != 8+3+5 {
		t.Errorf("ann after release: released %v, %d grades (want 16)", annView.Released, grades)
	}
	var mine myExamsResponse
	h.asStudent("GET", "/api/v1/me/exams", cat, nil, 200, &mine)
	if len(mine.Exams) != 1 || mine.Exams[0].Attempt == nil || mine.Exams[0].Attempt.Score == nil || *mine.Exams[0].Attempt.Score != finalScore[cat.attempt] {
		t.Errorf("cat's exams after release: %+v", mine.Exams)
	}

	// The gradebook: JSON, and CSV by query or by Accept.
	h.call("GET", examPath+"/gradebook", prof, nil, 200, nil)
	for _, r := range []request{
		{method: "GET", path: examPath + "/gradebook?format=csv", token: prof},
		{method: "GET", path: examPath + "/gradebook", token: prof, header: map[string]string{"Accept": "text/csv"}},
	} {
		resp := h.do(r)
		if resp.status != 200 {
			t.Fatalf("gradebook CSV: %d %s", resp.status, resp.body)
		}
		checkGradebookCSV(t, resp, students, finalScore)
	}
	h.call("GET", examPath+"/gradebook?format=xml", prof, nil, 400, nil)

	// Statistics: three graded attempts; each question's mean is the mean
	// of the students' final scores for it.
	var stats exams.Stats
	h.call("GET", examPath+"/stats", prof, nil, 200, &stats)
	if stats.N != 3 || len(stats.Questions) != 3 {
		t.Fatalf("stats: n %d, %d questions", stats.N, len(stats.Questions))
	}
	for _, q := range stats.Questions {
		mean := 0.0
		for _, sc := range questionScores[q.Position] {
			mean += sc / 3
		}
		if q.N != 3 || !near(q.Mean, mean) || !near(q.Max, exam.Questions[q.Position-1].Marks) || len(q.Parts) == 0 {
			t.Errorf("stats of question %d: n %d mean %v max %v, want 3, %v, %v", q.Position, q.N, q.Mean, q.Max, mean, exam.Questions[q.Position-1].Marks)
		}
	}
}

// checkGradebookCSV checks the CSV gradebook: headers, byte-order mark,
// a header row, one row per student with the final total.
func checkGradebookCSV(t *testing.T, resp response, students []*journeyStudent, finalScore map[int64]float64) {
	t.Helper()
	if ct := resp.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := resp.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !bytes.HasPrefix(resp.body, []byte("\xef\xbb\xbf")) {
		t.Fatalf("no byte-order mark: %q", resp.body[:min(20, len(resp.body))])
	}
	recs, err := csv.NewReader(bytes.NewReader(resp.body[3:])).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	if len(recs) != 1+len(students) {
		t.Fatalf("%d CSV rows, want a header and %d students:\n%s", len(recs), len(students), resp.body)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.ToLower(h)] = i
	}
	for _, need := range []string{"email", "total"} {
		if _, ok := col[need]; !ok {
			t.Fatalf("CSV header %q has no %s column", recs[0], need)
		}
	}
	seen := 0
	for _, row := range recs[1:] {
		for _, s := range students {
			if row[col["email"]] != s.email {
				continue
			}
			seen++
			total, err := strconv.ParseFloat(row[col["total"]], 64)
			if err != nil || !near(total, finalScore[s.attempt]) {
				t.Errorf("%s: CSV total %q, want %v", s.email, row[col["total"]], finalScore[s.attempt])
			}
		}
	}
	if seen != len(students) {
		t.Errorf("CSV rows for %d of %d students:\n%s", seen, len(students), resp.body)
	}
}

// mustUserID looks a user's id up through the admin API.
func mustUserID(t *testing.T, h *harness, email string) int64 {
	t.Helper()
	var list listUsersResponse
	h.call(http.MethodGet, "/api/v1/users?q="+email, h.tokenFor(h.admin), nil, 200, &list)
	for _, u := range list.Users {
		if u.Email == email {
			return u.ID
		}
	}
	t.Fatalf("no user %s", email)
	return 0
}
