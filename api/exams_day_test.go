package api

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/storage"
)

// examFixture is a server with exams in every state an exam route cares
// about: exam, published and open, whose student sam has started and
// saved, ben has submitted an essay that awaits review and kim has not
// started; fresh, published and not started by anyone; and draft, not
// published. prof created all three; other is another instructor.
type examFixture struct {
	h                               *harness
	prof, other, admin, sam, ben    string // access tokens
	profUser, samUser, benUser, kim *marksmith.User
	exam, fresh, draft              int64
	samAttempt, benAttempt          int64
	job                             int64 // a dry-run upload to exam
	print                           int64 // a print of exam's keys, done
}

// fixtureExam is the exam body of the fixture's exams: q7 (machine
// graded) and q1 (with an essay, part e, that needs review).
func fixtureExam(title string, now time.Time, roster ...string) map[string]any {
	return map[string]any{
		"title": title, "questions": []map[string]any{{"template": "dasc7606/q7"}, {"template": "dasc7606/q1"}},
		"opens_at": now.Add(-time.Minute), "closes_at": now.Add(2 * time.Hour), "roster": roster,
		"feedback": map[string]string{"after_submit": "parts", "after_release": "parts"},
	}
}

func newExamFixture(t *testing.T) *examFixture {
	t.Helper()
	h := newExamHarness(t, storage.DialectSQLite)
	f := &examFixture{h: h, profUser: h.seedUser("prof@example.edu", marksmith.RoleInstructor, testPassword)}
	otherUser := h.seedUser("other@example.edu", marksmith.RoleInstructor, testPassword)
	f.samUser = h.seedUser("sam@example.edu", marksmith.RoleStudent, testPassword)
	f.benUser = h.seedUser("ben@example.edu", marksmith.RoleStudent, testPassword)
	f.kim = h.seedUser("kim@example.edu", marksmith.RoleStudent, testPassword)
	f.prof, f.other, f.admin = h.tokenFor(f.profUser), h.tokenFor(otherUser), h.tokenFor(h.admin)
	f.sam, f.ben = h.tokenFor(f.samUser), h.tokenFor(f.benUser)
	now := h.clock.Now()
	var e marksmith.Exam
	h.call("POST", "/api/v1/exams", f.prof, fixtureExam("Quiz", now, "sam@example.edu", "ben@example.edu", "kim@example.edu"), 201, &e)
	f.exam = e.ID
	h.call("POST", "/api/v1/exams", f.prof, fixtureExam("Fresh", now, "kim@example.edu"), 201, &e)
	f.fresh = e.ID
	h.call("POST", "/api/v1/exams", f.prof, fixtureExam("Draft", now, "kim@example.edu"), 201, &e)
	f.draft = e.ID
	for _, id := range []int64{f.exam, f.fresh} {
		h.call("POST", fmt.Sprintf("/api/v1/exams/%d/publish", id), f.prof, nil, 200, nil)
	}
	var v marksmith.AttemptView
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", f.exam), f.sam, nil, 200, &v)
	f.samAttempt = v.Attempt.ID
	h.call("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/a", f.samAttempt), f.sam, map[string]any{"answer": "A", "seq": 1}, 200, nil)
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", f.exam), f.ben, nil, 200, &v)
	f.benAttempt = v.Attempt.ID
	h.call("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/2/e", f.benAttempt), f.ben, map[string]any{"answer": "Swish is smooth.", "seq": 1}, 200, nil)
	h.call("POST", fmt.Sprintf("/api/v1/attempts/%d/submit", f.benAttempt), f.ben, nil, 200, nil)
	var job marksmith.SubmissionJob
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/submissions?dry_run=true", f.exam), f.prof,
		[]map[string]any{{"student": "kim@example.edu", "answers": map[string]any{"1.a": "A"}}}, 202, &job)
	h.exams.WaitJobs()
	f.job = job.ID
	var pj marksmith.PrintJob
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/papers/jobs?key=true", f.exam), f.prof, nil, 202, &pj)
	f.print = pj.ID
	h.printQueued()
	return f
}

// TestExamRouteRoles calls every exam route as each kind of caller: no
// one, a student, the exam's instructor, another instructor (404: the
// exam is not theirs to see) and an admin. Refusals are checked on one
// server, and must change nothing there; each allowed call that changes
// something gets a fresh server.
func TestExamRouteRoles(t *testing.T) {
	type want struct{ anon, student, owner, other, admin int }
	staff := func(ok int) want { return want{401, 403, ok, 404, ok} }
	studentOnly := func(ok int) want { return want{401, ok, 403, 403, 403} }
	tests := []struct {
		method, path string // {exam}, {fresh}, {draft}, {sam}, {ben} (attempts), {student}, {kim} (users) are filled in
		body         any
		want         want
		reads        bool // changes nothing: no fresh server for the allowed calls
	}{
		{"POST", "/api/v1/exams", fixtureExam("New", testStart), want{401, 403, 201, 201, 201}, false},
		{"GET", "/api/v1/exams", nil, want{401, 403, 200, 200, 200}, true},
		{"GET", "/api/v1/exams/{exam}", nil, staff(200), true},
		{"PUT", "/api/v1/exams/{draft}", fixtureExam("Renamed", testStart), staff(200), false},
		{"DELETE", "/api/v1/exams/{draft}", nil, staff(204), false},
		{"PUT", "/api/v1/exams/{draft}/roster", map[string]any{"students": []string{"sam@example.edu"}}, staff(200), false},
		{"GET", "/api/v1/exams/{exam}/roster", nil, staff(200), true},
		{"POST", "/api/v1/exams/{draft}/publish", nil, staff(200), false},
		{"POST", "/api/v1/exams/{fresh}/unpublish", nil, staff(200), false},
		{"POST", "/api/v1/exams/{exam}/students", map[string]any{"students": []string{"late@example.edu"}}, staff(200), false},
		{"DELETE", "/api/v1/exams/{exam}/students/{kim}", nil, staff(204), false},
		{"PUT", "/api/v1/exams/{exam}/students/{student}/accommodation", map[string]any{"extra_seconds": 600, "reason": "medical"}, staff(200), false},
		{"POST", "/api/v1/exams/{exam}/close", map[string]any{"all": true, "reason": "end"}, staff(200), false},
		{"POST", "/api/v1/attempts/{ben}/reopen", map[string]any{"seconds": 600, "reason": "outage"}, staff(200), false},
		{"GET", "/api/v1/exams/{exam}/monitor", nil, staff(200), true},
		{"GET", "/api/v1/me/exams", nil, studentOnly(200), true},
		{"POST", "/api/v1/exams/{exam}/attempts", nil, studentOnly(200), true},
		{"GET", "/api/v1/attempts/{sam}", nil, want{401, 200, 200, 404, 200}, true},
		{"PUT", "/api/v1/attempts/{sam}/answers/1/b", map[string]any{"answer": "A", "seq": 1}, studentOnly(200), false},
		{"POST", "/api/v1/attempts/{sam}/submit", nil, studentOnly(200), false},
		{"GET", "/api/v1/exams/{exam}/review", nil, staff(200), true},
		{"POST", "/api/v1/exams/{exam}/review", map[string]any{"question": 2, "part": "e", "attempt_ids": []string{"{ben}"}, "score": 1, "reason": "Smooth, but no limits."}, staff(200), false},
		{"POST", "/api/v1/exams/{exam}/review/accept", nil, staff(200), false},
		{"POST", "/api/v1/exams/{exam}/regrade", map[string]any{"template": "dasc7606/q7", "dry_run": true}, staff(200), true},
		{"POST", "/api/v1/exams/{exam}/release", map[string]any{"partial": true}, staff(200), false},
		{"GET", "/api/v1/exams/{exam}/gradebook", nil, staff(200), true},
		{"GET", "/api/v1/exams/{exam}/stats", nil, staff(200), true},
		{"GET", "/api/v1/exams/{exam}/audit", nil, staff(200), true},
		{"GET", "/api/v1/exams/{exam}/export/moodle", nil, staff(200), true},
		{"GET", "/api/v1/exams/{exam}/papers?format=html&key=true", nil, staff(200), true},
		{"POST", "/api/v1/exams/{exam}/submissions?dry_run=true", []map[string]any{{"student": "kim@example.edu", "answers": map[string]any{"1.a": "A"}}}, staff(202), true},
		{"GET", "/api/v1/exams/{exam}/submissions/{job}", nil, staff(200), true},
		{"GET", "/api/v1/exams/{exam}/submissions/{job}/results.csv", nil, staff(200), true},
		{"POST", "/api/v1/exams/{exam}/papers/jobs?key=true&format=zip", nil, staff(202), true},
		{"GET", "/api/v1/exams/{exam}/papers/jobs/{print}", nil, staff(200), true},
		{"GET", "/api/v1/exams/{exam}/papers/jobs/{print}/file", nil, staff(200), true},
	}
	shared := newExamFixture(t)
	fill := func(f *examFixture, s string) string {
		return strings.NewReplacer("{exam}", fmt.Sprint(f.exam), "{fresh}", fmt.Sprint(f.fresh), "{draft}", fmt.Sprint(f.draft),
			"{sam}", fmt.Sprint(f.samAttempt), "{ben}", fmt.Sprint(f.benAttempt), "{student}", fmt.Sprint(f.samUser.ID),
			"{kim}", fmt.Sprint(f.kim.ID), "{job}", fmt.Sprint(f.job), "{print}", fmt.Sprint(f.print)).Replace(s)
	}
	body := func(f *examFixture, b any) []byte {
		if b == nil {
			return nil
		}
		s := fill(f, string(jsonBody(t, b)))
		return []byte(strings.ReplaceAll(s, fmt.Sprintf(`"%d"`, f.benAttempt), fmt.Sprint(f.benAttempt)))
	}
	audit := func(f *examFixture) int {
		var a auditResponse
		f.h.call("GET", fmt.Sprintf("/api/v1/exams/%d/audit", f.exam), f.admin, nil, 200, &a)
		return len(a.Entries)
	}
	before := audit(shared)
	seen := map[string]bool{}
	for _, tt := range tests {
		route, _, _ := strings.Cut(tt.path, "?")
		seen[tt.method+" "+strings.NewReplacer("{exam}", ":id", "{fresh}", ":id", "{draft}", ":id", "{sam}", ":id", "{ben}", ":id",
			"{kim}", ":user", "{student}", ":user", "/1/b", "/:question/:part", "{job}", ":job", "{print}", ":job").Replace(route)] = true
		for _, caller := range []string{"anonymous", "student", "owner", "other instructor", "admin"} {
			t.Run(tt.method+" "+tt.path+" as "+caller, func(t *testing.T) {
				want := map[string]int{"anonymous": tt.want.anon, "student": tt.want.student, "owner": tt.want.owner,
					"other instructor": tt.want.other, "admin": tt.want.admin}[caller]
				f := shared
				if want < 300 && !tt.reads {
					f = newExamFixture(t)
				}
				f.h.t = t
				defer func() { f.h.t = t }()
				token := map[string]string{"anonymous": "", "student": f.sam, "owner": f.prof, "other instructor": f.other, "admin": f.admin}[caller]
				resp := f.h.do(request{method: tt.method, path: fill(f, tt.path), token: token, body: body(f, tt.body)})
				if resp.status != want {
					t.Fatalf("status %d, want %d: %s", resp.status, want, resp.body)
				}
				if caller == "student" {
					if leaks := studentLeaks(resp.body); len(leaks) > 0 {
						t.Errorf("the student's response shows %v", leaks)
					}
				}
			})
		}
	}
	shared.h.t = t
	if after := audit(shared); after != before {
		t.Errorf("the refused calls changed the exam: %d audit entries, then %d", before, after)
	}
	// Every exam route is in the table.
	for _, r := range shared.h.srv.routes() {
		if (strings.Contains(r.path, "/exams") || strings.Contains(r.path, "/attempts")) && !seen[r.method+" "+r.path] {
			t.Errorf("%s %s is not in the table", r.method, r.path)
		}
	}
}

// dayStudent is a student of the exam day.
type dayStudent struct {
	email   string
	user    *marksmith.User
	token   string
	attempt int64
	seq     int64
}

// TestExamDay runs an exam day through the API, on Postgres and SQLite:
// publish; students start and save; the instructor adds a late student
// (drawn a paper of their own, who can start), removes one who has not
// started (and cannot remove one who has), gives extra time during the
// exam (the deadline moves: a save after the old one is accepted), watches
// the monitor, ends the exam (every open attempt closed and graded with
// what was saved; no start afterwards) and reopens one attempt; then a
// partial release, review decisions by group version and by attempt,
// accepting suggested scores for a part and for the exam, and what each
// student sees.
func TestExamDay(t *testing.T) {
	for _, dialect := range []string{storage.DialectPostgres, storage.DialectSQLite} {
		t.Run(dialect, func(t *testing.T) {
			runExamDay(t, newExamHarness(t, dialect))
		})
	}
}

func runExamDay(t *testing.T, h *harness) {
	profUser := h.seedUser("prof@example.edu", marksmith.RoleInstructor, testPassword)
	prof := func() string { return h.tokenFor(profUser) } // tokens last 15 minutes; the day, hours
	students := map[string]*dayStudent{}
	for _, name := range []string{"ann", "ben", "cat", "dan", "lea"} {
		s := &dayStudent{email: name + "@example.edu"}
		s.user = h.seedUser(s.email, marksmith.RoleStudent, testPassword)
		students[name] = s
	}
	ann, ben, cat, dan, lea := students["ann"], students["ben"], students["cat"], students["dan"], students["lea"]
	tok := func(s *dayStudent) string { s.token = h.tokenFor(s.user); return s.token }
	save := func(s *dayStudent, question int, part, answer string, want int) marksmith.SaveResult {
		t.Helper()
		s.seq++
		var res marksmith.SaveResult
		resp := h.call("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/%d/%s", s.attempt, question, part), tok(s),
			map[string]any{"answer": answer, "seq": s.seq}, want, &res)
		if leaks := studentLeaks(resp.body); len(leaks) > 0 {
			t.Fatalf("a save shows %s %v", s.email, leaks)
		}
		return res
	}
	view := func(s *dayStudent) marksmith.AttemptView {
		t.Helper()
		var v marksmith.AttemptView
		resp := h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", s.attempt), tok(s), nil, 200, &v)
		if leaks := studentLeaks(resp.body); len(leaks) > 0 && !v.Released {
			t.Fatalf("%s's attempt shows %v", s.email, leaks)
		}
		return v
	}
	staffView := func(s *dayStudent) marksmith.AttemptView {
		t.Helper()
		var v marksmith.AttemptView
		h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", s.attempt), prof(), nil, 200, &v)
		return v
	}
	t0 := h.clock.Now()
	at := func(d time.Duration) { // moves the clock to t0+d
		t.Helper()
		if now := h.clock.Now(); t0.Add(d).Before(now) {
			t.Fatalf("the clock is at %v, past %v", now.Sub(t0), d)
		}
		h.clock.Advance(t0.Add(d).Sub(h.clock.Now()))
	}

	// The exam: q7, then q1 twice (each with an essay, part e, that needs
	// review); an hour each within a two-hour window, a minute's grace.
	// Students see nothing after submitting, the parts after the release.
	var exam marksmith.Exam
	h.call("POST", "/api/v1/exams", prof(), map[string]any{
		"title": "Exam day", "seed": 7,
		"questions": []map[string]any{{"template": "dasc7606/q7"}, {"template": "dasc7606/q1"}, {"template": "dasc7606/q1", "marks": 6}},
		"opens_at":  t0, "closes_at": t0.Add(2 * time.Hour), "time_limit_seconds": 3600, "late_grace_seconds": 60,
		"roster":   []string{ann.email, ben.email, cat.email, dan.email},
		"feedback": map[string]string{"after_submit": "none", "after_release": "parts"},
	}, 201, &exam)
	if exam.Seed != 7 {
		t.Fatalf("seed sent as a number: %+v", exam)
	}
	examPath := fmt.Sprintf("/api/v1/exams/%d", exam.ID)
	var pub marksmith.PublishReport
	h.call("POST", examPath+"/publish", prof(), nil, 200, &pub)
	if pub.Students != 4 || pub.Papers != 12 {
		t.Fatalf("publish: %+v", pub)
	}
	monitor := func(notStarted, working, finished int) marksmith.Monitor {
		t.Helper()
		var m marksmith.Monitor
		resp := h.call("GET", examPath+"/monitor", prof(), nil, 200, &m)
		if m.NotStarted != notStarted || m.Working != working || m.Finished != finished || !m.ServerTime.Equal(h.clock.Now()) ||
			len(m.Students) != notStarted+working+finished {
			t.Fatalf("monitor at %v: %d not started, %d working, %d finished (want %d, %d, %d): %s", h.clock.Now().Sub(t0),
				m.NotStarted, m.Working, m.Finished, notStarted, working, finished, resp.body)
		}
		if resp.header.Get("Cache-Control") != "no-store" {
			t.Errorf("monitor Cache-Control %q", resp.header.Get("Cache-Control"))
		}
		return m
	}
	monitor(4, 0, 0)

	// Ann and Ben start and save.
	start := func(s *dayStudent) marksmith.AttemptView {
		t.Helper()
		var v marksmith.AttemptView
		resp := h.call("POST", examPath+"/attempts", tok(s), nil, 200, &v)
		if leaks := studentLeaks(resp.body); len(leaks) > 0 {
			t.Fatalf("%s's paper shows %v", s.email, leaks)
		}
		s.attempt = v.Attempt.ID
		return v
	}
	annView := start(ann)
	if !annView.Deadline.Equal(t0.Add(time.Hour)) || !annView.GraceUntil.Equal(t0.Add(time.Hour+time.Minute)) {
		t.Fatalf("ann's attempt: deadline %v grace %v", annView.Deadline, annView.GraceUntil)
	}
	start(ben)
	keys := func(s *dayStudent, question int) map[string]string {
		out := map[string]string{}
		for _, q := range staffView(s).Questions {
			if q.Position == question {
				for _, p := range q.Parts {
					out[p.ID] = p.Key.Answer
				}
			}
		}
		return out
	}
	annKeys := keys(ann, 1)
	for _, part := range []string{"a", "b", "c"} {
		save(ann, 1, part, annKeys[part], 200)
	}
	const essayX = "Swish is smooth and non-monotonic: linear at beta 0, close to ReLU for large beta."
	const essayY = "It interpolates between a linear unit and ReLU."
	save(ben, 2, "e", essayX, 200)
	save(ben, 3, "e", essayY, 200)
	monitor(2, 2, 0)

	// A late student: added while the exam runs, drawn a paper of their
	// own at once, distinct from those issued where the space allows.
	at(5 * time.Minute)
	var added marksmith.RosterResult
	h.call("POST", examPath+"/students", prof(), map[string]any{"students": []string{lea.email, "nobody@example.edu", ann.email}}, 200, &added)
	if added.Students != 5 || strings.Join(added.Unknown, ",") != "nobody@example.edu" {
		t.Fatalf("add students: %+v", added)
	}
	var mine myExamsResponse
	h.call("GET", "/api/v1/me/exams", tok(lea), nil, 200, &mine)
	if len(mine.Exams) != 1 || !mine.Exams[0].CanStart {
		t.Fatalf("lea's exams: %+v", mine.Exams)
	}
	start(lea)
	leaPaper := staffView(lea)
	for _, other := range []*dayStudent{ann, ben} {
		for i, q := range staffView(other).Questions {
			lq := leaPaper.Questions[i]
			if lq.Position != q.Position || lq.Variant == nil || q.Variant == nil || *lq.Variant == *q.Variant {
				t.Errorf("lea's question %d is %s's variant: %v", q.Position, other.email, lq.Variant)
			}
		}
	}
	for _, d := range pub.Distinct {
		if d.Exhausted {
			continue
		}
		// Where the space allowed four distinct variants, Lea's is a fifth.
		params := map[string]bool{}
		for _, s := range []*dayStudent{ann, ben, lea} {
			for _, q := range staffView(s).Questions {
				if q.Position == d.Position {
					params[string(jsonBody(t, q.Params))] = true
				}
			}
		}
		if len(params) != 3 {
			t.Errorf("question %d: lea's parameters repeat another student's", d.Position)
		}
	}
	save(lea, 2, "e", "Because it is differentiable everywhere.", 200)

	// Remove Cat, who has not started: the exam is gone for her. Ben has
	// started: 409.
	at(6 * time.Minute)
	h.call("DELETE", fmt.Sprintf("%s/students/%d", examPath, cat.user.ID), prof(), nil, 204, nil)
	h.call("DELETE", fmt.Sprintf("%s/students/%d", examPath, cat.user.ID), prof(), nil, 404, nil)
	h.call("DELETE", fmt.Sprintf("%s/students/%d", examPath, ben.user.ID), prof(), nil, 409, nil)
	h.call("POST", examPath+"/attempts", tok(cat), nil, 404, nil)
	h.call("GET", "/api/v1/me/exams", tok(cat), nil, 200, &mine)
	if len(mine.Exams) != 0 {
		t.Errorf("cat still sees %+v", mine.Exams)
	}
	var roster rosterResponse
	h.call("GET", examPath+"/roster", prof(), nil, 200, &roster)
	emails := []string{}
	for _, r := range roster.Students {
		emails = append(emails, r.Email)
	}
	slices.Sort(emails)
	if strings.Join(emails, ",") != "ann@example.edu,ben@example.edu,dan@example.edu,lea@example.edu" {
		t.Errorf("roster after the changes: %v", emails)
	}

	// Extra time for Ann during the exam: her deadline moves, Ben's not.
	at(50 * time.Minute)
	var entry marksmith.RosterEntry
	h.call("PUT", fmt.Sprintf("%s/students/%d/accommodation", examPath, ann.user.ID), prof(),
		map[string]any{"extra_seconds": 600, "reason": "Extra time: medical"}, 200, &entry)
	if entry.User == nil || entry.ID != ann.user.ID || entry.ExtraSeconds != 600 || entry.AccommodationReason != "Extra time: medical" {
		t.Fatalf("accommodation: %+v", entry)
	}
	h.call("PUT", fmt.Sprintf("%s/students/%d/accommodation", examPath, ann.user.ID), prof(),
		map[string]any{"extra_seconds": -1, "reason": "x"}, 422, nil)
	h.call("PUT", fmt.Sprintf("%s/students/%d/accommodation", examPath, cat.user.ID), prof(),
		map[string]any{"extra_seconds": 60, "reason": "x"}, 404, nil)
	if v := view(ann); !v.Deadline.Equal(t0.Add(70*time.Minute)) || !v.GraceUntil.Equal(t0.Add(71*time.Minute)) || v.RemainingSeconds != 20*60 {
		t.Fatalf("ann after extra time: deadline %v grace %v, %d s left", v.Deadline.Sub(t0), v.GraceUntil.Sub(t0), v.RemainingSeconds)
	}
	h.call("GET", "/api/v1/me/exams", tok(ann), nil, 200, &mine)
	if len(mine.Exams) != 1 || mine.Exams[0].ExtraSeconds != 600 || mine.Exams[0].Attempt == nil || !mine.Exams[0].Attempt.DeadlineAt.Equal(t0.Add(70*time.Minute)) {
		t.Errorf("ann's exams after extra time: %+v", mine.Exams)
	}
	if v := view(ben); !v.Deadline.Equal(t0.Add(time.Hour)) {
		t.Fatalf("ben's deadline moved: %v", v.Deadline.Sub(t0))
	}
	m := monitor(1, 3, 0)
	for _, r := range m.Students {
		if r.Email == ann.email && (r.Extra != 600 || r.DeadlineAt == nil || !r.DeadlineAt.Equal(t0.Add(70*time.Minute)) || r.Answered != 3 || r.LastSaveAt == nil) {
			t.Errorf("ann in the monitor: %+v", r)
		}
	}

	// Past the old deadline and grace: Ann's save is on time, Ben's is
	// refused and his attempt closed with what he saved.
	at(61*time.Minute + 30*time.Second)
	if res := save(ann, 2, "a", keys(ann, 2)["a"], 200); !res.Stored || res.Late {
		t.Errorf("ann's save after the old deadline: %+v", res)
	}
	save(ben, 2, "a", "A", 410)
	monitor(1, 2, 1)

	// End the exam: every open attempt is closed and graded with what was
	// saved, and nobody starts afterwards.
	at(62 * time.Minute)
	h.call("POST", examPath+"/close", prof(), map[string]any{"reason": "x"}, 422, nil)
	h.call("POST", examPath+"/close", prof(), map[string]any{"all": true, "attempt_ids": []int64{ann.attempt}}, 422, nil)
	h.call("POST", examPath+"/close", prof(), map[string]any{"attempt_ids": []int64{ann.attempt + 1000}}, 404, nil)
	var closed marksmith.CloseReport
	h.call("POST", examPath+"/close", prof(), map[string]any{"all": true, "reason": "Fire alarm: the exam ends now."}, 200, &closed)
	got := slices.Clone(closed.Attempts)
	slices.Sort(got)
	want := []int64{ann.attempt, lea.attempt}
	slices.Sort(want)
	if closed.Closed != 2 || !slices.Equal(got, want) {
		t.Fatalf("end of the exam: %+v, want ann's and lea's attempts", closed)
	}
	h.call("POST", examPath+"/attempts", tok(dan), nil, 410, nil)
	save(lea, 2, "e", "too late", 410)
	annClosed := staffView(ann)
	q7Marks, q2a := 0.0, 0.0
	for _, q := range annClosed.Questions {
		for _, g := range q.Grades {
			if q.Position == 1 {
				q7Marks += g.Max
				if g.Score != g.Max {
					t.Errorf("ann's saved key, question 1 part %s: %v of %v", g.Part, g.Score, g.Max)
				}
			}
			if q.Position == 2 && g.Part == "a" {
				q2a = g.Score
			}
		}
	}
	if a := annClosed.Attempt; a.Status != marksmith.AttemptClosed || a.Score == nil || !near(*a.Score, q7Marks+q2a) || q2a == 0 || a.SubmittedAt == nil ||
		!a.SubmittedAt.Equal(t0.Add(62*time.Minute)) {
		t.Fatalf("ann's attempt after the end: %+v (want closed, graded %v)", a, q7Marks+q2a)
	}
	monitor(1, 0, 3)

	// Reopen Ann's attempt: she saves again and submits.
	at(70 * time.Minute)
	reopen := fmt.Sprintf("/api/v1/attempts/%d/reopen", ann.attempt)
	if f := h.call("POST", reopen, prof(), map[string]any{"seconds": 600}, 422, nil).fields(t); strings.Join(f, ",") != "reason" {
		t.Errorf("reopen without a reason: fields %v", f)
	}
	if f := h.call("POST", reopen, prof(), map[string]any{"seconds": 10, "reason": "x"}, 422, nil).fields(t); strings.Join(f, ",") != "seconds" {
		t.Errorf("reopen for 10 s: fields %v", f)
	}
	var reopened marksmith.Attempt
	h.call("POST", reopen, prof(), map[string]any{"seconds": 900, "reason": "Her laptop crashed before the end."}, 200, &reopened)
	if reopened.Status != marksmith.AttemptOpen || !reopened.DeadlineAt.Equal(t0.Add(85*time.Minute)) || !reopened.GraceUntil.Equal(t0.Add(86*time.Minute)) ||
		reopened.Score != nil || reopened.SubmittedAt != nil {
		t.Fatalf("reopened: %+v", reopened)
	}
	h.call("POST", reopen, prof(), map[string]any{"seconds": 900, "reason": "again"}, 409, nil)
	save(ann, 2, "b", keys(ann, 2)["b"], 200)
	var submitted marksmith.AttemptView
	h.call("POST", fmt.Sprintf("/api/v1/attempts/%d/submit", ann.attempt), tok(ann), nil, 200, &submitted)
	if submitted.Attempt.Status != marksmith.AttemptSubmitted || submitted.Attempt.Score != nil {
		t.Fatalf("ann's resubmission: %+v (under after_submit none, no score)", submitted.Attempt)
	}

	// Release: the whole exam waits for the reviews; a partial release
	// releases Ann's results now, Ben's and Lea's once reviewed.
	at(90 * time.Minute)
	h.call("POST", examPath+"/release", prof(), nil, 409, nil)
	var rel marksmith.ReleaseReport
	h.call("POST", examPath+"/release", prof(), map[string]any{"partial": true}, 200, &rel)
	if rel.Exam == nil || !rel.Exam.Released || rel.Released != 1 || rel.Pending != 2 {
		t.Fatalf("partial release: %+v", rel)
	}
	if v := view(ann); !v.Released || v.Attempt.Score == nil || len(v.Questions[0].Grades) == 0 {
		t.Errorf("ann after the partial release: released %v, score %v", v.Released, v.Attempt.Score)
	}
	for _, s := range []*dayStudent{ben, lea} {
		if v := view(s); v.Released || v.Attempt.Score != nil || slices.ContainsFunc(v.Questions, func(q marksmith.Question) bool { return len(q.Grades) > 0 }) {
			t.Errorf("%s, awaiting review, sees results: %+v", s.email, v.Attempt)
		}
	}

	// Review: the queue has Ben's two essays and Lea's.
	queue := func() []marksmith.ReviewGroup {
		t.Helper()
		var q reviewResponse
		h.call("GET", examPath+"/review", prof(), nil, 200, &q)
		return q.Groups
	}
	find := func(groups []marksmith.ReviewGroup, question int, answer string) *marksmith.ReviewGroup {
		for i, g := range groups {
			if g.Question == question && g.Part == "e" && slices.ContainsFunc(g.Members, func(m marksmith.ReviewMember) bool { return m.Answer == answer }) {
				return &groups[i]
			}
		}
		t.Fatalf("no review group of question %d with %q in %+v", question, answer, groups)
		return nil
	}
	groups := queue()
	if len(groups) != 3 {
		t.Fatalf("review queue: %+v", groups)
	}
	seen := find(groups, 2, essayX)
	if seen.Count != 1 || seen.AttemptIDs[0] != ben.attempt {
		t.Fatalf("ben's group: %+v", seen)
	}
	// Lea's attempt is reopened and she writes what Ben wrote: the group
	// the reviewer loaded has gained a member.
	h.call("POST", fmt.Sprintf("/api/v1/attempts/%d/reopen", lea.attempt), prof(), map[string]any{"seconds": 600, "reason": "Network outage in room 2."}, 200, nil)
	save(lea, 2, "e", essayX, 200)
	h.call("POST", fmt.Sprintf("/api/v1/attempts/%d/submit", lea.attempt), tok(lea), nil, 200, nil)
	const reason = "Names the limits but not why smoothness helps."
	decision := map[string]any{"question": 2, "part": "e", "answer": seen.Answer, "group": seen.Version, "score": 2, "reason": reason}
	if e := h.call("POST", examPath+"/review", prof(), decision, 409, nil).err(t); e.Code != marksmith.ECONFLICT {
		t.Errorf("a decision on a group that changed: %+v", e)
	}
	grown := find(queue(), 2, essayX)
	if grown.Count != 2 || grown.Version == seen.Version {
		t.Fatalf("the group after lea's answer: %+v", grown)
	}
	// A decision by attempt applies to exactly those attempts.
	var decided marksmith.ReviewResult
	h.call("POST", examPath+"/review", prof(), map[string]any{"question": 2, "part": "e", "attempt_ids": []int64{ben.attempt}, "score": 2, "reason": reason}, 200, &decided)
	if decided.Updated != 1 || len(decided.Changes) != 1 || decided.Changes[0].AttemptID != ben.attempt || decided.Changes[0].After != 2 || decided.Changes[0].Student != ben.email {
		t.Fatalf("decision on ben's attempt: %+v", decided)
	}
	h.call("POST", examPath+"/review", prof(), map[string]any{"question": 2, "part": "e", "attempt_ids": []int64{ben.attempt}, "score": 99, "reason": reason}, 422, nil)
	if g := find(queue(), 2, essayX); g.Count != 1 || g.AttemptIDs[0] != lea.attempt {
		t.Fatalf("after the decision on ben's attempt, the group is %+v", g)
	}
	// Accept the suggested score for one part (Lea's question 2 essay),
	// then for the exam (Ben's question 3 essay).
	var acc marksmith.ReviewResult
	h.call("POST", examPath+"/review/accept", prof(), map[string]any{"question": 2, "part": "e", "reason": "The rubric's score stands."}, 200, &acc)
	if acc.Updated != 1 || acc.Changes[0].AttemptID != lea.attempt || acc.Changes[0].Question != 2 || acc.Changes[0].Before != acc.Changes[0].After {
		t.Fatalf("accept for a part: %+v", acc)
	}
	if g := queue(); len(g) != 1 || g[0].Question != 3 {
		t.Fatalf("queue after accepting a part: %+v", g)
	}
	h.call("POST", examPath+"/review/accept", prof(), map[string]any{"part": "e"}, 422, nil)
	h.call("POST", examPath+"/review/accept", prof(), nil, 200, &acc)
	if acc.Updated != 1 || acc.Changes[0].AttemptID != ben.attempt || acc.Changes[0].Question != 3 {
		t.Fatalf("accept for the exam: %+v", acc)
	}
	if g := queue(); len(g) != 0 {
		t.Fatalf("queue after accepting the exam: %+v", g)
	}

	// Now Ben and Lea see their results; Ben's overridden part's feedback
	// is the reviewer's reason.
	for _, s := range []*dayStudent{ben, lea} {
		v := view(s)
		if !v.Released || v.Attempt.Score == nil {
			t.Errorf("%s after review: released %v score %v", s.email, v.Released, v.Attempt.Score)
		}
		for _, q := range v.Questions {
			for _, g := range q.Grades {
				if s == ben && q.Position == 2 && g.Part == "e" && (g.Score != 2 || g.Feedback != reason) {
					t.Errorf("ben's overridden essay: %+v, want score 2 and the reason as feedback", g)
				}
				if g.Rule != "" || g.Suggested != nil || g.ReviewedBy != nil || g.ReviewedAt != nil {
					t.Errorf("%s sees grading internals: %+v", s.email, g)
				}
			}
		}
	}
	var gb marksmith.Gradebook
	h.call("GET", examPath+"/gradebook", prof(), nil, 200, &gb)
	statuses := map[string]string{}
	for _, r := range gb.Rows {
		statuses[r.Email] = r.Status
		if r.NeedsReview != 0 {
			t.Errorf("gradebook row %s: %d parts await review", r.Email, r.NeedsReview)
		}
	}
	if fmt.Sprint(statuses) != "map[ann@example.edu:submitted ben@example.edu:closed dan@example.edu:not started lea@example.edu:submitted]" {
		t.Errorf("gradebook statuses %v", statuses)
	}

	// Every control is in the audit log, with its reason.
	var audit auditResponse
	h.call("GET", examPath+"/audit", prof(), nil, 200, &audit)
	actions := map[string]int{}
	for _, e := range audit.Entries {
		actions[e.Action]++
		if (e.Action == "reopen" || e.Action == "end-exam" || e.Action == "accommodation") && e.Reason == "" {
			t.Errorf("%s without its reason: %+v", e.Action, e)
		}
	}
	for action, n := range map[string]int{"publish": 1, "add-students": 1, "remove-student": 1, "accommodation": 1, "end-exam": 1,
		"close-attempt": 2, "reopen": 2, "override": 1, "accept-suggested": 2, "release": 1} {
		if actions[action] != n {
			t.Errorf("audit: %d %s, want %d (all: %v)", actions[action], action, n, actions)
		}
	}
}

// TestStudentGrades checks what a student reads of an overridden grade:
// its score, its maximum and, as its feedback, the reviewer's reason; no
// rule, no suggested score, no reviewer, no separate review fields.
func TestStudentGrades(t *testing.T) {
	f := newExamFixture(t)
	h := f.h
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/review", f.exam), f.prof,
		map[string]any{"question": 2, "part": "e", "attempt_ids": []int64{f.benAttempt}, "score": 1, "reason": "Smooth, but which limits?"}, 200, nil)
	resp := h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", f.benAttempt), f.ben, nil, 200, nil)
	var raw struct {
		Questions []struct {
			Question int                          `json:"question"`
			Grades   []map[string]json.RawMessage `json:"grades"`
		} `json:"questions"`
	}
	resp.decode(t, &raw)
	checked := 0
	for _, q := range raw.Questions {
		for _, g := range q.Grades {
			if string(g["part"]) != `"e"` || q.Question != 2 {
				continue
			}
			checked++
			if string(g["feedback"]) != `"Smooth, but which limits?"` || string(g["score"]) != "1" {
				t.Errorf("the overridden grade: %v", g)
			}
			for _, k := range []string{"suggested", "reviewed_by", "reviewed_at", "review_reason"} {
				if _, ok := g[k]; ok {
					t.Errorf("a student's grade has %s: %s", k, g[k])
				}
			}
			if r, ok := g["rule"]; ok && string(r) != `""` {
				t.Errorf("a student's grade has rule %s", r)
			}
		}
	}
	if checked != 1 {
		t.Fatalf("found %d overridden grades in %s", checked, resp.body)
	}
}

// TestExamDayAccountChanges checks the autosave, whose route takes the
// token's claims without loading the account, against accounts changed
// during the exam: a disabled student's next save is refused (403), and so
// is that of a student whose password was reset to a one-time password.
func TestExamDayAccountChanges(t *testing.T) {
	f := newExamFixture(t)
	h := f.h
	saveAs := func(token string, attempt int64, seq int) response {
		return h.do(request{method: "PUT", path: fmt.Sprintf("/api/v1/attempts/%d/answers/1/b", attempt), token: token,
			body: jsonBody(t, map[string]any{"answer": "B", "seq": seq})})
	}
	if resp := saveAs(f.sam, f.samAttempt, 2); resp.status != 200 {
		t.Fatalf("save: %d %s", resp.status, resp.body)
	}
	h.call("PATCH", fmt.Sprintf("/api/v1/users/%d", f.samUser.ID), f.admin, map[string]any{"disabled": true}, 200, nil)
	if resp := saveAs(f.sam, f.samAttempt, 3); resp.status != 403 || resp.err(t).Code != marksmith.EFORBIDDEN {
		t.Errorf("a disabled student's save: %d %s", resp.status, resp.body)
	}
	h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", f.samAttempt), f.sam, nil, 403, nil)
	h.call("PATCH", fmt.Sprintf("/api/v1/users/%d", f.samUser.ID), f.admin, map[string]any{"disabled": false}, 200, nil)
	if resp := saveAs(f.sam, f.samAttempt, 4); resp.status != 200 {
		t.Errorf("save once enabled again: %d %s", resp.status, resp.body)
	}

	h.call("POST", fmt.Sprintf("/api/v1/users/%d/password-reset", f.samUser.ID), f.admin, nil, 200, nil)
	h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", f.samAttempt), f.sam, nil, 403, nil)
	if resp := saveAs(f.sam, f.samAttempt, 5); resp.status != 403 {
		t.Errorf("a save while a one-time password is pending: %d %s, want 403 as on every other route", resp.status, resp.body)
	}
}
