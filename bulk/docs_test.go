package bulk

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocsExamples reads the upload examples of docs/paper-exams.md: each
// reads without a problem, with the rows and answers it shows.
func TestDocsExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/paper-exams.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```(csv|json|jsonl)\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) != 3 {
		t.Fatalf("%d upload examples, want 3 (csv, json, jsonl)", len(blocks))
	}
	want := map[string]int{"csv": 2, "json": 2, "jsonl": 2}
	for _, b := range blocks {
		format, _ := ParseFormat(b[1])
		r, err := NewReader(strings.NewReader(b[2]), Options{Format: format, Exam: 12, CheckExam: true})
		if err != nil {
			t.Errorf("the %s example: %v", b[1], err)
			continue
		}
		rows := 0
		for {
			s, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("the %s example: %v", b[1], err)
			}
			rows++
			if len(s.Problems) > 0 || len(s.Answers) == 0 {
				t.Errorf("the %s example, line %d: %v, %d answers", b[1], s.Line, s.Problems, len(s.Answers))
			}
		}
		if rows != want[b[1]] {
			t.Errorf("the %s example has %d rows, want %d", b[1], rows, want[b[1]])
		}
	}
}
