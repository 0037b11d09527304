package exams

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
)

// RuleOverride is the rule of a grade a reviewer set.
const RuleOverride = "override"

// grading grades attempts of one exam; it loads each corrected template
// version (ExamQuestion.GradeVersion) at most once.
type grading struct {
	s         *Service
	e         *marksmith.Exam
	templates map[string]*bank.Template
}

func newGrading(s *Service, e *marksmith.Exam) *grading {
	return &grading{s: s, e: e, templates: map[string]*bank.Template{}}
}

// template returns a loaded template version.
func (g *grading) template(ctx context.Context, id string, version int) (*bank.Template, error) {
	key := fmt.Sprintf("%s@%d", id, version)
	if t := g.templates[key]; t != nil {
		return t, nil
	}
	t, err := g.s.loadTemplate(ctx, id, version)
	if err != nil {
		return nil, err
	}
	g.templates[key] = t
	return t, nil
}

// prepare loads the corrected template versions papers are graded with,
// so that grading inside a transaction reads nothing more.
func (g *grading) prepare(ctx context.Context, papers []*marksmith.Paper) error {
	for _, p := range papers {
		if q := questionAt(g.e, p.Position); q != nil && q.GradeVersion != 0 && q.GradeVersion != p.Version {
			if _, err := g.template(ctx, q.TemplateID, q.GradeVersion); err != nil {
				return err
			}
		}
	}
	return nil
}

// variant returns the variant a paper is graded against: the stored one,
// or its rebuild with the question's corrected template version.
func (g *grading) variant(ctx context.Context, p *marksmith.Paper) (*bank.Variant, error) {
	v, err := decodeVariant(p)
	if err != nil {
		return nil, err
	}
	return g.corrected(ctx, p, v)
}

// corrected returns a paper's decoded variant v, or its rebuild with the
// question's corrected template version.
func (g *grading) corrected(ctx context.Context, p *marksmith.Paper, v *bank.Variant) (*bank.Variant, error) {
	if !g.rebuilds(p, v) {
		return v, nil
	}
	q := questionAt(g.e, p.Position)
	t, err := g.template(ctx, q.TemplateID, q.GradeVersion)
	if err != nil {
		return nil, err
	}
	nv, err := t.Rebuild(v)
	if err != nil {
		return nil, fmt.Errorf("question %d: rebuild with template %s version %d: %w", p.Position, q.TemplateID, q.GradeVersion, err)
	}
	nv.Version = t.Version
	return nv, nil
}

// rebuilds reports whether a paper's variant v is graded as rebuilt with
// the question's corrected template version.
func (g *grading) rebuilds(p *marksmith.Paper, v *bank.Variant) bool {
	q := questionAt(g.e, p.Position)
	return q != nil && q.GradeVersion != 0 && q.GradeVersion != v.Version
}

// question returns the variant a paper decoded for grading is graded
// against — the stored one, or its rebuild with the question's corrected
// template version — and its compiled question.
func (g *grading) question(ctx context.Context, p *marksmith.Paper, gv *bank.GradingVariant) (*bank.Variant, *grader.Question, error) {
	if !g.rebuilds(p, gv.Variant) {
		q, err := gv.Grader()
		if err != nil {
			return nil, nil, fmt.Errorf("question %d: compile grader: %w", p.Position, err)
		}
		return gv.Variant, q, nil
	}
	if _, err := gv.DecodeParams(); err != nil { // a rebuild keeps the drawn values
		return nil, nil, fmt.Errorf("question %d: %w", p.Position, err)
	}
	v, err := g.corrected(ctx, p, gv.Variant)
	if err != nil {
		return nil, nil, err
	}
	q, err := v.Grader()
	if err != nil {
		return nil, nil, fmt.Errorf("question %d: compile grader: %w", p.Position, err)
	}
	return v, q, nil
}

// gradeAttempt grades every paper of an attempt with its saved answers.
func (g *grading) gradeAttempt(ctx context.Context, a *marksmith.Attempt, papers []*marksmith.Paper, answers []*marksmith.Answer, now time.Time) ([]*marksmith.Grade, error) {
	byQuestion := map[int]map[string]string{}
	for _, ans := range answers {
		m := byQuestion[ans.Position]
		if m == nil {
			m = map[string]string{}
			byQuestion[ans.Position] = m
		}
		m[ans.Part] = ans.Raw
	}
	var out []*marksmith.Grade
	for _, p := range papers {
		v, err := g.variant(ctx, p)
		if err != nil {
			return nil, err
		}
		gs, err := gradeVariant(g.e, a.ID, p.Position, v, byQuestion[p.Position], now)
		if err != nil {
			return nil, err
		}
		out = append(out, gs...)
	}
	return out, nil
}

// gradeVariant grades one question of an attempt, scaling the template's
// marks to the exam's marks for the question.
func gradeVariant(e *marksmith.Exam, attemptID int64, position int, v *bank.Variant, answers map[string]string, now time.Time) ([]*marksmith.Grade, error) {
	q, err := v.Grader()
	if err != nil {
		return nil, fmt.Errorf("question %d: compile grader: %w", position, err)
	}
	return gradeQuestion(e, attemptID, position, v, q, answers, now), nil
}

// gradeQuestion is gradeVariant with v's question compiled: q.
func gradeQuestion(e *marksmith.Exam, attemptID int64, position int, v *bank.Variant, q *grader.Question, answers map[string]string, now time.Time) []*marksmith.Grade {
	if answers == nil {
		answers = map[string]string{}
	}
	results := q.Grade(answers)
	f := scale(e, position, v)
	out := make([]*marksmith.Grade, len(results))
	for i, r := range results {
		out[i] = &marksmith.Grade{
			AttemptID: attemptID, Position: position, Part: r.Part,
			Score: round(r.Score * f), Max: round(r.Max * f),
			Rule: r.Rule, Feedback: r.Feedback, NeedsReview: r.NeedsReview,
			TemplateVersion: v.Version, GradedAt: now,
		}
	}
	return out
}

// scale is the factor from a variant's marks to the exam's marks for the
// question: exam marks / template marks (the parts' sum when the template
// gives none).
func scale(e *marksmith.Exam, position int, v *bank.Variant) float64 {
	q := questionAt(e, position)
	if q == nil {
		return 1
	}
	tm := v.Marks
	if tm <= 0 {
		for _, p := range v.Parts {
			tm += p.Marks
		}
	}
	if tm <= 0 {
		return 1
	}
	return q.Marks / tm
}

// totals sums grades.
func totals(gs []*marksmith.Grade) (score, max float64) {
	for _, g := range gs {
		score += g.Score
		max += g.Max
	}
	return round(score), round(max)
}

// round rounds to 1e-9, removing floating-point noise from sums and scaling.
func round(x float64) float64 { return math.Round(x*1e9) / 1e9 }

// normalize is the form answers are grouped by for review: white space
// collapsed and, unless the part is case-sensitive, lower case.
func normalize(spec *grader.Spec, raw string) string {
	s := strings.Join(strings.Fields(raw), " ")
	if spec == nil || !spec.CaseSensitive {
		s = strings.ToLower(s)
	}
	return s
}
