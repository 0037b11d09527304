package exams

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/variants"
)

// Statistics settings.
const (
	// HistogramBins is the number of equal-width bins from 0 to the maximum.
	HistogramBins = 10
	// FairnessGap is the gap in mean score fraction between a parameter's
	// best and worst value above which the parameter is flagged.
	FairnessGap = 0.2
	// FairnessMinN is how many students must have drawn a value for it to
	// count towards the gap: a mean over one student is noise.
	FairnessMinN = 2
	// FairnessMaxValues is the most distinct values a numeric parameter is
	// reported by; beyond it, values are grouped into FairnessBins ranges
	// of about equal numbers of students.
	FairnessMaxValues = 10
	FairnessBins      = 5
)

// Stats returns item statistics over the exam's graded (submitted or
// closed) attempts. Overdue attempts are closed first.
func (s *Service) Stats(ctx context.Context, actor *marksmith.User, examID int64) (*marksmith.Stats, error) {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return nil, err
	}
	d, err := s.load(ctx, e, false)
	if err != nil {
		return nil, err
	}
	// Graded attempts, in ID order, and their scores per question and part.
	var ids []int64
	for id, a := range d.attempts {
		if a.Status != marksmith.AttemptOpen {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	row := make(map[int64]int, len(ids))
	for i, id := range ids {
		row[id] = i
	}
	n := len(ids)
	total := make([]float64, n)
	qScore := map[int][]float64{}
	type pk struct {
		position int
		part     string
	}
	pScore := map[pk][]float64{}
	pMax := map[pk]float64{}
	var partOrder []pk
	for _, g := range d.grades {
		i, ok := row[g.AttemptID]
		if !ok {
			continue
		}
		total[i] += g.Score
		if qScore[g.Position] == nil {
			qScore[g.Position] = make([]float64, n)
		}
		qScore[g.Position][i] += g.Score
		k := pk{g.Position, g.Part}
		if pScore[k] == nil {
			pScore[k] = make([]float64, n)
			partOrder = append(partOrder, k)
		}
		pScore[k][i] += g.Score
		pMax[k] = max(pMax[k], g.Max)
	}
	st := &marksmith.Stats{ExamID: e.ID, Summary: summarize(total, nil, examMax(e)), Questions: []marksmith.QuestionStats{}}
	for _, id := range ids {
		if d.attempts[id].Mode == marksmith.DeliveryPaper {
			st.Paper++
		} else {
			st.Online++
		}
	}
	for _, q := range e.Questions {
		qs := marksmith.QuestionStats{Position: q.Position, Template: q.TemplateID, Version: q.Version, Parts: []marksmith.PartStats{}, Fairness: []marksmith.ParamFairness{}}
		scores := qScore[q.Position]
		if scores == nil {
			scores = make([]float64, n)
		}
		qs.Summary = summarize(scores, total, q.Marks)
		for _, k := range partOrder {
			if k.position == q.Position {
				qs.Parts = append(qs.Parts, marksmith.PartStats{Part: k.part, Summary: summarize(pScore[k], total, pMax[k])})
			}
		}
		if n > 0 {
			if qs.Fairness, err = s.fairness(ctx, d, q, scores, row); err != nil {
				return nil, err
			}
		}
		st.Questions = append(st.Questions, qs)
	}
	return st, nil
}

// fairness computes per-parameter fairness of one question from the
// parameters stored in each graded attempt's paper.
func (s *Service) fairness(ctx context.Context, d *examData, q marksmith.ExamQuestion, scores []float64, row map[int64]int) ([]marksmith.ParamFairness, error) {
	t, err := s.loadTemplate(ctx, q.TemplateID, q.Version)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range t.Generator().Params {
		if p.Sampled() {
			names = append(names, p.Name)
		}
	}
	papers, err := s.store.FindExamPapers(ctx, d.e.ID, q.Position)
	if err != nil {
		return nil, fmt.Errorf("exam %d question %d: papers: %w", d.e.ID, q.Position, err)
	}
	obs := make([][]observation, len(names))
	for _, p := range papers {
		a := d.byUser[p.UserID]
		if a == nil {
			continue
		}
		i, ok := row[a.ID]
		if !ok {
			continue
		}
		params, err := decodeParams(p)
		if err != nil {
			return nil, err
		}
		frac := 0.0
		if q.Marks > 0 {
			frac = scores[i] / q.Marks
		}
		for j, name := range names {
			if val, ok := params[name]; ok {
				obs[j] = append(obs[j], observation{value: val, frac: frac})
			}
		}
	}
	out := []marksmith.ParamFairness{}
	for j, name := range names {
		if len(obs[j]) > 0 {
			out = append(out, paramFairness(name, obs[j]))
		}
	}
	return out, nil
}

// decodeParams reads only the parameter values of a paper's stored
// variant, as bank.Variant decodes them (whole numbers as int).
func decodeParams(p *marksmith.Paper) (map[string]any, error) {
	var only struct {
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(p.Variant, &only); err != nil {
		return nil, fmt.Errorf("exam %d student %d question %d: stored variant: %w", p.ExamID, p.UserID, p.Position, err)
	}
	if len(only.Params) == 0 {
		return nil, nil
	}
	var v bank.Variant
	if err := v.UnmarshalJSON(append(append([]byte(`{"params":`), only.Params...), '}')); err != nil {
		return nil, fmt.Errorf("exam %d student %d question %d: stored parameters: %w", p.ExamID, p.UserID, p.Position, err)
	}
	return v.Params, nil
}

// observation is one student's drawn value of a parameter and score
// fraction of the question.
type observation struct {
	value any
	frac  float64
}

// number returns a parameter value as a number, if it is one.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// paramFairness summarises one parameter's observations.
func paramFairness(name string, obs []observation) marksmith.ParamFairness {
	pf := marksmith.ParamFairness{Param: name, Values: []marksmith.ValueScore{}}
	numeric := true
	xs, ys := make([]float64, len(obs)), make([]float64, len(obs))
	for i, o := range obs {
		x, ok := number(o.value)
		numeric = numeric && ok
		xs[i], ys[i] = x, o.frac
	}
	type group struct {
		label string
		lo    float64
		n     int
		sum   float64
	}
	var groups []*group
	byLabel := map[string]*group{}
	for i, o := range obs {
		label := variants.Format(o.value)
		g := byLabel[label]
		if g == nil {
			g = &group{label: label, lo: xs[i]}
			byLabel[label] = g
			groups = append(groups, g)
		}
		g.n++
		g.sum += o.frac
	}
	if numeric && len(groups) > FairnessMaxValues {
		// Ranges of about len(obs)/FairnessBins students, equal values together.
		idx := make([]int, len(obs))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(xs[a], xs[b]) })
		groups = groups[:0]
		size := (len(obs) + FairnessBins - 1) / FairnessBins
		for start := 0; start < len(idx); {
			end := min(start+size, len(idx))
			for end < len(idx) && xs[idx[end]] == xs[idx[end-1]] {
				end++
			}
			g := &group{lo: xs[idx[start]]}
			lo, hi := obs[idx[start]].value, obs[idx[end-1]].value
			g.label = variants.Format(lo) + "–" + variants.Format(hi)
			for _, k := range idx[start:end] {
				g.n++
				g.sum += ys[k]
			}
			groups = append(groups, g)
			start = end
		}
	}
	if numeric {
		slices.SortFunc(groups, func(a, b *group) int { return cmpFloat(a.lo, b.lo) })
	} else {
		slices.SortFunc(groups, func(a, b *group) int { return strings.Compare(a.label, b.label) })
	}
	lo, hi, counted := math.Inf(1), math.Inf(-1), 0
	for _, g := range groups {
		m := round(g.sum / float64(g.n))
		pf.Values = append(pf.Values, marksmith.ValueScore{Value: g.label, N: g.n, Mean: m})
		if g.n >= FairnessMinN {
			lo, hi, counted = min(lo, m), max(hi, m), counted+1
		}
	}
	if counted >= 2 {
		pf.Gap = round(hi - lo)
	}
	pf.Flagged = pf.Gap > FairnessGap
	return pf
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// summarize describes scores out of maxScore; total, when given, is each
// attempt's exam total for the discrimination index.
func summarize(scores, total []float64, maxScore float64) marksmith.Summary {
	sm := marksmith.Summary{N: len(scores), Max: round(maxScore), Histogram: histogram(scores, maxScore)}
	if len(scores) == 0 {
		return sm
	}
	var sum float64
	for _, x := range scores {
		sum += x
	}
	sm.Mean = round(sum / float64(len(scores)))
	if maxScore > 0 {
		sm.Difficulty = round(sm.Mean / maxScore)
	}
	if total != nil {
		rest := make([]float64, len(scores))
		for i := range scores {
			rest[i] = total[i] - scores[i]
		}
		if r, ok := pearson(scores, rest); ok {
			r = round(r)
			sm.Discrimination = &r
		}
	}
	return sm
}

// pearson returns the correlation of xs and ys; false when it is
// undefined (fewer than 3 points or no spread in either).
func pearson(xs, ys []float64) (float64, bool) {
	n := float64(len(xs))
	if len(xs) < 3 {
		return 0, false
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx < 1e-12 || syy < 1e-12 {
		return 0, false
	}
	return sxy / math.Sqrt(sxx*syy), true
}

// histogram counts scores in HistogramBins equal bins from 0 to maxScore.
func histogram(scores []float64, maxScore float64) []marksmith.Bin {
	bins := make([]marksmith.Bin, HistogramBins)
	w := maxScore / HistogramBins
	for i := range bins {
		bins[i].From, bins[i].To = round(float64(i)*w), round(float64(i+1)*w)
	}
	if maxScore <= 0 {
		return bins
	}
	for _, x := range scores {
		i := int(math.Floor(x/w + 1e-9))
		i = max(0, min(i, HistogramBins-1))
		bins[i].Count++
	}
	return bins
}
