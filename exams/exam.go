package exams

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
)

// ExamInput is what an instructor sends to create or update a draft exam.
type ExamInput struct {
	Title string `json:"title"`
	// Seed seeds every student's variants; nil draws a random one at
	// create (and keeps the stored one at update).
	Seed *uint64 `json:"seed"`
	// Questions in exam order; positions are 1, 2, … in this order.
	Questions        []QuestionInput          `json:"questions"`
	OpensAt          time.Time                `json:"opens_at"`
	ClosesAt         time.Time                `json:"closes_at"`
	TimeLimitSeconds int                      `json:"time_limit_seconds"` // 0: until the window closes
	LateGraceSeconds int                      `json:"late_grace_seconds"` // 0: no late work
	ShuffleQuestions bool                     `json:"shuffle_questions"`
	ShuffleOptions   bool                     `json:"shuffle_options"`
	Feedback         marksmith.FeedbackPolicy `json:"feedback"`
	// Roster lists students by email or student key; nil leaves the
	// roster alone (use SetRoster), an empty list clears it.
	Roster []string `json:"roster"`
}

// QuestionInput is one question of an ExamInput.
type QuestionInput struct {
	Template string  `json:"template"`
	Version  int     `json:"version"` // 0: the latest at create, then pinned
	Marks    float64 `json:"marks"`   // 0: the template's marks
}

// RosterResult reports a SetRoster: the roster is set to the entries that
// name students; the others are listed, none is silently dropped.
type RosterResult struct {
	Students int           `json:"students"`          // on the roster now
	Unknown  []string      `json:"unknown,omitempty"` // entries that match no user
	Errors   []RosterError `json:"errors,omitempty"`  // entries that match a user who cannot sit the exam
}

// RosterError is a roster entry that was not added, and why.
type RosterError struct {
	Entry   string `json:"entry"`
	Message string `json:"message"`
}

// maxQuestions bounds an exam's questions.
const maxQuestions = 100

// CreateExam stores a new draft exam owned by actor (an instructor or an
// admin). Each question's template must exist; version 0 pins the latest,
// marks 0 takes the template's. With in.Roster set, the roster is set too;
// unknown entries make it EUNPROCESSABLE with the RosterResult as Details.
func (s *Service) CreateExam(ctx context.Context, actor *marksmith.User, in ExamInput) (*marksmith.Exam, error) {
	if err := requireStaff(actor); err != nil {
		return nil, err
	}
	e := &marksmith.Exam{Status: marksmith.ExamDraft, CreatedBy: actor.ID}
	if err := s.applyInput(ctx, e, in); err != nil {
		return nil, err
	}
	if in.Seed == nil {
		seed, err := randomSeed()
		if err != nil {
			return nil, err
		}
		e.Seed = seed
	}
	var ids []int64
	if in.Roster != nil {
		var err error
		if ids, err = s.rosterIDs(ctx, in.Roster); err != nil {
			return nil, err
		}
	}
	now := s.clock()
	e.CreatedAt, e.UpdatedAt = now, now
	if err := s.exams.CreateExam(ctx, e); err != nil {
		return nil, fmt.Errorf("create exam: %w", err)
	}
	if in.Roster != nil {
		if err := s.exams.SetRoster(ctx, e.ID, ids); err != nil {
			return nil, fmt.Errorf("create exam %d: set roster: %w", e.ID, err)
		}
	}
	return e, nil
}

// UpdateExam rewrites a draft exam from in; a published exam is ECONFLICT.
// A nil Seed keeps the stored seed, a nil Roster the stored roster.
func (s *Service) UpdateExam(ctx context.Context, actor *marksmith.User, id int64, in ExamInput) (*marksmith.Exam, error) {
	e, err := s.managedExam(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if e.Status != marksmith.ExamDraft {
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is published and can no longer be changed.", id)
	}
	if err := s.applyInput(ctx, e, in); err != nil {
		return nil, err
	}
	var ids []int64
	if in.Roster != nil {
		if ids, err = s.rosterIDs(ctx, in.Roster); err != nil {
			return nil, err
		}
	}
	e.UpdatedAt = s.clock()
	if err := s.exams.UpdateExam(ctx, e); err != nil {
		if isCode(err, marksmith.ECONFLICT) {
			return nil, marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is published and can no longer be changed.", id)
		}
		return nil, fmt.Errorf("update exam %d: %w", id, err)
	}
	if in.Roster != nil {
		if err := s.exams.SetRoster(ctx, e.ID, ids); err != nil {
			return nil, fmt.Errorf("update exam %d: set roster: %w", e.ID, err)
		}
	}
	return e, nil
}

// rosterIDs resolves a roster given with an exam; any entry that does not
// name a student makes it EUNPROCESSABLE.
func (s *Service) rosterIDs(ctx context.Context, entries []string) ([]int64, error) {
	ids, res, err := s.resolveRoster(ctx, entries)
	if err != nil {
		return nil, err
	}
	if len(res.Unknown) > 0 || len(res.Errors) > 0 {
		return nil, &marksmith.Error{Code: marksmith.EUNPROCESSABLE,
			Message: fmt.Sprintf("The roster has %d entries that are not students.", len(res.Unknown)+len(res.Errors)), Details: res}
	}
	return ids, nil
}

// GetExam returns an exam to its creator or an admin; to anyone else it
// is ENOTFOUND (students see exams through MyExams).
func (s *Service) GetExam(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.Exam, error) {
	return s.managedExam(ctx, actor, id)
}

// DeleteExam deletes a draft exam actor may manage; a published exam has
// papers and answers, and is ECONFLICT.
func (s *Service) DeleteExam(ctx context.Context, actor *marksmith.User, id int64) error {
	e, err := s.managedExam(ctx, actor, id)
	if err != nil {
		return err
	}
	if e.Status != marksmith.ExamDraft {
		return marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is published; only a draft can be deleted.", id)
	}
	if err := s.exams.DeleteExam(ctx, id); err != nil {
		return fmt.Errorf("delete exam %d: %w", id, err)
	}
	return nil
}

// Audit returns the audit log of an exam actor may manage, oldest first:
// publishing, overrides, regrades and the release, each with who and when.
func (s *Service) Audit(ctx context.Context, actor *marksmith.User, id int64) ([]*marksmith.AuditEntry, error) {
	if _, err := s.managedExam(ctx, actor, id); err != nil {
		return nil, err
	}
	es, err := s.exams.FindAudit(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("audit of exam %d: %w", id, err)
	}
	if es == nil {
		es = []*marksmith.AuditEntry{}
	}
	return es, nil
}

// ListExams returns the exams actor may manage, newest first, and how many
// there are in all: an instructor's own, or every exam for an admin.
// limit 0 means no limit.
func (s *Service) ListExams(ctx context.Context, actor *marksmith.User, offset, limit int) ([]*marksmith.Exam, int, error) {
	if err := requireStaff(actor); err != nil {
		return nil, 0, err
	}
	if offset < 0 || limit < 0 {
		return nil, 0, invalid([]FieldError{{Field: "offset", Message: "offset and limit must not be negative"}})
	}
	f := marksmith.ExamFilter{Offset: offset, Limit: limit}
	if actor.Role != marksmith.RoleAdmin {
		f.CreatedBy = &actor.ID
	}
	list, n, err := s.exams.FindExams(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list exams: %w", err)
	}
	return list, n, nil
}

// SetRoster replaces a draft exam's roster with the students named by
// email or student key. Entries that match no user are listed in Unknown,
// entries naming a non-student or disabled account in Errors; the roster
// is set to the rest.
func (s *Service) SetRoster(ctx context.Context, actor *marksmith.User, id int64, students []string) (*RosterResult, error) {
	e, err := s.managedExam(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if e.Status != marksmith.ExamDraft {
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is published: its roster can no longer be changed.", id)
	}
	ids, res, err := s.resolveRoster(ctx, students)
	if err != nil {
		return nil, err
	}
	if err := s.exams.SetRoster(ctx, id, ids); err != nil {
		if isCode(err, marksmith.ECONFLICT) {
			return nil, marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is published: its roster can no longer be changed.", id)
		}
		return nil, fmt.Errorf("set roster of exam %d: %w", id, err)
	}
	return res, nil
}

// Roster returns the students on an exam's roster.
func (s *Service) Roster(ctx context.Context, actor *marksmith.User, id int64) ([]*marksmith.User, error) {
	if _, err := s.managedExam(ctx, actor, id); err != nil {
		return nil, err
	}
	users, err := s.exams.FindRoster(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("roster of exam %d: %w", id, err)
	}
	return users, nil
}

// maxRoster bounds a roster.
const maxRoster = 100000

// resolveRoster matches entries (emails, ignoring case, or student keys)
// to students, in one query for the whole roster.
func (s *Service) resolveRoster(ctx context.Context, entries []string) ([]int64, *RosterResult, error) {
	if len(entries) > maxRoster {
		return nil, nil, invalid([]FieldError{{Field: "roster", Message: fmt.Sprintf("%d entries, at most %d", len(entries), maxRoster)}})
	}
	res := &RosterResult{}
	if len(entries) == 0 {
		return nil, res, nil
	}
	users, _, err := s.users.FindUsers(ctx, marksmith.UserFilter{})
	if err != nil {
		return nil, nil, fmt.Errorf("resolve roster: %w", err)
	}
	byEmail := make(map[string]*marksmith.User, len(users))
	byKey := make(map[string]*marksmith.User, len(users))
	for _, u := range users {
		byEmail[strings.ToLower(u.Email)] = u
		if u.StudentKey != "" {
			byKey[u.StudentKey] = u
		}
	}
	seen := map[int64]bool{}
	var ids []int64
	for _, entry := range entries {
		key := strings.TrimSpace(entry)
		if key == "" {
			continue
		}
		u := byEmail[strings.ToLower(key)]
		if u == nil {
			u = byKey[key]
		}
		switch {
		case u == nil:
			res.Unknown = append(res.Unknown, entry)
		case u.Role != marksmith.RoleStudent:
			res.Errors = append(res.Errors, RosterError{Entry: entry, Message: fmt.Sprintf("%s is an %s, not a student", u.Email, u.Role)})
		case u.Disabled:
			res.Errors = append(res.Errors, RosterError{Entry: entry, Message: fmt.Sprintf("%s is disabled", u.Email)})
		case !seen[u.ID]:
			seen[u.ID] = true
			ids = append(ids, u.ID)
		}
	}
	res.Students = len(ids)
	return ids, res, nil
}

// applyInput validates in and writes it into e, pinning template versions
// and marks.
func (s *Service) applyInput(ctx context.Context, e *marksmith.Exam, in ExamInput) error {
	var problems []FieldError
	add := func(field, format string, args ...any) {
		problems = append(problems, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	title := strings.TrimSpace(in.Title)
	switch {
	case title == "":
		add("title", "is required")
	case len(title) > 200:
		add("title", "is longer than 200 characters")
	}
	switch {
	case in.OpensAt.IsZero():
		add("opens_at", "is required")
	case in.ClosesAt.IsZero():
		add("closes_at", "is required")
	case !in.ClosesAt.After(in.OpensAt):
		add("closes_at", "must be after opens_at")
	}
	if in.TimeLimitSeconds < 0 {
		add("time_limit_seconds", "must not be negative")
	}
	if in.LateGraceSeconds < 0 {
		add("late_grace_seconds", "must not be negative")
	}
	fb := in.Feedback
	if fb.AfterSubmit == "" {
		fb.AfterSubmit = marksmith.FeedbackNone
	}
	if fb.AfterRelease == "" {
		fb.AfterRelease = marksmith.FeedbackScore
	}
	switch fb.AfterSubmit {
	case marksmith.FeedbackNone, marksmith.FeedbackScore, marksmith.FeedbackParts:
	default:
		add("feedback.after_submit", "%q is not none, score or parts", fb.AfterSubmit)
	}
	switch fb.AfterRelease {
	case marksmith.FeedbackScore, marksmith.FeedbackParts, marksmith.FeedbackKey:
	default:
		add("feedback.after_release", "%q is not score, parts or key", fb.AfterRelease)
	}
	switch {
	case len(in.Questions) == 0:
		add("questions", "an exam needs at least one question")
	case len(in.Questions) > maxQuestions:
		add("questions", "%d questions, at most %d", len(in.Questions), maxQuestions)
	}
	var questions []marksmith.ExamQuestion
	if len(in.Questions) <= maxQuestions {
		for i, q := range in.Questions {
			field := fmt.Sprintf("questions[%d]", i)
			if q.Marks < 0 || math.IsNaN(q.Marks) || math.IsInf(q.Marks, 0) {
				add(field+".marks", "must be a number, 0 or more")
				continue
			}
			if q.Version < 0 {
				add(field+".version", "must not be negative")
				continue
			}
			if strings.TrimSpace(q.Template) == "" {
				add(field+".template", "is required")
				continue
			}
			tv, err := s.templates.FindTemplateVersion(ctx, q.Template, q.Version)
			if isCode(err, marksmith.ENOTFOUND) {
				if q.Version > 0 {
					add(field+".template", "template %s has no version %d", q.Template, q.Version)
				} else {
					add(field+".template", "no template %s", q.Template)
				}
				continue
			} else if err != nil {
				return fmt.Errorf("exam question %d: find template %s: %w", i+1, q.Template, err)
			}
			if _, err := bank.Load(tv.TemplateID+"."+tv.Format, []byte(tv.Source)); err != nil {
				add(field+".template", "template %s version %d does not load: %v", tv.TemplateID, tv.Version, err)
				continue
			}
			marks := q.Marks
			if marks == 0 {
				marks = tv.Marks
			}
			if marks <= 0 {
				add(field+".marks", "template %s has no marks of its own: give the question's marks", tv.TemplateID)
				continue
			}
			questions = append(questions, marksmith.ExamQuestion{Position: i + 1, TemplateID: tv.TemplateID, Version: tv.Version, Marks: marks})
		}
	}
	if len(problems) > 0 {
		return invalid(problems)
	}
	e.Title = title
	if in.Seed != nil {
		e.Seed = *in.Seed
	}
	e.Questions = questions
	e.OpensAt = in.OpensAt.UTC().Truncate(time.Microsecond)
	e.ClosesAt = in.ClosesAt.UTC().Truncate(time.Microsecond)
	e.TimeLimitSeconds = in.TimeLimitSeconds
	e.LateGraceSeconds = in.LateGraceSeconds
	e.ShuffleQuestions = in.ShuffleQuestions
	e.ShuffleOptions = in.ShuffleOptions
	e.Feedback = fb
	return nil
}

// randomSeed draws an exam seed from crypto/rand.
func randomSeed() (uint64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("draw exam seed: %w", err)
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}
