package bulk

import (
	"errors"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/bank"
)

func finder(t *testing.T) Finder {
	t.Helper()
	ts, err := bank.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return func(id string) *bank.Template {
		if tp := bank.Find(ts, id); tp != nil {
			return tp
		}
		return bank.Find(ts, "dasc7606/"+id)
	}
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		header string
		col    int
		msg    string
	}{
		{"student,variant,q6.z", 3, `question dasc7606/q6 has no part "z"`},
		{"student,variant,q9.a", 3, `no question "q9"`},
		{"student,variant,q6.a,q6.a", 4, "a second column for the same part"},
		{"variant,q6.a", 1, "no student column"},
		{"student,q6.a", 1, "no variant column for dasc7606/q6"},
		{"student,variant", 1, "no answer columns"},
		{"student,variant,notes", 3, "expected student, variant or QUESTION.PART"},
		{"student,student_id,variant,q6.a", 2, "a second student column"},
	}
	for _, tt := range tests {
		_, err := ParseHeader(strings.Split(tt.header, ","), finder(t))
		var he *HeaderError
		if !errors.As(err, &he) || he.Column != tt.col || !strings.Contains(he.Msg, tt.msg) {
			t.Errorf("%q: %v, want column %d %q", tt.header, err, tt.col, tt.msg)
		}
	}
}

func TestReadAndGrade(t *testing.T) {
	in := "\ufeffstudent,variant,q6.d,q6.e,q6.f,q8.variant,q8.a\n" +
		"s1,canonical,173408256,67436544,105971712,,98560\n" +
		"s2,0,1,1,0,,1\n" +
		"s3,0,173408256\n" + // too few fields
		"\n" + // a blank line is skipped
		"s4,0,\"unclosed\n"
	sheet, rows, err := ReadCSV(strings.NewReader(in), finder(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4: %+v", len(rows), rows)
	}
	g := NewGrader(sheet)
	r1 := g.Grade(rows[0])
	if r1.Err != "" || r1.Score != 11 || r1.Max != 36 {
		t.Errorf("s1: score %v of %v, err %q; want 11 of 36 (q6 d 3, e 2, f 3 and q8 a 3 right)", r1.Score, r1.Max, r1.Err)
	}
	// s2: f = d - e = 0 follows from the student's own d and e.
	r2 := g.Grade(rows[1])
	if got := r2.Questions[0][7]; got.Part != "f" || got.Score != 3 || got.Rule != "error-carried-forward" {
		t.Errorf("s2 f = %+v, want 3 marks carried forward", got)
	}
	if r3 := g.Grade(rows[2]); !strings.Contains(r3.Err, "line 4: 3 fields, the header has 7") {
		t.Errorf("s3 error %q", r3.Err)
	}
	if r4 := g.Grade(rows[3]); !strings.Contains(r4.Err, "line 6") {
		t.Errorf("s4 error %q", r4.Err)
	}
	header := sheet.Header()
	if header[0] != "student" || header[len(header)-1] != "error" || len(sheet.Record(r1)) != len(header) || len(sheet.Record(g.Grade(rows[2]))) != len(header) {
		t.Errorf("header %v and records do not line up", header)
	}
	if len(g.cache) != 2 {
		t.Errorf("%d compiled variants cached, want 2 (q6 and q8 canonical)", len(g.cache))
	}
}
