package exams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
)

// StudentExam is an exam as a student on its roster sees it in their list:
// no seed, no questions, and their attempt if they have one.
type StudentExam struct {
	ID               int64           `json:"id"`
	Title            string          `json:"title"`
	OpensAt          time.Time       `json:"opens_at"`
	ClosesAt         time.Time       `json:"closes_at"`
	TimeLimitSeconds int             `json:"time_limit_seconds"`
	LateGraceSeconds int             `json:"late_grace_seconds"`
	Questions        int             `json:"questions"`
	Max              float64         `json:"max"`
	Released         bool            `json:"released"`
	State            string          `json:"state"`     // upcoming | open | closed
	CanStart         bool            `json:"can_start"` // a start (or resume) would succeed now
	Attempt          *AttemptSummary `json:"attempt,omitempty"`
}

// The exam states a student sees.
const (
	StateUpcoming = "upcoming"
	StateOpen     = "open"
	StateClosed   = "closed"
)

// AttemptSummary is a student's attempt in their list of exams; Score is
// set only when the feedback policy shows it.
type AttemptSummary struct {
	ID          int64                   `json:"id"`
	Status      marksmith.AttemptStatus `json:"status"`
	StartedAt   time.Time               `json:"started_at"`
	DeadlineAt  time.Time               `json:"deadline_at"`
	SubmittedAt *time.Time              `json:"submitted_at,omitempty"`
	Late        bool                    `json:"late,omitempty"`
	Score       *float64                `json:"score,omitempty"`
	Max         float64                 `json:"max"`
}

// AttemptView is an attempt with its paper. For a student, variants carry
// no key (bank.Variant.Public) until results are released with the key,
// and scores and grades only as the feedback policy allows; instructors
// see everything.
type AttemptView struct {
	Attempt   *marksmith.Attempt `json:"attempt"`
	ExamTitle string             `json:"exam_title"`
	Questions []QuestionView     `json:"questions"` // in the order the student sees them
	// Deadline is when answers stop being on time; GraceUntil when they
	// stop being accepted at all.
	Deadline         time.Time `json:"deadline"`
	GraceUntil       time.Time `json:"grace_until"`
	RemainingSeconds int       `json:"remaining_seconds"` // to Deadline; 0 when past or closed
	Released         bool      `json:"released"`
}

// QuestionView is one question of an attempt.
type QuestionView struct {
	Position int                `json:"question"` // the exam's question number, used to save answers
	Order    int                `json:"order"`    // where the student sees it
	Marks    float64            `json:"marks"`
	Variant  *bank.Variant      `json:"variant"`
	Answers  []marksmith.Answer `json:"answers"`
	Grades   []marksmith.Grade  `json:"grades,omitempty"`
	Score    *float64           `json:"score,omitempty"`
}

// SaveResult is the outcome of an autosave. Stored is false for a stale
// save (Stale: a newer one is stored) or a repeat of the stored one;
// Answer is the answer now stored either way. FormatError says why the
// answer cannot be read: it is stored all the same, so nothing typed is
// lost, and grades as a format error unless corrected.
type SaveResult struct {
	Stored      bool             `json:"stored"`
	Stale       bool             `json:"stale"`
	Late        bool             `json:"late,omitempty"`
	Answer      marksmith.Answer `json:"answer"`
	FormatError string           `json:"format_error,omitempty"`
}

// maxAnswerBytes bounds one saved answer.
const maxAnswerBytes = 64 << 10

// deadline returns the deadline of an attempt started at start: the time
// limit from start, but never past the window's close.
func deadline(e *marksmith.Exam, start time.Time) time.Time {
	d := e.ClosesAt
	if e.TimeLimitSeconds > 0 {
		if t := start.Add(time.Duration(e.TimeLimitSeconds) * time.Second); t.Before(d) {
			d = t
		}
	}
	return d
}

// graceUntil is when an attempt stops accepting answers.
func graceUntil(e *marksmith.Exam, a *marksmith.Attempt) time.Time {
	return a.DeadlineAt.Add(time.Duration(e.LateGraceSeconds) * time.Second)
}

// overdue reports whether an open attempt is past its deadline and grace.
func overdue(e *marksmith.Exam, a *marksmith.Attempt, now time.Time) bool {
	return a.Status == marksmith.AttemptOpen && now.After(graceUntil(e, a))
}

// MyExams lists the published exams on the student's roster with their
// attempts, newest first.
func (s *Service) MyExams(ctx context.Context, student *marksmith.User) ([]*StudentExam, error) {
	if err := requireStudent(student); err != nil {
		return nil, err
	}
	st := marksmith.ExamPublished
	list, _, err := s.exams.FindExams(ctx, marksmith.ExamFilter{Student: &student.ID, Status: &st})
	if err != nil {
		return nil, fmt.Errorf("exams of student %d: %w", student.ID, err)
	}
	now := s.clock()
	out := make([]*StudentExam, 0, len(list))
	for _, e := range list {
		se := &StudentExam{
			ID: e.ID, Title: e.Title, OpensAt: e.OpensAt, ClosesAt: e.ClosesAt,
			TimeLimitSeconds: e.TimeLimitSeconds, LateGraceSeconds: e.LateGraceSeconds,
			Questions: len(e.Questions), Max: examMax(e), Released: e.Released,
		}
		switch {
		case now.Before(e.OpensAt):
			se.State = StateUpcoming
		case now.Before(e.ClosesAt):
			se.State = StateOpen
		default:
			se.State = StateClosed
		}
		a, err := s.exams.FindAttempt(ctx, e.ID, student.ID)
		switch {
		case isCode(err, marksmith.ENOTFOUND):
			se.CanStart = se.State == StateOpen && !e.Released
		case err != nil:
			return nil, fmt.Errorf("exams of student %d: attempt at exam %d: %w", student.ID, e.ID, err)
		default:
			if overdue(e, a, now) {
				if a, err = s.closeAttempt(ctx, e, a, now, marksmith.AttemptClosed); err != nil {
					return nil, err
				}
			}
			se.CanStart = a.Status == marksmith.AttemptOpen
			se.Attempt = &AttemptSummary{ID: a.ID, Status: a.Status, StartedAt: a.StartedAt, DeadlineAt: a.DeadlineAt,
				SubmittedAt: a.SubmittedAt, Late: a.Late, Max: a.Max}
			if showScore(e, a) {
				se.Attempt.Score = a.Score
			}
		}
		out = append(out, se)
	}
	return out, nil
}

// showScore reports whether the student may see the attempt's score.
func showScore(e *marksmith.Exam, a *marksmith.Attempt) bool {
	if a.Status == marksmith.AttemptOpen {
		return false
	}
	return e.Released || e.Feedback.AfterSubmit == marksmith.FeedbackScore || e.Feedback.AfterSubmit == marksmith.FeedbackParts
}

// showParts reports whether the student may see per-part grades.
func showParts(e *marksmith.Exam, a *marksmith.Attempt) bool {
	if a.Status == marksmith.AttemptOpen {
		return false
	}
	if e.Released {
		return e.Feedback.AfterRelease == marksmith.FeedbackParts || e.Feedback.AfterRelease == marksmith.FeedbackKey
	}
	return e.Feedback.AfterSubmit == marksmith.FeedbackParts
}

// showKey reports whether the student may see the key.
func showKey(e *marksmith.Exam, a *marksmith.Attempt) bool {
	return a.Status != marksmith.AttemptOpen && e.Released && e.Feedback.AfterRelease == marksmith.FeedbackKey
}

// studentExam returns a published exam on the student's roster, or
// ENOTFOUND.
func (s *Service) studentExam(ctx context.Context, student *marksmith.User, examID int64) (*marksmith.Exam, error) {
	e, err := s.exams.FindExamByID(ctx, examID)
	if isCode(err, marksmith.ENOTFOUND) {
		return nil, examNotFound(examID)
	} else if err != nil {
		return nil, fmt.Errorf("find exam %d: %w", examID, err)
	}
	if e.Status != marksmith.ExamPublished {
		return nil, examNotFound(examID)
	}
	ok, err := s.exams.OnRoster(ctx, examID, student.ID)
	if err != nil {
		return nil, fmt.Errorf("exam %d: roster: %w", examID, err)
	}
	if !ok {
		return nil, examNotFound(examID)
	}
	return e, nil
}

// StartAttempt starts the student's attempt at an exam, or resumes the one
// they have. Starting needs the window open ([OpensAt, ClosesAt)): before
// it is ECONFLICT, after it (or once results are released) EGONE. An
// attempt found overdue is closed and graded first.
func (s *Service) StartAttempt(ctx context.Context, student *marksmith.User, examID int64) (*AttemptView, error) {
	if err := requireStudent(student); err != nil {
		return nil, err
	}
	e, err := s.studentExam(ctx, student, examID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	a, err := s.exams.FindAttempt(ctx, examID, student.ID)
	switch {
	case err == nil:
		if overdue(e, a, now) {
			if a, err = s.closeAttempt(ctx, e, a, now, marksmith.AttemptClosed); err != nil {
				return nil, err
			}
		}
		return s.view(ctx, e, a, student, now)
	case !isCode(err, marksmith.ENOTFOUND):
		return nil, fmt.Errorf("start exam %d: %w", examID, err)
	}
	switch {
	case now.Before(e.OpensAt):
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "Exam %d opens at %s.", examID, e.OpensAt.Format(time.RFC3339))
	case !now.Before(e.ClosesAt):
		return nil, marksmith.Errorf(marksmith.EGONE, "Exam %d closed at %s.", examID, e.ClosesAt.Format(time.RFC3339))
	case e.Released:
		return nil, marksmith.Errorf(marksmith.EGONE, "The results of exam %d have been released.", examID)
	}
	a = &marksmith.Attempt{ExamID: examID, UserID: student.ID, Status: marksmith.AttemptOpen,
		StartedAt: now, DeadlineAt: deadline(e, now), Max: examMax(e)}
	if err := s.exams.CreateAttempt(ctx, a); isCode(err, marksmith.ECONFLICT) {
		// A concurrent start won: resume it.
		if a, err = s.exams.FindAttempt(ctx, examID, student.ID); err != nil {
			return nil, fmt.Errorf("start exam %d: %w", examID, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("start exam %d: %w", examID, err)
	}
	return s.view(ctx, e, a, student, now)
}

// attemptFor returns an attempt and its exam if actor may see it: the
// student who owns it, or the exam's creator or an admin. Anyone else gets
// ENOTFOUND.
func (s *Service) attemptFor(ctx context.Context, actor *marksmith.User, attemptID int64) (*marksmith.Attempt, *marksmith.Exam, error) {
	if err := checkActor(actor); err != nil {
		return nil, nil, err
	}
	a, err := s.exams.FindAttemptByID(ctx, attemptID)
	if isCode(err, marksmith.ENOTFOUND) {
		return nil, nil, attemptNotFound(attemptID)
	} else if err != nil {
		return nil, nil, fmt.Errorf("find attempt %d: %w", attemptID, err)
	}
	if actor.Role == marksmith.RoleStudent && a.UserID != actor.ID {
		return nil, nil, attemptNotFound(attemptID)
	}
	e, err := s.exams.FindExamByID(ctx, a.ExamID)
	if err != nil {
		return nil, nil, fmt.Errorf("attempt %d: find exam %d: %w", attemptID, a.ExamID, err)
	}
	if actor.Role != marksmith.RoleStudent && !canManage(actor, e) {
		return nil, nil, attemptNotFound(attemptID)
	}
	return a, e, nil
}

// GetAttempt returns an attempt with its paper: to its student (without
// keys, and grades as the feedback policy allows) or to the exam's
// creator or an admin (everything). An overdue attempt is closed and
// graded first.
func (s *Service) GetAttempt(ctx context.Context, actor *marksmith.User, attemptID int64) (*AttemptView, error) {
	a, e, err := s.attemptFor(ctx, actor, attemptID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if overdue(e, a, now) {
		if a, err = s.closeAttempt(ctx, e, a, now, marksmith.AttemptClosed); err != nil {
			return nil, err
		}
	}
	return s.view(ctx, e, a, actor, now)
}

// ownAttempt is attemptFor for the student who owns the attempt.
func (s *Service) ownAttempt(ctx context.Context, student *marksmith.User, attemptID int64) (*marksmith.Attempt, *marksmith.Exam, error) {
	if err := requireStudent(student); err != nil {
		return nil, nil, err
	}
	return s.attemptFor(ctx, student, attemptID)
}

// SaveAnswer stores the student's answer to one part of one question
// (by exam position), with the client's sequence number seq (1 or more):
// a save older than the stored one never overwrites it and a repeated
// save changes nothing. The answer is durable when SaveAnswer returns. An
// answer that cannot be read is stored with its format error, which comes
// back in the result. Saves are accepted until the deadline plus the late
// grace (those after the deadline make the attempt late); after that the
// attempt is closed and graded with what was saved, and saves are EGONE.
// A submitted attempt is ECONFLICT.
func (s *Service) SaveAnswer(ctx context.Context, student *marksmith.User, attemptID int64, question int, part string, raw string, seq int64) (*SaveResult, error) {
	a, e, err := s.ownAttempt(ctx, student, attemptID)
	if err != nil {
		return nil, err
	}
	var problems []FieldError
	if seq < 1 {
		problems = append(problems, FieldError{Field: "seq", Message: "must be 1 or more"})
	}
	if len(raw) > maxAnswerBytes {
		problems = append(problems, FieldError{Field: "answer", Message: fmt.Sprintf("is %d bytes, at most %d", len(raw), maxAnswerBytes)})
	}
	if !utf8.ValidString(raw) {
		problems = append(problems, FieldError{Field: "answer", Message: "is not valid UTF-8"})
	}
	if len(problems) > 0 {
		return nil, invalid(problems)
	}
	now := s.clock()
	switch a.Status {
	case marksmith.AttemptSubmitted:
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "Attempt %d has been submitted; answers can no longer change.", attemptID)
	case marksmith.AttemptClosed:
		return nil, marksmith.Errorf(marksmith.EGONE, "Attempt %d closed at its deadline; answers can no longer change.", attemptID)
	}
	if overdue(e, a, now) {
		if _, err := s.closeAttempt(ctx, e, a, now, marksmith.AttemptClosed); err != nil {
			return nil, err
		}
		return nil, marksmith.Errorf(marksmith.EGONE, "Attempt %d closed at %s; it was graded with the answers saved by then.",
			attemptID, graceUntil(e, a).Format(time.RFC3339))
	}
	paper, err := s.paper(ctx, a, question)
	if err != nil {
		return nil, err
	}
	v, err := decodeVariant(paper)
	if err != nil {
		return nil, err
	}
	var spec *grader.Spec
	for i := range v.Parts {
		if v.Parts[i].ID == part {
			spec = &v.Parts[i].Answer
		}
	}
	if spec == nil {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Question %d has no part %q.", question, part)
	}
	ans := &marksmith.Answer{AttemptID: a.ID, Position: question, Part: part, Raw: raw, Seq: seq, SavedAt: now}
	if _, err := grader.Parse(spec, raw); err != nil {
		var fe *grader.FormatError
		if !errors.As(err, &fe) {
			return nil, fmt.Errorf("attempt %d question %d part %s: parse: %w", a.ID, question, part, err)
		}
		ans.FormatError = fe.Msg
	}
	stored, current, err := s.exams.SaveAnswer(ctx, ans)
	if isCode(err, marksmith.ECONFLICT) {
		// Submitted or closed since it was read.
		if cur, ferr := s.exams.FindAttemptByID(ctx, a.ID); ferr == nil && cur.Status == marksmith.AttemptClosed {
			return nil, marksmith.Errorf(marksmith.EGONE, "Attempt %d closed at its deadline; answers can no longer change.", attemptID)
		}
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "Attempt %d has been submitted; answers can no longer change.", attemptID)
	} else if err != nil {
		return nil, fmt.Errorf("attempt %d: save answer to question %d part %s: %w", a.ID, question, part, err)
	}
	res := &SaveResult{Stored: stored, Answer: *current, Late: now.After(a.DeadlineAt)}
	if !stored {
		res.Stale = current.Seq > seq || current.Raw != raw
	}
	res.FormatError = current.FormatError
	return res, nil
}

// paper returns the attempt's paper of one question.
func (s *Service) paper(ctx context.Context, a *marksmith.Attempt, question int) (*marksmith.Paper, error) {
	papers, err := s.exams.FindPapers(ctx, a.ExamID, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("attempt %d: papers: %w", a.ID, err)
	}
	for _, p := range papers {
		if p.Position == question {
			return p, nil
		}
	}
	return nil, marksmith.Errorf(marksmith.ENOTFOUND, "The exam has no question %d.", question)
}

// decodeVariant reads a paper's stored variant.
func decodeVariant(p *marksmith.Paper) (*bank.Variant, error) {
	var v bank.Variant
	if err := json.Unmarshal(p.Variant, &v); err != nil {
		return nil, fmt.Errorf("exam %d student %d question %d: stored variant: %w", p.ExamID, p.UserID, p.Position, err)
	}
	return &v, nil
}

// Submit submits the student's attempt and grades it. It is idempotent: a
// submitted or closed attempt returns its view unchanged. A submission in
// the late grace is marked late; one after it closes the attempt (as the
// server would have) with what was saved.
func (s *Service) Submit(ctx context.Context, student *marksmith.User, attemptID int64) (*AttemptView, error) {
	a, e, err := s.ownAttempt(ctx, student, attemptID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if a.Status == marksmith.AttemptOpen {
		status := marksmith.AttemptSubmitted
		if overdue(e, a, now) {
			status = marksmith.AttemptClosed
		}
		if a, err = s.closeAttempt(ctx, e, a, now, status); err != nil {
			return nil, err
		}
	}
	return s.view(ctx, e, a, student, now)
}

// CloseOverdue closes and grades every open attempt of a published exam
// that is past its deadline and late grace at now, and returns how many it
// closed. Attempts are also closed lazily whenever they are touched; this
// sweep is for the ones nobody touches.
func (s *Service) CloseOverdue(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC().Truncate(time.Microsecond)
	st := marksmith.ExamPublished
	list, _, err := s.exams.FindExams(ctx, marksmith.ExamFilter{Status: &st})
	if err != nil {
		return 0, fmt.Errorf("close overdue attempts: %w", err)
	}
	n := 0
	for _, e := range list {
		k, err := s.closeOverdueOf(ctx, e, now)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// closeOverdueOf closes the overdue attempts of one exam.
func (s *Service) closeOverdueOf(ctx context.Context, e *marksmith.Exam, now time.Time) (int, error) {
	attempts, err := s.exams.FindAttempts(ctx, e.ID)
	if err != nil {
		return 0, fmt.Errorf("close overdue attempts of exam %d: %w", e.ID, err)
	}
	n := 0
	g := newGrading(s, e)
	for _, a := range attempts {
		if !overdue(e, a, now) {
			continue
		}
		_, ours, err := s.closeAttemptBy(ctx, g, a, now, marksmith.AttemptClosed)
		if err != nil {
			return n, err
		}
		if ours {
			n++
		}
	}
	return n, nil
}

// closeAttempt grades an open attempt with its saved answers and stores
// it with status (submitted or closed). The attempt ends now, or for an
// attempt the server closes, when its grace ran out if that was earlier.
// It is late when submitted after the deadline or when an answer was saved
// after the deadline. When someone else closed it first, the stored
// attempt is returned.
func (s *Service) closeAttempt(ctx context.Context, e *marksmith.Exam, a *marksmith.Attempt, now time.Time, status marksmith.AttemptStatus) (*marksmith.Attempt, error) {
	closed, _, err := s.closeAttemptBy(ctx, newGrading(s, e), a, now, status)
	return closed, err
}

// closeAttemptBy is closeAttempt with a grading of the attempt's exam
// (shared by a sweep, so corrected templates load once) that also reports
// whether this call closed the attempt (rather than someone else first).
func (s *Service) closeAttemptBy(ctx context.Context, g *grading, a *marksmith.Attempt, now time.Time, status marksmith.AttemptStatus) (*marksmith.Attempt, bool, error) {
	e := g.e
	answers, err := s.exams.FindAnswers(ctx, a.ID)
	if err != nil {
		return nil, false, fmt.Errorf("close attempt %d: answers: %w", a.ID, err)
	}
	papers, err := s.exams.FindPapers(ctx, a.ExamID, a.UserID)
	if err != nil {
		return nil, false, fmt.Errorf("close attempt %d: papers: %w", a.ID, err)
	}
	grades, err := g.gradeAttempt(ctx, a, papers, answers, now)
	if err != nil {
		return nil, false, fmt.Errorf("close attempt %d: %w", a.ID, err)
	}
	closed := *a
	closed.Status = status
	end := now
	if g := graceUntil(e, a); status == marksmith.AttemptClosed && g.Before(now) {
		end = g
	}
	closed.SubmittedAt = &end
	late := status == marksmith.AttemptSubmitted && now.After(a.DeadlineAt)
	for _, ans := range answers {
		if ans.SavedAt.After(a.DeadlineAt) {
			late = true
		}
	}
	closed.Late = late
	score, max := totals(grades)
	closed.Score, closed.Max = &score, max
	if err := s.exams.CloseAttempt(ctx, &closed, grades); err != nil {
		if isCode(err, marksmith.ECONFLICT) {
			stored, ferr := s.exams.FindAttemptByID(ctx, a.ID)
			if ferr != nil {
				return nil, false, fmt.Errorf("close attempt %d: %w", a.ID, ferr)
			}
			return stored, false, nil
		}
		return nil, false, fmt.Errorf("close attempt %d: %w", a.ID, err)
	}
	return &closed, true, nil
}

// view builds the AttemptView of a for viewer.
func (s *Service) view(ctx context.Context, e *marksmith.Exam, a *marksmith.Attempt, viewer *marksmith.User, now time.Time) (*AttemptView, error) {
	papers, err := s.exams.FindPapers(ctx, a.ExamID, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("attempt %d: papers: %w", a.ID, err)
	}
	answers, err := s.exams.FindAnswers(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("attempt %d: answers: %w", a.ID, err)
	}
	var grades []*marksmith.Grade
	if a.Status != marksmith.AttemptOpen {
		if grades, err = s.exams.FindGrades(ctx, a.ID); err != nil {
			return nil, fmt.Errorf("attempt %d: grades: %w", a.ID, err)
		}
	}
	student := viewer.Role == marksmith.RoleStudent
	att := *a
	if student && !showScore(e, a) {
		att.Score = nil
	}
	out := &AttemptView{Attempt: &att, ExamTitle: e.Title, Deadline: a.DeadlineAt, GraceUntil: graceUntil(e, a), Released: e.Released}
	if a.Status == marksmith.AttemptOpen && now.Before(a.DeadlineAt) {
		out.RemainingSeconds = int(a.DeadlineAt.Sub(now) / time.Second)
	}
	parts, key := !student || showParts(e, a), !student || showKey(e, a)
	out.Questions = make([]QuestionView, 0, len(papers))
	for _, p := range papers {
		v, err := decodeVariant(p)
		if err != nil {
			return nil, err
		}
		if !key {
			v = v.Public()
			v.Seed, v.Canonical = 0, false
		}
		qv := QuestionView{Position: p.Position, Order: p.Order, Variant: v, Answers: []marksmith.Answer{}}
		if q := questionAt(e, p.Position); q != nil {
			qv.Marks = q.Marks
		}
		for _, ans := range answers {
			if ans.Position == p.Position {
				qv.Answers = append(qv.Answers, *ans)
			}
		}
		var sum float64
		var any bool
		for _, g := range grades {
			if g.Position != p.Position {
				continue
			}
			sum += g.Score
			any = true
			if parts {
				qv.Grades = append(qv.Grades, *g)
			}
		}
		if any && parts {
			sc := round(sum)
			qv.Score = &sc
		}
		out.Questions = append(out.Questions, qv)
	}
	return out, nil
}
