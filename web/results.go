package web

import (
	"bytes"
	"fmt"
	"html/template"
	"mime"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// gradebookPage is the gradebook, sorted on the server (by a column
// header's link) so that sorting works without JavaScript.
type gradebookPage struct {
	ExamID int64
	Book   *marksmith.Gradebook
	Sort   string
	Desc   bool
	Cols   []gradebookCol
	CSV    bool
}

// gradebookCol is a sortable column header.
type gradebookCol struct {
	Key, Label, Href string
	Sorted           string // "ascending", "descending" or "" (aria-sort)
	Numeric          bool
}

func (w *Web) handleGradebook() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		g, err := w.exams.Gradebook(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		p := &gradebookPage{ExamID: id, Book: g, Sort: c.Query("sort", "name"), Desc: c.Query("dir") == "desc", CSV: w.csv != nil}
		sortGradebook(g, p.Sort, p.Desc)
		cols := []gradebookCol{{Key: "name", Label: "Student"}, {Key: "key", Label: "Student key"}, {Key: "status", Label: "Status"},
			{Key: "submitted", Label: "Submitted"}}
		for i, q := range g.Questions {
			cols = append(cols, gradebookCol{Key: "q" + strconv.Itoa(i+1), Label: "Q" + strconv.Itoa(q.Position) + " (" + formatScore(q.Marks) + ")", Numeric: true})
		}
		cols = append(cols, gradebookCol{Key: "total", Label: "Total (" + formatScore(g.Max) + ")", Numeric: true},
			gradebookCol{Key: "review", Label: "To review", Numeric: true})
		for i := range cols {
			col := &cols[i]
			dir := "asc"
			if col.Key == p.Sort {
				col.Sorted = "ascending"
				if p.Desc {
					col.Sorted = "descending"
				} else {
					dir = "desc"
				}
			}
			col.Href = "?" + url.Values{"sort": {col.Key}, "dir": {dir}}.Encode()
		}
		p.Cols = cols
		return w.render(c, "gradebook", "Gradebook: "+g.Title, p)
	}
}

// sortGradebook sorts the rows by a column; ungraded scores sort last
// either way, and ties keep the name order.
func sortGradebook(g *marksmith.Gradebook, key string, desc bool) {
	byName := func(a, b *marksmith.GradebookRow) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Email, b.Email)
	}
	num := func(f *float64) (float64, bool) {
		if f == nil {
			return 0, false
		}
		return *f, true
	}
	var value func(r *marksmith.GradebookRow) (float64, bool)
	var text func(r *marksmith.GradebookRow) string
	switch {
	case key == "total":
		value = func(r *marksmith.GradebookRow) (float64, bool) { return num(r.Total) }
	case key == "review":
		value = func(r *marksmith.GradebookRow) (float64, bool) { return float64(r.NeedsReview), true }
	case key == "submitted":
		value = func(r *marksmith.GradebookRow) (float64, bool) {
			if r.SubmittedAt == nil {
				return 0, false
			}
			return float64(r.SubmittedAt.UnixNano()), true
		}
	case key == "name":
		text = func(r *marksmith.GradebookRow) string { return r.Name + "\x00" + r.Email }
	case key == "status":
		text = func(r *marksmith.GradebookRow) string { return r.Status }
	case key == "key":
		text = func(r *marksmith.GradebookRow) string { return r.StudentKey }
	case strings.HasPrefix(key, "q"):
		i, err := strconv.Atoi(key[1:])
		if err == nil && i >= 1 && i <= len(g.Questions) {
			value = func(r *marksmith.GradebookRow) (float64, bool) {
				if i-1 >= len(r.Scores) {
					return 0, false
				}
				return num(r.Scores[i-1])
			}
		}
	}
	sort.SliceStable(g.Rows, func(i, j int) bool {
		a, b := &g.Rows[i], &g.Rows[j]
		c := 0
		switch {
		case value != nil:
			va, oka := value(a)
			vb, okb := value(b)
			switch {
			case oka != okb:
				return oka // a value sorts before none, either way
			case oka && va != vb:
				c = -1
				if va > vb {
					c = 1
				}
			}
		case text != nil:
			c = strings.Compare(strings.ToLower(text(a)), strings.ToLower(text(b)))
		}
		if c == 0 {
			return byName(a, b) < 0
		}
		if desc {
			return c > 0
		}
		return c < 0
	})
}

// handleGradebookCSV sends the gradebook as the API's CSV.
func (w *Web) handleGradebookCSV() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if w.csv == nil {
			return marksmith.Errorf(marksmith.ENOTFOUND, "No CSV download here.")
		}
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		g, err := w.exams.Gradebook(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := w.csv(&b, g); err != nil {
			return fmt.Errorf("gradebook of exam %d: write CSV: %w", id, err)
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("exam-%d-gradebook.csv", id)}))
		return c.Send(b.Bytes())
	}
}

// statsPage is the item statistics with their plots.
type statsPage struct {
	ExamID    int64
	Exam      *marksmith.Exam
	Stats     *marksmith.Stats
	Histogram template.HTML
	Parts     template.HTML // difficulty of every part
	Discrim   template.HTML // discrimination of every part
	Questions []statsQuestion
}

// statsQuestion is one question's fairness, parameter by parameter.
type statsQuestion struct {
	marksmith.QuestionStats
	Histogram template.HTML
	Fairness  []statsFairness
}

type statsFairness struct {
	marksmith.ParamFairness
	Plot template.HTML
}

func (w *Web) handleStats() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		ctx, u := c.UserContext(), actor(c)
		e, err := w.exams.FindExam(ctx, u, id)
		if err != nil {
			return err
		}
		s, err := w.exams.Stats(ctx, u, id)
		if err != nil {
			return err
		}
		p := &statsPage{ExamID: id, Exam: e, Stats: s,
			Histogram: histogram(s.Summary, "Histogram of total scores over "+strconv.Itoa(s.N)+" graded attempts")}
		var diff, disc []hbar
		for _, q := range s.Questions {
			sq := statsQuestion{QuestionStats: q,
				Histogram: histogram(q.Summary, "Histogram of question "+strconv.Itoa(q.Position)+" scores")}
			for _, part := range q.Parts {
				label := "Q" + strconv.Itoa(q.Position) + " (" + part.Part + ")"
				d := part.Difficulty
				diff = append(diff, hbar{Label: label, Value: &d, N: part.N})
				disc = append(disc, hbar{Label: label, Value: part.Discrimination, N: part.N})
			}
			for _, f := range q.Fairness {
				var rows []hbar
				for _, v := range f.Values {
					m := v.Mean
					rows = append(rows, hbar{Label: f.Param + " = " + v.Value, Value: &m, N: v.N, Flag: f.Flagged})
				}
				caption := "Mean score of question " + strconv.Itoa(q.Position) + " by the value drawn for " + f.Param
				sq.Fairness = append(sq.Fairness, statsFairness{ParamFairness: f, Plot: barChart(rows, 0, 1, caption, true)})
			}
			p.Questions = append(p.Questions, sq)
		}
		p.Parts = barChart(diff, 0, 1, "Difficulty of each part: the mean score as a share of its marks", true)
		p.Discrim = barChart(disc, -1, 1, "Discrimination of each part: correlation of its score with the rest of the exam", false)
		return w.render(c, "stats", "Statistics: "+e.Title, p)
	}
}

// auditPage is an exam's audit log.
type auditPage struct {
	ExamID  int64
	Exam    *marksmith.Exam
	Entries []*marksmith.AuditEntry
}

func (w *Web) handleAudit() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		ctx, u := c.UserContext(), actor(c)
		e, err := w.exams.FindExam(ctx, u, id)
		if err != nil {
			return err
		}
		entries, err := w.exams.Audit(ctx, u, id)
		if err != nil {
			return err
		}
		return w.render(c, "audit", "Audit log: "+e.Title, &auditPage{ExamID: id, Exam: e, Entries: entries})
	}
}
