// Package view turns stored variants (bank.Variant) into the domain's
// views of a question (marksmith.Question), so that the services hand
// their callers papers without the grading core's types, and nothing of a
// key reaches a reader who may not see it: a part's fields are copied one
// by one, and the key only when asked for.
package view

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
)

// Options say what a view shows.
type Options struct {
	// Key adds each part's key and marking scheme.
	Key bool
	// Staff adds where the question came from: template, version, variant
	// seed and drawn parameters.
	Staff bool
	// Scale multiplies every part's marks (the exam's marks for the
	// question over the template's); 0 means 1.
	Scale float64
}

// Question returns the view of a variant.
func Question(v *bank.Variant, opt Options) marksmith.Question {
	scale := opt.Scale
	if scale == 0 {
		scale = 1
	}
	q := marksmith.Question{Title: v.Title, Stem: v.Stem, Parts: make([]marksmith.Part, len(v.Parts))}
	for i := range v.Parts {
		q.Parts[i] = part(&v.Parts[i], opt.Key, scale)
	}
	if opt.Staff {
		seed := marksmith.Seed(v.Seed)
		q.Template, q.Version, q.Variant, q.Params = v.Template, v.Version, &seed, v.Params
	}
	return q
}

// part returns the view of one part: only what answering it needs, and
// its key with key.
func part(p *bank.PartVariant, key bool, scale float64) marksmith.Part {
	s := &p.Answer
	prompt, hint := promptAndHint(p.Prompt, p.Instruction, s)
	out := marksmith.Part{ID: p.ID, Marks: round(p.Marks * scale), Lead: p.Lead, Prompt: prompt, Type: string(s.Type), Hint: hint,
		Unit: s.Unit, Suffixes: s.Suffixes, Scheme: s.Scheme, Rows: p.Rows, Columns: p.Columns}
	for _, o := range s.Options {
		out.Options = append(out.Options, marksmith.Option{ID: o.ID, Label: o.Label, Text: o.Text})
	}
	switch s.Type {
	case grader.Points:
		charts := keyCharts(s)
		r := chartRange(charts)
		for _, ch := range p.Charts {
			out.Charts = append(out.Charts, marksmith.Chart{ID: ch.ID, Title: ch.Title, XLabel: ch.XLabel, YLabel: ch.YLabel,
				XMin: -r, XMax: r, YMin: -r, YMax: r})
		}
		out.Labels = pointLabels(charts)
	case grader.Sequence:
		if toks, ok := s.Key.([]string); ok {
			out.Length = len(toks)
		}
	case grader.Table:
		if tbl, ok := s.Key.([][]float64); ok {
			out.Height, out.Width = tableShape(tbl)
		}
	}
	if key {
		out.Key = Key(s, scale)
	}
	return out
}

// tableShape is a table key's rows and columns (its widest row's).
func tableShape(tbl [][]float64) (rows, cols int) {
	for _, r := range tbl {
		cols = max(cols, len(r))
	}
	return len(tbl), cols
}

// promptAndHint splits a prompt that ends with its instruction (the line
// saying how to write the answer) into the question and the hint, so that
// a page shows the hint beside the answer's field rather than twice; a
// part without one gets Hint's line.
func promptAndHint(prompt, instruction string, s *grader.Spec) (string, string) {
	if instruction == "" {
		return prompt, Hint(s)
	}
	if q, ok := strings.CutSuffix(strings.TrimRight(prompt, " \n"), instruction); ok {
		return strings.TrimRight(q, " \n"), instruction
	}
	return prompt, instruction
}

// Key returns a part's key and marking scheme.
func Key(s *grader.Spec, scale float64) *marksmith.PartKey {
	k := &marksmith.PartKey{Answer: bank.KeyAnswer(s), Tolerance: Tolerance(s), Accept: s.Accept, Patterns: s.Patterns,
		Reference: s.Reference, Follow: s.Follow}
	if s.Follow != "" {
		k.FollowNote = fmt.Sprintf("Error carried forward: an answer equal to %s, computed from the student's own earlier answers, earns %s of the part's marks.",
			s.Follow, strconv.FormatFloat(round(s.FollowMarks*scale), 'g', -1, 64))
	}
	for _, c := range s.Rubric {
		k.Rubric = append(k.Rubric, marksmith.Criterion{ID: c.ID, Text: c.Text, Marks: round(c.Marks * scale),
			Phrases: c.Phrases, Patterns: c.Patterns})
	}
	for _, ch := range keyCharts(s) {
		for _, pt := range ch.Points {
			k.Points = append(k.Points, marksmith.Point{Chart: ch.ID, Label: pt.Label, X: pt.X, Y: pt.Y})
		}
	}
	return k
}

// keyCharts returns a points part's key charts, or nil.
func keyCharts(s *grader.Spec) []grader.Chart {
	charts, _ := s.Key.([]grader.Chart)
	return charts
}

// pointLabels lists the labels of the points to place, in the key's
// order, each once.
func pointLabels(charts []grader.Chart) []string {
	var out []string
	seen := map[string]bool{}
	for _, ch := range charts {
		for _, p := range ch.Points {
			if !seen[p.Label] {
				seen[p.Label] = true
				out = append(out, p.Label)
			}
		}
	}
	return out
}

// chartRange returns R for a chart drawn from -R to R on both axes: the
// largest coordinate of the key with a quarter to spare, rounded up to 1,
// 2 or 5 times a power of ten. The same R on both axes and both sides
// tells a student nothing of where the points lie.
func chartRange(charts []grader.Chart) float64 {
	m := 0.0
	for _, ch := range charts {
		for _, p := range ch.Points {
			m = math.Max(m, math.Max(math.Abs(p.X), math.Abs(p.Y)))
		}
	}
	m *= 1.25
	if m < 1 || math.IsNaN(m) || math.IsInf(m, 0) {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(m)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*exp >= m {
			return f * exp
		}
	}
	return 10 * exp
}

// Tolerance describes a part's tolerance in words, "" when answers must be
// exact (or the type has none).
func Tolerance(s *grader.Spec) string {
	t := s.Tolerance
	var parts []string
	if t.Abs > 0 {
		parts = append(parts, "within ±"+strconv.FormatFloat(t.Abs, 'g', -1, 64))
	}
	if t.Rel > 0 {
		parts = append(parts, "within "+strconv.FormatFloat(t.Rel*100, 'g', -1, 64)+"% of the key")
	}
	if t.SigFigs > 0 {
		parts = append(parts, fmt.Sprintf("equal to %d significant figures", t.SigFigs))
	}
	if t.Decimals > 0 {
		parts = append(parts, fmt.Sprintf("equal to %d decimal places", t.Decimals))
	}
	return strings.Join(parts, ", or ")
}

// Hint says in one line how to write an answer of the part's type.
func Hint(s *grader.Spec) string {
	switch s.Type {
	case grader.Number, grader.Integer:
		h := "A number, such as 1234.5, 1,234,567 or 1.2e6."
		if s.Type == grader.Integer {
			h = "A whole number, such as 42 or 1,234,567."
		}
		if s.Suffixes {
			h += " K, M, B and T may stand for thousand, million, billion and trillion."
		}
		if s.Unit != "" {
			h += " In " + s.Unit + " unless you write another unit."
		}
		return h
	case grader.Choice:
		return "Choose one option."
	case grader.Multi:
		return "Choose every option that applies."
	case grader.Text:
		return "A short answer in a few words."
	case grader.Essay:
		return "A written answer of a few sentences."
	case grader.Sequence:
		return "The tokens in order, separated by spaces."
	case grader.Table:
		return "A number in every cell; rows are separated by semicolons and cells by commas when typed."
	case grader.Points:
		return "Place each labelled point on its chart, or type its coordinates as label (x, y)."
	}
	return ""
}

func round(x float64) float64 { return math.Round(x*1e9) / 1e9 }

// paperJSON is the part of a stored variant's JSON (bank.Variant) that a
// student's view of it reads: no parameters, and a part's key only where
// the widget needs its shape (a sequence's length, a chart's labels).
// Decoding it skips the rest, without the typed decoding of parameters
// and keys that bank.Variant does, which costs ten times as much.
type paperJSON struct {
	Title string  `json:"title"`
	Marks float64 `json:"marks"`
	Stem  string  `json:"stem"`
	Parts []struct {
		ID          string         `json:"id"`
		Marks       float64        `json:"marks"`
		Lead        string         `json:"lead"`
		Prompt      string         `json:"prompt"`
		Instruction string         `json:"instruction"`
		Rows        []string       `json:"rows"`
		Columns     []string       `json:"columns"`
		Charts      []grader.Chart `json:"charts"`
		Answer      struct {
			Type     grader.Type     `json:"type"`
			Unit     string          `json:"unit"`
			Suffixes bool            `json:"suffixes"`
			Scheme   string          `json:"scheme"`
			Options  []grader.Option `json:"options"`
			Key      json.RawMessage `json:"key"`
		} `json:"answer"`
	} `json:"parts"`
}

// StudentQuestion returns the view of a stored variant's JSON for a reader
// who may not see its key, its marks scaled to marks (the exam's marks for
// the question; 0 keeps the template's), as Question would, reading only
// what that view shows.
func StudentQuestion(raw []byte, marks float64) (marksmith.Question, error) {
	var p paperJSON
	if err := json.Unmarshal(raw, &p); err != nil {
		return marksmith.Question{}, err
	}
	tm := p.Marks
	if tm <= 0 {
		for _, pp := range p.Parts {
			tm += pp.Marks
		}
	}
	scale := 1.0
	if marks > 0 && tm > 0 {
		scale = marks / tm
	}
	q := marksmith.Question{Title: p.Title, Stem: p.Stem, Parts: make([]marksmith.Part, len(p.Parts))}
	for i := range p.Parts {
		pp := &p.Parts[i]
		a := &pp.Answer
		spec := grader.Spec{Type: a.Type, Unit: a.Unit, Suffixes: a.Suffixes}
		prompt, hint := promptAndHint(pp.Prompt, pp.Instruction, &spec)
		out := marksmith.Part{ID: pp.ID, Marks: round(pp.Marks * scale), Lead: pp.Lead, Prompt: prompt, Type: string(a.Type), Hint: hint,
			Unit: a.Unit, Suffixes: a.Suffixes, Scheme: a.Scheme, Rows: pp.Rows, Columns: pp.Columns}
		for _, o := range a.Options {
			out.Options = append(out.Options, marksmith.Option{ID: o.ID, Label: o.Label, Text: o.Text})
		}
		switch a.Type {
		case grader.Sequence:
			var toks []string
			if err := json.Unmarshal(a.Key, &toks); err == nil {
				out.Length = len(toks)
			}
		case grader.Table:
			var tbl [][]float64
			if err := json.Unmarshal(a.Key, &tbl); err == nil {
				out.Height, out.Width = tableShape(tbl)
			}
		case grader.Points:
			var charts []grader.Chart
			_ = json.Unmarshal(a.Key, &charts)
			r := chartRange(charts)
			for _, ch := range pp.Charts {
				out.Charts = append(out.Charts, marksmith.Chart{ID: ch.ID, Title: ch.Title, XLabel: ch.XLabel, YLabel: ch.YLabel,
					XMin: -r, XMax: r, YMin: -r, YMax: r})
			}
			out.Labels = pointLabels(charts)
		}
		q.Parts[i] = out
	}
	return q, nil
}
