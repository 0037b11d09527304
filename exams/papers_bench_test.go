package exams

import (
	"os"
	"strconv"
	"testing"

	"github.com/marksmith/marksmith"
)

// BenchmarkPapers reads a published class's stored papers for printing,
// as GET /api/v1/exams/{id}/papers does before the paper package renders
// them: the roster, every paper, each variant decoded and viewed with its
// key. The class is the built-in DASC7606 exam (8 questions) for
// MARKSMITH_BENCH_STUDENTS students (default 300), on SQLite:
//
//	go test -run XXX -bench Papers -benchtime 5x ./exams
func BenchmarkPapers(b *testing.B) {
	n := 300
	if v, err := strconv.Atoi(os.Getenv("MARKSMITH_BENCH_STUDENTS")); err == nil && v > 0 {
		n = v
	}
	h := newHarness(b, n)
	ts := h.storeBuiltin(b)
	in := h.input(n)
	in.Delivery = marksmith.DeliveryPaper
	in.Questions = nil
	for _, t := range ts {
		in.Questions = append(in.Questions, marksmith.QuestionInput{Template: t.ID})
	}
	e := h.published(b, in)
	for _, key := range []bool{false, true} {
		name := "papers"
		if key {
			name = "keys"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				ep, err := h.svc.Papers(b.Context(), h.instructor, e.ID, marksmith.PaperQuery{Key: key})
				if err != nil || len(ep.Students) != n {
					b.Fatalf("Papers: %v", err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "students/s")
		})
	}
}
