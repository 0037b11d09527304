package bulk

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/marksmith/marksmith/papercode"
)

// An upload is a whole cohort's answers to one exam, one row per student,
// as a CSV file, a JSON array or JSON lines (see docs/paper-exams.md).
// Reader reads one a row at a time: it never holds more than a row (and
// its read-ahead buffer) in memory, counts and limits the bytes and rows
// as it goes, and hashes every byte it is given. A row it cannot read is
// returned with its problems and never stops the rows after it; only a
// header it cannot read, JSON it cannot follow, or a limit passed ends the
// upload.

// Format is the format of an upload.
type Format string

// The upload formats.
const (
	FormatCSV   Format = "csv"   // a header row, then one row per student; "," ";" or tab separated, UTF-8 with or without a BOM
	FormatJSON  Format = "json"  // an array of objects {"student", "paper_code", "answers": {"1.a": …}}
	FormatJSONL Format = "jsonl" // one such object per line
)

// ParseFormat reads a format's name: csv, json or jsonl (ndjson), any case.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "csv":
		return FormatCSV, nil
	case "json":
		return FormatJSON, nil
	case "jsonl", "ndjson", "jsonlines":
		return FormatJSONL, nil
	}
	return "", fmt.Errorf("unknown upload format %q: csv, json or jsonl", s)
}

// Column is an answer column: a question's position in the exam (the
// number every student's paper prints beside the part, whatever order the
// student saw the questions in) and a part's id. It is written 6.d.
type Column struct {
	Question int
	Part     string
}

// String writes the column as QUESTION.PART.
func (c Column) String() string { return strconv.Itoa(c.Question) + "." + c.Part }

// ParseColumn reads an answer column's name: QUESTION.PART, such as 6.d,
// with an optional Q before the question (Q6.d) and the part in any case.
func ParseColumn(s string) (Column, error) {
	name := strings.TrimSpace(s)
	if name != "" && (name[0] == 'q' || name[0] == 'Q') {
		name = name[1:]
	}
	dot := strings.IndexByte(name, '.')
	if dot < 0 {
		return Column{}, fmt.Errorf("%q is not an answer column: write QUESTION.PART, like 6.d", s)
	}
	q, err := strconv.Atoi(name[:dot])
	if err != nil || q < 1 || name[0] == '+' || name[0] == '-' {
		return Column{}, fmt.Errorf("%q is not an answer column: %q is not a question number (1, 2, …)", s, name[:dot])
	}
	part := strings.ToLower(name[dot+1:])
	if part == "" {
		return Column{}, fmt.Errorf("%q is not an answer column: no part after the point", s)
	}
	for i := 0; i < len(part); i++ {
		c := part[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return Column{}, fmt.Errorf("%q is not an answer column: a part id has only letters, digits and _", s)
		}
	}
	return Column{Question: q, Part: part}, nil
}

// Options say what a Reader accepts.
type Options struct {
	// Format is the upload's format; "" sniffs it from the first byte: [
	// for JSON, { for JSON lines, anything else for CSV.
	Format Format
	// Columns are the exam's parts; a column not among them is refused.
	// nil accepts every well-formed column.
	Columns []Column
	// Exam, with CheckExam, refuses paper codes of another exam.
	Exam      int64
	CheckExam bool
	// MaxBytes and MaxRows limit the upload (0: no limit); passing one
	// ends the upload with a *LimitError.
	MaxBytes int64
	MaxRows  int
	// MaxAnswer limits one answer, in characters; 0 means 20,000.
	MaxAnswer int
}

// Submission is one row of an upload: a student's answers. Line is where
// the row starts: its line in a CSV file (the header is line 1) or a JSON
// lines file, or the line of its opening brace in a JSON array. A row with
// Problems cannot be graded; its other fields hold what could be read, for
// the report.
type Submission struct {
	Line      int
	Student   string          // the student number as written; "" when not given
	PaperCode string          // the paper code as written; "" when not given
	Code      *papercode.Code // the paper code read; nil when not given or unreadable
	Answers   []Answer        // in the order of the file's columns (CSV) or keys (JSON)
	Problems  []Problem
}

// Answer is one answer of a submission.
type Answer struct {
	Column Column
	Raw    string
}

// Questions returns the submission's answers by question position, then
// part: what grading one question of a paper takes.
func (s *Submission) Questions() map[int]map[string]string {
	out := map[int]map[string]string{}
	for _, a := range s.Answers {
		m := out[a.Column.Question]
		if m == nil {
			m = map[string]string{}
			out[a.Column.Question] = m
		}
		m[a.Column.Part] = a.Raw
	}
	return out
}

// Problem is one thing wrong with an upload, and where: its line and, in
// a CSV file, its column (1-based; 0 for the whole line); Field names the
// column or the JSON key.
type Problem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (p Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d", p.Line)
	if p.Column > 0 {
		fmt.Fprintf(&b, ", column %d", p.Column)
	}
	if p.Field != "" {
		fmt.Fprintf(&b, " (%s)", p.Field)
	}
	return b.String() + ": " + p.Message
}

// FileError is an upload that cannot be read on: a bad header, or JSON
// that is not well formed. Rows returned before it stand.
type FileError struct {
	Problems []Problem
}

func (e *FileError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].Error()
	}
	return fmt.Sprintf("%s (and %d more problems)", e.Problems[0].Error(), len(e.Problems)-1)
}

// LimitError is an upload larger than a limit.
type LimitError struct {
	What  string // "bytes" or "rows"
	Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("the upload has more than %d %s", e.Limit, e.What)
}

// Reader reads an upload row by row.
type Reader struct {
	opt     Options
	meter   *meter
	br      *bufio.Reader
	format  Format
	known   map[Column]bool
	rows    int
	done    bool
	lastErr error

	// CSV
	cr         *csv.Reader
	width      int
	studentCol int
	codeCol    int
	cols       []Column // per field; Question 0 for the student and code fields
	columns    []Column // the answer columns, in file order
	delim      rune

	// JSON and JSON lines
	dec   *json.Decoder
	lines *lineCounter
	line  int // JSON lines: the last line read
}

// NewReader starts reading an upload: it sniffs the format and, for CSV,
// the delimiter, and reads the header. A header that cannot be read is a
// *FileError listing every problem with it.
func NewReader(r io.Reader, opt Options) (*Reader, error) {
	if opt.MaxAnswer <= 0 {
		opt.MaxAnswer = 20000
	}
	m := &meter{r: r, h: sha256.New(), max: opt.MaxBytes}
	u := &Reader{opt: opt, meter: m, br: bufio.NewReaderSize(m, 64<<10), studentCol: -1, codeCol: -1}
	if opt.Columns != nil {
		u.known = make(map[Column]bool, len(opt.Columns))
		for _, c := range opt.Columns {
			u.known[c] = true
		}
	}
	if b, err := u.br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = u.br.Discard(3)
	}
	u.format = opt.Format
	if u.format == "" {
		u.format = u.sniff()
	}
	var err error
	switch u.format {
	case FormatCSV:
		err = u.startCSV()
	case FormatJSON:
		err = u.startJSON()
	case FormatJSONL:
		u.lines = &lineCounter{}
	default:
		return nil, fmt.Errorf("unknown upload format %q: csv, json or jsonl", u.format)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Format returns the upload's format.
func (u *Reader) Format() Format { return u.format }

// Delimiter returns the delimiter of a CSV upload.
func (u *Reader) Delimiter() rune { return u.delim }

// Columns returns the answer columns of a CSV upload's header, in file
// order; nil for JSON.
func (u *Reader) Columns() []Column { return u.columns }

// Rows returns how many rows have been read.
func (u *Reader) Rows() int { return u.rows }

// Bytes returns how many bytes of the upload have been read.
func (u *Reader) Bytes() int64 { return u.meter.n }

// Sum reads the rest of the upload and returns its size and the
// hexadecimal SHA-256 of all of it. Call it after the last row: two
// uploads of the same file have the same sum.
func (u *Reader) Sum() (int64, string, error) {
	if _, err := io.Copy(io.Discard, u.br); err != nil {
		return u.meter.n, "", err
	}
	return u.meter.n, hex.EncodeToString(u.meter.h.Sum(nil)), nil
}

// Next returns the next row, io.EOF after the last, or the error that
// ends the upload: a *FileError, a *LimitError, or the source's error.
func (u *Reader) Next() (*Submission, error) {
	if u.done {
		return nil, u.lastErr
	}
	var s *Submission
	var err error
	switch u.format {
	case FormatCSV:
		s, err = u.nextCSV()
	case FormatJSON:
		s, err = u.nextJSON()
	default:
		s, err = u.nextJSONL()
	}
	if err == nil {
		u.rows++
		if u.opt.MaxRows > 0 && u.rows > u.opt.MaxRows {
			s, err = nil, &LimitError{What: "rows", Limit: int64(u.opt.MaxRows)}
		}
	}
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			err = le
		}
		u.done, u.lastErr = true, err
		return nil, err
	}
	return s, nil
}

// sniff returns the format the first non-blank byte suggests.
func (u *Reader) sniff() Format {
	for n := 1; n <= 4096; n++ {
		b, err := u.br.Peek(n)
		if len(b) < n {
			_ = err
			return FormatCSV
		}
		switch b[n-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '[':
			return FormatJSON
		case '{':
			return FormatJSONL
		}
		return FormatCSV
	}
	return FormatCSV
}

// Header fields of the student and the paper code.
const (
	fieldStudent = "student"
	fieldCode    = "paper_code"
)

// fieldKind returns which field a CSV header or JSON key names: student,
// paper_code, or "" for neither.
func fieldKind(name string) string {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "student", "student_number", "student number", "student_id", "student_key":
		return fieldStudent
	case "paper_code", "paper code", "papercode", "code":
		return fieldCode
	}
	return ""
}

// sniffDelimiter returns the delimiter the first line uses most: comma,
// semicolon or tab, outside quotes; a comma when none.
func (u *Reader) sniffDelimiter() rune {
	var line []byte
	for n := 4096; ; n *= 2 {
		b, err := u.br.Peek(n)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i]
			break
		}
		if err != nil || n >= u.br.Size() {
			line = b
			break
		}
	}
	counts := map[byte]int{}
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

func (u *Reader) startCSV() error {
	u.delim = u.sniffDelimiter()
	u.cr = csv.NewReader(u.br)
	u.cr.Comma = u.delim
	u.cr.FieldsPerRecord = -1
	u.cr.ReuseRecord = true
	header, err := u.cr.Read()
	if err == io.EOF {
		return &FileError{Problems: []Problem{{Line: 1, Message: "the file is empty: expected a header row (student or paper_code, then QUESTION.PART columns such as 1.a)"}}}
	}
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			return le
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return &FileError{Problems: []Problem{{Line: pe.Line, Column: pe.Column, Message: "the header cannot be read: " + pe.Err.Error()}}}
		}
		return err
	}
	var ps []Problem
	add := func(col int, name, format string, args ...any) {
		ps = append(ps, Problem{Line: 1, Column: col, Field: name, Message: fmt.Sprintf(format, args...)})
	}
	u.width = len(header)
	u.cols = make([]Column, len(header))
	seen := map[Column]int{}
	for i, raw := range header {
		name := strings.TrimSpace(raw)
		switch fieldKind(name) {
		case fieldStudent:
			if u.studentCol >= 0 {
				add(i+1, name, "a second student column (the first is column %d)", u.studentCol+1)
			}
			u.studentCol = i
			continue
		case fieldCode:
			if u.codeCol >= 0 {
				add(i+1, name, "a second paper code column (the first is column %d)", u.codeCol+1)
			}
			u.codeCol = i
			continue
		}
		if name == "" {
			add(i+1, "", "a column without a name")
			continue
		}
		c, err := ParseColumn(name)
		if err != nil {
			add(i+1, name, "%v; or student or paper_code", err)
			continue
		}
		if u.known != nil && !u.known[c] {
			add(i+1, name, "the exam has no question %d part %s", c.Question, c.Part)
			continue
		}
		if j, dup := seen[c]; dup {
			add(i+1, name, "a second column for %s (the first is column %d)", c, j+1)
			continue
		}
		seen[c] = i
		u.cols[i] = c
		u.columns = append(u.columns, c)
	}
	if u.studentCol < 0 && u.codeCol < 0 {
		add(0, "", "no student or paper_code column: the header names who each row is, by student number (student) or paper code (paper_code), or both")
	}
	if len(u.columns) == 0 && len(ps) == 0 {
		add(0, "", "no answer columns: name each QUESTION.PART, like 1.a")
	}
	if len(ps) > 0 {
		return &FileError{Problems: ps}
	}
	return nil
}

func (u *Reader) nextCSV() (*Submission, error) {
	for {
		rec, err := u.cr.Read()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				s := &Submission{Line: pe.StartLine}
				s.Problems = append(s.Problems, Problem{Line: pe.Line, Column: pe.Column, Message: "the row cannot be read: " + pe.Err.Error()})
				return s, nil
			}
			return nil, err
		}
		if blank(rec) {
			continue
		}
		line, _ := u.cr.FieldPos(0)
		return u.csvRow(line, rec), nil
	}
}

func (u *Reader) csvRow(line int, rec []string) *Submission {
	s := &Submission{Line: line}
	if u.studentCol >= 0 && u.studentCol < len(rec) {
		s.Student = strings.TrimSpace(rec[u.studentCol])
	}
	if u.codeCol >= 0 && u.codeCol < len(rec) {
		s.PaperCode = strings.TrimSpace(rec[u.codeCol])
	}
	if len(rec) != u.width {
		s.Problems = append(s.Problems, Problem{Line: line, Message: fmt.Sprintf("%d fields, but the header has %d", len(rec), u.width)})
		return s
	}
	u.who(s, func(field string) int {
		if field == fieldStudent {
			return u.studentCol + 1
		}
		return u.codeCol + 1
	})
	s.Answers = make([]Answer, 0, len(u.columns))
	for i, v := range rec {
		c := u.cols[i]
		if c.Question == 0 {
			continue
		}
		if msg := u.checkAnswer(v); msg != "" {
			s.Problems = append(s.Problems, Problem{Line: line, Column: i + 1, Field: c.String(), Message: msg})
			continue
		}
		s.Answers = append(s.Answers, Answer{Column: c, Raw: v})
	}
	return s
}

// who checks the student number and the paper code of s; col gives the
// column of each field (0 in JSON).
func (u *Reader) who(s *Submission, col func(field string) int) {
	add := func(field, format string, args ...any) {
		s.Problems = append(s.Problems, Problem{Line: s.Line, Column: col(field), Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if s.Student == "" && s.PaperCode == "" {
		add(fieldStudent, "no student number or paper code: the row names no student")
		return
	}
	if msg := u.checkText(s.Student, 200); msg != "" {
		add(fieldStudent, "%s", msg)
	}
	if s.PaperCode == "" {
		return
	}
	c, err := papercode.Parse(s.PaperCode)
	if err != nil {
		var pe *papercode.Error
		if errors.As(err, &pe) {
			err = pe.Err
		}
		add(fieldCode, "%q is not a paper code: %v", clip(s.PaperCode), err)
		return
	}
	if u.opt.CheckExam && c.Exam != u.opt.Exam {
		add(fieldCode, "paper code %s is a paper of exam %d, not of this exam (%d)", c, c.Exam, u.opt.Exam)
		return
	}
	s.Code = &c
}

// checkAnswer says what is wrong with an answer's text, or "".
func (u *Reader) checkAnswer(v string) string { return u.checkText(v, u.opt.MaxAnswer) }

func (u *Reader) checkText(v string, max int) string {
	switch {
	case !utf8.ValidString(v):
		return "not valid UTF-8 text: save the file as UTF-8"
	case strings.IndexByte(v, 0) >= 0:
		return "contains a NUL character"
	case utf8.RuneCountInString(v) > max:
		return fmt.Sprintf("longer than %d characters", max)
	}
	return ""
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// clip shortens s for a message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	r := []rune(s)
	return string(r[:40]) + "…"
}

func (u *Reader) startJSON() error {
	u.lines = &lineCounter{}
	u.dec = json.NewDecoder(&lineReader{r: u.br, c: u.lines})
	u.dec.UseNumber()
	tok, err := u.dec.Token()
	if err != nil {
		return u.jsonError(err, "the upload is not a JSON array")
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return &FileError{Problems: []Problem{{Line: u.lines.at(u.dec.InputOffset()), Message: "a JSON upload is an array of objects, [{\"student\": …, \"answers\": {…}}, …]"}}}
	}
	return nil
}

// jsonError turns an error of the JSON decoder into a *FileError with its
// line, keeping limit and source errors as they are.
func (u *Reader) jsonError(err error, what string) error {
	var le *LimitError
	if errors.As(err, &le) {
		return le
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &FileError{Problems: []Problem{{Line: u.lines.at(se.Offset), Message: what + ": " + se.Error()}}}
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FileError{Problems: []Problem{{Line: u.lines.at(u.dec.InputOffset()), Message: what + ": the JSON ends before the array is closed"}}}
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		return &FileError{Problems: []Problem{{Line: u.lines.at(ue.Offset), Message: what + ": " + ue.Error()}}}
	}
	return err
}

func (u *Reader) nextJSON() (*Submission, error) {
	if !u.dec.More() {
		tok, err := u.dec.Token()
		if err != nil {
			return nil, u.jsonError(err, "malformed JSON")
		}
		if d, ok := tok.(json.Delim); !ok || d != ']' {
			return nil, &FileError{Problems: []Problem{{Line: u.lines.at(u.dec.InputOffset()), Message: "malformed JSON: expected ] to close the array"}}}
		}
		if _, err := u.dec.Token(); err != io.EOF {
			if err == nil {
				return nil, &FileError{Problems: []Problem{{Line: u.lines.at(u.dec.InputOffset()), Message: "unexpected data after the array"}}}
			}
			return nil, u.jsonError(err, "unexpected data after the array")
		}
		return nil, io.EOF
	}
	var raw json.RawMessage
	if err := u.dec.Decode(&raw); err != nil {
		return nil, u.jsonError(err, "malformed JSON")
	}
	line := u.lines.at(u.dec.InputOffset() - int64(len(raw)))
	return u.object(raw, line), nil
}

func (u *Reader) nextJSONL() (*Submission, error) {
	var buf []byte
	for {
		chunk, err := u.br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			var le *LimitError
			if errors.As(err, &le) {
				return nil, le
			}
			return nil, err
		}
		if len(buf) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		u.line++
		if len(bytes.TrimSpace(buf)) == 0 {
			if err == io.EOF {
				return nil, io.EOF
			}
			buf = buf[:0]
			continue
		}
		line := bytes.TrimSpace(buf)
		if !json.Valid(line) {
			s := &Submission{Line: u.line}
			var se *json.SyntaxError
			msg := "malformed JSON: the line ends before the object is closed"
			if err := json.Unmarshal(line, new(json.RawMessage)); errors.As(err, &se) && se.Offset < int64(len(line)) {
				msg = "malformed JSON: " + se.Error()
			}
			s.Problems = append(s.Problems, Problem{Line: u.line, Message: msg})
			return s, nil
		}
		return u.object(line, u.line), nil
	}
}

// object reads one row object; raw is well-formed JSON.
func (u *Reader) object(raw []byte, line int) *Submission {
	s := &Submission{Line: line}
	add := func(field, format string, args ...any) {
		s.Problems = append(s.Problems, Problem{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if len(raw) == 0 || raw[0] != '{' {
		add("", "a row is an object {\"student\": …, \"paper_code\": …, \"answers\": {\"1.a\": …}}")
		return s
	}
	seen := map[string]bool{}
	walkObject(raw, func(key string, v []byte) {
		kind := fieldKind(key)
		if key == "answers" {
			kind = "answers"
		}
		if kind != "" && seen[kind] {
			add(key, "a second %s", kind)
		}
		seen[kind] = true
		switch kind {
		case fieldStudent, fieldCode:
			var text string
			switch v[0] {
			case '"':
				text = strings.TrimSpace(unquote(v))
			case 'n':
			case '[', '{', 't', 'f':
				add(key, "expected a string")
				return
			default:
				text = string(v) // a number
			}
			if kind == fieldStudent {
				s.Student = text
			} else {
				s.PaperCode = text
			}
		case "answers":
			u.answers(v, s)
		default:
			add(key, "unknown field %q: a row has student, paper_code and answers", clip(key))
		}
	})
	u.who(s, func(string) int { return 0 })
	if !seen["answers"] {
		add("answers", "no answers")
	}
	return s
}

// answers reads the answers object of a row into s; v is well-formed JSON.
func (u *Reader) answers(v []byte, s *Submission) {
	add := func(field, format string, args ...any) {
		s.Problems = append(s.Problems, Problem{Line: s.Line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if v[0] != '{' {
		add("answers", "expected an object of answers by column, {\"1.a\": \"42\", …}")
		return
	}
	seen := map[Column]bool{}
	walkObject(v, func(key string, v []byte) {
		c, err := ParseColumn(key)
		if err != nil {
			add(key, "%v", err)
			return
		}
		if u.known != nil && !u.known[c] {
			add(key, "the exam has no question %d part %s", c.Question, c.Part)
			return
		}
		if seen[c] {
			add(key, "a second answer for %s", c)
			return
		}
		seen[c] = true
		var text string
		switch v[0] {
		case '"':
			text = unquote(v)
		case 'n':
		default:
			// A number, or a list or object as the web widgets send
			// (tables, sequences, points): graded from its JSON text.
			var b bytes.Buffer
			if err := json.Compact(&b, v); err != nil {
				add(key, "%v", err)
				return
			}
			text = b.String()
		}
		if msg := u.checkAnswer(text); msg != "" {
			add(key, "%s", msg)
			return
		}
		s.Answers = append(s.Answers, Answer{Column: c, Raw: text})
	})
}

// walkObject calls fn with each key and value of the object in obj, which
// must be well-formed JSON (json.Valid): it scans, without decoding
// values.
func walkObject(obj []byte, fn func(key string, value []byte)) {
	i := skipSpace(obj, 1)
	for i < len(obj) && obj[i] != '}' {
		end := valueEnd(obj, i)
		key := unquote(obj[i:end])
		i = skipSpace(obj, end)
		i = skipSpace(obj, i+1) // past the colon
		end = valueEnd(obj, i)
		fn(key, obj[i:end])
		i = skipSpace(obj, end)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// valueEnd returns where the well-formed JSON value starting at b[i] ends.
func valueEnd(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 { // the end of the enclosing object
				return i
			}
		case ',', ' ', '\t', '\r', '\n', ':':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// unquote returns the text of a well-formed JSON string.
func unquote(v []byte) string {
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1])
	}
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

// meter counts, limits and hashes what is read through it.
type meter struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	max int64
}

func (m *meter) Read(p []byte) (int, error) {
	if m.max > 0 && m.n >= m.max {
		// One byte more tells a file of exactly the limit from a larger one.
		var one [1]byte
		k, err := m.r.Read(one[:])
		if k > 0 {
			return 0, &LimitError{What: "bytes", Limit: m.max}
		}
		return 0, err
	}
	if m.max > 0 && int64(len(p)) > m.max-m.n {
		p = p[:m.max-m.n]
	}
	k, err := m.r.Read(p)
	m.n += int64(k)
	m.h.Write(p[:k])
	return k, err
}

// lineCounter maps byte offsets to line numbers as the bytes go by: it
// keeps only the newlines a reader has read ahead of the offsets asked
// about, which must not go back.
type lineCounter struct {
	off     int64   // bytes seen
	passed  int     // newlines before the last offset asked about
	pending []int64 // offsets of newlines at or after it
}

func (c *lineCounter) saw(p []byte) {
	for i, b := range p {
		if b == '\n' {
			c.pending = append(c.pending, c.off+int64(i))
		}
	}
	c.off += int64(len(p))
}

// at returns the line (from 1) of the byte at off.
func (c *lineCounter) at(off int64) int {
	i := 0
	for i < len(c.pending) && c.pending[i] < off {
		i++
	}
	c.passed += i
	c.pending = append(c.pending[:0], c.pending[i:]...)
	return c.passed + 1
}

// lineReader feeds what it reads to a lineCounter.
type lineReader struct {
	r io.Reader
	c *lineCounter
}

func (l *lineReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.c.saw(p[:n])
	return n, err
}
