package exams

import (
	"encoding/json"
	"testing"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/internal/view"
)

func BenchmarkStudentPaper(b *testing.B) {
	ts, err := bank.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	var papers []*marksmith.Paper
	for i, t := range ts {
		v, err := t.Variant(uint64(1000 + i))
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := json.Marshal(v)
		papers = append(papers, &marksmith.Paper{Position: i + 1, Order: i + 1, Variant: raw})
	}
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			for _, p := range papers {
				if _, err := decodeVariant(p); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("student-decode-and-view", func(b *testing.B) {
		for b.Loop() {
			for _, p := range papers {
				if _, err := view.StudentQuestion(p.Variant, 10); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	vs := make([]*bank.Variant, len(papers))
	for i, p := range papers {
		vs[i], _ = decodeVariant(p)
	}
	b.Run("view", func(b *testing.B) {
		for b.Loop() {
			for _, v := range vs {
				_ = view.Question(v, view.Options{})
			}
		}
	})
	var qs []marksmith.Question
	for _, v := range vs {
		qs = append(qs, view.Question(v, view.Options{}))
	}
	av := &marksmith.AttemptView{Questions: qs}
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(av); err != nil {
				b.Fatal(err)
			}
		}
	})
	out, _ := json.Marshal(av)
	b.Logf("response %d bytes", len(out))
}
