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
	"github.com/marksmith/marksmith/internal/view"
)

// Limits of a save.
const (
	// MaxAnswerBytes bounds one saved answer (an essay of a few pages).
	MaxAnswerBytes = 64 << 10
	// MaxSeq is the largest sequence number a save may carry: the largest
	// integer a JavaScript number holds exactly, which leaves a client
	// room to count for ever.
	MaxSeq = 1<<53 - 1
	// maxPartID bounds a part id in a save's path and a review.
	maxPartID = marksmith.MaxPartID
)

// times returns the deadline and the end of the grace of an attempt
// started at start by the student of entry: the time limit (plus their
// extra time) from the start, never past the close of the window (their
// own later close if they have one, plus their extra time); the grace is
// the exam's late grace after the deadline.
func times(e *marksmith.Exam, entry *marksmith.RosterEntry, start time.Time) (deadline, grace time.Time) {
	closes, extra := personalClose(e, entry)
	deadline = closes.Add(extra)
	if e.TimeLimitSeconds > 0 {
		if t := start.Add(time.Duration(e.TimeLimitSeconds)*time.Second + extra); t.Before(deadline) {
			deadline = t
		}
	}
	return deadline, deadline.Add(time.Duration(e.LateGraceSeconds) * time.Second)
}

// personalClose returns when the window closes for the student of entry
// (the exam's close, or their later one) and their extra time.
func personalClose(e *marksmith.Exam, entry *marksmith.RosterEntry) (time.Time, time.Duration) {
	closes := e.ClosesAt
	var extra time.Duration
	if entry != nil {
		if entry.ClosesAt != nil && entry.ClosesAt.After(closes) {
			closes = *entry.ClosesAt
		}
		extra = time.Duration(entry.ExtraSeconds) * time.Second
	}
	return closes, extra
}

// overdue reports whether an open attempt is past its deadline and grace.
func overdue(a *marksmith.Attempt, now time.Time) bool {
	return a.Status == marksmith.AttemptOpen && now.After(a.GraceUntil)
}

// MyExams lists the published exams on the student's roster with their
// attempts, newest first.
func (s *Service) MyExams(ctx context.Context, student *marksmith.User) ([]*marksmith.StudentExam, error) {
	if err := requireStudent(student); err != nil {
		return nil, err
	}
	st := marksmith.ExamPublished
	list, _, err := s.store.FindExams(ctx, marksmith.ExamFilter{Student: &student.ID, Status: &st})
	if err != nil {
		return nil, fmt.Errorf("exams of student %d: %w", student.ID, err)
	}
	now := s.clock()
	out := make([]*marksmith.StudentExam, 0, len(list))
	for _, e := range list {
		if e.Delivery == marksmith.DeliveryPaper {
			continue // sat on paper: nothing to start online
		}
		entry, err := s.store.FindRosterEntry(ctx, e.ID, student.ID)
		if isCode(err, marksmith.ENOTFOUND) {
			continue // removed meanwhile
		} else if err != nil {
			return nil, fmt.Errorf("exams of student %d: roster of exam %d: %w", student.ID, e.ID, err)
		}
		closes, _ := personalClose(e, entry)
		se := &marksmith.StudentExam{
			ID: e.ID, Title: e.Title, OpensAt: e.OpensAt, ClosesAt: closes,
			TimeLimitSeconds: e.TimeLimitSeconds, LateGraceSeconds: e.LateGraceSeconds, ExtraSeconds: entry.ExtraSeconds,
			Questions: len(e.Questions), Max: examMax(e), Released: e.Released,
		}
		switch {
		case now.Before(e.OpensAt):
			se.State = marksmith.StateUpcoming
		case now.Before(closes):
			se.State = marksmith.StateOpen
		default:
			se.State = marksmith.StateClosed
		}
		a, err := s.store.FindAttempt(ctx, e.ID, student.ID)
		switch {
		case isCode(err, marksmith.ENOTFOUND):
			se.CanStart = se.State == marksmith.StateOpen && !e.Released
		case err != nil:
			return nil, fmt.Errorf("exams of student %d: attempt at exam %d: %w", student.ID, e.ID, err)
		default:
			if overdue(a, now) {
				if a, err = s.closeOverdue(ctx, e, a, now); err != nil {
					return nil, err
				}
			}
			se.CanStart = a.Status == marksmith.AttemptOpen
			se.Attempt = &marksmith.AttemptSummary{ID: a.ID, Status: a.Status, StartedAt: a.StartedAt, DeadlineAt: a.DeadlineAt,
				SubmittedAt: a.SubmittedAt, Late: a.Late, Max: a.Max}
			if showScore(e, a) {
				se.Attempt.Score = a.Score
			}
		}
		out = append(out, se)
	}
	return out, nil
}

// released reports whether the student may read the attempt's results as
// released: the exam is released and the attempt is finished and
// reviewed (a partial release releases the rest as they finish).
func released(e *marksmith.Exam, a *marksmith.Attempt, grades []*marksmith.Grade) bool {
	if !e.Released || a.Status == marksmith.AttemptOpen {
		return false
	}
	for _, g := range grades {
		if g.NeedsReview {
			return false
		}
	}
	return true
}

// showScore reports whether the student may see the attempt's score (its
// review not considered: see released).
func showScore(e *marksmith.Exam, a *marksmith.Attempt) bool {
	if a.Status == marksmith.AttemptOpen {
		return false
	}
	return e.Released || e.Feedback.AfterSubmit == marksmith.FeedbackScore || e.Feedback.AfterSubmit == marksmith.FeedbackParts
}

// studentExam returns a published exam with the student's roster entry,
// or ENOTFOUND when it is not theirs to sit.
func (s *Service) studentExam(ctx context.Context, student *marksmith.User, examID int64) (*marksmith.Exam, *marksmith.RosterEntry, error) {
	// The roster entry says which version of the exam is current; the
	// exam is read only when this server has not decoded that version.
	entry, err := s.store.FindRosterEntry(ctx, examID, student.ID)
	if isCode(err, marksmith.ENOTFOUND) {
		return nil, nil, examNotFound(examID)
	} else if err != nil {
		return nil, nil, fmt.Errorf("exam %d: roster: %w", examID, err)
	}
	e, err := s.examAt(ctx, examID, entry.ExamVersion)
	if isCode(err, marksmith.ENOTFOUND) {
		return nil, nil, examNotFound(examID)
	} else if err != nil {
		return nil, nil, fmt.Errorf("find exam %d: %w", examID, err)
	}
	if e.Status != marksmith.ExamPublished {
		return nil, nil, examNotFound(examID)
	}
	return e, entry, nil
}

// StartAttempt starts the student's attempt at an exam, or resumes the one
// they have. Starting needs the window open (from OpensAt until the close,
// their own later close if an accommodation gives one): before it is
// ECONFLICT, after it (or once results are released) EGONE. A paper-only
// exam is not started online (ECONFLICT). An attempt found overdue is
// closed and graded first.
func (s *Service) StartAttempt(ctx context.Context, student *marksmith.User, examID int64) (*marksmith.AttemptView, error) {
	if err := requireStudent(student); err != nil {
		return nil, err
	}
	e, entry, err := s.studentExam(ctx, student, examID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	closes, _ := personalClose(e, entry)
	var refused error
	switch {
	case e.Delivery == marksmith.DeliveryPaper:
		refused = marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is sat on paper, not online.", examID)
	case now.Before(e.OpensAt):
		refused = marksmith.Errorf(marksmith.ECONFLICT, "Exam %d opens at %s.", examID, e.OpensAt.Format(time.RFC3339))
	case !now.Before(closes):
		refused = marksmith.Errorf(marksmith.EGONE, "Exam %d closed at %s.", examID, closes.Format(time.RFC3339))
	case e.Released:
		refused = marksmith.Errorf(marksmith.EGONE, "The results of exam %d have been released.", examID)
	}
	var a *marksmith.Attempt
	if refused == nil {
		// While the exam may be started, try to start first: a class
		// starting at once makes one round trip each, not two.
		deadline, grace := times(e, entry, now)
		a = &marksmith.Attempt{ExamID: examID, UserID: student.ID, Status: marksmith.AttemptOpen, Mode: marksmith.DeliveryOnline,
			StartedAt: now, DeadlineAt: deadline, GraceUntil: grace, Max: examMax(e)}
		err = s.store.CreateAttempt(ctx, a)
		if err != nil && !isCode(err, marksmith.ECONFLICT) {
			return nil, fmt.Errorf("start exam %d: %w", examID, err)
		}
		if err == nil {
			// A new attempt has no answers or grades yet: only its paper to read.
			papers, err := s.store.FindPapers(ctx, examID, student.ID)
			if err != nil {
				return nil, fmt.Errorf("start exam %d: papers: %w", examID, err)
			}
			return s.viewOf(e, a, papers, nil, nil, student, now)
		}
	}
	// The student has an attempt (or may not start one): resume it.
	a, err = s.store.FindAttempt(ctx, examID, student.ID)
	switch {
	case isCode(err, marksmith.ENOTFOUND) && refused != nil:
		return nil, refused
	case err != nil:
		return nil, fmt.Errorf("start exam %d: %w", examID, err)
	}
	if overdue(a, now) {
		if a, err = s.closeOverdue(ctx, e, a, now); err != nil {
			return nil, err
		}
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
	a, err := s.store.FindAttemptByID(ctx, attemptID)
	if isCode(err, marksmith.ENOTFOUND) {
		return nil, nil, attemptNotFound(attemptID)
	} else if err != nil {
		return nil, nil, fmt.Errorf("find attempt %d: %w", attemptID, err)
	}
	if actor.Role == marksmith.RoleStudent && a.UserID != actor.ID {
		return nil, nil, attemptNotFound(attemptID)
	}
	e, err := s.examAt(ctx, a.ExamID, a.ExamVersion)
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
func (s *Service) GetAttempt(ctx context.Context, actor *marksmith.User, attemptID int64) (*marksmith.AttemptView, error) {
	a, e, err := s.attemptFor(ctx, actor, attemptID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if overdue(a, now) {
		if a, err = s.closeOverdue(ctx, e, a, now); err != nil {
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

// validSave checks a save's fields, in one place.
// checkPart records what is wrong with a part id sent by a client: empty,
// too long, or text no part id is (invalid UTF-8, a NUL), so that it
// reaches neither a query nor a message.
func checkPart(p *marksmith.Problems, part string) {
	if part == "" || utf8.RuneCountInString(part) > maxPartID {
		p.Add("part", "must be a part id of 1 to %d characters", maxPartID)
		return
	}
	p.CheckText("part", part, maxPartID)
}

func validSave(in *marksmith.SaveInput) error {
	var p marksmith.Problems
	if in.Question < 1 || in.Question > maxQuestions {
		p.Add("question", "must be a question number from 1 to %d", maxQuestions)
	}
	checkPart(&p, in.Part)
	if len(in.Answer) > MaxAnswerBytes {
		p.Add("answer", "is %d bytes, at most %d", len(in.Answer), MaxAnswerBytes)
	} else {
		p.CheckText("answer", in.Answer, 0)
	}
	if in.Seq < 1 || in.Seq > MaxSeq {
		p.Add("seq", "must be a whole number from 1 to %d", int64(MaxSeq))
	}
	return p.Err("save")
}

// SaveAnswer stores the student's answer to one part of one question (by
// exam position), with the client's sequence number: a save older than
// the stored one never overwrites it and a repeated save changes nothing.
// It is one write: the part's parser comes from memory (compiled once per
// paper), and ownership, the attempt being open, its deadline and grace,
// and seq are all checked in the statement that stores the answer, which
// is durable when SaveAnswer returns. An answer that cannot be read is
// stored with its format error, which comes back in the result. Saves
// after the deadline but within the grace make the attempt late; after the
// grace the attempt is closed and graded with what was saved, and the
// save is EGONE. A submitted attempt is ECONFLICT.
//
// The student may be the token's claims alone (ID and role, not loaded):
// the statement refuses a disabled account itself.
func (s *Service) SaveAnswer(ctx context.Context, student *marksmith.User, in marksmith.SaveInput) (*marksmith.SaveResult, error) {
	if err := requireStudent(student); err != nil {
		return nil, err
	}
	if err := validSave(&in); err != nil {
		return nil, err
	}
	pr, err := s.parser(ctx, student, in.AttemptID, in.Question, in.Part)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	ans := &marksmith.Answer{AttemptID: in.AttemptID, Position: in.Question, Part: in.Part, Raw: in.Answer, Seq: in.Seq, SavedAt: now}
	if _, err := pr.Parse(in.Answer); err != nil {
		var fe *grader.FormatError
		if !errors.As(err, &fe) {
			return nil, fmt.Errorf("attempt %d question %d part %s: parse: %w", in.AttemptID, in.Question, in.Part, err)
		}
		ans.FormatError = fe.Msg
	}
	out, err := s.store.SaveAnswer(ctx, ans, student.ID)
	if err != nil {
		return nil, fmt.Errorf("attempt %d: save answer to question %d part %s: %w", in.AttemptID, in.Question, in.Part, err)
	}
	switch out.Refused {
	case "":
	case marksmith.SaveNoAttempt:
		return nil, attemptNotFound(in.AttemptID)
	case marksmith.SaveDisabled:
		return nil, marksmith.Errorf(marksmith.EFORBIDDEN, "This account is disabled.")
	case marksmith.SavePasswordPending:
		return nil, marksmith.Errorf(marksmith.EFORBIDDEN, "Choose your own password first: PUT /api/v1/users/me/password with your one-time password.")
	case marksmith.SaveOverdue:
		a := out.Attempt
		if e, err := s.store.FindExamByID(ctx, a.ExamID); err == nil {
			if _, err := s.closeOverdue(ctx, e, a, now); err != nil {
				return nil, err
			}
		}
		return nil, marksmith.Errorf(marksmith.EGONE, "Attempt %d closed at %s; it was graded with the answers saved by then.",
			in.AttemptID, a.GraceUntil.Format(time.RFC3339))
	default: // SaveNotOpen
		if out.Attempt != nil && out.Attempt.Status == marksmith.AttemptSubmitted {
			return nil, marksmith.Errorf(marksmith.ECONFLICT, "Attempt %d has been submitted; answers can no longer change.", in.AttemptID)
		}
		return nil, marksmith.Errorf(marksmith.EGONE, "Attempt %d is closed; answers can no longer change.", in.AttemptID)
	}
	res := &marksmith.SaveResult{Stored: out.Stored, Late: out.Late, Answer: *out.Current, FormatError: out.Current.FormatError}
	if !out.Stored {
		res.Stale = out.Current.Seq > in.Seq || out.Current.Raw != in.Answer
	}
	return res, nil
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
// server would have) with what was saved. The paper is read once, and the
// answers once, inside the transaction that closes the attempt against
// saves first.
func (s *Service) Submit(ctx context.Context, student *marksmith.User, attemptID int64) (*marksmith.AttemptView, error) {
	a, e, err := s.ownAttempt(ctx, student, attemptID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	papers, err := s.store.FindPapers(ctx, e.ID, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("submit attempt %d: papers: %w", attemptID, err)
	}
	var answers []*marksmith.Answer
	var grades []*marksmith.Grade
	if a.Status == marksmith.AttemptOpen {
		status := marksmith.AttemptSubmitted
		if overdue(a, now) {
			status = marksmith.AttemptClosed
		}
		c, err := s.close(ctx, newGrading(s, e), a.ID, papers, now, status)
		if err != nil {
			return nil, err
		}
		a, answers, grades = c.attempt, c.answers, c.grades
	} else {
		if answers, err = s.store.FindAnswers(ctx, a.ID); err != nil {
			return nil, fmt.Errorf("attempt %d: answers: %w", a.ID, err)
		}
		if grades, err = s.store.FindGrades(ctx, a.ID); err != nil {
			return nil, fmt.Errorf("attempt %d: grades: %w", a.ID, err)
		}
	}
	return s.viewOf(e, a, papers, answers, grades, student, now)
}

// CloseOverdue closes and grades every open attempt of a published exam
// that is past its grace, and returns how many it closed. Attempts are
// also closed whenever they are touched; this sweep is for the ones nobody
// touches. With several server instances on one Postgres only one sweeps
// at a time (the others return 0 at once).
func (s *Service) CloseOverdue(ctx context.Context) (int, error) {
	now := s.clock()
	n := 0
	_, err := s.store.Exclusive(ctx, "exams.close-overdue", func(ctx context.Context) error {
		st := marksmith.ExamPublished
		list, _, err := s.store.FindExams(ctx, marksmith.ExamFilter{Status: &st})
		if err != nil {
			return fmt.Errorf("close overdue attempts: %w", err)
		}
		for _, e := range list {
			k, err := s.closeOverdueOf(ctx, e, now)
			n += k
			if err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// closeOverdueOf closes the overdue attempts of one exam.
func (s *Service) closeOverdueOf(ctx context.Context, e *marksmith.Exam, now time.Time) (int, error) {
	attempts, err := s.store.FindAttempts(ctx, e.ID)
	if err != nil {
		return 0, fmt.Errorf("close overdue attempts of exam %d: %w", e.ID, err)
	}
	n := 0
	g := newGrading(s, e)
	for _, a := range attempts {
		if !overdue(a, now) {
			continue
		}
		c, err := s.close(ctx, g, a.ID, nil, now, marksmith.AttemptClosed)
		if err != nil {
			return n, err
		}
		if c.ours {
			n++
		}
	}
	return n, nil
}

// closeOverdue closes an overdue attempt and returns it as stored.
func (s *Service) closeOverdue(ctx context.Context, e *marksmith.Exam, a *marksmith.Attempt, now time.Time) (*marksmith.Attempt, error) {
	c, err := s.close(ctx, newGrading(s, e), a.ID, nil, now, marksmith.AttemptClosed)
	if err != nil {
		return nil, err
	}
	return c.attempt, nil
}

// closed is what close did: the attempt as stored, the answers it was
// graded with and its grades, and whether this call closed it.
type closed struct {
	attempt *marksmith.Attempt
	answers []*marksmith.Answer
	grades  []*marksmith.Grade
	ours    bool
}

// close grades an open attempt with its saved answers and stores it with
// status (submitted or closed), in one transaction that first locks the
// attempt against saves: a save either landed before and is graded, or
// waits and is then refused. papers are the attempt's papers (nil: read
// them). The attempt ends now, or for an attempt the server closes, when
// its grace ran out if that was earlier. It is late when submitted after
// the deadline or when an answer was saved after it. When the attempt is
// no longer open, the stored one is returned with ours false.
func (s *Service) close(ctx context.Context, g *grading, attemptID int64, papers []*marksmith.Paper, now time.Time, status marksmith.AttemptStatus) (*closed, error) {
	if papers == nil {
		a, err := s.store.FindAttemptByID(ctx, attemptID)
		if err != nil {
			return nil, fmt.Errorf("close attempt %d: %w", attemptID, err)
		}
		if papers, err = s.store.FindPapers(ctx, a.ExamID, a.UserID); err != nil {
			return nil, fmt.Errorf("close attempt %d: papers: %w", attemptID, err)
		}
	}
	if err := g.prepare(ctx, papers); err != nil {
		return nil, fmt.Errorf("close attempt %d: %w", attemptID, err)
	}
	out := &closed{}
	err := s.store.WithTx(ctx, func(tx marksmith.Store) error {
		a, err := tx.LockAttempt(ctx, attemptID)
		if err != nil {
			return err
		}
		if a.Status != marksmith.AttemptOpen {
			out.attempt = a
			if out.answers, err = tx.FindAnswers(ctx, a.ID); err != nil {
				return err
			}
			out.grades, err = tx.FindGrades(ctx, a.ID)
			return err
		}
		if out.answers, err = tx.FindAnswers(ctx, a.ID); err != nil {
			return err
		}
		grades, err := g.gradeAttempt(ctx, a, papers, out.answers, now)
		if err != nil {
			return err
		}
		c := *a
		c.Status = status
		end := now
		if status == marksmith.AttemptClosed && a.GraceUntil.Before(now) {
			end = a.GraceUntil
		}
		c.SubmittedAt = &end
		late := status == marksmith.AttemptSubmitted && now.After(a.DeadlineAt)
		for _, ans := range out.answers {
			if ans.SavedAt.After(a.DeadlineAt) {
				late = true
			}
		}
		c.Late = late
		score, max := totals(grades)
		c.Score, c.Max = &score, max
		if err := tx.CloseAttempt(ctx, &c, grades); err != nil {
			return err
		}
		out.attempt, out.grades, out.ours = &c, grades, true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("close attempt %d: %w", attemptID, err)
	}
	return out, nil
}

// view builds the AttemptView of a for viewer, reading its paper, answers
// and grades.
func (s *Service) view(ctx context.Context, e *marksmith.Exam, a *marksmith.Attempt, viewer *marksmith.User, now time.Time) (*marksmith.AttemptView, error) {
	papers, err := s.store.FindPapers(ctx, a.ExamID, a.UserID)
	if err != nil {
		return nil, fmt.Errorf("attempt %d: papers: %w", a.ID, err)
	}
	answers, err := s.store.FindAnswers(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("attempt %d: answers: %w", a.ID, err)
	}
	var grades []*marksmith.Grade
	if a.Status != marksmith.AttemptOpen {
		if grades, err = s.store.FindGrades(ctx, a.ID); err != nil {
			return nil, fmt.Errorf("attempt %d: grades: %w", a.ID, err)
		}
	}
	return s.viewOf(e, a, papers, answers, grades, viewer, now)
}

// viewOf builds the AttemptView of a for viewer from what was read. A
// student sees per-part grades and feedback as the policy allows (the
// reviewer's reason as the feedback of an overridden part), the key only
// once released with the key; staff see everything.
func (s *Service) viewOf(e *marksmith.Exam, a *marksmith.Attempt, papers []*marksmith.Paper, answers []*marksmith.Answer,
	grades []*marksmith.Grade, viewer *marksmith.User, now time.Time) (*marksmith.AttemptView, error) {
	student := viewer.Role == marksmith.RoleStudent
	rel := released(e, a, grades)
	att := *a
	att.ExamVersion = 0 // how it was read, not part of the view
	showParts, showKey := true, true
	if student {
		open := a.Status == marksmith.AttemptOpen
		if open || !(rel || (!e.Released && showScore(e, a))) {
			att.Score = nil
		}
		switch {
		case open:
			showParts, showKey = false, false
		case rel:
			showParts = e.Feedback.AfterRelease == marksmith.FeedbackParts || e.Feedback.AfterRelease == marksmith.FeedbackKey
			showKey = e.Feedback.AfterRelease == marksmith.FeedbackKey
		default:
			showParts = !e.Released && e.Feedback.AfterSubmit == marksmith.FeedbackParts
			showKey = false
		}
	}
	out := &marksmith.AttemptView{Attempt: &att, ExamTitle: e.Title, Deadline: a.DeadlineAt, GraceUntil: a.GraceUntil,
		ServerTime: now, Released: rel}
	if a.Status == marksmith.AttemptOpen && now.Before(a.DeadlineAt) {
		out.RemainingSeconds = int(a.DeadlineAt.Sub(now) / time.Second)
	}
	out.Questions = make([]marksmith.Question, 0, len(papers))
	for _, p := range papers {
		var marks float64
		if eq := questionAt(e, p.Position); eq != nil {
			marks = eq.Marks
		}
		var q marksmith.Question
		if student && !showKey {
			// The view without a key needs a fraction of the variant.
			var err error
			if q, err = view.StudentQuestion(p.Variant, marks); err != nil {
				return nil, fmt.Errorf("exam %d student %d question %d: stored variant: %w", p.ExamID, p.UserID, p.Position, err)
			}
		} else {
			v, err := decodeVariant(p)
			if err != nil {
				return nil, err
			}
			q = view.Question(v, view.Options{Key: showKey, Staff: !student, Scale: scale(e, p.Position, v)})
		}
		q.Position, q.Order, q.Marks = p.Position, p.Order, marks
		q.Answers = []marksmith.Answer{}
		for _, ans := range answers {
			if ans.Position == p.Position {
				q.Answers = append(q.Answers, *ans)
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
			if !showParts {
				continue
			}
			if student {
				q.Grades = append(q.Grades, studentGrade(g))
			} else {
				q.Grades = append(q.Grades, *g)
			}
		}
		if any && showParts {
			sc := round(sum)
			q.Score = &sc
		}
		out.Questions = append(out.Questions, q)
	}
	return out, nil
}

// studentGrade is the part of a grade its student reads: the score, and
// the feedback (for a reviewed part, the reviewer's reason).
func studentGrade(g *marksmith.Grade) marksmith.Grade {
	out := marksmith.Grade{AttemptID: g.AttemptID, Position: g.Position, Part: g.Part, Score: g.Score, Max: g.Max,
		Feedback: g.Feedback, NeedsReview: g.NeedsReview, GradedAt: g.GradedAt}
	if g.ReviewReason != "" {
		out.Feedback = g.ReviewReason
	}
	return out
}
