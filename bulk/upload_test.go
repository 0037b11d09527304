package bulk

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// row is what a test expects of a submission: its line, who, its answers
// as "COLUMN=raw" and its problems as Problem.Error texts (substrings).
type row struct {
	line     int
	student  string
	code     string
	answers  []string
	problems []string
}

// readAll reads an upload to its end: the rows, and the error that ended
// it (nil for io.EOF).
func readAll(t *testing.T, in string, opt Options) (*Reader, []*Submission, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(in), opt)
	if err != nil {
		return nil, nil, err
	}
	var out []*Submission
	for {
		s, err := r.Next()
		if err == io.EOF {
			return r, out, nil
		}
		if err != nil {
			return r, out, err
		}
		out = append(out, s)
	}
}

func check(t *testing.T, got []*Submission, want []row) {
	t.Helper()
	if len(got) != len(want) {
		for _, s := range got {
			t.Logf("got %+v", *s)
		}
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i, w := range want {
		s := got[i]
		if s.Line != w.line || s.Student != w.student {
			t.Errorf("row %d: line %d student %q, want line %d student %q", i, s.Line, s.Student, w.line, w.student)
		}
		code := ""
		if s.Code != nil {
			code = s.Code.String()
		}
		if code != w.code {
			t.Errorf("row %d: code %q, want %q", i, code, w.code)
		}
		var answers []string
		for _, a := range s.Answers {
			answers = append(answers, a.Column.String()+"="+a.Raw)
		}
		if !reflect.DeepEqual(answers, w.answers) {
			t.Errorf("row %d: answers %q, want %q", i, answers, w.answers)
		}
		if len(s.Problems) != len(w.problems) {
			t.Errorf("row %d: problems %v, want %q", i, s.Problems, w.problems)
			continue
		}
		for j, p := range s.Problems {
			if !strings.Contains(p.Error(), w.problems[j]) {
				t.Errorf("row %d: problem %q, want it to contain %q", i, p.Error(), w.problems[j])
			}
		}
	}
}

var exam12 = []Column{{1, "a"}, {1, "b"}, {2, "a"}, {6, "d"}}

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		opt   Options
		delim rune
		cols  []Column
		want  []row
	}{
		{
			name:  "comma",
			in:    "student,paper_code,1.a,1.b\n3035,E12-S00345-2,42,\"B, C\"\n3036,,1.5e6,\n",
			delim: ',',
			cols:  []Column{{1, "a"}, {1, "b"}},
			want: []row{
				{line: 2, student: "3035", code: "E12-S00345-2", answers: []string{"1.a=42", "1.b=B, C"}},
				{line: 3, student: "3036", answers: []string{"1.a=1.5e6", "1.b="}},
			},
		},
		{
			name:  "a spreadsheet's semicolons, a BOM, CRLF and a quoted line break",
			in:    "\ufeffStudent;Q1.A;6.d\r\n3035;\"two\r\nlines\";1,5\r\n\r\n3036;x;\"a;b\"\r\n",
			delim: ';',
			cols:  []Column{{1, "a"}, {6, "d"}},
			want: []row{
				{line: 2, student: "3035", answers: []string{"1.a=two\nlines", "6.d=1,5"}},
				{line: 5, student: "3036", answers: []string{"1.a=x", "6.d=a;b"}},
			},
		},
		{
			name:  "tabs",
			in:    "paper_code\t1.a\nE12-S00345-2\t7\n",
			delim: '\t',
			cols:  []Column{{1, "a"}},
			want:  []row{{line: 2, code: "E12-S00345-2", answers: []string{"1.a=7"}}},
		},
		{
			name:  "more semicolons than commas in the header, commas in the answers",
			in:    "student;1.a;1.b\n1;1,000;2,000\n",
			delim: ';',
			cols:  []Column{{1, "a"}, {1, "b"}},
			want:  []row{{line: 2, student: "1", answers: []string{"1.a=1,000", "1.b=2,000"}}},
		},
		{
			name:  "bad rows never stop the good ones",
			in:    "student,paper_code,1.a\n1,,x\n2,x\n,,3\n4,E12-S00345-3,4\n5,E13-S00345-5,5\n6,,\"bad\"quote\"\n7,,\xff\n8,,ok\n",
			opt:   Options{Exam: 12, CheckExam: true},
			delim: ',',
			cols:  []Column{{1, "a"}},
			want: []row{
				{line: 2, student: "1", answers: []string{"1.a=x"}},
				{line: 3, student: "2", problems: []string{"line 3: 2 fields, but the header has 3"}},
				{line: 4, answers: []string{"1.a=3"}, problems: []string{"line 4, column 1 (student): no student number or paper code"}},
				{line: 5, student: "4", answers: []string{"1.a=4"}, problems: []string{`line 5, column 2 (paper_code): "E12-S00345-3" is not a paper code: check digit does not match: mistyped?`}},
				{line: 6, student: "5", answers: []string{"1.a=5"}, problems: []string{"paper code E13-S00345-5 is a paper of exam 13, not of this exam (12)"}},
				{line: 7, problems: []string{"line 7, column 8: the row cannot be read"}},
				{line: 8, student: "7", problems: []string{"line 8, column 3 (1.a): not valid UTF-8"}},
				{line: 9, student: "8", answers: []string{"1.a=ok"}},
			},
		},
		{
			name:  "an answer too long",
			in:    "student,1.a\n1,abcdef\n",
			opt:   Options{MaxAnswer: 5},
			delim: ',',
			cols:  []Column{{1, "a"}},
			want:  []row{{line: 2, student: "1", problems: []string{"column 2 (1.a): longer than 5 characters"}}},
		},
		{
			name:  "only a header",
			in:    "student,1.a\n",
			delim: ',',
			cols:  []Column{{1, "a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, got, err := readAll(t, tt.in, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if r.Format() != FormatCSV || r.Delimiter() != tt.delim {
				t.Errorf("format %s, delimiter %q; want csv, %q", r.Format(), r.Delimiter(), tt.delim)
			}
			if !reflect.DeepEqual(r.Columns(), tt.cols) {
				t.Errorf("columns %v, want %v", r.Columns(), tt.cols)
			}
			check(t, got, tt.want)
			if r.Rows() != len(tt.want) {
				t.Errorf("Rows() = %d, want %d", r.Rows(), len(tt.want))
			}
		})
	}
}

func TestReadCSVHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opt  Options
		want []string
	}{
		{"empty", "", Options{}, []string{"line 1: the file is empty"}},
		{"no student", "1.a,1.b\n", Options{}, []string{"no student or paper_code column"}},
		{"no answers", "student,paper_code\n", Options{}, []string{"no answer columns"}},
		{
			"every problem at once",
			"student,1a,1.a,Q1.A,0.b,1.,,2.a,x.y,1.a-b,paper_code,code,student_number\n",
			Options{Columns: exam12},
			[]string{
				`line 1, column 2 (1a): "1a" is not an answer column: write QUESTION.PART, like 6.d; or student or paper_code`,
				`column 4 (Q1.A): a second column for 1.a (the first is column 3)`,
				`column 5 (0.b): "0.b" is not an answer column: "0" is not a question number`,
				`column 6 (1.): "1." is not an answer column: no part after the point`,
				`line 1, column 7: a column without a name`,
				`column 9 (x.y): "x.y" is not an answer column: "x" is not a question number`,
				`column 10 (1.a-b): "1.a-b" is not an answer column: a part id has only letters, digits and _`,
				`column 12 (code): a second paper code column (the first is column 11)`,
				`column 13 (student_number): a second student column (the first is column 1)`,
			},
		},
		{"unknown part", "student,1.a,9.z\n", Options{Columns: exam12}, []string{"column 3 (9.z): the exam has no question 9 part z"}},
		{"unreadable header", "student,\"1.a\n", Options{}, []string{"the header cannot be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(t, tt.in, tt.opt)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *FileError", err)
			}
			if len(fe.Problems) != len(tt.want) {
				t.Fatalf("problems %v, want %q", fe.Problems, tt.want)
			}
			for i, p := range fe.Problems {
				if !strings.Contains(p.Error(), tt.want[i]) {
					t.Errorf("problem %q, want it to contain %q", p.Error(), tt.want[i])
				}
			}
		})
	}
}

func TestReadJSON(t *testing.T) {
	in := `[
  {"student": "3035", "answers": {"1.a": "42", "1.b": ["B", "C"], "6.d": 1.5e6, "2.a": null}},
  {
    "paper_code": "E12-S00345-2",
    "answers": {"1.a": "x", "1.a": "y", "9.z": "1", "q2.A": "ok"}
  },
  {"student": 3036, "answers": {}, "name": "Ann"},
  {"student": "3037"},
  {"student": ["x"], "answers": []},
  7
]
`
	r, got, err := readAll(t, in, Options{Columns: exam12})
	if err != nil {
		t.Fatal(err)
	}
	if r.Format() != FormatJSON {
		t.Errorf("format %s", r.Format())
	}
	check(t, got, []row{
		{line: 2, student: "3035", answers: []string{"1.a=42", `1.b=["B","C"]`, "6.d=1.5e6", "2.a="}},
		{line: 3, code: "E12-S00345-2", answers: []string{"1.a=x", "2.a=ok"}, problems: []string{
			"line 3 (1.a): a second answer for 1.a", "line 3 (9.z): the exam has no question 9 part z"}},
		{line: 7, student: "3036", problems: []string{`line 7 (name): unknown field "name"`}},
		{line: 8, student: "3037", problems: []string{"line 8 (answers): no answers"}},
		{line: 9, problems: []string{"(student): expected a string", "(answers): expected an object of answers", "no student number or paper code"}},
		{line: 10, problems: []string{"a row is an object"}},
	})
}

func TestReadJSONErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		rows int
		want string
	}{
		{"not an array", `{"student": "1"}`, 0, ""}, // sniffed as JSON lines: not an error
		{"a string where the array should be", ` "x"`, 0, "line 1: a JSON upload is an array of objects"},
		{"malformed", "[\n{\"student\": \"1\", \"answers\": {}},\n{\"student\": \"2\",, }\n]", 1, "line 3: malformed JSON: invalid character ','"},
		{"unclosed", "[\n{\"student\": \"1\", \"answers\": {}},\n", 1, "the JSON ends before the array is closed"},
		{"trailing data", "[]\n[]", 0, "line 2: unexpected data after the array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := Options{}
			if tt.name != "not an array" {
				opt.Format = FormatJSON
			}
			_, got, err := readAll(t, tt.in, opt)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *FileError", err)
			}
			if !strings.Contains(fe.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", fe.Error(), tt.want)
			}
			if len(got) != tt.rows {
				t.Errorf("%d rows before the error, want %d", len(got), tt.rows)
			}
		})
	}
}

func TestReadJSONL(t *testing.T) {
	in := "{\"student\": \"1\", \"answers\": {\"1.a\": \"1\"}}\n\n{\"student\": \"2\", \"answers\": {\"1.a\": \"2\"}\n" +
		"{\"student\": \"3\", \"answers\": {\"1.a\": 3}} {}\r\n   \n{\"paper_code\": \"E12-S00345-2\", \"answers\": {\"1.a\": \"4\"}}"
	r, got, err := readAll(t, in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Format() != FormatJSONL {
		t.Errorf("format %s", r.Format())
	}
	check(t, got, []row{
		{line: 1, student: "1", answers: []string{"1.a=1"}},
		{line: 3, problems: []string{"line 3: malformed JSON: the line ends before the object is closed"}},
		{line: 4, problems: []string{"line 4: malformed JSON: invalid character '{' after top-level value"}},
		{line: 6, code: "E12-S00345-2", answers: []string{"1.a=4"}},
	})
}

func TestLimits(t *testing.T) {
	csv := "student,1.a\n1,a\n2,b\n3,c\n"
	t.Run("bytes", func(t *testing.T) {
		_, got, err := readAll(t, csv, Options{MaxBytes: 20})
		var le *LimitError
		if !errors.As(err, &le) || le.What != "bytes" || le.Limit != 20 {
			t.Fatalf("error %v, want the bytes limit", err)
		}
		if len(got) != 2 {
			t.Errorf("%d rows read in 20 bytes, want 2", len(got))
		}
	})
	t.Run("exactly the limit", func(t *testing.T) {
		if _, got, err := readAll(t, csv, Options{MaxBytes: int64(len(csv))}); err != nil || len(got) != 3 {
			t.Fatalf("%d rows, %v", len(got), err)
		}
	})
	t.Run("rows", func(t *testing.T) {
		_, got, err := readAll(t, csv, Options{MaxRows: 2})
		var le *LimitError
		if !errors.As(err, &le) || le.What != "rows" || len(got) != 2 {
			t.Fatalf("%d rows, error %v; want 2 and the rows limit", len(got), err)
		}
	})
	t.Run("json bytes", func(t *testing.T) {
		_, _, err := readAll(t, `[{"student": "1", "answers": {"1.a": "`+strings.Repeat("x", 1000)+`"}}]`, Options{MaxBytes: 100})
		var le *LimitError
		if !errors.As(err, &le) {
			t.Fatalf("error %v, want the bytes limit", err)
		}
	})
}

func TestSum(t *testing.T) {
	for _, in := range []string{
		"student,1.a\n1,a\n",
		"\ufeffstudent;1.a\r\n1;a\r\n",
		"[{\"student\": \"1\", \"answers\": {}}] ",
		"[{\"student\": \"1\",, \n" + strings.Repeat("x", 100000), // ends early: the rest is hashed too
	} {
		r, err := NewReader(iotest.OneByteReader(strings.NewReader(in)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
		n, sum, err := r.Sum()
		want := sha256.Sum256([]byte(in))
		if err != nil || n != int64(len(in)) || sum != hex.EncodeToString(want[:]) {
			t.Errorf("Sum() = %d, %s, %v; want %d, %x", n, sum, err, len(in), want)
		}
	}
}

func TestParseColumn(t *testing.T) {
	for in, want := range map[string]Column{"1.a": {1, "a"}, "Q12.B": {12, "b"}, " q3.c_2 ": {3, "c_2"}} {
		got, err := ParseColumn(in)
		if err != nil || got != want {
			t.Errorf("ParseColumn(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1", "a.1", "-1.a", "+1.a", "1.", ".a", "1.a.b", "1.é"} {
		if c, err := ParseColumn(in); err == nil {
			t.Errorf("ParseColumn(%q) = %v, want an error", in, c)
		}
	}
}

func TestQuestions(t *testing.T) {
	s := &Submission{Answers: []Answer{{Column{1, "a"}, "1"}, {Column{2, "a"}, "2"}, {Column{1, "b"}, "3"}}}
	want := map[int]map[string]string{1: {"a": "1", "b": "3"}, 2: {"a": "2"}}
	if got := s.Questions(); !reflect.DeepEqual(got, want) {
		t.Errorf("Questions() = %v, want %v", got, want)
	}
}

func TestResultsWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewResultsWriter(&b, []int{1, 2})
	one, half := 1.0, 0.5
	rows := []RowResult{
		{Line: 2, Student: "3035", Status: StatusGraded, Score: 1.5, Max: 4, NeedsReview: []string{"2.b"},
			FormatErrors: []string{"1.a: Enter a number"}, Scores: []*float64{&one, &half}},
		{Line: 3, Student: "=HYPERLINK(\"x\")", PaperCode: "E12-S00345-3", Status: StatusRejected, Errors: []string{"line 3: no such student", "-x"}},
		{Line: 4, Student: "3036", Status: StatusUnchanged, Score: 0, Max: 4, Scores: []*float64{nil, &half}},
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `line,student,paper_code,status,score,max,needs_review,format_errors,errors,q1,q2
2,3035,,graded,1.5,4,2.b,1.a: Enter a number,,1,0.5
3,"'=HYPERLINK(""x"")",E12-S00345-3,rejected,,,,,line 3: no such student; -x,,
4,3036,,unchanged,0,4,,,,,0.5
`
	if b.String() != want {
		t.Errorf("results:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := NewResultsWriter(&b, nil).Flush(); err != nil || b.String() != "line,student,paper_code,status,score,max,needs_review,format_errors,errors\n" {
		t.Errorf("empty results: %q, %v", b.String(), err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("student,paper_code,1.a\n1,E12-S00345-2,x\n"), uint8(0))
	f.Add([]byte("\ufeffstudent;1.a\r\n1;\"a\r\nb\"\r\n"), uint8(0))
	f.Add([]byte(`[{"student": "1", "answers": {"1.a": [1, 2]}}]`), uint8(2))
	f.Add([]byte("{\"student\": \"1\", \"answers\": {\"1.a\": 1}}\n{"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		opt := Options{Format: []Format{"", FormatCSV, FormatJSON, FormatJSONL}[format%4], MaxBytes: 1 << 20, MaxRows: 1000}
		r, err := NewReader(bytes.NewReader(data), opt)
		if err != nil {
			return
		}
		last := 0
		for i := 0; ; i++ {
			s, err := r.Next()
			if err != nil {
				if _, err2 := r.Next(); err2 != err {
					t.Fatalf("Next after %v returned %v", err, err2)
				}
				break
			}
			if s.Line < 1 || s.Line < last {
				t.Fatalf("row %d at line %d after line %d", i, s.Line, last)
			}
			last = s.Line
			for _, p := range s.Problems {
				if p.Line < 1 || p.Message == "" {
					t.Fatalf("problem %+v", p)
				}
			}
			if len(s.Problems) == 0 && s.Student == "" && s.Code == nil {
				t.Fatalf("row at line %d names no student but has no problem", s.Line)
			}
		}
		n, sum, err := r.Sum()
		want := sha256.Sum256(data)
		if err != nil || n != int64(len(data)) || sum != hex.EncodeToString(want[:]) {
			t.Fatalf("Sum() = %d, %s, %v; want %d, %x", n, sum, err, len(data), want)
		}
	})
}

// FuzzWalkObject checks the scanner of row objects against encoding/json:
// the same keys, in order, with the same values.
func FuzzWalkObject(f *testing.F) {
	f.Add([]byte(`{"a": "x\"y", "b": [1, {"c": "]"}], "d" : null ,"e":-1.5e3}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		data = bytes.TrimSpace(data)
		// Invalid UTF-8 is kept as it is (and refused as an answer), where
		// encoding/json would replace it.
		if !json.Valid(data) || !utf8.Valid(data) || len(data) == 0 || data[0] != '{' {
			return
		}
		type kv struct{ k, v string }
		var want []kv
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			want = append(want, kv{k.(string), compact(t, v)})
		}
		var got []kv
		walkObject(data, func(k string, v []byte) { got = append(got, kv{k, compact(t, v)}) })
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("walkObject(%s) = %q, want %q", data, got, want)
		}
	})
}

func compact(t *testing.T, v []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		t.Fatalf("value %q: %v", v, err)
	}
	return b.String()
}
