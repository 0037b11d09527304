package paper

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/marksmith/marksmith"
)

// TestPrintPapersNoChromium: a server without a browser fails a print
// job with a message that says so, not an internal error.
func TestPrintPapersNoChromium(t *testing.T) {
	o := NewOnDemand(PrinterOptions{Chromium: "no-such-browser-here"})
	defer o.Close()
	if err := o.Available(); !errors.Is(err, ErrNoChromium) {
		t.Errorf("Available: %v", err)
	}
	ep := &marksmith.ExamPapers{Exam: &marksmith.Exam{ID: 1}, Students: []marksmith.StudentPaper{{UserID: 1}}}
	_, err := o.PrintPapers(context.Background(), io.Discard, ep, marksmith.PrintPDF, nil)
	if marksmith.ErrorCode(err) != marksmith.EUNAVAILABLE || marksmith.ErrorMessage(err) != "This server cannot print PDFs (no Chromium): install Debian's chromium package." {
		t.Fatalf("error %v", err)
	}
}
