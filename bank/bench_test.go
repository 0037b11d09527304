package bank

import (
	"fmt"
	"testing"

	"github.com/marksmith/marksmith/grader"
)

func builtinOrSkip(b *testing.B) []*Template {
	ts, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	return ts
}

// graded is a built-in question's variant 77 compiled for grading, as a
// published exam's papers are.
type graded struct {
	v *Variant
	q *grader.Question
}

func builtinGraded(b *testing.B) []graded {
	var out []graded
	for _, t := range builtinOrSkip(b) {
		v, err := t.Variant(77)
		if err != nil {
			b.Fatal(err)
		}
		q, err := v.Grader()
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, graded{v, q})
	}
	return out
}

// BenchmarkVariant measures one question variant drawn (with rejection
// sampling), its prompts rendered and its key computed, per template.
func BenchmarkVariant(b *testing.B) {
	for _, t := range builtinOrSkip(b) {
		b.Run(t.ID, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := t.Variant(uint64(i) + 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVariantPaper measures a whole paper: one variant of every
// built-in template.
func BenchmarkVariantPaper(b *testing.B) {
	ts := builtinOrSkip(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for _, t := range ts {
			if _, err := t.Variant(uint64(i) + 1); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkGradePaper measures grading one full-paper submission (every
// part of every built-in template, answered with a mix of right, wrong and
// carried-forward answers) against variants compiled once, as a published
// exam's are.
func BenchmarkGradePaper(b *testing.B) {
	gs := builtinGraded(b)
	answers := make([]map[string]string, len(gs))
	for i, g := range gs {
		answers[i] = paperAnswers(g.v)
	}
	b.ReportAllocs()
	for b.Loop() {
		for i, g := range gs {
			g.q.Grade(answers[i])
		}
	}
}

// BenchmarkGradeQuestion grades one submission of each built-in question,
// answered as BenchmarkGradePaper answers it.
func BenchmarkGradeQuestion(b *testing.B) {
	for _, g := range builtinGraded(b) {
		answers := paperAnswers(g.v)
		b.Run(g.v.Template, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g.q.Grade(answers)
			}
		})
	}
}

// BenchmarkGradeEssay grades one full-length essay of each built-in
// question that has one: its reference answer (a paragraph or two), where
// BenchmarkGradePaper's essays are one sentence. Rubric patterns then find
// their literals and run over the whole text.
func BenchmarkGradeEssay(b *testing.B) {
	for _, g := range builtinGraded(b) {
		for _, p := range g.v.Parts {
			if p.Answer.Type != grader.Essay {
				continue
			}
			answers := map[string]string{p.ID: p.Answer.Reference}
			b.Run(fmt.Sprintf("%s/%s/%dB", g.v.Template, p.ID, len(p.Answer.Reference)), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					g.q.Grade(answers)
				}
			})
		}
	}
}

// paperAnswers answers a variant the way a middling student might: keys,
// with every third numeric part wrong (so that follow rules run) and a
// paragraph for each essay.
func paperAnswers(v *Variant) map[string]string {
	answers := map[string]string{}
	for j, p := range v.Parts {
		if p.Answer.Type == grader.Essay {
			answers[p.ID] = "It approaches a linear function, then ReLU, because the gradient flows"
			continue
		}
		a := KeyAnswer(&p.Answer)
		if j%3 == 1 && (p.Answer.Type == grader.Number || p.Answer.Type == grader.Integer) {
			a = "12345" // a wrong answer, so that follow rules run
		}
		answers[p.ID] = a
	}
	return answers
}
