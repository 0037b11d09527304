package bank

import (
	"math"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith/grader"
)

// DefaultInstruction is the one line a part's prompt ends with when its
// template gives none: how to write the answer for the part's type, in
// Marksmith (the web form, or typed answers in a CSV or the API). It never
// shows anything of the key but its shape (the number of tokens, the size
// of a table, the number of charts).
func DefaultInstruction(s *grader.Spec) string {
	switch s.Type {
	case grader.Number:
		return numberInstruction(s)
	case grader.Integer:
		return "Answer with a whole number."
	case grader.Choice:
		return "Select one option (typed: its letter)."
	case grader.Multi:
		return "Select every option that applies, one or more (typed: their letters, e.g. A, C)."
	case grader.Text:
		return "Answer in a word or a short phrase."
	case grader.Essay:
		return "Answer in a few sentences."
	case grader.Sequence:
		n := 0
		if toks, ok := s.Key.([]string); ok {
			n = len(toks)
		}
		return "Answer with the " + strconv.Itoa(n) + " tokens in order, separated by spaces."
	case grader.Table:
		rows, cols := 0, 0
		if tbl, ok := s.Key.([][]float64); ok && len(tbl) > 0 {
			rows, cols = len(tbl), len(tbl[0])
		}
		line := "Answer with the " + strconv.Itoa(cols) + " values in the order of the columns, separated by commas"
		if rows > 1 {
			line = "Answer with the table's " + strconv.Itoa(rows) + " rows of " + strconv.Itoa(cols) + " values in order: values separated by commas, rows by semicolons"
		}
		if p := precision(s.Tolerance); p != "" {
			line += ", " + p
		}
		return line + "."
	case grader.Points:
		charts, _ := s.Key.([]grader.Chart)
		if len(charts) <= 1 {
			return "Plot the points on the chart (typed: label (x, y), label (x, y), …)."
		}
		return "Plot the points on the charts (typed: each chart's number, then its points: 1: label (x, y), …; 2: …)."
	}
	return ""
}

// numberInstruction says what precision a number part accepts and how it
// may be written.
func numberInstruction(s *grader.Spec) string {
	var b strings.Builder
	b.WriteString("Answer with ")
	p := precision(s.Tolerance)
	if p == "" {
		b.WriteString("the exact number")
	} else {
		b.WriteString("a number")
	}
	if s.Unit != "" {
		b.WriteString(" in " + s.Unit)
	}
	if p != "" {
		b.WriteString(" " + p)
	}
	switch {
	case s.Unit != "":
		b.WriteString(" (other units, such as GiB or MB, are converted).")
	case s.Suffixes:
		b.WriteString(", e.g. 1,234,567, 1.234567e6 or 1.234567M.")
	default:
		b.WriteString(", e.g. 1,234.5 or 1.2345e3.")
	}
	return b.String()
}

// precision describes the loosest rule of a tolerance a student can rely
// on, or "" for none: significant figures for a relative tolerance,
// decimal places for an absolute one.
func precision(t grader.Tolerance) string {
	switch {
	case t.SigFigs > 0:
		return "to " + strconv.Itoa(t.SigFigs) + " significant figures"
	case t.Decimals > 0:
		return "to " + strconv.Itoa(t.Decimals) + " decimal places"
	case t.Rel > 0:
		// n significant figures are within 0.5·10^(1−n) of the value,
		// relatively, at worst.
		return "to at least " + strconv.Itoa(sigFigsFor(t.Rel)) + " significant figures"
	case t.Abs > 0:
		return "to at least " + strconv.Itoa(decimalsFor(t.Abs)) + " decimal places"
	}
	return ""
}

// sigFigsFor is the fewest significant figures whose rounding error stays
// within rel of the value.
func sigFigsFor(rel float64) int {
	n := int(math.Ceil(1 - math.Log10(2*rel) - 1e-9))
	return max(1, n)
}

// decimalsFor is the fewest decimal places whose rounding error stays
// within abs.
func decimalsFor(abs float64) int {
	n := int(math.Ceil(-math.Log10(2*abs) - 1e-9))
	return max(0, n)
}
