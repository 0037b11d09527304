package storage

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// examFixture is an instructor, three students and a draft exam.
type examFixture struct {
	s          *ExamStore
	instructor *marksmith.User
	students   []*marksmith.User
	exam       *marksmith.Exam
}

func newExamFixture(t *testing.T, db *DB) *examFixture {
	t.Helper()
	users := mustCreateUsers(t, NewUserStore(db),
		marksmith.User{Email: "teacher@example.org", Role: marksmith.RoleInstructor},
		marksmith.User{Email: "s1@example.org", Role: marksmith.RoleStudent, StudentKey: "3035000001"},
		marksmith.User{Email: "s2@example.org", Role: marksmith.RoleStudent},
		marksmith.User{Email: "s3@example.org", Role: marksmith.RoleStudent},
	)
	s := NewExamStore(db)
	e := &marksmith.Exam{
		Title: "Midterm", Seed: math.MaxUint64 - 6,
		Questions: []marksmith.ExamQuestion{
			{Position: 1, TemplateID: "dasc7606/q1", Version: 1, Marks: 10},
			{Position: 2, TemplateID: "dasc7606/q2", Version: 2, Marks: 5.5},
		},
		OpensAt: testClock, ClosesAt: testClock.Add(2 * time.Hour), TimeLimitSeconds: 3600, LateGraceSeconds: 60,
		ShuffleQuestions: true, Feedback: marksmith.FeedbackPolicy{AfterSubmit: "score", AfterRelease: "key"},
		CreatedBy: users[0].ID,
	}
	if err := s.CreateExam(t.Context(), e); err != nil {
		t.Fatalf("CreateExam: %v", err)
	}
	return &examFixture{s: s, instructor: users[0], students: users[1:], exam: e}
}

func TestExamCreateFindUpdate(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		ctx := t.Context()
		e := f.exam
		if e.ID == 0 || e.Status != marksmith.ExamDraft || !e.CreatedAt.Equal(testClock) || !e.UpdatedAt.Equal(testClock) {
			t.Fatalf("created %+v", e)
		}
		got, err := f.s.FindExamByID(ctx, e.ID)
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("FindExamByID = %+v, %v\nwant %+v", got, err, e)
		}
		if got.Seed != math.MaxUint64-6 {
			t.Fatalf("seed %d did not survive the round trip", got.Seed)
		}
		_, err = f.s.FindExamByID(ctx, e.ID+100)
		wantCode(t, "find missing exam", err, marksmith.ENOTFOUND)

		upd := *got
		upd.Title = "Midterm (revised)"
		upd.Questions = upd.Questions[:1]
		upd.UpdatedAt = testClock.Add(time.Minute)
		upd.CreatedBy = 999 // ignored
		if err := f.s.UpdateExam(ctx, &upd); err != nil {
			t.Fatalf("UpdateExam: %v", err)
		}
		if upd.Title != "Midterm (revised)" || len(upd.Questions) != 1 || upd.CreatedBy != f.instructor.ID || !upd.UpdatedAt.Equal(testClock.Add(time.Minute)) {
			t.Fatalf("updated %+v", upd)
		}
		bad := &marksmith.Exam{Title: "x", CreatedBy: 12345, Status: marksmith.ExamDraft}
		wantCode(t, "unknown creator", f.s.CreateExam(ctx, bad), marksmith.EINVALID)
		wantCode(t, "no title", f.s.CreateExam(ctx, &marksmith.Exam{CreatedBy: f.instructor.ID}), marksmith.EINVALID)
		missing := upd
		missing.ID = e.ID + 100
		wantCode(t, "update missing", f.s.UpdateExam(ctx, &missing), marksmith.ENOTFOUND)

		ids := []int64{f.students[0].ID, f.students[2].ID, f.students[0].ID}
		if err := f.s.SetRoster(ctx, e.ID, ids); err != nil {
			t.Fatalf("SetRoster: %v", err)
		}
		roster, err := f.s.FindRoster(ctx, e.ID)
		if err != nil || len(roster) != 2 || roster[0].ID != f.students[0].ID || roster[1].ID != f.students[2].ID {
			t.Fatalf("FindRoster = %v, %v", roster, err)
		}
		wantCode(t, "roster with unknown user", f.s.SetRoster(ctx, e.ID, []int64{f.students[1].ID, 4242}), marksmith.EINVALID)
		if roster, _ := f.s.FindRoster(ctx, e.ID); len(roster) != 2 {
			t.Fatalf("failed SetRoster changed the roster to %v", roster)
		}
		for _, tc := range []struct {
			user int64
			want bool
		}{{f.students[0].ID, true}, {f.students[1].ID, false}, {f.students[2].ID, true}} {
			entry, err := f.s.FindRosterEntry(ctx, e.ID, tc.user)
			switch {
			case tc.want && (err != nil || entry.ID != tc.user):
				t.Errorf("FindRosterEntry(%d) = %+v, %v; want the entry", tc.user, entry, err)
			case !tc.want && marksmith.ErrorCode(err) != marksmith.ENOTFOUND:
				t.Errorf("FindRosterEntry(%d) = %+v, %v; want ENOTFOUND", tc.user, entry, err)
			}
		}

		other := &marksmith.Exam{Title: "Quiz", OpensAt: testClock, ClosesAt: testClock.Add(time.Hour), CreatedBy: f.instructor.ID}
		if err := f.s.CreateExam(ctx, other); err != nil {
			t.Fatal(err)
		}
		if err := f.s.MarkPublished(ctx, e.ID, testClock.Add(time.Hour)); err != nil {
			t.Fatalf("MarkPublished: %v", err)
		}
		wantCode(t, "publish twice", f.s.MarkPublished(ctx, e.ID, testClock), marksmith.ECONFLICT)
		wantCode(t, "publish missing", f.s.MarkPublished(ctx, e.ID+100, testClock), marksmith.ENOTFOUND)
		wantCode(t, "update published", f.s.UpdateExam(ctx, &upd), marksmith.ECONFLICT)
		wantCode(t, "roster of published", f.s.SetRoster(ctx, e.ID, nil), marksmith.ECONFLICT)
		pub, _ := f.s.FindExamByID(ctx, e.ID)
		if pub.Status != marksmith.ExamPublished || pub.PublishedAt == nil || !pub.PublishedAt.Equal(testClock.Add(time.Hour)) {
			t.Fatalf("published exam %+v", pub)
		}

		published := marksmith.ExamPublished
		for _, tc := range []struct {
			name   string
			filter marksmith.ExamFilter
			want   []int64
			total  int
		}{
			{"all, newest first", marksmith.ExamFilter{}, []int64{other.ID, e.ID}, 2},
			{"by creator", marksmith.ExamFilter{CreatedBy: &f.instructor.ID}, []int64{other.ID, e.ID}, 2},
			{"by other creator", marksmith.ExamFilter{CreatedBy: &f.students[0].ID}, nil, 0},
			{"published", marksmith.ExamFilter{Status: &published}, []int64{e.ID}, 1},
			{"student on roster", marksmith.ExamFilter{Student: &f.students[2].ID}, []int64{e.ID}, 1},
			{"student not on roster", marksmith.ExamFilter{Student: &f.students[1].ID}, nil, 0},
			{"paged", marksmith.ExamFilter{Offset: 1, Limit: 1}, []int64{e.ID}, 2},
		} {
			list, total, err := f.s.FindExams(ctx, tc.filter)
			var ids []int64
			for _, x := range list {
				ids = append(ids, x.ID)
			}
			if err != nil || total != tc.total || !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("%s: FindExams = %v, %d, %v; want %v, %d", tc.name, ids, total, err, tc.want, tc.total)
			}
		}
		if err := f.s.DeleteExam(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "delete twice", f.s.DeleteExam(ctx, other.ID), marksmith.ENOTFOUND)
	})
}

func TestPapers(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		ctx := t.Context()
		e := f.exam
		var batch []*marksmith.Paper
		for i, u := range f.students {
			for pos := 1; pos <= 2; pos++ {
				batch = append(batch, &marksmith.Paper{
					ExamID: e.ID, UserID: u.ID, Position: pos, Order: 3 - pos, TemplateID: fmt.Sprintf("t%d", pos), Version: 1,
					Seed:    marksmith.Seed(math.MaxUint64 - uint64(i*10+pos)),
					Variant: json.RawMessage(fmt.Sprintf(`{"template":"t%d","variant":%d,"parts":[]}`, pos, i)),
				})
			}
		}
		if err := f.s.SavePapers(ctx, batch[:4]); err != nil {
			t.Fatalf("SavePapers: %v", err)
		}
		// A batch overlapping a stored paper stores nothing.
		wantCode(t, "save overlapping batch", f.s.SavePapers(ctx, batch[3:]), marksmith.ECONFLICT)
		if all, err := f.s.FindExamPapers(ctx, e.ID, 0); err != nil || len(all) != 4 {
			t.Fatalf("after a refused batch: %d papers, %v; want 4", len(all), err)
		}
		if err := f.s.SavePapers(ctx, batch[4:]); err != nil {
			t.Fatalf("SavePapers: %v", err)
		}
		bad := *batch[0]
		bad.Variant = json.RawMessage(`{not json`)
		wantCode(t, "variant not JSON", f.s.SavePapers(ctx, []*marksmith.Paper{&bad}), marksmith.EINVALID)

		mine, err := f.s.FindPapers(ctx, e.ID, f.students[1].ID)
		if err != nil || len(mine) != 2 {
			t.Fatalf("FindPapers = %v, %v", mine, err)
		}
		// In the order the student sees them: position 2 first.
		if !reflect.DeepEqual(mine[0], batch[3]) || !reflect.DeepEqual(mine[1], batch[2]) {
			t.Fatalf("FindPapers = %+v, %+v\nwant %+v, %+v", mine[0], mine[1], batch[3], batch[2])
		}
		q2, err := f.s.FindExamPapers(ctx, e.ID, 2)
		if err != nil || len(q2) != 3 {
			t.Fatalf("FindExamPapers(2) = %d papers, %v", len(q2), err)
		}
		for i, p := range q2 {
			if p.Position != 2 || p.UserID != f.students[i].ID {
				t.Errorf("FindExamPapers(2)[%d] = %+v", i, p)
			}
		}

		if err := f.s.SetGradeVersion(ctx, e.ID, 2, 3); err != nil {
			t.Fatalf("SetGradeVersion: %v", err)
		}
		got, _ := f.s.FindExamByID(ctx, e.ID)
		if got.Questions[0].GradeVersion != 0 || got.Questions[1].GradeVersion != 3 {
			t.Fatalf("questions after SetGradeVersion: %+v", got.Questions)
		}
		wantCode(t, "grade version of missing question", f.s.SetGradeVersion(ctx, e.ID, 9, 3), marksmith.ENOTFOUND)

		if err := f.s.DeletePapers(ctx, e.ID, f.students[0].ID); err != nil {
			t.Fatal(err)
		}
		if all, err := f.s.FindExamPapers(ctx, e.ID, 0); err != nil || len(all) != 4 {
			t.Fatalf("after deleting one student's papers: %d papers, %v; want 4", len(all), err)
		}
		if err := f.s.DeletePapers(ctx, e.ID, 0); err != nil {
			t.Fatal(err)
		}
		if all, err := f.s.FindExamPapers(ctx, e.ID, 0); err != nil || len(all) != 0 {
			t.Fatalf("after DeletePapers: %d papers, %v", len(all), err)
		}
	})
}

// openAttempt starts an attempt for the fixture's first student.
func (f *examFixture) openAttempt(t *testing.T, student int) *marksmith.Attempt {
	t.Helper()
	a := &marksmith.Attempt{ExamID: f.exam.ID, UserID: f.students[student].ID, Status: marksmith.AttemptOpen, Mode: marksmith.DeliveryOnline,
		StartedAt: testClock, DeadlineAt: testClock.Add(time.Hour), GraceUntil: testClock.Add(time.Hour + time.Minute), Max: 15.5}
	if err := f.s.CreateAttempt(t.Context(), a); err != nil {
		t.Fatalf("CreateAttempt: %v", err)
	}
	return a
}

func TestAttempts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		ctx := t.Context()
		a := f.openAttempt(t, 0)
		if a.ID == 0 || a.Status != marksmith.AttemptOpen {
			t.Fatalf("created %+v", a)
		}
		dup := *a
		wantCode(t, "second attempt", f.s.CreateAttempt(ctx, &dup), marksmith.ECONFLICT)
		b := f.openAttempt(t, 1)
		for _, got := range []func() (*marksmith.Attempt, error){
			func() (*marksmith.Attempt, error) { return f.s.FindAttemptByID(ctx, a.ID) },
			func() (*marksmith.Attempt, error) { return f.s.FindAttempt(ctx, f.exam.ID, f.students[0].ID) },
		} {
			g, err := got()
			if err == nil && g.ExamVersion != 0 {
				// FindAttemptByID says which version of the exam it saw.
				if e, _ := f.s.FindExamByID(ctx, f.exam.ID); g.ExamVersion != e.Version {
					t.Errorf("exam version %d, want %d", g.ExamVersion, e.Version)
				}
				g.ExamVersion = 0
			}
			if err != nil || !reflect.DeepEqual(g, a) {
				t.Fatalf("found %+v, %v; want %+v", g, err, a)
			}
		}
		_, err := f.s.FindAttempt(ctx, f.exam.ID, f.students[2].ID)
		wantCode(t, "attempt not started", err, marksmith.ENOTFOUND)
		all, err := f.s.FindAttempts(ctx, f.exam.ID)
		if err != nil || len(all) != 2 || all[0].ID != a.ID || all[1].ID != b.ID {
			t.Fatalf("FindAttempts = %v, %v", all, err)
		}
	})
}

func TestSaveAnswer(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		ctx := t.Context()
		a := f.openAttempt(t, 0)
		owner := f.students[0].ID
		at := func(s int) time.Time { return testClock.Add(time.Duration(s) * time.Second) }
		for _, tc := range []struct {
			name       string
			part       string
			raw        string
			seq        int64
			wantStored bool
			wantRaw    string
			wantSeq    int64
		}{
			{"first save", "a", "12", 1, true, "12", 1},
			{"newer save", "a", "13", 3, true, "13", 3},
			{"repeated save", "a", "13", 3, false, "13", 3},
			{"stale save", "a", "99", 2, false, "13", 3},
			{"equal seq, other text", "a", "98", 3, false, "13", 3},
			{"another part", "b", "x", 1, true, "x", 1},
			{"newest save", "a", "14 MB", 10, true, "14 MB", 10},
		} {
			out, err := f.s.SaveAnswer(ctx, &marksmith.Answer{AttemptID: a.ID, Position: 1, Part: tc.part, Raw: tc.raw, Seq: tc.seq,
				FormatError: "fe:" + tc.raw, SavedAt: at(int(tc.seq))}, owner)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			want := &marksmith.Answer{AttemptID: a.ID, Position: 1, Part: tc.part, Raw: tc.wantRaw, Seq: tc.wantSeq,
				FormatError: "fe:" + tc.wantRaw, SavedAt: at(int(tc.wantSeq))}
			if out.Stored != tc.wantStored || out.Refused != "" || out.Late || !reflect.DeepEqual(out.Current, want) {
				t.Errorf("%s: SaveAnswer = %+v (current %+v); want stored %v, %+v", tc.name, out, out.Current, tc.wantStored, want)
			}
		}
		list, err := f.s.FindAnswers(ctx, a.ID)
		if err != nil || len(list) != 2 || list[0].Part != "a" || list[0].Raw != "14 MB" || list[1].Part != "b" {
			t.Fatalf("FindAnswers = %+v, %v", list, err)
		}
		// After the deadline, within the grace: stored and late.
		out, err := f.s.SaveAnswer(ctx, &marksmith.Answer{AttemptID: a.ID, Position: 1, Part: "b", Raw: "y", Seq: 2, SavedAt: testClock.Add(time.Hour + time.Second)}, owner)
		if err != nil || !out.Stored || !out.Late {
			t.Fatalf("save in the grace = %+v, %v; want stored and late", out, err)
		}
		// Past the grace: refused as overdue, nothing written.
		out, err = f.s.SaveAnswer(ctx, &marksmith.Answer{AttemptID: a.ID, Position: 1, Part: "b", Raw: "z", Seq: 3, SavedAt: testClock.Add(2 * time.Hour)}, owner)
		if err != nil || out.Stored || out.Refused != marksmith.SaveOverdue || out.Attempt == nil || out.Attempt.ID != a.ID {
			t.Fatalf("save past the grace = %+v, %v; want refused overdue", out, err)
		}
		// Another student's attempt, or no attempt: refused alike.
		for _, tc := range []struct {
			name    string
			attempt int64
			user    int64
		}{{"another student", a.ID, f.students[1].ID}, {"missing attempt", a.ID + 100, owner}} {
			out, err := f.s.SaveAnswer(ctx, &marksmith.Answer{AttemptID: tc.attempt, Position: 1, Part: "a", Raw: "1", Seq: 99, SavedAt: at(5)}, tc.user)
			if err != nil || out.Stored || out.Refused != marksmith.SaveNoAttempt {
				t.Fatalf("%s: SaveAnswer = %+v, %v; want refused no_attempt", tc.name, out, err)
			}
		}
		b := f.openAttempt(t, 1)
		if out, err := f.s.SaveAnswer(ctx, &marksmith.Answer{AttemptID: b.ID, Position: 2, Part: "c", Raw: "7", Seq: 1}, f.students[1].ID); err != nil || !out.Stored {
			t.Fatal(out, err)
		}
		exam, err := f.s.FindExamAnswers(ctx, f.exam.ID)
		if err != nil || len(exam) != 3 || exam[2].AttemptID != b.ID || exam[2].SavedAt != testClock {
			t.Fatalf("FindExamAnswers = %+v, %v", exam, err)
		}
		act, err := f.s.LastSaves(ctx, f.exam.ID)
		if err != nil || act[a.ID].Answered != 2 || !act[a.ID].LastSaveAt.Equal(testClock.Add(time.Hour+time.Second)) || act[b.ID].Answered != 1 {
			t.Fatalf("LastSaves = %+v, %v", act, err)
		}
		// A disabled account saves nothing.
		yes := true
		if _, err := NewUserStore(db).UpdateUser(ctx, f.students[1].ID, marksmith.UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		out, err = f.s.SaveAnswer(ctx, &marksmith.Answer{AttemptID: b.ID, Position: 2, Part: "c", Raw: "8", Seq: 2, SavedAt: at(1)}, f.students[1].ID)
		if err != nil || out.Stored || out.Refused != marksmith.SaveDisabled {
			t.Fatalf("save of a disabled account = %+v, %v; want refused disabled", out, err)
		}

		score := 1.0
		closed := *a
		closed.Status, closed.Score = marksmith.AttemptSubmitted, &score
		if err := f.s.CloseAttempt(ctx, &closed, nil); err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{"a", "new"} {
			out, err = f.s.SaveAnswer(ctx, &marksmith.Answer{AttemptID: a.ID, Position: 1, Part: part, Raw: "15", Seq: 11, SavedAt: at(1)}, owner)
			if err != nil || out.Stored || out.Refused != marksmith.SaveNotOpen || out.Attempt.Status != marksmith.AttemptSubmitted {
				t.Fatalf("save to part %s of a submitted attempt = %+v, %v; want refused not_open", part, out, err)
			}
		}
	})
}

func TestCloseAttemptAndGrades(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		ctx := t.Context()
		a := f.openAttempt(t, 0)
		b := f.openAttempt(t, 1)
		score, sub := 7.25, testClock.Add(30*time.Minute)
		closed := *a
		closed.Status, closed.Score, closed.SubmittedAt, closed.Late = marksmith.AttemptSubmitted, &score, &sub, true
		grades := []*marksmith.Grade{
			{AttemptID: a.ID, Position: 1, Part: "a", Score: 5, Max: 5, Rule: "exact", Feedback: "Correct.", TemplateVersion: 1, GradedAt: sub},
			{AttemptID: a.ID, Position: 1, Part: "b", Score: 2.25, Max: 5, Rule: "rubric", NeedsReview: true, TemplateVersion: 1, GradedAt: sub},
			{AttemptID: a.ID, Position: 2, Part: "a", Score: 0, Max: 5.5, Rule: "blank", TemplateVersion: 2, GradedAt: sub},
		}
		if err := f.s.CloseAttempt(ctx, &closed, grades); err != nil {
			t.Fatalf("CloseAttempt: %v", err)
		}
		again := closed
		again.Status = marksmith.AttemptClosed
		wantCode(t, "close twice", f.s.CloseAttempt(ctx, &again, grades), marksmith.ECONFLICT)
		open := *b
		wantCode(t, "close as open", f.s.CloseAttempt(ctx, &open, nil), marksmith.EINVALID)
		missing := closed
		missing.ID = b.ID + 100
		wantCode(t, "close missing", f.s.CloseAttempt(ctx, &missing, nil), marksmith.ENOTFOUND)

		got, err := f.s.FindAttemptByID(ctx, a.ID)
		if err == nil {
			got.ExamVersion = 0
		}
		if err != nil || !reflect.DeepEqual(got, &closed) {
			t.Fatalf("closed attempt = %+v, %v\nwant %+v", got, err, &closed)
		}
		gs, err := f.s.FindGrades(ctx, a.ID)
		if err != nil || !reflect.DeepEqual(gs, grades) {
			t.Fatalf("FindGrades = %+v, %v\nwant %+v", gs, err, grades)
		}

		// An override: one grade, the score, an audit entry, in one transaction.
		reviewer, at := f.instructor.ID, testClock.Add(2*time.Hour)
		sug := 2.25
		ng := *grades[1]
		ng.Score, ng.Rule, ng.NeedsReview, ng.Suggested = 4, "override", false, &sug
		ng.ReviewedBy, ng.ReviewReason, ng.ReviewedAt = &reviewer, "names both effects", &at
		before, _ := json.Marshal(grades[1])
		after, _ := json.Marshal(&ng)
		entry := &marksmith.AuditEntry{ExamID: f.exam.ID, Actor: reviewer, Action: "override", Target: "attempt 1 question 1 part b",
			Before: before, After: after, Reason: "names both effects", At: at}
		// A failing update (a grade of an unknown attempt) changes nothing.
		stray := ng
		stray.AttemptID = b.ID + 100
		err = f.s.UpdateGrades(ctx, []*marksmith.Grade{&ng, &stray}, []*marksmith.AuditEntry{entry})
		wantCode(t, "update with unknown attempt", err, marksmith.EINVALID)
		if gs, _ := f.s.FindGrades(ctx, a.ID); !reflect.DeepEqual(gs, grades) {
			t.Fatalf("failed UpdateGrades changed grades to %+v", gs)
		}
		if log, _ := f.s.FindAudit(ctx, f.exam.ID); len(log) != 0 {
			t.Fatalf("failed UpdateGrades wrote audit %+v", log)
		}
		if err := f.s.UpdateGrades(ctx, []*marksmith.Grade{&ng}, []*marksmith.AuditEntry{entry}); err != nil {
			t.Fatalf("UpdateGrades: %v", err)
		}
		gs, _ = f.s.FindGrades(ctx, a.ID)
		if !reflect.DeepEqual(gs[1], &ng) || !reflect.DeepEqual(gs[0], grades[0]) {
			t.Fatalf("grades after override = %+v", gs)
		}
		// The total is summed from the stored grades: 5 + 4 + 0.
		if got, _ := f.s.FindAttemptByID(ctx, a.ID); got.Score == nil || *got.Score != 9 {
			t.Fatalf("score after override = %v", got.Score)
		}
		log, err := f.s.FindAudit(ctx, f.exam.ID)
		if err != nil || len(log) != 1 || log[0].ID == 0 || !log[0].At.Equal(at) || string(log[0].After) != string(after) || log[0].Reason != "names both effects" {
			t.Fatalf("audit = %+v, %v", log, err)
		}
		all, err := f.s.FindExamGrades(ctx, f.exam.ID)
		if err != nil || len(all) != 3 {
			t.Fatalf("FindExamGrades = %d, %v", len(all), err)
		}
	})
}

func TestReleaseAndAudit(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		ctx := t.Context()
		at := testClock.Add(3 * time.Hour)
		entry := &marksmith.AuditEntry{ExamID: f.exam.ID, Actor: f.instructor.ID, Action: "release", Target: "exam", At: at}
		wantCode(t, "release a draft", f.s.Release(ctx, f.exam.ID, at, entry), marksmith.ECONFLICT)
		if err := f.s.MarkPublished(ctx, f.exam.ID, testClock); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Release(ctx, f.exam.ID, at, entry); err != nil {
			t.Fatalf("Release: %v", err)
		}
		wantCode(t, "release twice", f.s.Release(ctx, f.exam.ID, at, entry), marksmith.ECONFLICT)
		wantCode(t, "release missing", f.s.Release(ctx, f.exam.ID+100, at, entry), marksmith.ENOTFOUND)
		e, _ := f.s.FindExamByID(ctx, f.exam.ID)
		if !e.Released || e.ReleasedAt == nil || !e.ReleasedAt.Equal(at) {
			t.Fatalf("released exam %+v", e)
		}
		pub := &marksmith.AuditEntry{ExamID: f.exam.ID, Actor: f.instructor.ID, Action: "publish", Target: "exam",
			After: json.RawMessage(`{"papers":6}`)}
		if err := f.s.AddAudit(ctx, pub); err != nil {
			t.Fatal(err)
		}
		log, err := f.s.FindAudit(ctx, f.exam.ID)
		if err != nil || len(log) != 2 || log[0].Action != "release" || log[1].Action != "publish" ||
			!log[1].At.Equal(testClock) || string(log[1].After) != `{"papers":6}` || log[1].Before != nil {
			t.Fatalf("audit = %+v, %v", log, err)
		}
	})
}

// TestExamVersion checks that every change to an exam's row raises its
// version, the store's methods and a raw update alike, and that a roster
// entry and an attempt read with the exam say which version they saw.
func TestExamVersion(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		ctx := t.Context()
		version := func() int64 {
			t.Helper()
			e, err := f.s.FindExamByID(ctx, f.exam.ID)
			if err != nil {
				t.Fatal(err)
			}
			return e.Version
		}
		v0 := version()
		if v0 < 1 || f.exam.Version != v0 {
			t.Fatalf("a new exam's version %d (created as %d)", v0, f.exam.Version)
		}
		if err := db.gorm.WithContext(ctx).Exec("UPDATE exams SET title = 'Renamed' WHERE id = ?", f.exam.ID).Error; err != nil {
			t.Fatal(err)
		}
		if v := version(); v != v0+1 {
			t.Errorf("after a raw update: version %d, want %d", v, v0+1)
		}
		if err := db.gorm.WithContext(ctx).Exec("UPDATE exams SET released = released WHERE id = ?", f.exam.ID).Error; err != nil {
			t.Fatal(err)
		}
		if v := version(); v != v0+2 {
			t.Errorf("after an update that changes nothing: version %d, want %d", v, v0+2)
		}
		if err := f.s.AddToRoster(ctx, f.exam.ID, []int64{f.students[0].ID}); err != nil {
			t.Fatal(err)
		}
		entry, err := f.s.FindRosterEntry(ctx, f.exam.ID, f.students[0].ID)
		if err != nil || entry.ExamVersion != v0+2 {
			t.Errorf("roster entry: exam version %v, %v; want %d", entry, err, v0+2)
		}
		a := f.openAttempt(t, 0)
		got, err := f.s.FindAttemptByID(ctx, a.ID)
		if err != nil || got.ExamVersion != v0+2 {
			t.Errorf("attempt: exam version %v, %v; want %d", got, err, v0+2)
		}
	})
}
