package exams

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
)

// Limits of an exam's settings, checked where they enter: a value past
// them is refused (EUNPROCESSABLE) rather than stored to break an exam
// later (a deadline that wraps into the past, an infinite mark).
const (
	maxQuestions     = marksmith.MaxQuestions
	maxTitle         = 200
	MaxTimeLimit     = 7 * 24 * 3600   // a week, in seconds
	MaxLateGrace     = 7 * 24 * 3600   // likewise
	MaxExtraSeconds  = 7 * 24 * 3600   // an accommodation's extra time
	MaxWindow        = 366 * 24 * 3600 // from opening to closing
	MaxQuestionMarks = 10000
	maxVersion       = 1 << 30
	maxReason        = 1000
)

// CreateExam stores a new draft exam owned by actor (an instructor or an
// admin). Each question's template must exist; version 0 pins the latest,
// marks 0 takes the template's. With in.Roster set, the roster is set too;
// unknown entries make it EUNPROCESSABLE with the marksmith.RosterResult as Details.
func (s *Service) CreateExam(ctx context.Context, actor *marksmith.User, in marksmith.ExamInput) (*marksmith.Exam, error) {
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
		e.Seed = marksmith.Seed(seed)
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
	err := s.store.WithTx(ctx, func(tx marksmith.Store) error {
		if err := tx.CreateExam(ctx, e); err != nil {
			return err
		}
		if in.Roster != nil {
			return tx.SetRoster(ctx, e.ID, ids)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create exam: %w", err)
	}
	return e, nil
}

// UpdateExam rewrites a draft exam from in; a published exam is ECONFLICT.
// A nil Seed keeps the stored seed, a nil Roster the stored roster.
func (s *Service) UpdateExam(ctx context.Context, actor *marksmith.User, id int64, in marksmith.ExamInput) (*marksmith.Exam, error) {
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
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		if err := tx.UpdateExam(ctx, e); err != nil {
			return err
		}
		if in.Roster != nil {
			return tx.SetRoster(ctx, e.ID, ids)
		}
		return nil
	})
	if isCode(err, marksmith.ECONFLICT) {
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is published and can no longer be changed.", id)
	} else if err != nil {
		return nil, fmt.Errorf("update exam %d: %w", id, err)
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

// FindExam returns an exam to its creator or an admin; to anyone else it
// is ENOTFOUND (students see exams through MyExams).
func (s *Service) FindExam(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.Exam, error) {
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
	if err := s.store.DeleteExam(ctx, id); err != nil {
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
	es, err := s.store.FindAudit(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("audit of exam %d: %w", id, err)
	}
	if es == nil {
		es = []*marksmith.AuditEntry{}
	}
	return es, nil
}

// FindExams returns the exams actor may manage, newest first, and how many
// there are in all: an instructor's own, or every exam for an admin.
// limit 0 means no limit.
func (s *Service) FindExams(ctx context.Context, actor *marksmith.User, offset, limit int) ([]*marksmith.Exam, int, error) {
	if err := requireStaff(actor); err != nil {
		return nil, 0, err
	}
	if offset < 0 || limit < 0 {
		return nil, 0, invalid("page", marksmith.Problems{{Field: "offset", Message: "offset and limit must not be negative"}})
	}
	f := marksmith.ExamFilter{Offset: offset, Limit: limit}
	if actor.Role != marksmith.RoleAdmin {
		f.CreatedBy = &actor.ID
	}
	list, n, err := s.store.FindExams(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list exams: %w", err)
	}
	return list, n, nil
}

// SetRoster replaces a draft exam's roster with the students named by
// email or student key. Entries that match no user are listed in Unknown,
// entries naming a non-student or disabled account in Errors; the roster
// is set to the rest.
func (s *Service) SetRoster(ctx context.Context, actor *marksmith.User, id int64, students []string) (*marksmith.RosterResult, error) {
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
	if err := s.store.SetRoster(ctx, id, ids); err != nil {
		if isCode(err, marksmith.ECONFLICT) {
			return nil, marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is published: its roster can no longer be changed.", id)
		}
		return nil, fmt.Errorf("set roster of exam %d: %w", id, err)
	}
	return res, nil
}

// FindRoster returns an exam's roster with each student's accommodation.
func (s *Service) FindRoster(ctx context.Context, actor *marksmith.User, id int64) ([]*marksmith.RosterEntry, error) {
	if _, err := s.managedExam(ctx, actor, id); err != nil {
		return nil, err
	}
	entries, err := s.store.FindRoster(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("roster of exam %d: %w", id, err)
	}
	if entries == nil {
		entries = []*marksmith.RosterEntry{}
	}
	return entries, nil
}

// maxRoster bounds a roster.
const maxRoster = 100000

// resolveRoster matches entries (emails, ignoring case, or student keys)
// to students, in one query for the whole roster.
func (s *Service) resolveRoster(ctx context.Context, entries []string) ([]int64, *marksmith.RosterResult, error) {
	if len(entries) > maxRoster {
		return nil, nil, invalid("roster", marksmith.Problems{{Field: "roster", Message: fmt.Sprintf("has %d entries, at most %d", len(entries), maxRoster)}})
	}
	res := &marksmith.RosterResult{}
	if len(entries) == 0 {
		return nil, res, nil
	}
	users, _, err := s.store.FindUsers(ctx, marksmith.UserFilter{})
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
			res.Errors = append(res.Errors, marksmith.RosterError{Entry: entry, Message: fmt.Sprintf("%s is an %s, not a student", u.Email, u.Role)})
		case u.Disabled:
			res.Errors = append(res.Errors, marksmith.RosterError{Entry: entry, Message: fmt.Sprintf("%s is disabled", u.Email)})
		case !seen[u.ID]:
			seen[u.ID] = true
			ids = append(ids, u.ID)
		}
	}
	res.Students = len(ids)
	return ids, res, nil
}

// applyInput validates in and writes it into e, pinning template versions
// and marks. Every problem is reported at once, each naming its field.
func (s *Service) applyInput(ctx context.Context, e *marksmith.Exam, in marksmith.ExamInput) error {
	var p marksmith.Problems
	title := strings.TrimSpace(in.Title)
	if title == "" {
		p.Add("title", "is required")
	} else {
		p.CheckText("title", title, maxTitle)
	}
	switch {
	case in.OpensAt.IsZero():
		p.Add("opens_at", "is required")
	case in.ClosesAt.IsZero():
		p.Add("closes_at", "is required")
	case in.OpensAt.Year() < 2000 || in.ClosesAt.Year() > 9999:
		p.Add("opens_at", "and closes_at must be between the years 2000 and 9999")
	case !in.ClosesAt.After(in.OpensAt):
		p.Add("closes_at", "must be after opens_at")
	case in.ClosesAt.Sub(in.OpensAt) > MaxWindow*time.Second:
		p.Add("closes_at", "is more than %d days after opens_at", MaxWindow/(24*3600))
	}
	if in.TimeLimitSeconds < 0 || in.TimeLimitSeconds > MaxTimeLimit {
		p.Add("time_limit_seconds", "must be from 0 (no limit) to %d (7 days)", MaxTimeLimit)
	}
	if in.LateGraceSeconds < 0 || in.LateGraceSeconds > MaxLateGrace {
		p.Add("late_grace_seconds", "must be from 0 (none) to %d (7 days)", MaxLateGrace)
	}
	deliveryMode := in.Delivery
	switch deliveryMode {
	case "":
		deliveryMode = marksmith.DeliveryOnline
	case marksmith.DeliveryOnline, marksmith.DeliveryPaper, marksmith.DeliveryBoth:
	default:
		p.Add("delivery", "%q is not online, paper or both", in.Delivery)
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
		p.Add("feedback.after_submit", "%q is not none, score or parts", fb.AfterSubmit)
	}
	switch fb.AfterRelease {
	case marksmith.FeedbackScore, marksmith.FeedbackParts, marksmith.FeedbackKey:
	default:
		p.Add("feedback.after_release", "%q is not score, parts or key", fb.AfterRelease)
	}
	switch {
	case len(in.Questions) == 0:
		p.Add("questions", "an exam needs at least one question")
	case len(in.Questions) > maxQuestions:
		p.Add("questions", "has %d questions, at most %d", len(in.Questions), maxQuestions)
	}
	var questions []marksmith.ExamQuestion
	if len(in.Questions) <= maxQuestions {
		for i, q := range in.Questions {
			field := fmt.Sprintf("questions[%d]", i)
			if q.Marks < 0 || q.Marks > MaxQuestionMarks || math.IsNaN(q.Marks) || math.IsInf(q.Marks, 0) {
				p.Add(field+".marks", "must be a number from 0 (the template's marks) to %d", MaxQuestionMarks)
				continue
			}
			if q.Version < 0 || q.Version > maxVersion {
				p.Add(field+".version", "must be from 0 (the latest) to %d", maxVersion)
				continue
			}
			if strings.TrimSpace(q.Template) == "" || utf8.RuneCountInString(q.Template) > marksmith.MaxTemplateID {
				p.Add(field+".template", "must be a template id of 1 to %d characters", marksmith.MaxTemplateID)
				continue
			}
			if p.CheckText(field+".template", q.Template, marksmith.MaxTemplateID); len(p) > 0 && p[len(p)-1].Field == field+".template" {
				continue
			}
			tv, err := s.store.FindTemplateVersion(ctx, q.Template, q.Version)
			if isCode(err, marksmith.ENOTFOUND) {
				if q.Version > 0 {
					p.Add(field+".template", "template %s has no version %d", q.Template, q.Version)
				} else {
					p.Add(field+".template", "no template %s", q.Template)
				}
				continue
			} else if err != nil {
				return fmt.Errorf("exam question %d: find template %s: %w", i+1, q.Template, err)
			}
			if _, err := bank.LoadContext(ctx, tv.TemplateID+"."+tv.Format, []byte(tv.Source), bank.LoadOptions{Limits: s.Limits}); err != nil {
				p.Add(field+".template", "template %s version %d does not load: %v", tv.TemplateID, tv.Version, err)
				continue
			}
			marks := q.Marks
			if marks == 0 {
				marks = tv.Marks
			}
			if marks <= 0 || marks > MaxQuestionMarks || math.IsInf(marks, 0) || math.IsNaN(marks) {
				p.Add(field+".marks", "template %s has no usable marks of its own (%v): give the question's marks", tv.TemplateID, tv.Marks)
				continue
			}
			questions = append(questions, marksmith.ExamQuestion{Position: i + 1, TemplateID: tv.TemplateID, Version: tv.Version, Marks: marks})
		}
	}
	if err := p.Err("exam"); err != nil {
		return err
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
	e.Delivery = deliveryMode
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
