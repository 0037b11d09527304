package exams

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/marksmith/marksmith"
)

// The exam-day controls: each checks that the actor manages the exam,
// works in one transaction, and writes an audit entry saying who did what
// when, with the state before and after.

// audit returns an audit entry of exam e by actor.
func audit(e *marksmith.Exam, actor *marksmith.User, action, target, reason string, before, after any, at time.Time) *marksmith.AuditEntry {
	a := &marksmith.AuditEntry{ExamID: e.ID, Actor: actor.ID, Action: action, Target: target, Reason: reason, At: at}
	if before != nil {
		a.Before, _ = json.Marshal(before)
	}
	if after != nil {
		a.After, _ = json.Marshal(after)
	}
	return a
}

// AddStudents adds students (by email or student key) to an exam's
// roster. On a published exam each new student's paper is drawn and
// stored at once, continuing the exam's cohort so that it is distinct from
// the papers already issued wherever the space allows. Entries that name
// no student are listed, not added; students already on the roster are
// left alone.
func (s *Service) AddStudents(ctx context.Context, actor *marksmith.User, id int64, students []string) (*marksmith.RosterResult, error) {
	e, err := s.managedExam(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	ids, res, err := s.resolveRoster(ctx, students)
	if err != nil {
		return nil, err
	}
	current, err := s.store.FindRoster(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("add students to exam %d: roster: %w", id, err)
	}
	on := make(map[int64]bool, len(current))
	for _, r := range current {
		on[r.ID] = true
	}
	var added []*marksmith.User
	var addedIDs []int64
	for _, uid := range ids {
		if !on[uid] {
			u, err := s.store.FindUserByID(ctx, uid)
			if err != nil {
				return nil, fmt.Errorf("add students to exam %d: %w", id, err)
			}
			added = append(added, u)
			addedIDs = append(addedIDs, uid)
		}
	}
	res.Students = len(current) + len(added)
	if len(added) == 0 {
		return res, nil
	}
	var papers []*marksmith.Paper
	if e.Status == marksmith.ExamPublished {
		if papers, err = s.continueCohort(ctx, e, added); err != nil {
			return nil, err
		}
	}
	now := s.clock()
	emails := make([]string, len(added))
	for i, u := range added {
		emails[i] = u.Email
	}
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		if err := tx.AddToRoster(ctx, id, addedIDs); err != nil {
			return err
		}
		if err := tx.SavePapers(ctx, papers); err != nil {
			return err
		}
		return tx.AddAudit(ctx, audit(e, actor, "add-students", fmt.Sprintf("exam %d", id), "", nil,
			map[string]any{"students": emails, "papers": len(papers)}, now))
	})
	if err != nil {
		return nil, fmt.Errorf("add students to exam %d: %w", id, err)
	}
	return res, nil
}

// continueCohort draws the papers of students added to a published exam:
// each question's cohort is first given the variants already issued, so
// the new ones are distinct from them where the space allows.
func (s *Service) continueCohort(ctx context.Context, e *marksmith.Exam, students []*marksmith.User) ([]*marksmith.Paper, error) {
	qs, err := s.loadQuestions(ctx, e)
	if err != nil {
		return nil, err
	}
	issued, err := s.store.FindExamPapers(ctx, e.ID, 0)
	if err != nil {
		return nil, fmt.Errorf("exam %d: papers: %w", e.ID, err)
	}
	byPos := map[int]*pubQuestion{}
	for _, q := range qs {
		byPos[q.q.Position] = q
	}
	fps := make([]sampled, len(issued))
	s.each(len(issued), func(i int) {
		if q := byPos[issued[i].Position]; q != nil {
			fps[i] = q.sample(uint64(issued[i].Seed))
		}
	})
	for i, p := range issued {
		if q := byPos[p.Position]; q != nil && fps[i].err == nil {
			q.cohort.Taken(fps[i].fp)
		}
	}
	var out []*marksmith.Paper
	for lo := 0; lo < len(students); lo += s.batchSize() {
		papers, err := s.generateBatch(e, qs, students[lo:min(lo+s.batchSize(), len(students))])
		if err != nil {
			return nil, err
		}
		out = append(out, papers...)
	}
	return out, nil
}

// RemoveStudent takes a student who has not started off an exam's roster,
// with their papers. A student who has started is ECONFLICT: close or keep
// their attempt instead.
func (s *Service) RemoveStudent(ctx context.Context, actor *marksmith.User, id, userID int64) error {
	e, err := s.managedExam(ctx, actor, id)
	if err != nil {
		return err
	}
	entry, err := s.store.FindRosterEntry(ctx, id, userID)
	if isCode(err, marksmith.ENOTFOUND) {
		return marksmith.Errorf(marksmith.ENOTFOUND, "Student %d is not on the roster of exam %d.", userID, id)
	} else if err != nil {
		return fmt.Errorf("remove student %d from exam %d: %w", userID, id, err)
	}
	now := s.clock()
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		if _, err := tx.FindAttempt(ctx, id, userID); err == nil {
			return marksmith.Errorf(marksmith.ECONFLICT, "%s has started exam %d and cannot be removed; close the attempt instead.", entry.Email, id)
		} else if !isCode(err, marksmith.ENOTFOUND) {
			return err
		}
		if err := tx.RemoveFromRoster(ctx, id, userID); err != nil {
			return err
		}
		return tx.AddAudit(ctx, audit(e, actor, "remove-student", fmt.Sprintf("student %d", userID), "",
			map[string]any{"student": entry.Email}, nil, now))
	})
	if err != nil {
		return fmt.Errorf("remove student %d from exam %d: %w", userID, id, err)
	}
	return nil
}

// SetAccommodation gives one student extra time and/or a later close of
// the window. Set before they start it applies when they do; set while
// their attempt is open it moves that attempt's deadline and grace (from
// its start) at once. A finished attempt is left as it is: reopen it to
// give more time.
func (s *Service) SetAccommodation(ctx context.Context, actor *marksmith.User, id, userID int64, in marksmith.Accommodation) (*marksmith.RosterEntry, error) {
	e, err := s.managedExam(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	var p marksmith.Problems
	if in.ExtraSeconds < 0 || in.ExtraSeconds > MaxExtraSeconds {
		p.Add("extra_seconds", "must be from 0 to %d (7 days)", MaxExtraSeconds)
	}
	if in.ClosesAt != nil {
		c := in.ClosesAt.UTC().Truncate(time.Microsecond)
		in.ClosesAt = &c
		if !c.After(e.OpensAt) || c.Sub(e.OpensAt) > MaxWindow*time.Second {
			p.Add("closes_at", "must be after the exam opens and within %d days of it", MaxWindow/(24*3600))
		}
	}
	in.Reason = strings.TrimSpace(in.Reason)
	p.CheckText("reason", in.Reason, maxReason)
	if err := p.Err("accommodation"); err != nil {
		return nil, err
	}
	now := s.clock()
	var out *marksmith.RosterEntry
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		before, err := tx.FindRosterEntry(ctx, id, userID)
		if isCode(err, marksmith.ENOTFOUND) {
			return marksmith.Errorf(marksmith.ENOTFOUND, "Student %d is not on the roster of exam %d.", userID, id)
		} else if err != nil {
			return err
		}
		if err := tx.SetAccommodation(ctx, id, userID, in); err != nil {
			return err
		}
		out = &marksmith.RosterEntry{User: before.User, ExtraSeconds: in.ExtraSeconds, ClosesAt: in.ClosesAt, AccommodationReason: in.Reason}
		moved := map[string]any{}
		if a, err := tx.FindAttempt(ctx, id, userID); err == nil && a.Status == marksmith.AttemptOpen {
			if a, err = tx.LockAttempt(ctx, a.ID); err != nil {
				return err
			}
			if a.Status == marksmith.AttemptOpen {
				moved["deadline_before"] = a.DeadlineAt
				a.DeadlineAt, a.GraceUntil = times(e, out, a.StartedAt)
				moved["deadline_after"] = a.DeadlineAt
				if err := tx.UpdateAttempt(ctx, a); err != nil {
					return err
				}
			}
		} else if err != nil && !isCode(err, marksmith.ENOTFOUND) {
			return err
		}
		after := map[string]any{"extra_seconds": in.ExtraSeconds, "closes_at": in.ClosesAt}
		for k, v := range moved {
			after[k] = v
		}
		return tx.AddAudit(ctx, audit(e, actor, "accommodation", fmt.Sprintf("student %d", userID), in.Reason,
			map[string]any{"extra_seconds": before.ExtraSeconds, "closes_at": before.ClosesAt}, after, now))
	})
	if err != nil {
		return nil, fmt.Errorf("accommodation of student %d at exam %d: %w", userID, id, err)
	}
	return out, nil
}

// CloseAttempts closes open attempts now, each graded with what was saved
// and in its own transaction: the listed attempts, or with All every open
// attempt — "end the exam", which also closes the window so that no one
// starts after it.
func (s *Service) CloseAttempts(ctx context.Context, actor *marksmith.User, id int64, in marksmith.CloseInput) (*marksmith.CloseReport, error) {
	e, err := s.publishedExam(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	var p marksmith.Problems
	in.Reason = strings.TrimSpace(in.Reason)
	p.CheckText("reason", in.Reason, maxReason)
	switch {
	case in.All && len(in.AttemptIDs) > 0:
		p.Add("attempt_ids", "give attempt_ids or all, not both")
	case !in.All && len(in.AttemptIDs) == 0:
		p.Add("attempt_ids", "give the attempts to close, or all")
	case len(in.AttemptIDs) > maxDecisionAttempts:
		p.Add("attempt_ids", "lists %d attempts, at most %d", len(in.AttemptIDs), maxDecisionAttempts)
	}
	if err := p.Err("close"); err != nil {
		return nil, err
	}
	attempts, err := s.store.FindAttempts(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("close attempts of exam %d: %w", id, err)
	}
	byID := make(map[int64]*marksmith.Attempt, len(attempts))
	for _, a := range attempts {
		byID[a.ID] = a
	}
	var targets []*marksmith.Attempt
	if in.All {
		for _, a := range attempts {
			if a.Status == marksmith.AttemptOpen {
				targets = append(targets, a)
			}
		}
	} else {
		for _, aid := range in.AttemptIDs {
			a := byID[aid]
			if a == nil {
				return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Exam %d has no attempt %d.", id, aid)
			}
			if a.Status == marksmith.AttemptOpen && !slices.Contains(targets, a) {
				targets = append(targets, a)
			}
		}
	}
	now := s.clock()
	if in.All {
		if err := s.store.WithTx(ctx, func(tx marksmith.Store) error {
			if err := tx.EndExam(ctx, id, now); err != nil {
				return err
			}
			return tx.AddAudit(ctx, audit(e, actor, "end-exam", fmt.Sprintf("exam %d", id), in.Reason,
				map[string]any{"closes_at": e.ClosesAt}, map[string]any{"closes_at": now, "open_attempts": len(targets)}, now))
		}); err != nil {
			return nil, fmt.Errorf("end exam %d: %w", id, err)
		}
	}
	rep := &marksmith.CloseReport{Attempts: []int64{}}
	g := newGrading(s, e)
	for _, a := range targets {
		c, err := s.close(ctx, g, a.ID, nil, now, marksmith.AttemptClosed)
		if err != nil {
			return nil, err
		}
		if !c.ours {
			continue // submitted meanwhile
		}
		rep.Closed++
		rep.Attempts = append(rep.Attempts, a.ID)
		if err := s.store.AddAudit(ctx, audit(e, actor, "close-attempt", fmt.Sprintf("attempt %d", a.ID), in.Reason,
			map[string]any{"status": a.Status}, map[string]any{"status": c.attempt.Status, "score": c.attempt.Score}, now)); err != nil {
			return nil, fmt.Errorf("close attempt %d: audit: %w", a.ID, err)
		}
	}
	return rep, nil
}

// ReopenAttempt reopens a submitted or closed attempt for in.Seconds from
// now, for a reason: its grades are withdrawn until it is submitted or
// closed again, its answers kept.
func (s *Service) ReopenAttempt(ctx context.Context, actor *marksmith.User, attemptID int64, in marksmith.ReopenInput) (*marksmith.Attempt, error) {
	if err := requireStaff(actor); err != nil {
		return nil, err
	}
	a, e, err := s.attemptFor(ctx, actor, attemptID)
	if err != nil {
		return nil, err
	}
	var p marksmith.Problems
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" {
		p.Add("reason", "is required: say why the attempt is reopened")
	} else {
		p.CheckText("reason", in.Reason, maxReason)
	}
	if in.Seconds < 60 || in.Seconds > MaxTimeLimit {
		p.Add("seconds", "must be from 60 to %d (7 days)", MaxTimeLimit)
	}
	if err := p.Err("reopen"); err != nil {
		return nil, err
	}
	if a.Mode == marksmith.DeliveryPaper {
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "Attempt %d was sat on paper; upload its answers again instead.", attemptID)
	}
	now := s.clock()
	var out *marksmith.Attempt
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		cur, err := tx.LockAttempt(ctx, attemptID)
		if err != nil {
			return err
		}
		if cur.Status == marksmith.AttemptOpen {
			return marksmith.Errorf(marksmith.ECONFLICT, "Attempt %d is open; give the student extra time instead.", attemptID)
		}
		before := *cur
		cur.Status = marksmith.AttemptOpen
		cur.DeadlineAt = now.Add(time.Duration(in.Seconds) * time.Second)
		cur.GraceUntil = cur.DeadlineAt.Add(time.Duration(e.LateGraceSeconds) * time.Second)
		cur.SubmittedAt, cur.Score = nil, nil
		if err := tx.DeleteGrades(ctx, attemptID); err != nil {
			return err
		}
		if err := tx.UpdateAttempt(ctx, cur); err != nil {
			return err
		}
		out = cur
		return tx.AddAudit(ctx, audit(e, actor, "reopen", fmt.Sprintf("attempt %d", attemptID), in.Reason, &before, cur, now))
	})
	if err != nil {
		return nil, fmt.Errorf("reopen attempt %d: %w", attemptID, err)
	}
	return out, nil
}

// Unpublish moves a published exam that nobody has started back to draft,
// deleting its papers; ECONFLICT once anyone has started.
func (s *Service) Unpublish(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.Exam, error) {
	e, err := s.publishedExam(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		if err := tx.MarkDraft(ctx, id, now); err != nil {
			return err
		}
		return tx.AddAudit(ctx, audit(e, actor, "unpublish", fmt.Sprintf("exam %d", id), "", map[string]any{"status": e.Status},
			map[string]any{"status": marksmith.ExamDraft}, now))
	})
	if err != nil {
		return nil, fmt.Errorf("unpublish exam %d: %w", id, err)
	}
	return s.store.FindExamByID(ctx, id)
}

// Monitor returns the live state of a published exam: who has not
// started, who is working (with their last save), who has finished.
func (s *Service) Monitor(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.Monitor, error) {
	e, err := s.publishedExam(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	roster, err := s.store.FindRoster(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("monitor exam %d: roster: %w", id, err)
	}
	attempts, err := s.store.FindAttempts(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("monitor exam %d: attempts: %w", id, err)
	}
	activity, err := s.store.LastSaves(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("monitor exam %d: %w", id, err)
	}
	byUser := make(map[int64]*marksmith.Attempt, len(attempts))
	for _, a := range attempts {
		byUser[a.UserID] = a
	}
	now := s.clock()
	m := &marksmith.Monitor{ExamID: id, Title: e.Title, ServerTime: now, Students: make([]marksmith.MonitorRow, 0, len(roster))}
	for _, r := range roster {
		row := marksmith.MonitorRow{UserID: r.ID, Email: r.Email, Name: r.Name, StudentKey: studentKey(r.User),
			Status: marksmith.StatusNotStarted, Extra: r.ExtraSeconds}
		if a := byUser[r.ID]; a != nil {
			aid, started, deadline := a.ID, a.StartedAt, a.DeadlineAt
			row.AttemptID, row.StartedAt, row.DeadlineAt = &aid, &started, &deadline
			row.Status, row.SubmittedAt, row.Late = string(a.Status), a.SubmittedAt, a.Late
			if act, ok := activity[a.ID]; ok {
				last := act.LastSaveAt
				row.LastSaveAt, row.Answered = &last, act.Answered
			}
		}
		switch row.Status {
		case marksmith.StatusNotStarted:
			m.NotStarted++
		case string(marksmith.AttemptOpen):
			m.Working++
		default:
			m.Finished++
		}
		m.Students = append(m.Students, row)
	}
	slices.SortFunc(m.Students, func(a, b marksmith.MonitorRow) int { return strings.Compare(a.Email, b.Email) })
	return m, nil
}
