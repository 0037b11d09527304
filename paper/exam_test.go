package paper

import (
	"context"
	"io"
	"testing"

	"github.com/marksmith/marksmith"
)

func TestFileName(t *testing.T) {
	exam := &marksmith.Exam{ID: 12}
	one := []marksmith.StudentPaper{{UserID: 345}}
	two := []marksmith.StudentPaper{{UserID: 345}, {UserID: 346}}
	code, err := Code(12, 345)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ep     marksmith.ExamPapers
		format string
		want   string
	}{
		{marksmith.ExamPapers{Exam: exam, Students: two}, "pdf", "exam-12-papers.pdf"},
		{marksmith.ExamPapers{Exam: exam, Students: two, Key: true}, "zip", "exam-12-keys.zip"},
		{marksmith.ExamPapers{Exam: exam, Students: one}, "pdf", "exam-12-" + code.String() + ".pdf"},
		{marksmith.ExamPapers{Exam: exam, Students: one, Key: true}, "html", "key-exam-12-" + code.String() + ".html"},
	} {
		if got := FileName(&c.ep, c.format); got != c.want {
			t.Errorf("FileName(%d students, key %v, %s) = %q, want %q", len(c.ep.Students), c.ep.Key, c.format, got, c.want)
		}
	}
}

// TestPrintPapersNoChromium: a server without a browser fails a print
// job with a message that says so, not an internal error.
func TestPrintPapersNoChromium(t *testing.T) {
	o := NewOnDemand(PrinterOptions{Chromium: "no-such-browser-here"})
	defer o.Close()
	ep := &marksmith.ExamPapers{Exam: &marksmith.Exam{ID: 1}, Students: []marksmith.StudentPaper{{UserID: 1}}}
	_, err := o.PrintPapers(context.Background(), io.Discard, ep, marksmith.PrintPDF, nil)
	if marksmith.ErrorCode(err) != marksmith.EUNAVAILABLE || marksmith.ErrorMessage(err) != "This server cannot print PDFs (no Chromium): install Debian's chromium package." {
		t.Fatalf("error %v", err)
	}
}
