package exams

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/marksmith/marksmith"
)

// Release releases an exam's results: students then see what the feedback
// policy's AfterRelease allows. Overdue attempts are closed first. It is
// ECONFLICT while an attempt is still open or an answer still awaits
// review; releasing a released exam changes nothing.
func (s *Service) Release(ctx context.Context, actor *marksmith.User, examID int64) error {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return err
	}
	if e.Released {
		return nil
	}
	d, err := s.load(ctx, e, false)
	if err != nil {
		return err
	}
	open := 0
	for _, a := range d.attempts {
		if a.Status == marksmith.AttemptOpen {
			open++
		}
	}
	if open > 0 {
		return marksmith.Errorf(marksmith.ECONFLICT, "%d attempt(s) of exam %d are still open; release once they are submitted or closed.", open, examID)
	}
	review := 0
	for _, g := range d.grades {
		if g.NeedsReview {
			review++
		}
	}
	if review > 0 {
		return marksmith.Errorf(marksmith.ECONFLICT, "%d answer(s) of exam %d still await review.", review, examID)
	}
	now := s.clock()
	after, _ := json.Marshal(e.Feedback)
	err = s.exams.Release(ctx, examID, now, &marksmith.AuditEntry{ExamID: examID, Actor: actor.ID, Action: "release",
		Target: fmt.Sprintf("exam %d", examID), After: after, At: now})
	if err != nil {
		return fmt.Errorf("release exam %d: %w", examID, err)
	}
	return nil
}

// Gradebook is an exam's results, one row per student on the roster.
type Gradebook struct {
	ExamID    int64               `json:"exam_id"`
	Title     string              `json:"title"`
	Released  bool                `json:"released"`
	Questions []GradebookQuestion `json:"questions"`
	Max       float64             `json:"max"`
	Rows      []GradebookRow      `json:"rows"`
}

// GradebookQuestion is one column of the gradebook.
type GradebookQuestion struct {
	Position int     `json:"question"`
	Template string  `json:"template"`
	Marks    float64 `json:"marks"`
}

// GradebookRow is one student's results. Status is "not started" for a
// student without an attempt; Scores are per question, in position order,
// nil until graded.
type GradebookRow struct {
	UserID      int64      `json:"user_id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	StudentKey  string     `json:"student_key"`
	Status      string     `json:"status"`
	AttemptID   *int64     `json:"attempt_id,omitempty"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	Late        bool       `json:"late"`
	Scores      []*float64 `json:"scores"`
	Total       *float64   `json:"total"`
	Max         float64    `json:"max"`
	NeedsReview int        `json:"needs_review"` // parts awaiting review
}

// StatusNotStarted is the gradebook status of a student with no attempt.
const StatusNotStarted = "not started"

// Gradebook returns an exam's results, ordered by student email. Overdue
// attempts are closed first.
func (s *Service) Gradebook(ctx context.Context, actor *marksmith.User, examID int64) (*Gradebook, error) {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return nil, err
	}
	d, err := s.load(ctx, e, false)
	if err != nil {
		return nil, err
	}
	gb := &Gradebook{ExamID: e.ID, Title: e.Title, Released: e.Released, Max: examMax(e), Rows: []GradebookRow{}}
	index := map[int]int{}
	for i, q := range e.Questions {
		gb.Questions = append(gb.Questions, GradebookQuestion{Position: q.Position, Template: q.TemplateID, Marks: q.Marks})
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
		row := GradebookRow{UserID: u.ID, Email: u.Email, Name: u.Name, StudentKey: studentKey(u), Status: StatusNotStarted,
			Scores: make([]*float64, len(e.Questions)), Max: gb.Max}
		if a := d.byUser[u.ID]; a != nil {
			id := a.ID
			row.AttemptID, row.Status, row.SubmittedAt, row.Late = &id, string(a.Status), a.SubmittedAt, a.Late
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
	slices.SortFunc(gb.Rows, func(a, b GradebookRow) int { return strings.Compare(a.Email, b.Email) })
	return gb, nil
}

// WriteGradebookCSV writes the gradebook as CSV for spreadsheets: UTF-8
// with a byte order mark first, a header row, then one row per student.
// Text cells that a spreadsheet would read as a formula (starting with =,
// +, -, @, tab or carriage return) are prefixed with an apostrophe.
func WriteGradebookCSV(w io.Writer, g *Gradebook) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("write gradebook: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := []string{"email", "name", "student_key", "status", "late", "submitted_at"}
	for _, q := range g.Questions {
		header = append(header, fmt.Sprintf("Q%d (%s marks)", q.Position, num(q.Marks)))
	}
	header = append(header, "total", "max", "needs_review")
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write gradebook: %w", err)
	}
	for _, r := range g.Rows {
		rec := []string{safeCell(r.Email), safeCell(r.Name), safeCell(r.StudentKey), r.Status, strconv.FormatBool(r.Late), ""}
		if r.SubmittedAt != nil {
			rec[5] = r.SubmittedAt.UTC().Format(time.RFC3339)
		}
		for _, sc := range r.Scores {
			rec = append(rec, optNum(sc))
		}
		rec = append(rec, optNum(r.Total), num(r.Max), strconv.Itoa(r.NeedsReview))
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write gradebook: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write gradebook: %w", err)
	}
	return nil
}

func num(f float64) string { return strconv.FormatFloat(round(f), 'f', -1, 64) }

func optNum(f *float64) string {
	if f == nil {
		return ""
	}
	return num(*f)
}

// safeCell defuses text a spreadsheet would run as a formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
