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
	// papers are the student's questions rebuilt with the bank from the
	// template, version and variant seed the instructor's view of the
	// attempt gives, by exam position; keys are each part's key as that
	// view shows it, and types each part's answer type.
	papers map[int]*bank.Variant
	keys   map[int]map[string]string
	types  map[int]map[string]string
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
func (h *harness) save(s *journeyStudent, question int, part, answer string) marksmith.SaveResult {
	h.t.Helper()
	s.seq++
	var res marksmith.SaveResult
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/%d/%s", s.attempt, question, part), s,
		map[string]any{"answer": answer, "seq": s.seq}, 200, &res)
	if !res.Stored || res.Stale || res.Answer.Raw != answer || res.Answer.Seq != s.seq || res.Answer.Position != question || res.Answer.Part != part {
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
	builtin, err := bank.Builtin()
	if err != nil {
		t.Fatal(err)
	}

	// The admin creates two instructors through the users API.
	for _, email := range []string{"prof@example.edu", "other@example.edu"} {
		h.call("POST", "/api/v1/users", admin, map[string]any{"email": email, "name": "Prof " + email[:4], "role": "instructor", "password": testPassword}, 201, nil)
	}
	prof := h.login("prof@example.edu", testPassword).AccessToken
	other := h.login("other@example.edu", testPassword).AccessToken

	// The instructor imports three students.
	var imp marksmith.ImportReport
	h.call("POST", "/api/v1/users/import", prof, []map[string]any{
		{"email": "ann@example.edu", "name": "Ann", "student_key": "3035000001", "password": testPassword},
		{"email": "ben@example.edu", "name": "Ben", "student_key": "3035000002", "password": testPassword},
		{"email": "cat@example.edu", "name": "Cat", "student_key": "3035000003", "password": testPassword},
	}, 200, &imp)
	if imp.Created != 3 {
		t.Fatalf("import: %+v", imp)
	}

	// The exam: opens now, for three hours, one hour each, two minutes'
	// grace. The seed is sent as a string, as the API writes it.
	start := h.clock.Now()
	examBody := map[string]any{
		"title": "DASC7606 midterm", "seed": "20260519", "questions": journeyQuestions,
		"opens_at": start, "closes_at": start.Add(3 * time.Hour),
		"time_limit_seconds": 3600, "late_grace_seconds": 120,
		"shuffle_questions": true, "shuffle_options": true,
		"feedback": map[string]string{"after_submit": "score", "after_release": "parts"},
	}
	var exam marksmith.Exam
	resp := h.call("POST", "/api/v1/exams", prof, examBody, 201, &exam)
	if exam.Status != marksmith.ExamDraft || len(exam.Questions) != 3 || exam.Seed != 20260519 || exam.Delivery != marksmith.DeliveryOnline {
		t.Fatalf("created exam: %+v", exam)
	}
	if !strings.Contains(string(resp.body), `"seed":"20260519"`) {
		t.Errorf("the seed is not written as a string: %s", resp.body)
	}
	if loc := resp.header.Get("Location"); loc != fmt.Sprintf("/api/v1/exams/%d", exam.ID) {
		t.Errorf("Location %q", loc)
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

	// The roster: two by email, one by student key, one unknown.
	var roster marksmith.RosterResult
	h.call("PUT", examPath+"/roster", prof, map[string]any{"students": []string{"ann@example.edu", "BEN@example.edu", "3035000003", "nobody@example.edu"}}, 200, &roster)
	if roster.Students != 3 || strings.Join(roster.Unknown, ",") != "nobody@example.edu" {
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
		s.keys, s.types = map[int]map[string]string{}, map[int]map[string]string{}
	}
	h.asStudent("POST", examPath+"/attempts", students[0], nil, 404, nil)

	// Publish; a second publish is a conflict, and so is an edit.
	var pub marksmith.PublishReport
	h.call("POST", examPath+"/publish", prof, nil, 200, &pub)
	if pub.ExamID != exam.ID || pub.Students != 3 || pub.Questions != 3 || pub.Papers != 9 || len(pub.Distinct) != 3 {
		t.Fatalf("publish: %+v", pub)
	}
	h.call("POST", examPath+"/publish", prof, nil, 409, nil)
	h.call("PUT", examPath, prof, examBody, 409, nil)

	// Each student finds the exam, starts, and resumes the same attempt.
	for _, s := range students {
		var mine myExamsResponse
		h.asStudent("GET", "/api/v1/me/exams", s, nil, 200, &mine)
		if len(mine.Exams) != 1 || mine.Exams[0].ID != exam.ID || !mine.Exams[0].CanStart || mine.Exams[0].Attempt != nil ||
			mine.Exams[0].State != marksmith.StateOpen || mine.Exams[0].Questions != 3 {
			t.Fatalf("%s: my exams %+v", s.email, mine.Exams)
		}
		var view marksmith.AttemptView
		h.asStudent("POST", examPath+"/attempts", s, nil, 200, &view)
		s.attempt = view.Attempt.ID
		if view.Attempt.Status != marksmith.AttemptOpen || len(view.Questions) != 3 || !view.Deadline.Equal(start.Add(time.Hour)) ||
			!view.GraceUntil.Equal(start.Add(time.Hour+2*time.Minute)) || view.RemainingSeconds != 3600 || !view.ServerTime.Equal(start) ||
			view.Attempt.Mode != marksmith.DeliveryOnline || view.ExamTitle != exam.Title {
			t.Fatalf("%s: attempt %+v %+v", s.email, view, view.Attempt)
		}
		var again marksmith.AttemptView
		h.asStudent("POST", examPath+"/attempts", s, nil, 200, &again)
		if again.Attempt.ID != s.attempt {
			t.Fatalf("%s: resumed attempt %d, first %d", s.email, again.Attempt.ID, s.attempt)
		}
		// The instructor's view of the same attempt has the keys and where
		// each question came from; the bank rebuilds the same paper from it.
		var staff marksmith.AttemptView
		h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", s.attempt), prof, nil, 200, &staff)
		for i, q := range staff.Questions {
			if q.Variant == nil || q.Template == "" || q.Version != 1 {
				t.Fatalf("%s: the instructor's view of question %d has no provenance: %+v", s.email, q.Position, q)
			}
			got := view.Questions[i]
			if got.Position != q.Position || got.Order != q.Order || len(got.Parts) != len(q.Parts) || got.Stem != q.Stem {
				t.Fatalf("%s: the student's paper differs from the instructor's: %+v", s.email, got)
			}
			tmpl := bank.Find(builtin, q.Template)
			v, err := tmpl.Variant(uint64(*q.Variant))
			if err != nil {
				t.Fatal(err)
			}
			s.papers[q.Position] = v
			s.keys[q.Position], s.types[q.Position] = map[string]string{}, map[string]string{}
			for j, p := range q.Parts {
				if p.Key == nil || p.Key.Answer != bank.KeyAnswer(&v.Parts[j].Answer) || p.ID != v.Parts[j].ID ||
					!strings.HasPrefix(v.Parts[j].Prompt, p.Prompt) || p.Hint != v.Parts[j].Instruction || p.Lead != v.Parts[j].Lead {
					t.Fatalf("%s: question %d part %s: key %+v, the bank's variant %d gives %q", s.email, q.Position, p.ID, p.Key, *q.Variant, bank.KeyAnswer(&v.Parts[j].Answer))
				}
				if sp := got.Parts[j]; sp.ID != p.ID || sp.Prompt != p.Prompt || sp.Type != p.Type || sp.Key != nil {
					t.Fatalf("%s: the student's part %+v, the instructor's %+v", s.email, sp, p)
				}
				s.keys[q.Position][p.ID], s.types[q.Position][p.ID] = p.Key.Answer, p.Type
			}
		}
	}

	key := func(s *journeyStudent, question int, part string) string {
		k, ok := s.keys[question][part]
		if !ok {
			t.Fatalf("%s: question %d has no part %s", s.email, question, part)
		}
		return k
	}
	const essay = "With beta = 0 swish is linear, x/2; as beta grows it approaches ReLU, and it is smooth."
	answerAll := func(s *journeyStudent) {
		for q := 1; q <= 3; q++ {
			for _, p := range s.papers[q].Parts {
				if s.types[q][p.ID] == marksmith.TypeEssay {
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
	var stale marksmith.SaveResult
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/d", ann.attempt), ann, map[string]any{"answer": "1", "seq": 2}, 200, &stale)
	if stale.Stored || !stale.Stale || stale.Answer.Raw != annD {
		t.Errorf("stale save: %+v (want not stored, stale, the stored answer %q kept)", stale, annD)
	}
	var repeat marksmith.SaveResult
	lastSeq := ann.seq
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/3/e", ann.attempt), ann, map[string]any{"answer": essay, "seq": lastSeq}, 200, &repeat)
	if repeat.Stored || repeat.Stale || repeat.Answer.Raw != essay || repeat.Answer.Seq != lastSeq {
		t.Errorf("repeated save: %+v (want not stored, not stale, the same answer)", repeat)
	}
	// The same seq with another answer is stale: the first save with a seq wins.
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/3/e", ann.attempt), ann, map[string]any{"answer": "something else", "seq": lastSeq}, 200, &repeat)
	if repeat.Stored || !repeat.Stale || repeat.Answer.Raw != essay {
		t.Errorf("same seq, another answer: %+v (want not stored, stale, the first answer kept)", repeat)
	}
	// A question or part the paper does not have, a save without its seq,
	// a seq past 2^53 and a malformed path.
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/9/a", ann.attempt), ann, map[string]any{"answer": "1", "seq": 99}, 404, nil)
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/zz", ann.attempt), ann, map[string]any{"answer": "1", "seq": 99}, 404, nil)
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/d", ann.attempt), ann, map[string]any{"answer": "1"}, 422, nil)
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/d", ann.attempt), ann, map[string]any{"answer": "1", "seq": int64(1) << 53}, 422, nil)
	h.asStudent("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/0/d", ann.attempt), ann, map[string]any{"answer": "1", "seq": 99}, 400, nil)

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
		var first, second marksmith.AttemptView
		h.clock.Advance(time.Minute)
		h.asStudent("POST", fmt.Sprintf("/api/v1/attempts/%d/submit", s.attempt), s, nil, 200, &first)
		h.asStudent("POST", fmt.Sprintf("/api/v1/attempts/%d/submit", s.attempt), s, nil, 200, &second)
		if first.Attempt.Status != marksmith.AttemptSubmitted || first.Attempt.Score == nil || second.Attempt.Score == nil ||
			*first.Attempt.Score != *second.Attempt.Score || !first.Attempt.SubmittedAt.Equal(*second.Attempt.SubmittedAt) {
			t.Fatalf("%s: submit %+v then %+v", s.email, first.Attempt, second.Attempt)
		}
		// Policy after submit: the score, not the parts.
		for _, q := range first.Questions {
			if len(q.Grades) > 0 || q.Score != nil {
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
	var catView marksmith.AttemptView
	h.asStudent("GET", fmt.Sprintf("/api/v1/attempts/%d", cat.attempt), cat, nil, 200, &catView)
	if catView.Attempt.Status != marksmith.AttemptClosed || catView.Attempt.Score == nil || catView.RemainingSeconds != 0 {
		t.Fatalf("overdue attempt: %+v", catView.Attempt)
	}

	// Scores: every part as the bank grades the saved answers.
	graded := map[int64]marksmith.AttemptView{}
	for _, s := range students {
		var v marksmith.AttemptView
		h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", s.attempt), prof, nil, 200, &v)
		graded[s.attempt] = v
		total := 0.0
		for _, q := range v.Questions {
			want := expectedGrades(t, s.papers[q.Position], s.answers[q.Position], exam.Questions[q.Position-1].Marks)
			if len(q.Grades) != len(want) {
				t.Fatalf("%s question %d: %d grades, want %d", s.email, q.Position, len(q.Grades), len(want))
			}
			for _, g := range q.Grades {
				w := want[g.Part]
				if !near(g.Score, w.Score) || !near(g.Max, w.Max) || g.NeedsReview != w.NeedsReview || g.Rule == "" || g.TemplateVersion != 1 {
					t.Errorf("%s question %d part %s: score %v/%v review %v rule %q, want %v/%v review %v", s.email, q.Position, g.Part, g.Score, g.Max, g.NeedsReview, g.Rule, w.Score, w.Max, w.NeedsReview)
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
				if q.Position == question && g.Part == part {
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
				t.Errorf("ann question %d part %s: %v of %v with the key", q.Position, g.Part, g.Score, g.Max)
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

	// Release waits for the review.
	h.call("POST", examPath+"/release", prof, nil, 409, nil)

	// Review: Ann's and Ben's identical essays are one group.
	var queue reviewResponse
	h.call("GET", examPath+"/review", prof, nil, 200, &queue)
	var group *marksmith.ReviewGroup
	for i, g := range queue.Groups {
		if g.Question == 3 && g.Part == "e" && g.Count == 2 {
			if group != nil {
				t.Fatalf("two review groups for identical essays: %+v", queue.Groups)
			}
			group = &queue.Groups[i]
		}
	}
	if group == nil || len(group.AttemptIDs) != 2 || len(group.Members) != 2 || group.Reference == "" || len(group.Rubric) == 0 || group.Version == "" ||
		group.Members[0].Answer != essay || group.Members[0].AttemptID != min(ann.attempt, ben.attempt) {
		t.Fatalf("review group of the shared essay: %+v", group)
	}
	override := map[string]any{"question": 3, "part": "e", "answer": group.Answer, "group": group.Version, "score": 1.5}
	if f := h.call("POST", examPath+"/review", prof, override, 422, nil).fields(t); strings.Join(f, ",") != "reason" {
		t.Errorf("a decision without a reason: fields %v", f)
	}
	override["reason"] = "Names the linear and ReLU limits but not the non-monotonic bump."
	h.call("POST", examPath+"/review", prof, map[string]any{"question": 3, "part": "e", "answer": group.Answer, "group": "stale", "score": 1.5, "reason": "x"}, 409, nil)
	var decided marksmith.ReviewResult
	h.call("POST", examPath+"/review", prof, override, 200, &decided)
	if decided.Updated != 2 || len(decided.Changes) != 2 {
		t.Fatalf("review: %+v", decided)
	}
	for _, s := range []*journeyStudent{ann, ben} {
		var v marksmith.AttemptView
		h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", s.attempt), prof, nil, 200, &v)
		for _, q := range v.Questions {
			for _, g := range q.Grades {
				if q.Position == 3 && g.Part == "e" && (g.Score != 1.5 || g.ReviewReason != override["reason"] || g.NeedsReview || g.Suggested == nil || g.Rule != "override") {
					t.Errorf("%s essay after override: %+v", s.email, g)
				}
			}
		}
		graded[s.attempt] = v
	}
	// What else awaits review is q6's explanations, (a) and (b_why):
	// accepting the suggested scores of question 1 confirms them all,
	// changing no score; then nothing is left.
	h.call("GET", examPath+"/review", prof, nil, 200, &queue)
	pending := 0
	for _, g := range queue.Groups {
		if g.Question != 1 || (g.Part != "a" && g.Part != "b_why") {
			t.Fatalf("review queue after the decision: %+v", g)
		}
		pending += g.Count
	}
	var accepted marksmith.ReviewResult
	h.call("POST", examPath+"/review/accept", prof, map[string]any{"question": 1, "reason": "Suggested scores confirmed."}, 200, &accepted)
	if accepted.Updated != pending || pending == 0 {
		t.Errorf("accept question 1's suggestions: %+v; want %d", accepted, pending)
	}
	for _, c := range accepted.Changes {
		if c.Before != c.After {
			t.Errorf("accepting a suggestion changed a score: %+v", c)
		}
	}
	h.call("GET", examPath+"/review", prof, nil, 200, &queue)
	if len(queue.Groups) != 0 {
		t.Fatalf("review queue after accepting: %+v", queue.Groups)
	}
	h.call("POST", examPath+"/review/accept", prof, nil, 200, &accepted)
	if accepted.Updated != 0 || len(accepted.Changes) != 0 {
		t.Errorf("accept with nothing to accept: %+v", accepted)
	}

	// Regrade: a corrected q7 whose part (a) key drops cross-entropy. The
	// built-in bank is the admins': the instructor may not add a version.
	q7 := bank.Find(builtin, "dasc7606/q7")
	corrected := strings.Replace(string(q7.Source), "key: [cross_entropy, binary_logistic]", "key: [binary_logistic]", 1)
	if corrected == string(q7.Source) {
		t.Fatal("q7's source no longer has the key the test corrects")
	}
	if resp := h.do(request{method: "POST", path: "/api/v1/templates", token: prof, contentType: "application/yaml", body: []byte(corrected)}); resp.status != 403 {
		t.Fatalf("an instructor corrects a built-in template: %d %s", resp.status, resp.body)
	}
	var up uploadResponse
	admin = h.tokenFor(h.admin)
	resp = h.do(request{method: "POST", path: "/api/v1/templates", token: admin, contentType: "application/yaml", body: []byte(corrected)})
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
	var dry marksmith.RegradeReport
	h.call("POST", examPath+"/regrade", prof, regrade, 200, &dry)
	checkRegrade := func(rep marksmith.RegradeReport) {
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
	var afterDry marksmith.AttemptView
	h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", ann.attempt), prof, nil, 200, &afterDry)
	if *afterDry.Attempt.Score != *graded[ann.attempt].Attempt.Score {
		t.Errorf("a dry run changed the score: %v -> %v", *graded[ann.attempt].Attempt.Score, *afterDry.Attempt.Score)
	}
	regrade["dry_run"] = false
	var real marksmith.RegradeReport
	h.call("POST", examPath+"/regrade", prof, regrade, 200, &real)
	checkRegrade(real)
	finalScore := map[int64]float64{}
	questionScores := map[int][]float64{} // by position, one per student
	for _, s := range students {
		var v marksmith.AttemptView
		h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", s.attempt), prof, nil, 200, &v)
		for _, q := range v.Questions {
			sum := 0.0
			for _, g := range q.Grades {
				sum += g.Score
			}
			questionScores[q.Position] = append(questionScores[q.Position], sum)
		}
		before, _ := partScore(s, 2, "a")
		if want := *graded[s.attempt].Attempt.Score - before + wantChange[s.attempt]; !near(*v.Attempt.Score, want) {
			t.Errorf("%s: score after regrade %v, want %v", s.email, *v.Attempt.Score, want)
		}
		finalScore[s.attempt] = *v.Attempt.Score
	}

	// The audit log has the override (one entry per attempt) and the
	// regrade; an acceptance of nothing is not logged.
	var audit auditResponse
	h.call("GET", examPath+"/audit", prof, nil, 200, &audit)
	actions := map[string]int{}
	for _, e := range audit.Entries {
		actions[e.Action]++
		if e.Action == "override" && e.Reason == "" {
			t.Errorf("override without its reason in the log: %+v", e)
		}
	}
	if actions["override"] != 2 || actions["accept-suggested"] != 1 || actions["regrade"] < 1 || actions["publish"] != 1 {
		t.Errorf("audit actions %v", actions)
	}

	// Before release a student sees the score only; after, the parts, and
	// an overridden part's feedback is the reviewer's reason.
	var annView marksmith.AttemptView
	h.asStudent("GET", fmt.Sprintf("/api/v1/attempts/%d", ann.attempt), ann, nil, 200, &annView)
	if annView.Released || annView.Attempt.Score == nil || *annView.Attempt.Score != finalScore[ann.attempt] {
		t.Errorf("ann before release: %+v", annView.Attempt)
	}
	var rel marksmith.ReleaseReport
	h.call("POST", examPath+"/release", prof, nil, 200, &rel)
	if rel.Exam == nil || !rel.Exam.Released || rel.Exam.ReleasedAt == nil || rel.Released != 3 || rel.Pending != 0 {
		t.Fatalf("release: %+v", rel)
	}
	h.asStudent("GET", fmt.Sprintf("/api/v1/attempts/%d", ann.attempt), ann, nil, 200, &annView)
	grades := 0
	for _, q := range annView.Questions {
		grades += len(q.Grades)
		for _, g := range q.Grades {
			if g.Rule != "" || g.Suggested != nil || g.ReviewedBy != nil {
				t.Errorf("a student sees grading internals: %+v", g)
			}
			if q.Position == 3 && g.Part == "e" && g.Feedback != override["reason"] {
				t.Errorf("ann's overridden essay: feedback %q, want the reviewer's reason", g.Feedback)
			}
		}
	}
	if !annView.Released || grades != 10+3+5 {
		t.Errorf("ann after release: released %v, %d grades (want 18)", annView.Released, grades)
	}
	var mine myExamsResponse
	h.asStudent("GET", "/api/v1/me/exams", cat, nil, 200, &mine)
	if len(mine.Exams) != 1 || mine.Exams[0].Attempt == nil || mine.Exams[0].Attempt.Score == nil || *mine.Exams[0].Attempt.Score != finalScore[cat.attempt] {
		t.Errorf("cat's exams after release: %+v", mine.Exams)
	}

	// The gradebook: JSON, and CSV by query or by Accept.
	var gb marksmith.Gradebook
	h.call("GET", examPath+"/gradebook", prof, nil, 200, &gb)
	if len(gb.Rows) != 3 || !gb.Released || gb.Rows[0].Mode != marksmith.DeliveryOnline || gb.Rows[0].Email != "ann@example.edu" {
		t.Errorf("gradebook: %+v", gb)
	}
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
	var stats marksmith.Stats
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
