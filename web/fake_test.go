package web

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/marksmith/marksmith"
)

// Fakes of the four services, with the behaviour the pages rely on: who
// may see what (another student's attempt is ENOTFOUND, as the real
// service answers), sessions that expire and rotate, and saves that keep
// the highest seq.

var testNow = time.Date(2026, 5, 19, 9, 30, 0, 0, time.UTC)

// fakeAuth issues opaque tokens: "access-<user>-<n>" and
// "refresh-<user>-<n>".
type fakeAuth struct {
	mu        sync.Mutex
	users     map[int64]*marksmith.User
	passwords map[string]string // by email
	access    map[string]int64  // live access tokens
	refresh   map[string]int64  // live refresh tokens
	used      map[string]bool   // rotated refresh tokens
	n         int
	refreshes int
	logoutAll []int64
	revoked   []string
}

func newFakeAuth(users ...*marksmith.User) *fakeAuth {
	a := &fakeAuth{users: map[int64]*marksmith.User{}, passwords: map[string]string{}, access: map[string]int64{},
		refresh: map[string]int64{}, used: map[string]bool{}}
	for _, u := range users {
		a.users[u.ID] = u
		a.passwords[u.Email] = "pw-" + u.Email
	}
	return a
}

func (a *fakeAuth) session(u *marksmith.User) *marksmith.Session {
	a.n++
	s := &marksmith.Session{
		AccessToken: fmt.Sprintf("access-%d-%d", u.ID, a.n), TokenType: "Bearer", ExpiresIn: 900, AccessTTL: 15 * time.Minute,
		RefreshToken: fmt.Sprintf("refresh-%d-%d", u.ID, a.n), RefreshExpiresAt: testNow.Add(7 * 24 * time.Hour),
		User: u, MustChangePassword: u.MustChangePassword,
	}
	a.access[s.AccessToken] = u.ID
	a.refresh[s.RefreshToken] = u.ID
	return s
}

// login returns a session for u as the browser would hold it.
func (a *fakeAuth) login(u *marksmith.User) *marksmith.Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.session(u)
}

// expire makes an access token stale, as time does.
func (a *fakeAuth) expire(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.access, token)
}

func (a *fakeAuth) Login(ctx context.Context, in marksmith.LoginInput) (*marksmith.Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if in.Client == "" {
		return nil, fmt.Errorf("login without a client address")
	}
	for _, u := range a.users {
		if strings.EqualFold(u.Email, in.Email) && a.passwords[u.Email] == in.Password {
			if u.Disabled {
				return nil, marksmith.Errorf(marksmith.EFORBIDDEN, "This account is disabled.")
			}
			return a.session(u), nil
		}
	}
	return nil, marksmith.Errorf(marksmith.EUNAUTHORIZED, "Wrong email or password.")
}

func (a *fakeAuth) Refresh(ctx context.Context, token string) (*marksmith.Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refreshes++
	id, ok := a.refresh[token]
	if !ok {
		if a.used[token] { // reuse: the whole family goes
			for t, uid := range a.refresh {
				if uid == id {
					delete(a.refresh, t)
				}
			}
		}
		return nil, marksmith.Errorf(marksmith.EUNAUTHORIZED, "Invalid refresh token.")
	}
	delete(a.refresh, token)
	a.used[token] = true
	return a.session(a.users[id]), nil
}

func (a *fakeAuth) Logout(ctx context.Context, token string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.refresh, token)
	a.revoked = append(a.revoked, token)
	return nil
}

func (a *fakeAuth) LogoutAll(ctx context.Context, actor *marksmith.User) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.logoutAll = append(a.logoutAll, actor.ID)
	for t, id := range a.refresh {
		if id == actor.ID {
			delete(a.refresh, t)
		}
	}
	return nil
}

func (a *fakeAuth) Verify(token string) (marksmith.Principal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	id, ok := a.access[token]
	if !ok {
		return marksmith.Principal{}, marksmith.Errorf(marksmith.EUNAUTHORIZED, "Invalid or expired access token.")
	}
	return marksmith.Principal{UserID: id, Role: a.users[id].Role}, nil
}

func (a *fakeAuth) Actor(ctx context.Context, p marksmith.Principal) (*marksmith.User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[p.UserID]
	switch {
	case !ok || u.Role != p.Role:
		return nil, marksmith.Errorf(marksmith.EUNAUTHORIZED, "Sign in again.")
	case u.Disabled:
		return nil, marksmith.Errorf(marksmith.EFORBIDDEN, "This account is disabled.")
	}
	c := *u
	return &c, nil
}

// fakeUsers records what it is asked.
type fakeUsers struct {
	mu       sync.Mutex
	auth     *fakeAuth
	created  []marksmith.NewUser
	imported []string
	disabled map[int64]bool
	changed  []marksmith.PasswordChange
}

func (s *fakeUsers) Me(ctx context.Context, actor *marksmith.User) (*marksmith.User, error) {
	return actor, nil
}

func (s *fakeUsers) FindUsers(ctx context.Context, actor *marksmith.User, f marksmith.UserFilter) ([]*marksmith.User, int, error) {
	if actor.Role == marksmith.RoleStudent {
		return nil, 0, marksmith.Errorf(marksmith.EFORBIDDEN, "No.")
	}
	var out []*marksmith.User
	for id := int64(1); id <= 100; id++ {
		if u, ok := s.auth.users[id]; ok && (f.Query == "" || strings.Contains(u.Email, f.Query)) && (f.Role == nil || *f.Role == u.Role) {
			out = append(out, u)
		}
	}
	return out, len(out), nil
}

func (s *fakeUsers) CreateUser(ctx context.Context, actor *marksmith.User, in marksmith.NewUser) (*marksmith.NewAccount, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.Contains(in.Email, "@") {
		return nil, &marksmith.Error{Code: marksmith.EUNPROCESSABLE, Message: "Invalid user: email is not an email address.",
			Details: []marksmith.FieldError{{Field: "email", Message: "is not an email address"}}}
	}
	s.created = append(s.created, in)
	return &marksmith.NewAccount{User: &marksmith.User{ID: 99, Email: in.Email, Name: in.Name, Role: in.Role}, Password: "one-time-secret-1"}, nil
}

func (s *fakeUsers) ImportUsers(ctx context.Context, actor *marksmith.User, in marksmith.Roster) (*marksmith.ImportReport, error) {
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	rep := &marksmith.ImportReport{}
	for i, line := range strings.Split(strings.TrimSpace(string(body)), "\n")[1:] {
		email := strings.TrimSpace(strings.Split(line, ",")[0])
		row := marksmith.ImportRow{Line: i + 2, Email: email}
		if strings.Contains(email, "@") {
			row.Status, row.Password = marksmith.ImportCreated, "otp-"+email
			rep.Created++
			s.imported = append(s.imported, email)
		} else {
			row.Status = marksmith.ImportError
			row.Errors = []marksmith.FieldError{{Field: "email", Message: "is not an email address"}}
			rep.Failed++
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

func (s *fakeUsers) ChangePassword(ctx context.Context, actor *marksmith.User, in marksmith.PasswordChange) error {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	if s.auth.passwords[actor.Email] != in.Current {
		return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Wrong password.")
	}
	if len(in.New) < 8 {
		return &marksmith.Error{Code: marksmith.EUNPROCESSABLE, Message: "Invalid password.",
			Details: []marksmith.FieldError{{Field: "new_password", Message: "is shorter than 8 characters"}}}
	}
	s.auth.passwords[actor.Email] = in.New
	s.auth.users[actor.ID].MustChangePassword = false
	s.changed = append(s.changed, in)
	return nil
}

func (s *fakeUsers) ResetPassword(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.NewAccount, error) {
	u, ok := s.auth.users[id]
	if !ok {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "No such user.")
	}
	return &marksmith.NewAccount{User: u, Password: "reset-secret-2"}, nil
}

func (s *fakeUsers) SetDisabled(ctx context.Context, actor *marksmith.User, id int64, disabled bool) (*marksmith.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.auth.users[id]
	if !ok {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "No such user.")
	}
	if s.disabled == nil {
		s.disabled = map[int64]bool{}
	}
	s.disabled[id] = disabled
	return u, nil
}

// fakeTemplates serves the built-in bank's titles and previews.
type fakeTemplates struct {
	paper    []marksmith.Question // with keys
	uploaded []marksmith.TemplateUpload
}

func (s *fakeTemplates) list() []*marksmith.TemplateVersion {
	var out []*marksmith.TemplateVersion
	for _, q := range s.paper {
		out = append(out, &marksmith.TemplateVersion{TemplateID: q.Template, Version: 1, Title: q.Title, Marks: q.Marks,
			Tags: []string{"dasc7606"}, Format: "yaml", Builtin: true, CreatedAt: testNow.Add(-time.Hour)})
	}
	return out
}

func (s *fakeTemplates) FindTemplates(ctx context.Context, actor *marksmith.User, f marksmith.TemplateFilter) ([]*marksmith.TemplateVersion, int, error) {
	var out []*marksmith.TemplateVersion
	for _, tv := range s.list() {
		if f.Query == "" || strings.Contains(tv.TemplateID, f.Query) || strings.Contains(strings.ToLower(tv.Title), strings.ToLower(f.Query)) {
			out = append(out, tv)
		}
	}
	return out, len(out), nil
}

func (s *fakeTemplates) FindTemplate(ctx context.Context, actor *marksmith.User, id string, version int) (*marksmith.TemplateVersion, []*marksmith.TemplateVersion, error) {
	for _, tv := range s.list() {
		if tv.TemplateID == id {
			tv.Source = "id: " + id + "\ntitle: " + tv.Title + "\n"
			return tv, []*marksmith.TemplateVersion{tv}, nil
		}
	}
	return nil, nil, marksmith.Errorf(marksmith.ENOTFOUND, "No such template.")
}

func (s *fakeTemplates) UploadTemplate(ctx context.Context, actor *marksmith.User, in marksmith.TemplateUpload) (*marksmith.TemplateVersion, bool, error) {
	s.uploaded = append(s.uploaded, in)
	if strings.Contains(string(in.Source), "bad") {
		type problem struct { // the bank's shape: line, column, field, message
			File    string `json:"file"`
			Line    int    `json:"line"`
			Column  int    `json:"column"`
			Field   string `json:"field"`
			Message string `json:"message"`
		}
		return nil, false, &marksmith.Error{Code: marksmith.EUNPROCESSABLE, Message: "The template has 1 problem(s).",
			Details: []problem{{File: "upload", Line: 2, Column: 7, Field: "marks", Message: "must be a number, not bad"}}}
	}
	return &marksmith.TemplateVersion{TemplateID: "mine/q1", Version: 3, Title: "Mine"}, false, nil
}

func (s *fakeTemplates) PreviewTemplate(ctx context.Context, actor *marksmith.User, id string, version int, seed marksmith.Seed) (*marksmith.Question, error) {
	for _, q := range s.paper {
		if q.Template == id {
			q := q
			q.Params = map[string]any{"seed": seed.String()}
			return &q, nil
		}
	}
	return nil, marksmith.Errorf(marksmith.ENOTFOUND, "No such template.")
}

// fakeExams holds one published exam (1) and one draft (2) of the
// instructor (2), with students 3 and 4; attempt 10 is student 3's, open,
// and attempt 11 student 4's, submitted.
type fakeExams struct {
	mu       sync.Mutex
	attempts map[int64]*marksmith.AttemptView // with keys; views strip them
	owners   map[int64]int64
	saves    []marksmith.SaveInput
	stored   map[string]marksmith.Answer // "attempt/question/part"
	submits  []int64
	reviews  []marksmith.ReviewDecision
	accepts  []marksmith.AcceptInput
	closes   []marksmith.CloseInput
	calls    []string
	paper    []marksmith.Question

	createHook func(marksmith.ExamInput)
}

// testDate is a time on the day of testNow.
func testDate(hour, min int) time.Time { return time.Date(2026, 5, 19, hour, min, 0, 0, time.UTC) }

func newFakeExams(paper []marksmith.Question) *fakeExams {
	f := &fakeExams{attempts: map[int64]*marksmith.AttemptView{}, owners: map[int64]int64{}, stored: map[string]marksmith.Answer{}, paper: paper}
	open := &marksmith.AttemptView{
		Attempt:   &marksmith.Attempt{ID: 10, ExamID: 1, UserID: 3, Status: marksmith.AttemptOpen, StartedAt: testNow.Add(-30 * time.Minute), DeadlineAt: testNow.Add(90 * time.Minute), GraceUntil: testNow.Add(92 * time.Minute), Mode: "online", Max: 100},
		ExamTitle: "DASC7606 final", Deadline: testNow.Add(90 * time.Minute), GraceUntil: testNow.Add(92 * time.Minute),
		ServerTime: testNow, RemainingSeconds: 5400, Questions: cloneQuestions(paper),
	}
	open.Questions[0].Answers = []marksmith.Answer{{Position: 1, Part: open.Questions[0].Parts[0].ID, Raw: "twelve", Seq: 4, FormatError: "“twelve” is not a number.", SavedAt: testNow.Add(-time.Minute)}}
	submitted := &marksmith.AttemptView{
		Attempt:   &marksmith.Attempt{ID: 11, ExamID: 1, UserID: 4, Status: marksmith.AttemptSubmitted, StartedAt: testNow.Add(-50 * time.Minute), DeadlineAt: testNow.Add(70 * time.Minute), Max: 100},
		ExamTitle: "DASC7606 final", Deadline: testNow.Add(70 * time.Minute), GraceUntil: testNow.Add(72 * time.Minute),
		ServerTime: testNow, Released: true, Questions: cloneQuestions(paper),
	}
	for i := range submitted.Questions {
		q := &submitted.Questions[i]
		total := 0.0
		for _, p := range q.Parts {
			q.Answers = append(q.Answers, marksmith.Answer{Position: q.Position, Part: p.ID, Raw: "42", Seq: 1, SavedAt: testNow})
			g := marksmith.Grade{Position: q.Position, Part: p.ID, Score: p.Marks / 2, Max: p.Marks, Rule: "tolerance", Feedback: "Half right."}
			if p.Type == marksmith.TypeEssay {
				g.ReviewReason = "Names both limits."
			}
			q.Grades = append(q.Grades, g)
			total += p.Marks / 2
		}
		q.Score = &total
	}
	f.attempts[10], f.owners[10] = open, 3
	f.attempts[11], f.owners[11] = submitted, 4
	return f
}

func cloneQuestions(qs []marksmith.Question) []marksmith.Question {
	out := make([]marksmith.Question, len(qs))
	for i, q := range qs {
		q.Parts = append([]marksmith.Part(nil), q.Parts...)
		out[i] = q
	}
	return out
}

func (f *fakeExams) note(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
}

var examWindow = struct{ opens, closes time.Time }{testNow.Add(-time.Hour), testNow.Add(2 * time.Hour)}

func (f *fakeExams) exam(id int64) *marksmith.Exam {
	e := &marksmith.Exam{ID: id, Title: "DASC7606 final", Seed: 42, OpensAt: examWindow.opens, ClosesAt: examWindow.closes,
		TimeLimitSeconds: 7200, LateGraceSeconds: 120, ShuffleOptions: true, Status: marksmith.ExamPublished, CreatedBy: 2,
		Feedback: marksmith.FeedbackPolicy{AfterSubmit: "score", AfterRelease: "key"}, Delivery: marksmith.DeliveryOnline}
	for i, q := range f.paper {
		e.Questions = append(e.Questions, marksmith.ExamQuestion{Position: i + 1, TemplateID: q.Template, Version: 1, Marks: q.Marks})
	}
	if id == 2 {
		e.Title, e.Status = "Quiz 1 (draft)", marksmith.ExamDraft
	}
	return e
}

func (f *fakeExams) own(actor *marksmith.User, id int64) (*marksmith.Exam, error) {
	if actor.Role == marksmith.RoleStudent || id < 1 || id > 2 || actor.Role == marksmith.RoleInstructor && actor.ID != 2 {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "No such exam.")
	}
	return f.exam(id), nil
}

func (f *fakeExams) CreateExam(ctx context.Context, actor *marksmith.User, in marksmith.ExamInput) (*marksmith.Exam, error) {
	f.note("CreateExam")
	if f.createHook != nil {
		f.createHook(in)
	}
	if in.Title == "" {
		return nil, &marksmith.Error{Code: marksmith.EUNPROCESSABLE, Message: "Invalid exam: title is required.",
			Details: []marksmith.FieldError{{Field: "title", Message: "is required"}}}
	}
	e := f.exam(2)
	e.Title = in.Title
	return e, nil
}
func (f *fakeExams) FindExam(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.Exam, error) {
	return f.own(actor, id)
}
func (f *fakeExams) FindExams(ctx context.Context, actor *marksmith.User, offset, limit int) ([]*marksmith.Exam, int, error) {
	return []*marksmith.Exam{f.exam(1), f.exam(2)}, 2, nil
}
func (f *fakeExams) UpdateExam(ctx context.Context, actor *marksmith.User, id int64, in marksmith.ExamInput) (*marksmith.Exam, error) {
	f.note("UpdateExam")
	return f.own(actor, id)
}
func (f *fakeExams) DeleteExam(ctx context.Context, actor *marksmith.User, id int64) error {
	f.note("DeleteExam")
	_, err := f.own(actor, id)
	return err
}
func (f *fakeExams) SetRoster(ctx context.Context, actor *marksmith.User, id int64, students []string) (*marksmith.RosterResult, error) {
	f.note("SetRoster " + strings.Join(students, " "))
	return &marksmith.RosterResult{Students: len(students)}, nil
}
func (f *fakeExams) FindRoster(ctx context.Context, actor *marksmith.User, id int64) ([]*marksmith.RosterEntry, error) {
	if _, err := f.own(actor, id); err != nil {
		return nil, err
	}
	return []*marksmith.RosterEntry{
		{User: &marksmith.User{ID: 3, Email: "ann@example.edu", Name: "Ann", Role: marksmith.RoleStudent, StudentKey: "3035000001"}},
		{User: &marksmith.User{ID: 4, Email: "ben@example.edu", Name: "Ben", Role: marksmith.RoleStudent, StudentKey: "3035000002"}, ExtraSeconds: 900, AccommodationReason: "SEN"},
	}, nil
}
func (f *fakeExams) Publish(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.PublishReport, error) {
	f.note("Publish")
	return &marksmith.PublishReport{ExamID: id, Students: 2, Questions: 8, Papers: 16, DurationMS: 41,
		Distinct: []marksmith.QuestionDistinct{{Position: 1, Template: "dasc7606/q1", Version: 1, Distinct: 2}}}, nil
}
func (f *fakeExams) Unpublish(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.Exam, error) {
	f.note("Unpublish")
	return nil, marksmith.Errorf(marksmith.ECONFLICT, "Students have started this exam: it cannot go back to draft.")
}
func (f *fakeExams) AddStudents(ctx context.Context, actor *marksmith.User, id int64, students []string) (*marksmith.RosterResult, error) {
	f.note("AddStudents " + strings.Join(students, " "))
	return &marksmith.RosterResult{Students: 3, Unknown: []string{"nobody@example.edu"}}, nil
}
func (f *fakeExams) RemoveStudent(ctx context.Context, actor *marksmith.User, id, userID int64) error {
	f.note(fmt.Sprintf("RemoveStudent %d", userID))
	return nil
}
func (f *fakeExams) SetAccommodation(ctx context.Context, actor *marksmith.User, id, userID int64, in marksmith.Accommodation) (*marksmith.RosterEntry, error) {
	f.note(fmt.Sprintf("SetAccommodation %d %d %s", userID, in.ExtraSeconds, in.Reason))
	return &marksmith.RosterEntry{User: &marksmith.User{ID: userID, Email: "ann@example.edu"}, ExtraSeconds: in.ExtraSeconds}, nil
}
func (f *fakeExams) CloseAttempts(ctx context.Context, actor *marksmith.User, id int64, in marksmith.CloseInput) (*marksmith.CloseReport, error) {
	f.mu.Lock()
	f.closes = append(f.closes, in)
	f.mu.Unlock()
	return &marksmith.CloseReport{Closed: 1, Attempts: []int64{10}}, nil
}
func (f *fakeExams) ReopenAttempt(ctx context.Context, actor *marksmith.User, attemptID int64, in marksmith.ReopenInput) (*marksmith.Attempt, error) {
	f.note(fmt.Sprintf("ReopenAttempt %d %d", attemptID, in.Seconds))
	return &marksmith.Attempt{ID: attemptID, DeadlineAt: testNow.Add(time.Duration(in.Seconds) * time.Second)}, nil
}
func (f *fakeExams) Release(ctx context.Context, actor *marksmith.User, id int64, in marksmith.ReleaseInput) (*marksmith.ReleaseReport, error) {
	f.note(fmt.Sprintf("Release partial=%v", in.Partial))
	return &marksmith.ReleaseReport{Released: 2}, nil
}
func (f *fakeExams) Monitor(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.Monitor, error) {
	f.note("Monitor")
	if _, err := f.own(actor, id); err != nil {
		return nil, err
	}
	a10, a11 := int64(10), int64(11)
	started, saved := testNow.Add(-30*time.Minute), testNow.Add(-10*time.Second)
	return &marksmith.Monitor{ExamID: id, Title: "DASC7606 final", ServerTime: testNow, NotStarted: 1, Working: 1, Finished: 1,
		Students: []marksmith.MonitorRow{
			{UserID: 3, Email: "ann@example.edu", Name: "Ann", Status: "open", AttemptID: &a10, StartedAt: &started, LastSaveAt: &saved, Answered: 12},
			{UserID: 4, Email: "ben@example.edu", Name: "Ben", Status: "submitted", AttemptID: &a11, StartedAt: &started, SubmittedAt: &saved, Extra: 900},
			{UserID: 5, Email: "cat@example.edu", Name: "Cat", Status: "not started"},
		}}, nil
}
func (f *fakeExams) MyExams(ctx context.Context, actor *marksmith.User) ([]*marksmith.StudentExam, error) {
	if actor.Role != marksmith.RoleStudent {
		return nil, marksmith.Errorf(marksmith.EFORBIDDEN, "Students only.")
	}
	score := 51.5
	return []*marksmith.StudentExam{
		{ID: 1, Title: "DASC7606 final", OpensAt: examWindow.opens, ClosesAt: examWindow.closes, TimeLimitSeconds: 7200, Questions: 8, Max: 100, State: marksmith.StateOpen, CanStart: true,
			Attempt: &marksmith.AttemptSummary{ID: 10, Status: marksmith.AttemptOpen, StartedAt: testNow.Add(-30 * time.Minute), DeadlineAt: testNow.Add(90 * time.Minute), Max: 100}},
		{ID: 3, Title: "Quiz 2", OpensAt: testNow.Add(48 * time.Hour), ClosesAt: testNow.Add(50 * time.Hour), TimeLimitSeconds: 1800, Questions: 3, Max: 20, State: marksmith.StateUpcoming},
		{ID: 4, Title: "Quiz 0", OpensAt: testNow.Add(-48 * time.Hour), ClosesAt: testNow.Add(-46 * time.Hour), Questions: 2, Max: 10, State: marksmith.StateClosed, Released: true,
			Attempt: &marksmith.AttemptSummary{ID: 12, Status: marksmith.AttemptSubmitted, Score: &score, Max: 10}},
		{ID: 5, Title: "Practice", OpensAt: testNow.Add(-1 * time.Hour), ClosesAt: testNow.Add(time.Hour), Questions: 2, Max: 10, State: marksmith.StateOpen, CanStart: true},
	}, nil
}
func (f *fakeExams) StartAttempt(ctx context.Context, actor *marksmith.User, examID int64) (*marksmith.AttemptView, error) {
	f.note(fmt.Sprintf("StartAttempt %d", examID))
	if examID != 1 && examID != 5 {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "No such exam.")
	}
	return f.GetAttempt(ctx, actor, 10)
}
func (f *fakeExams) view(actor *marksmith.User, id int64) (*marksmith.AttemptView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.attempts[id]
	if !ok || actor.Role == marksmith.RoleStudent && f.owners[id] != actor.ID || actor.Role == marksmith.RoleInstructor && actor.ID != 2 {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "No such attempt.")
	}
	out := *v
	out.Questions = cloneQuestions(v.Questions)
	for i := range out.Questions {
		q := &out.Questions[i]
		for j := range q.Parts {
			if actor.Role == marksmith.RoleStudent && (!v.Released || v.Attempt.Status == marksmith.AttemptOpen) {
				q.Parts[j].Key = nil
			}
		}
		var answers []marksmith.Answer
		for _, a := range q.Answers {
			answers = append(answers, a)
		}
		for k, a := range f.stored {
			if strings.HasPrefix(k, fmt.Sprintf("%d/%d/", id, q.Position)) {
				answers = append(answers, a)
			}
		}
		q.Answers = answers
	}
	return &out, nil
}
func (f *fakeExams) GetAttempt(ctx context.Context, actor *marksmith.User, attemptID int64) (*marksmith.AttemptView, error) {
	return f.view(actor, attemptID)
}
func (f *fakeExams) SaveAnswer(ctx context.Context, actor *marksmith.User, in marksmith.SaveInput) (*marksmith.SaveResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.owners[in.AttemptID] != actor.ID {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "No such attempt.")
	}
	if f.attempts[in.AttemptID].Attempt.Status != marksmith.AttemptOpen {
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "The attempt is submitted.")
	}
	if in.Seq < 1 {
		return nil, &marksmith.Error{Code: marksmith.EUNPROCESSABLE, Message: "Invalid answer.", Details: []marksmith.FieldError{{Field: "seq", Message: "is required"}}}
	}
	f.saves = append(f.saves, in)
	key := fmt.Sprintf("%d/%d/%s", in.AttemptID, in.Question, in.Part)
	cur, ok := f.stored[key]
	if ok && cur.Seq >= in.Seq {
		return &marksmith.SaveResult{Stored: false, Stale: cur.Seq > in.Seq || cur.Raw != in.Answer, Answer: cur}, nil
	}
	a := marksmith.Answer{Position: in.Question, Part: in.Part, Raw: in.Answer, Seq: in.Seq, SavedAt: testNow}
	if strings.Contains(in.Answer, "twelve") {
		a.FormatError = "“twelve” is not a number."
	}
	f.stored[key] = a
	return &marksmith.SaveResult{Stored: true, Answer: a, FormatError: a.FormatError}, nil
}
func (f *fakeExams) Submit(ctx context.Context, actor *marksmith.User, attemptID int64) (*marksmith.AttemptView, error) {
	f.mu.Lock()
	f.submits = append(f.submits, attemptID)
	if a, ok := f.attempts[attemptID]; ok && f.owners[attemptID] == actor.ID && a.Attempt.Status == marksmith.AttemptOpen {
		a.Attempt.Status = marksmith.AttemptSubmitted
		at := testNow
		a.Attempt.SubmittedAt = &at
	}
	f.mu.Unlock()
	return f.view(actor, attemptID)
}
func (f *fakeExams) ReviewQueue(ctx context.Context, actor *marksmith.User, id int64) ([]marksmith.ReviewGroup, error) {
	if _, err := f.own(actor, id); err != nil {
		return nil, err
	}
	return []marksmith.ReviewGroup{
		{Question: 1, Part: "e", Answer: "it is smooth and non-monotonic", Version: "v1", Count: 2, AttemptIDs: []int64{10, 11},
			Members:   []marksmith.ReviewMember{{AttemptID: 10, Answer: "It is smooth and non-monotonic"}, {AttemptID: 11, Answer: "it is smooth and  non-monotonic"}},
			Suggested: 2, Max: 4, Feedback: "Criteria met: smooth.", Reference: "Swish is smooth; with $\\beta$ large it tends to ReLU.",
			Rubric: []marksmith.Criterion{{ID: "smooth", Text: "smooth", Marks: 2}, {ID: "limits", Text: "names both limits", Marks: 2}}},
		{Question: 3, Part: "d", Answer: "less error", Version: "v7", Count: 1, AttemptIDs: []int64{12}, Suggested: 1, Max: 2},
	}, nil
}
func (f *fakeExams) Review(ctx context.Context, actor *marksmith.User, id int64, in marksmith.ReviewDecision) (*marksmith.ReviewResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.Reason == "" {
		return nil, &marksmith.Error{Code: marksmith.EUNPROCESSABLE, Message: "Invalid decision: reason is required.",
			Details: []marksmith.FieldError{{Field: "reason", Message: "is required"}}}
	}
	if in.Group == "stale" {
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "The group has changed since you saw it.")
	}
	f.reviews = append(f.reviews, in)
	return &marksmith.ReviewResult{Updated: len(in.AttemptIDs)}, nil
}
func (f *fakeExams) AcceptSuggested(ctx context.Context, actor *marksmith.User, id int64, in marksmith.AcceptInput) (*marksmith.ReviewResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepts = append(f.accepts, in)
	return &marksmith.ReviewResult{Updated: 3}, nil
}
func (f *fakeExams) Regrade(ctx context.Context, actor *marksmith.User, id int64, in marksmith.RegradeInput) (*marksmith.RegradeReport, error) {
	return &marksmith.RegradeReport{}, nil
}
func (f *fakeExams) Gradebook(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.Gradebook, error) {
	if _, err := f.own(actor, id); err != nil {
		return nil, err
	}
	s := func(v float64) *float64 { return &v }
	a10, a11 := int64(10), int64(11)
	sub := testNow.Add(-time.Minute)
	return &marksmith.Gradebook{ExamID: id, Title: "DASC7606 final", Max: 30,
		Questions: []marksmith.GradebookQuestion{{Position: 1, Template: "dasc7606/q1", Marks: 10}, {Position: 2, Template: "dasc7606/q2", Marks: 20}},
		Rows: []marksmith.GradebookRow{
			{UserID: 3, Email: "ann@example.edu", Name: "Ann", StudentKey: "3035000001", Status: "submitted", AttemptID: &a10, SubmittedAt: &sub, Scores: []*float64{s(9), s(12)}, Total: s(21), Max: 30},
			{UserID: 4, Email: "ben@example.edu", Name: "Ben", StudentKey: "3035000002", Status: "submitted", AttemptID: &a11, SubmittedAt: &sub, Late: true, Scores: []*float64{s(4), s(18)}, Total: s(22), Max: 30, NeedsReview: 1},
			{UserID: 5, Email: "cat@example.edu", Name: "Cat", StudentKey: "3035000003", Status: "not started", Scores: []*float64{nil, nil}, Max: 30},
		}}, nil
}
func (f *fakeExams) Stats(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.Stats, error) {
	if id == 2 {
		return nil, fmt.Errorf("stats of exam 2: connection refused to db.internal:5432")
	}
	if _, err := f.own(actor, id); err != nil {
		return nil, err
	}
	d := 0.41
	neg := -0.12
	return &marksmith.Stats{ExamID: id,
		Summary: marksmith.Summary{N: 40, Max: 100, Mean: 61.5, Difficulty: 0.615, Histogram: []marksmith.Bin{{From: 0, To: 20, Count: 2}, {From: 20, To: 40, Count: 5}, {From: 40, To: 60, Count: 12}, {From: 60, To: 80, Count: 15}, {From: 80, To: 100, Count: 6}}},
		Questions: []marksmith.QuestionStats{{Position: 1, Template: "dasc7606/q1", Version: 1,
			Summary: marksmith.Summary{N: 40, Max: 10, Mean: 6, Difficulty: 0.6, Discrimination: &d},
			Parts: []marksmith.PartStats{{Part: "a", Summary: marksmith.Summary{N: 40, Max: 4, Mean: 3, Difficulty: 0.75, Discrimination: &d}},
				{Part: "b", Summary: marksmith.Summary{N: 40, Max: 6, Mean: 3, Difficulty: 0.5, Discrimination: &neg}},
				{Part: "c", Summary: marksmith.Summary{N: 2, Max: 2, Mean: 1, Difficulty: 0.5}}},
			Fairness: []marksmith.ParamFairness{
				{Param: "hw", Values: []marksmith.ValueScore{{Value: "14", N: 13, Mean: 0.8}, {Value: "28", N: 14, Mean: 0.45}, {Value: "56", N: 13, Mean: 0.6}}, Gap: 0.35, Flagged: true},
				{Param: "cin", Values: []marksmith.ValueScore{{Value: "128", N: 2, Mean: 0.9}, {Value: "192", N: 38, Mean: 0.55}}, Gap: 0, Flagged: false},
			}}}}, nil
}
func (f *fakeExams) Audit(ctx context.Context, actor *marksmith.User, id int64) ([]*marksmith.AuditEntry, error) {
	if id == 2 {
		panic("audit of exam 2: a bug with a secret inside")
	}
	if _, err := f.own(actor, id); err != nil {
		return nil, err
	}
	return []*marksmith.AuditEntry{{ID: 1, ExamID: id, Actor: 2, Action: "override", Target: "attempt 10 question 1 part e", Before: []byte(`{"score":2}`), After: []byte(`{"score":3}`), Reason: "Names both limits.", At: testNow}}, nil
}
func (f *fakeExams) CloseOverdue(ctx context.Context) (int, error) { return 0, nil }

// ExportMoodle writes the options it was given, as the file.
func (s *fakeTemplates) ExportMoodle(ctx context.Context, actor *marksmith.User, id string, version int, o marksmith.MoodleExport, w io.Writer) error {
	if _, _, err := s.FindTemplate(ctx, actor, id, version); err != nil {
		return err
	}
	if err := o.Check(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "<quiz><!-- %s v%d count %d seed %d --></quiz>\n", id, version, o.Count, o.Seed)
	return err
}

// ExportMoodle writes the options it was given, as the file, for the
// instructor's own exams.
func (f *fakeExams) ExportMoodle(ctx context.Context, actor *marksmith.User, id int64, o marksmith.MoodleExport, w io.Writer) error {
	if _, err := f.own(actor, id); err != nil {
		return err
	}
	if err := o.Check(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "<quiz><!-- exam %d count %d seed %d --></quiz>\n", id, o.Count, o.Seed)
	return err
}

func (f *fakeExams) Papers(ctx context.Context, actor *marksmith.User, id int64, q marksmith.PaperQuery) (*marksmith.ExamPapers, error) {
	if _, err := f.own(actor, id); err != nil {
		return nil, err
	}
	return nil, marksmith.Errorf(marksmith.ECONFLICT, "The fake prints no papers.")
}

// The web pages do not upload answers: the API does.
func (f *fakeExams) UploadSubmissions(context.Context, *marksmith.User, int64, marksmith.SubmissionUpload) (*marksmith.SubmissionJob, error) {
	return nil, marksmith.Errorf(marksmith.ENOTFOUND, "not in the fake")
}

func (f *fakeExams) FindSubmissionJob(context.Context, *marksmith.User, int64, int64) (*marksmith.SubmissionJob, error) {
	return nil, marksmith.Errorf(marksmith.ENOTFOUND, "not in the fake")
}

func (f *fakeExams) SubmissionResults(context.Context, *marksmith.User, int64, int64, io.Writer) error {
	return marksmith.Errorf(marksmith.ENOTFOUND, "not in the fake")
}

// The web pages do not print jobs: the API does.
func (f *fakeExams) StartPrintJob(context.Context, *marksmith.User, int64, marksmith.PrintJobInput) (*marksmith.PrintJob, error) {
	return nil, marksmith.Errorf(marksmith.ENOTFOUND, "not in the fake")
}

func (f *fakeExams) FindPrintJob(context.Context, *marksmith.User, int64, int64) (*marksmith.PrintJob, error) {
	return nil, marksmith.Errorf(marksmith.ENOTFOUND, "not in the fake")
}

func (f *fakeExams) OpenPrintJobFile(context.Context, *marksmith.User, int64, int64) (*marksmith.PrintJob, io.ReadCloser, error) {
	return nil, nil, marksmith.Errorf(marksmith.ENOTFOUND, "not in the fake")
}
