package bulk

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// Outcomes of an uploaded row.
const (
	StatusGraded    = "graded"    // graded and stored
	StatusUnchanged = "unchanged" // the same answers were stored already: nothing changed
	StatusRejected  = "rejected"  // not graded: see the row's errors
)

// RowResult is the outcome of one row of an upload, as the results file
// lists it. Scores are per question, in the order of the positions given
// to NewResultsWriter; nil where the row has none.
type RowResult struct {
	Line         int
	Student      string
	PaperCode    string
	Status       string
	Score        float64
	Max          float64
	NeedsReview  []string // the parts awaiting a reviewer, as QUESTION.PART
	FormatErrors []string // "QUESTION.PART: message" for each answer that could not be read
	Errors       []string // why the row was rejected
	Scores       []*float64
}

// ResultsWriter writes the results file of an upload: a header, then one
// line per row: line, student, paper_code, status, score, max,
// needs_review, format_errors, errors, and one score column per question.
// Text a row brought in that a spreadsheet would take for a formula is
// written with a leading apostrophe.
type ResultsWriter struct {
	w         *csv.Writer
	questions []int
	header    bool
	rec       []string
}

// NewResultsWriter returns a writer of results with a score column for
// each question position (none when nil).
func NewResultsWriter(w io.Writer, questions []int) *ResultsWriter {
	return &ResultsWriter{w: csv.NewWriter(w), questions: questions}
}

// Header returns the results file's header.
func (rw *ResultsWriter) Header() []string {
	h := []string{"line", "student", "paper_code", "status", "score", "max", "needs_review", "format_errors", "errors"}
	for _, q := range rw.questions {
		h = append(h, "q"+strconv.Itoa(q))
	}
	return h
}

// Write writes one row's result (after the header, the first time).
func (rw *ResultsWriter) Write(r RowResult) error {
	if !rw.header {
		rw.header = true
		if err := rw.w.Write(rw.Header()); err != nil {
			return err
		}
	}
	rec := append(rw.rec[:0], strconv.Itoa(r.Line), safe(r.Student), safe(r.PaperCode), r.Status)
	if r.Status == StatusRejected {
		rec = append(rec, "", "")
	} else {
		rec = append(rec, formatScore(r.Score), formatScore(r.Max))
	}
	rec = append(rec, safe(strings.Join(r.NeedsReview, " ")), safe(strings.Join(r.FormatErrors, "; ")), safe(strings.Join(r.Errors, "; ")))
	for i := range rw.questions {
		if i < len(r.Scores) && r.Scores[i] != nil {
			rec = append(rec, formatScore(*r.Scores[i]))
		} else {
			rec = append(rec, "")
		}
	}
	rw.rec = rec
	return rw.w.Write(rec)
}

// Flush writes what is buffered and returns any error so far.
func (rw *ResultsWriter) Flush() error {
	if !rw.header {
		rw.header = true
		if err := rw.w.Write(rw.Header()); err != nil {
			return err
		}
	}
	rw.w.Flush()
	return rw.w.Error()
}

// safe keeps a spreadsheet from reading text as a formula.
func safe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
