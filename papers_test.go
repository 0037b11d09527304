package marksmith

import (
	"testing"

	"github.com/marksmith/marksmith/papercode"
)

func TestPapersFileName(t *testing.T) {
	exam := &Exam{ID: 12}
	one := []StudentPaper{{UserID: 345}}
	two := []StudentPaper{{UserID: 345}, {UserID: 346}}
	code, err := papercode.New(12, 345)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ep     ExamPapers
		format string
		want   string
	}{
		{ExamPapers{Exam: exam, Students: two}, "pdf", "exam-12-papers.pdf"},
		{ExamPapers{Exam: exam, Students: two, Key: true}, "zip", "exam-12-keys.zip"},
		{ExamPapers{Exam: exam, Students: one}, "pdf", "exam-12-" + code.String() + ".pdf"},
		{ExamPapers{Exam: exam, Students: one, Key: true}, "html", "key-exam-12-" + code.String() + ".html"},
	} {
		if got := c.ep.FileName(c.format); got != c.want {
			t.Errorf("FileName(%d students, key %v, %s) = %q, want %q", len(c.ep.Students), c.ep.Key, c.format, got, c.want)
		}
	}
}
