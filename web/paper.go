package web

import (
	"encoding/json"
	"html/template"
	"strings"

	"github.com/marksmith/marksmith"
)

// paperQuestion is a question of an attempt as the exam and results pages
// show it.
type paperQuestion struct {
	*marksmith.Question
	Parts []paperPart
}

// paperPart is one part with what its widget and its results need.
type paperPart struct {
	*marksmith.Part
	Position  int    // the question's position in the exam (the save route's)
	DOM       string // the base of the part's element ids
	Answer    marksmith.Answer
	HasAnswer bool
	Grade     *marksmith.Grade
	Charts    []paperChart
	Rows      int // table: rows and columns of the grid; 0 when unknown (typed instead)
	Cols      int
}

// paperChart is one chart of a points part.
type paperChart struct {
	marksmith.Chart
	DOM string
	SVG template.HTML
}

// examPage is the exam page.
type examPage struct {
	View      *marksmith.AttemptView
	Questions []paperQuestion
	Parts     int
	Answered  int
	// GraceSeconds is how long after the deadline saves are still
	// accepted (late).
	GraceSeconds int
	// Late is set when the deadline has passed and the grace has not.
	Late bool
}

func newExamPage(v *marksmith.AttemptView) *examPage {
	p := &examPage{View: v, Questions: paperQuestions(v, false)}
	for _, q := range p.Questions {
		for _, pt := range q.Parts {
			p.Parts++
			if pt.HasAnswer && strings.TrimSpace(pt.Answer.Raw) != "" {
				p.Answered++
			}
		}
	}
	p.GraceSeconds = max(0, int(v.GraceUntil.Sub(v.Deadline).Seconds()))
	p.Late = !v.ServerTime.Before(v.Deadline) && v.ServerTime.Before(v.GraceUntil)
	return p
}

// resultPage is an attempt after it ends: what the student may see of
// their grades and the key, or everything for staff.
type resultPage struct {
	View      *marksmith.AttemptView
	Questions []paperQuestion
	Staff     bool
	Open      bool
	Unanswer  []string
}

func newResultPage(v *marksmith.AttemptView, staff bool) *resultPage {
	return &resultPage{View: v, Questions: paperQuestions(v, true), Staff: staff,
		Open: v.Attempt.Status == marksmith.AttemptOpen}
}

func paperQuestions(v *marksmith.AttemptView, results bool) []paperQuestion {
	qs := make([]paperQuestion, len(v.Questions))
	for i := range v.Questions {
		q := &v.Questions[i]
		pq := paperQuestion{Question: q, Parts: make([]paperPart, len(q.Parts))}
		for j := range q.Parts {
			part := &q.Parts[j]
			pp := paperPart{Part: part, Position: q.Position, DOM: domID("p", q.Position, part.ID)}
			for _, a := range q.Answers {
				if a.Part == part.ID {
					pp.Answer, pp.HasAnswer = a, true
				}
			}
			for k := range q.Grades {
				if q.Grades[k].Part == part.ID {
					pp.Grade = &q.Grades[k]
				}
			}
			if part.Type == marksmith.TypeTable {
				pp.Rows, pp.Cols = part.Height, part.Width
				if pp.Rows == 0 || pp.Cols == 0 {
					// A shape the paper does not say (an older stored
					// paper): the labels', or typed as text.
					pp.Rows, pp.Cols = len(part.Rows), len(part.Columns)
				}
				if pp.Rows == 0 || pp.Cols == 0 {
					pp.Rows, pp.Cols = 0, 0
				}
			}
			for k, ch := range part.Charts {
				pc := paperChart{Chart: ch, DOM: domID(pp.DOM, "chart", k)}
				if results {
					var key []marksmith.Point
					if part.Key != nil {
						key = part.Key.Points
					}
					pc.SVG = keyChart(ch, key, answerPoints(pp.Answer.Raw, ch.ID, len(part.Charts)))
				} else {
					pc.SVG = pointsChart(pc.DOM, ch)
				}
				pp.Charts = append(pp.Charts, pc)
			}
			pq.Parts[j] = pp
		}
		qs[i] = pq
	}
	return qs
}

// answerPoints reads the points of one chart from an answer in the JSON
// form the widget sends, for drawing; anything else draws no points (the
// answer is shown as typed beside the chart).
func answerPoints(raw, chart string, charts int) map[string][2]float64 {
	raw = strings.TrimSpace(raw)
	if !strings.HasPrefix(raw, "{") {
		return nil
	}
	var top map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &top) != nil {
		return nil
	}
	out := map[string][2]float64{}
	for name, v := range top {
		var xy [2]float64
		if charts == 1 && json.Unmarshal(v, &xy) == nil {
			out[name] = xy
			continue
		}
		if !strings.EqualFold(name, chart) {
			continue
		}
		var pts map[string][2]float64
		if json.Unmarshal(v, &pts) == nil {
			for label, xy := range pts {
				out[label] = xy
			}
		}
	}
	return out
}
