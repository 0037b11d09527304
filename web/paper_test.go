package web

import (
	"math"
	"testing"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
)

// fullPaper returns the DASC7606 paper as a student sees it: every
// question of the built-in bank at its canonical variant, with keys when
// withKey. The web package never imports the bank; its tests do, to show
// the pages a real paper.
func fullPaper(t testing.TB, withKey bool) []marksmith.Question {
	t.Helper()
	ts, err := bank.Builtin()
	if err != nil {
		t.Fatalf("load the bank: %v", err)
	}
	var qs []marksmith.Question
	for i, tpl := range ts {
		v, err := tpl.Canonical()
		if err != nil {
			t.Fatalf("canonical variant of %s: %v", tpl.ID, err)
		}
		q := questionOf(v, withKey)
		q.Position, q.Order = i+1, i+1
		qs = append(qs, q)
	}
	return qs
}

// questionOf turns a variant into the domain's view of a question, as the
// services do: only what answering needs, the key when asked for.
func questionOf(v *bank.Variant, withKey bool) marksmith.Question {
	q := marksmith.Question{Title: v.Title, Stem: v.Stem, Marks: v.Marks, Template: v.Template, Version: v.Version}
	for _, p := range v.Parts {
		s := p.Answer
		part := marksmith.Part{ID: p.ID, Marks: p.Marks, Prompt: p.Prompt, Type: string(s.Type), Hint: "Write it as docs/answers.md says.",
			Unit: s.Unit, Suffixes: s.Suffixes, Scheme: s.Scheme, Rows: p.Rows, Columns: p.Columns}
		for _, o := range s.Options {
			part.Options = append(part.Options, marksmith.Option{ID: o.ID, Label: o.Label, Text: o.Text})
		}
		switch s.Type {
		case grader.Sequence:
			if toks, ok := s.Key.([]string); ok {
				part.Length = len(toks)
			}
		case grader.Table:
			// The grid's shape is the key's; labels the template leaves
			// out are empty.
			if rows, ok := s.Key.([][]float64); ok && len(rows) > 0 {
				part.Rows = fill(part.Rows, len(rows))
				part.Columns = fill(part.Columns, len(rows[0]))
			}
		case grader.Points:
			charts, _ := s.Key.([]grader.Chart)
			r := 0.0
			seen := map[string]bool{}
			for _, ch := range charts {
				for _, pt := range ch.Points {
					r = math.Max(r, math.Max(math.Abs(pt.X), math.Abs(pt.Y)))
					if !seen[pt.Label] {
						seen[pt.Label] = true
						part.Labels = append(part.Labels, pt.Label)
					}
				}
			}
			r = math.Ceil(r*1.25 + 0.5)
			for _, ch := range p.Charts {
				part.Charts = append(part.Charts, marksmith.Chart{ID: ch.ID, Title: ch.Title, XLabel: ch.XLabel, YLabel: ch.YLabel,
					XMin: -r, XMax: r, YMin: -r, YMax: r})
			}
		}
		if withKey {
			k := &marksmith.PartKey{Answer: bank.KeyAnswer(&s), Accept: s.Accept, Reference: s.Reference}
			for _, c := range s.Rubric {
				k.Rubric = append(k.Rubric, marksmith.Criterion{ID: c.ID, Text: c.Text, Marks: c.Marks})
			}
			if charts, ok := s.Key.([]grader.Chart); ok {
				for _, ch := range charts {
					for _, pt := range ch.Points {
						k.Points = append(k.Points, marksmith.Point{Chart: ch.ID, Label: pt.Label, X: pt.X, Y: pt.Y})
					}
				}
			}
			part.Key = k
		}
		q.Parts = append(q.Parts, part)
	}
	return q
}

func fill(labels []string, n int) []string {
	out := make([]string, n)
	copy(out, labels)
	return out
}

// TestFullPaperHasEveryType keeps the fixture honest: the pages' tests
// show every widget only if the paper has every answer type.
func TestFullPaperHasEveryType(t *testing.T) {
	types := map[string]int{}
	for _, q := range fullPaper(t, false) {
		for _, p := range q.Parts {
			types[p.Type]++
			if p.Type == marksmith.TypeTable && (len(p.Rows) == 0 || len(p.Columns) == 0) {
				t.Errorf("%s (%s): a table without its shape", q.Template, p.ID)
			}
		}
	}
	for _, typ := range []string{marksmith.TypeNumber, marksmith.TypeInteger, marksmith.TypeChoice, marksmith.TypeMulti,
		marksmith.TypeText, marksmith.TypeEssay, marksmith.TypeSequence, marksmith.TypeTable, marksmith.TypePoints} {
		if types[typ] == 0 {
			t.Errorf("the paper has no %s part", typ)
		}
	}
}
