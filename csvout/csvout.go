// Package csvout writes the CSV files Marksmith hands to spreadsheets
// (the gradebook): UTF-8 with a byte order mark, CRLF line ends, and text
// cells a spreadsheet would run as a formula defused.
package csvout

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/marksmith/marksmith"
)

// Gradebook writes the gradebook as CSV for spreadsheets: UTF-8
// with a byte order mark first, a header row, then one row per student.
// Text cells that a spreadsheet would read as a formula (starting with =,
// +, -, @, tab or carriage return) are prefixed with an apostrophe.
func Gradebook(w io.Writer, g *marksmith.Gradebook) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("write gradebook: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := []string{"email", "name", "student_key", "status", "mode", "late", "submitted_at"}
	for _, q := range g.Questions {
		header = append(header, fmt.Sprintf("Q%d (%s marks)", q.Position, num(q.Marks)))
	}
	header = append(header, "total", "max", "needs_review")
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write gradebook: %w", err)
	}
	for _, r := range g.Rows {
		rec := []string{safeCell(r.Email), safeCell(r.Name), safeCell(r.StudentKey), r.Status, r.Mode, strconv.FormatBool(r.Late), ""}
		if r.SubmittedAt != nil {
			rec[6] = r.SubmittedAt.UTC().Format(time.RFC3339)
		}
		for _, sc := range r.Scores {
			rec = append(rec, optNum(sc))
		}
		rec = append(rec, optNum(r.Total), num(r.Max), strconv.Itoa(r.NeedsReview))
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write gradebook: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write gradebook: %w", err)
	}
	return nil
}

func num(f float64) string { return strconv.FormatFloat(math.Round(f*1e9)/1e9, 'f', -1, 64) }

func optNum(f *float64) string {
	if f == nil {
		return ""
	}
	return num(*f)
}

// safeCell defuses text a spreadsheet would run as a formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
