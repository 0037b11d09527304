package paper

import (
	"context"
	"io"
	"os"
	"strconv"
	"testing"
)

// BenchmarkPrint prints the papers of a class of the built-in DASC7606
// paper to one PDF, with KaTeX, and reports pages per second and where
// the time went:
//
//	MARKSMITH_BENCH_STUDENTS=300 go test -run XXX -bench Print -benchtime 1x ./paper
//
// MARKSMITH_BENCH_TABS and MARKSMITH_BENCH_BATCH set the printer's tabs
// (2) and students per print (10).
func BenchmarkPrint(b *testing.B) {
	env := func(name string, def int) int {
		if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
			return n
		}
		return def
	}
	n := env("MARKSMITH_BENCH_STUDENTS", 300)
	opt := PrinterOptions{Tabs: env("MARKSMITH_BENCH_TABS", 2), Batch: env("MARKSMITH_BENCH_BATCH", 10)}
	requireTools(b)
	opt.KaTeX = katexFS(b)
	students := class(b, n, false)
	doc := Document{Exam: dasc, Students: students}
	p, err := NewPrinter(context.Background(), opt)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var rep *Report
	for b.Loop() {
		if rep, err = p.PDF(context.Background(), io.Discard, doc, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	p.Close()
	b.ReportMetric(float64(rep.Pages), "pages")
	b.ReportMetric(rep.PagesPerSecond(), "pages/s")
	b.ReportMetric(rep.Wall.Seconds(), "wall-s")
	b.ReportMetric(rep.Render.Seconds(), "render-s")
	b.ReportMetric(rep.Load.Seconds(), "load-s")
	b.ReportMetric(rep.Math.Seconds(), "math-s")
	b.ReportMetric(rep.Print.Seconds(), "print-s")
	b.ReportMetric(rep.Join.Seconds(), "join-s")
	b.ReportMetric(float64(rep.Bytes)/1e6, "MB")
}
