package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/paper"
)

// Limits of one request for papers: Chromium prints about 15 pages a
// second on two cores, a paper of the DASC7606 exam being 15 pages (see
// docs/BENCHMARKS.md), so MaxPrintStudents print as PDF in about half the
// default request timeout; HTML, written by Go alone, takes up to
// MaxHTMLStudents.
const (
	MaxPrintStudents = 30
	MaxHTMLStudents  = 1000
)

// Printer prints paper documents to PDF: a *paper.Printer, or a
// *paper.OnDemand that starts the browser when first needed.
type Printer interface {
	PDF(ctx context.Context, w io.Writer, doc paper.Document, progress func(done, total int)) (*paper.Report, error)
	Zip(ctx context.Context, w io.Writer, doc paper.Document, progress func(done, total int)) (*paper.Report, error)
}

// Formats of the papers route.
const (
	paperHTML = "html"
	paperPDF  = "pdf"
	paperZip  = "zip"
)

// paperQuery is the papers route's query: student, format and key.
type paperQuery struct {
	marksmith.PaperQuery
	Format string
}

func readPaperQuery(c *fiber.Ctx, maxPrint int) (paperQuery, error) {
	q := paperQuery{Format: paperPDF}
	q.Student = c.Query("student")
	var p marksmith.Problems
	if f := c.Query("format"); f != "" {
		switch f {
		case paperHTML, paperPDF, paperZip:
			q.Format = f
		default:
			p.Add("format", "%q is not html, pdf or zip", f)
		}
	}
	if k := c.Query("key"); k != "" {
		b, err := strconv.ParseBool(k)
		if err != nil {
			p.Add("key", "must be true or false")
		}
		q.Key = b
	}
	if len(q.Student) > 254 {
		p.Add("student", "is longer than 254 characters")
	}
	if len(p) > 0 {
		return q, &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.", Details: []marksmith.FieldError(p)}
	}
	q.Max = maxPrint
	if q.Format == paperHTML {
		q.Max = MaxHTMLStudents
	}
	return q, nil
}

// printUnavailable is the error of a PDF asked of a server that cannot
// print one.
func printUnavailable() error {
	return marksmith.Errorf(marksmith.EUNAVAILABLE,
		"This server cannot print PDFs (no Chromium): ask for format=html and print it from a browser, or install Debian's chromium package.")
}

// handlePapers prints an exam's stored papers (or, with ?key=true, the
// markers' keys) of one student (?student=KEY) or the class, as one PDF,
// a zip of one PDF per student, or one HTML page (?format=pdf|zip|html).
func (s *server) handlePapers() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		q, err := readPaperQuery(c, s.cfg.PrintStudents)
		if err != nil {
			return err
		}
		ep, err := s.exams.Papers(c.UserContext(), actor, id, q.PaperQuery)
		if err != nil {
			return err
		}
		doc := paper.ExamDocument(ep)
		var b bytes.Buffer
		var media string
		switch q.Format {
		case paperHTML:
			if err := paper.Render(&b, doc, paper.Options{}); err != nil {
				return fmt.Errorf("render papers of exam %d: %w", id, err)
			}
			media = fiber.MIMETextHTMLCharsetUTF8
		case paperPDF, paperZip:
			if s.printer == nil {
				return printUnavailable()
			}
			printTo, m := s.printer.PDF, "application/pdf"
			if q.Format == paperZip {
				printTo, m = s.printer.Zip, "application/zip"
			}
			rep, err := printTo(c.UserContext(), &b, doc, nil)
			if errors.Is(err, paper.ErrNoChromium) {
				return printUnavailable()
			} else if err != nil {
				return fmt.Errorf("print papers of exam %d: %w", id, err)
			}
			media = m
			s.log.Info("papers printed", "exam", id, "students", rep.Students, "pages", rep.Pages,
				"wall", rep.Wall, "pages_per_second", rep.PagesPerSecond())
		}
		c.Set(fiber.HeaderContentType, media)
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": ep.FileName(q.Format)}))
		if q.Format == paperHTML {
			// The page's own styles and drawings; nothing else.
			c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")
		}
		return c.Status(fiber.StatusOK).Send(b.Bytes())
	})
}
