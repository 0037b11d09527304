package exams

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/marksmith/marksmith"
)

// Release releases an exam's results: students then see what the feedback
// policy's AfterRelease allows. Overdue attempts are closed first. Without
// Partial it is ECONFLICT while an attempt is still open or an answer still
// awaits review; with it, the finished and reviewed attempts are released
// now and the others as they finish (no new attempt may start once results
// are out). Releasing a released exam changes nothing.
func (s *Service) Release(ctx context.Context, actor *marksmith.User, examID int64, in marksmith.ReleaseInput) (*marksmith.ReleaseReport, error) {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return nil, err
	}
	d, err := s.load(ctx, e, false)
	if err != nil {
		return nil, err
	}
	rep := &marksmith.ReleaseReport{}
	open, review := 0, 0
	for _, a := range d.attempts {
		pending := a.Status == marksmith.AttemptOpen
		if pending {
			open++
		}
		for _, g := range d.byAttempt[a.ID] {
			if g.NeedsReview {
				review++
				pending = true
			}
		}
		if pending {
			rep.Pending++
		} else {
			rep.Released++
		}
	}
	if !e.Released && !in.Partial {
		if open > 0 {
			return nil, marksmith.Errorf(marksmith.ECONFLICT, "%d attempt(s) of exam %d are still open; release once they are submitted or closed, or release partially.", open, examID)
		}
		if review > 0 {
			return nil, marksmith.Errorf(marksmith.ECONFLICT, "%d answer(s) of exam %d still await review; review them, or release partially.", review, examID)
		}
	}
	if !e.Released {
		now := s.clock()
		after, _ := json.Marshal(map[string]any{"feedback": e.Feedback, "partial": in.Partial, "released": rep.Released, "pending": rep.Pending})
		err = s.store.Release(ctx, examID, now, &marksmith.AuditEntry{ExamID: examID, Actor: actor.ID, Action: "release",
			Target: fmt.Sprintf("exam %d", examID), After: after, At: now})
		if err != nil && !isCode(err, marksmith.ECONFLICT) {
			return nil, fmt.Errorf("release exam %d: %w", examID, err)
		}
	}
	if rep.Exam, err = s.store.FindExamByID(ctx, examID); err != nil {
		return nil, fmt.Errorf("release exam %d: %w", examID, err)
	}
	return rep, nil
}

// Gradebook returns an exam's results, ordered by student email. Overdue
// attempts are closed first.
func (s *Service) Gradebook(ctx context.Context, actor *marksmith.User, examID int64) (*marksmith.Gradebook, error) {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return nil, err
	}
	d, err := s.load(ctx, e, false)
	if err != nil {
		return nil, err
	}
	gb := &marksmith.Gradebook{ExamID: e.ID, Title: e.Title, Released: e.Released, Max: examMax(e), Rows: []marksmith.GradebookRow{}}
	index := map[int]int{}
	for i, q := range e.Questions {
		gb.Questions = append(gb.Questions, marksmith.GradebookQuestion{Position: q.Position, Template: q.TemplateID, Marks: q.Marks})
		index[q.Position] = i
	}
	type sums struct {
		scores []float64
		graded []bool
		review int
	}
	per := map[int64]*sums{}
	for _, g := range d.grades {
		sm := per[g.AttemptID]
		if sm == nil {
			sm = &sums{scores: make([]float64, len(e.Questions)), graded: make([]bool, len(e.Questions))}
			per[g.AttemptID] = sm
		}
		i, ok := index[g.Position]
		if !ok {
			continue
		}
		sm.scores[i] += g.Score
		sm.graded[i] = true
		if g.NeedsReview {
			sm.review++
		}
	}
	for _, u := range d.users {
		row := marksmith.GradebookRow{UserID: u.ID, Email: u.Email, Name: u.Name, StudentKey: studentKey(u), Status: marksmith.StatusNotStarted,
			Scores: make([]*float64, len(e.Questions)), Max: gb.Max}
		if a := d.byUser[u.ID]; a != nil {
			id := a.ID
			row.AttemptID, row.Status, row.SubmittedAt, row.Late, row.Mode = &id, string(a.Status), a.SubmittedAt, a.Late, a.Mode
			if a.Status != marksmith.AttemptOpen {
				row.Total = a.Score
			}
			if sm := per[a.ID]; sm != nil {
				for i := range sm.scores {
					if sm.graded[i] {
						sc := round(sm.scores[i])
						row.Scores[i] = &sc
					}
				}
				row.NeedsReview = sm.review
			}
		}
		gb.Rows = append(gb.Rows, row)
	}
	slices.SortFunc(gb.Rows, func(a, b marksmith.GradebookRow) int { return strings.Compare(a.Email, b.Email) })
	return gb, nil
}
