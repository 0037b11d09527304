// Package bulk grades a whole cohort's answers at once: a CSV (or JSON) of
// one row per student, with the variant seed of their paper and one column
// per question part, into per-part and total marks. A bad row is reported
// with its line and field and never stops the other rows.
package bulk

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
)

// Finder returns the template with id, or nil. It may accept a short id
// (q6 for dasc7606/q6) when that is unambiguous.
type Finder func(id string) *bank.Template

// Question is one question of a sheet and the columns that answer its parts.
type Question struct {
	Template   *bank.Template
	Parts      []string // part ids, in template order
	cols       []int    // column index of each part, -1 when absent
	variantCol int      // per-question variant seed override, -1 when absent
}

// Sheet is the layout of an answer file: which column holds what.
type Sheet struct {
	Questions  []*Question
	studentCol int
	variantCol int
	width      int
}

// Row is one student's answers.
type Row struct {
	Line    int // 1-based line in the file (the header is line 1)
	Student string
	Seeds   []uint64            // per question
	Answers []map[string]string // per question: part id -> raw answer
	Err     error               // why the row cannot be graded
}

// Result is the grade of one row.
type Result struct {
	Line      int
	Student   string
	Seeds     []uint64
	Questions [][]grader.Result // per question, per part
	Score     float64
	Max       float64
	Err       string
}

// HeaderError is a problem with the header row.
type HeaderError struct {
	Column int // 1-based
	Name   string
	Msg    string
}

func (e *HeaderError) Error() string {
	return fmt.Sprintf("line 1, column %d (%q): %s", e.Column, e.Name, e.Msg)
}

// ParseHeader reads the header: a student column (student, student_id or
// id), a variant column (variant, seed or variant_seed), and one column
// TEMPLATE.PART per answered part; TEMPLATE.variant overrides the row's
// variant seed for one question.
func ParseHeader(header []string, find Finder) (*Sheet, error) {
	s := &Sheet{studentCol: -1, variantCol: -1, width: len(header)}
	byID := map[string]*Question{}
	for i, raw := range header {
		name := strings.TrimSpace(strings.TrimPrefix(raw, "\ufeff"))
		lower := strings.ToLower(name)
		switch lower {
		case "student", "student_id", "id":
			if s.studentCol >= 0 {
				return nil, &HeaderError{i + 1, name, "a second student column"}
			}
			s.studentCol = i
			continue
		case "variant", "seed", "variant_seed":
			if s.variantCol >= 0 {
				return nil, &HeaderError{i + 1, name, "a second variant column"}
			}
			s.variantCol = i
			continue
		}
		dot := strings.LastIndexByte(name, '.')
		if dot <= 0 || dot == len(name)-1 {
			return nil, &HeaderError{i + 1, name, "expected student, variant or QUESTION.PART (like dasc7606/q6.d)"}
		}
		t := find(name[:dot])
		if t == nil {
			return nil, &HeaderError{i + 1, name, fmt.Sprintf("no question %q in the bank", name[:dot])}
		}
		q := byID[t.ID]
		if q == nil {
			q = &Question{Template: t, Parts: t.PartIDs(), variantCol: -1}
			q.cols = make([]int, len(q.Parts))
			for j := range q.cols {
				q.cols[j] = -1
			}
			byID[t.ID] = q
			s.Questions = append(s.Questions, q)
		}
		part := name[dot+1:]
		if part == "variant" {
			q.variantCol = i
			continue
		}
		j := indexOf(q.Parts, part)
		if j < 0 {
			return nil, &HeaderError{i + 1, name, fmt.Sprintf("question %s has no part %q (parts: %s)", t.ID, part, strings.Join(q.Parts, ", "))}
		}
		if q.cols[j] >= 0 {
			return nil, &HeaderError{i + 1, name, "a second column for the same part"}
		}
		q.cols[j] = i
	}
	if s.studentCol < 0 {
		return nil, &HeaderError{1, "", "no student column (student, student_id or id)"}
	}
	if len(s.Questions) == 0 {
		return nil, &HeaderError{1, "", "no answer columns (QUESTION.PART)"}
	}
	for _, q := range s.Questions {
		if s.variantCol < 0 && q.variantCol < 0 {
			return nil, &HeaderError{1, "", fmt.Sprintf("no variant column for %s (variant, or %s.variant)", q.Template.ID, q.Template.ID)}
		}
	}
	return s, nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// ParseSeed reads a variant seed: a whole number, or "canonical" for 0.
func ParseSeed(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "canonical") {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a variant seed (a whole number, or canonical)", s)
	}
	return n, nil
}

// Row reads one record into a Row; line is its line number.
func (s *Sheet) Row(line int, rec []string) Row {
	r := Row{Line: line}
	if len(rec) != s.width {
		r.Err = fmt.Errorf("line %d: %d fields, the header has %d", line, len(rec), s.width)
		if s.studentCol < len(rec) {
			r.Student = strings.TrimSpace(rec[s.studentCol])
		}
		return r
	}
	r.Student = strings.TrimSpace(rec[s.studentCol])
	if r.Student == "" {
		r.Err = fmt.Errorf("line %d, column %d (student): empty", line, s.studentCol+1)
		return r
	}
	r.Seeds = make([]uint64, len(s.Questions))
	r.Answers = make([]map[string]string, len(s.Questions))
	for qi, q := range s.Questions {
		col := s.variantCol
		if q.variantCol >= 0 && strings.TrimSpace(rec[q.variantCol]) != "" {
			col = q.variantCol
		}
		if col < 0 {
			r.Err = fmt.Errorf("line %d: no variant seed for %s", line, q.Template.ID)
			return r
		}
		seed, err := ParseSeed(rec[col])
		if err != nil {
			r.Err = fmt.Errorf("line %d, column %d (variant): %v", line, col+1, err)
			return r
		}
		r.Seeds[qi] = seed
		ans := make(map[string]string, len(q.Parts))
		for j, c := range q.cols {
			if c >= 0 {
				ans[q.Parts[j]] = rec[c]
			}
		}
		r.Answers[qi] = ans
	}
	return r
}

// Grader grades rows, keeping each distinct variant's compiled grader.
// Not safe for concurrent use.
type Grader struct {
	sheet *Sheet
	cache map[variantKey]*grader.Question
}

type variantKey struct {
	template string
	seed     uint64
}

// NewGrader returns a grader for rows of sheet.
func NewGrader(s *Sheet) *Grader {
	return &Grader{sheet: s, cache: map[variantKey]*grader.Question{}}
}

// Grade grades one row. A row that cannot be graded has Err set and no
// scores.
func (g *Grader) Grade(r Row) Result {
	res := Result{Line: r.Line, Student: r.Student, Seeds: r.Seeds}
	if r.Err != nil {
		res.Err = r.Err.Error()
		return res
	}
	res.Questions = make([][]grader.Result, len(g.sheet.Questions))
	for qi, q := range g.sheet.Questions {
		key := variantKey{q.Template.ID, r.Seeds[qi]}
		gq, ok := g.cache[key]
		if !ok {
			v, err := q.Template.Variant(r.Seeds[qi])
			if err == nil {
				gq, err = v.Grader()
			}
			if err != nil {
				res.Questions = nil
				res.Err = fmt.Sprintf("line %d: %s variant %d: %v", r.Line, q.Template.ID, r.Seeds[qi], err)
				return res
			}
			g.cache[key] = gq
		}
		rs := gq.Grade(r.Answers[qi])
		res.Questions[qi] = rs
		sc, mx := grader.Total(rs)
		res.Score += sc
		res.Max += mx
	}
	return res
}

// ReadCSV reads a whole answer file: its sheet and its rows. A malformed
// header is an error; a malformed row becomes a Row with Err set.
func ReadCSV(rd io.Reader, find Finder) (*Sheet, []Row, error) {
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, errors.New("the file is empty: expected a header row")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	sheet, err := ParseHeader(header, find)
	if err != nil {
		return nil, nil, err
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				rows = append(rows, Row{Line: pe.Line, Err: fmt.Errorf("line %d: %v", pe.Line, pe.Err)})
				if pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
					continue
				}
				return sheet, rows, nil
			}
			return sheet, rows, err
		}
		if isBlank(rec) {
			continue
		}
		rows = append(rows, sheet.Row(line, rec))
	}
	return sheet, rows, nil
}

func isBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// Header returns the columns of the results file: student, variant seeds,
// each part's score, each question's total, the total, the maximum, the
// parts awaiting review, format errors and the row's error.
func (s *Sheet) Header() []string {
	h := []string{"student", "line"}
	for _, q := range s.Questions {
		h = append(h, q.Template.ID+".variant")
	}
	for _, q := range s.Questions {
		for _, p := range q.Parts {
			h = append(h, q.Template.ID+"."+p)
		}
		h = append(h, q.Template.ID)
	}
	return append(h, "total", "max", "needs_review", "format_errors", "error")
}

// Record returns the results-file record of a graded row.
func (s *Sheet) Record(r Result) []string {
	rec := []string{r.Student, strconv.Itoa(r.Line)}
	for i := range s.Questions {
		if i < len(r.Seeds) {
			rec = append(rec, strconv.FormatUint(r.Seeds[i], 10))
		} else {
			rec = append(rec, "")
		}
	}
	var review, formats []string
	for qi, q := range s.Questions {
		if r.Questions == nil {
			for range q.Parts {
				rec = append(rec, "")
			}
			rec = append(rec, "")
			continue
		}
		for _, pr := range r.Questions[qi] {
			rec = append(rec, formatScore(pr.Score))
			if pr.NeedsReview {
				review = append(review, q.Template.ID+"."+pr.Part)
			}
			if pr.FormatError != "" {
				formats = append(formats, q.Template.ID+"."+pr.Part+": "+pr.FormatError)
			}
		}
		sc, _ := grader.Total(r.Questions[qi])
		rec = append(rec, formatScore(sc))
	}
	if r.Questions == nil {
		return append(rec, "", "", "", "", r.Err)
	}
	return append(rec, formatScore(r.Score), formatScore(r.Max), strings.Join(review, " "), strings.Join(formats, "; "), r.Err)
}

func formatScore(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
