package paper

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/marksmith/marksmith"
)

// ExamDocument is the document of an exam's stored papers: with keys, it
// ends with the summary of every student's keys.
func ExamDocument(ep *marksmith.ExamPapers) Document {
	doc := Document{Exam: Exam{ID: ep.Exam.ID, Title: ep.Exam.Title}, Key: ep.Key, Summary: ep.Key}
	for _, sp := range ep.Students {
		doc.Students = append(doc.Students, Student{UserID: sp.UserID, Name: sp.Name, Number: sp.Number, Questions: sp.Questions})
	}
	return doc
}

// PrintPapers prints an exam's papers as one PDF (format pdf) or a zip of
// one PDF per student (zip), as the print jobs do: it is a
// marksmith.PaperPrinter. progress gets the students and pages printed
// so far.
func (p *Printer) PrintPapers(ctx context.Context, w io.Writer, ep *marksmith.ExamPapers, format string, progress func(done, total, pages int)) (int, error) {
	doc := ExamDocument(ep)
	var rep *Report
	var err error
	switch format {
	case marksmith.PrintPDF:
		rep, err = p.pdf(ctx, w, doc, progress)
	case marksmith.PrintZip:
		rep, err = p.zip(ctx, w, doc, progress)
	default:
		return 0, fmt.Errorf("paper: format %q: want pdf or zip", format)
	}
	if err != nil {
		return 0, err
	}
	return rep.Pages, nil
}

// PrintPapers is Printer.PrintPapers, starting the printer first if need
// be; a server without Chromium gets an EUNAVAILABLE error saying so.
func (o *OnDemand) PrintPapers(ctx context.Context, w io.Writer, ep *marksmith.ExamPapers, format string, progress func(done, total, pages int)) (int, error) {
	p, err := o.printer(ctx)
	if errors.Is(err, ErrNoChromium) {
		return 0, marksmith.Errorf(marksmith.EUNAVAILABLE, "This server cannot print PDFs (no Chromium): install Debian's chromium package.")
	} else if err != nil {
		return 0, err
	}
	return p.PrintPapers(ctx, w, ep, format, progress)
}

var (
	_ marksmith.PaperPrinter = (*Printer)(nil)
	_ marksmith.PaperPrinter = (*OnDemand)(nil)
)
