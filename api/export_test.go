package api

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/storage"
)

// moodleQuiz is the part of a Moodle XML file the tests read back.
type moodleQuiz struct {
	Questions []struct {
		Type     string `xml:"type,attr"`
		Category string `xml:"category>text"`
		Name     string `xml:"name>text"`
	} `xml:"question"`
}

// TestExportMoodle downloads a template's and an exam's questions as
// Moodle XML, reads the file back, and checks its categories and question
// counts, the attachment name, and the refusals of bad queries.
func TestExportMoodle(t *testing.T) {
	h := newExamHarness(t, storage.DialectSQLite)
	prof, student, examID := publishedExam(t, h, "prof@example.edu", "sam@example.edu")

	read := func(r response) moodleQuiz {
		t.Helper()
		if ct := r.header.Get("Content-Type"); ct != "application/xml; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		var q moodleQuiz
		if err := xml.Unmarshal(r.body, &q); err != nil {
			t.Fatalf("the export is not XML: %v", err)
		}
		return q
	}
	count := func(q moodleQuiz) (categories, questions int) {
		for _, x := range q.Questions {
			if x.Type == "category" {
				categories++
			} else {
				questions++
			}
		}
		return
	}

	r := h.call("GET", "/api/v1/templates/dasc7606%2Fq7/export/moodle?count=4&seed=9", prof, nil, 200, nil)
	if d := r.header.Get("Content-Disposition"); d != `attachment; filename=dasc7606-q7-moodle.xml` {
		t.Errorf("Content-Disposition %q", d)
	}
	q := read(r)
	if c, n := count(q); c != 1 || n == 0 || n%4 != 0 {
		t.Errorf("template export: %d categories, %d questions; want 1 category and 4 variants' questions", c, n)
	}
	if !strings.Contains(q.Questions[0].Category, "dasc7606/q7") {
		t.Errorf("category %q does not name the template", q.Questions[0].Category)
	}
	// The same seed gives the same file.
	again := h.call("GET", "/api/v1/templates/dasc7606%2Fq7/export/moodle?count=4&seed=9", prof, nil, 200, nil)
	if string(again.body) != string(r.body) {
		t.Error("the same seed exported different files")
	}

	r = h.call("GET", fmt.Sprintf("/api/v1/exams/%d/export/moodle?count=2", examID), prof, nil, 200, nil)
	// One student: each question's issued variant, q1's written parts in
	// a category of their own (Moodle's essays are graded by hand).
	var cats []string
	for _, x := range read(r).Questions {
		if x.Type == "category" {
			cats = append(cats, strings.TrimPrefix(x.Category, "$course$/top/Marksmith/"))
		}
	}
	want := []string{"dasc7606/q7 GAN", "dasc7606/q1 Activation Functions", "dasc7606/q1 Activation Functions (written parts)"}
	if fmt.Sprint(cats) != fmt.Sprint(want) {
		t.Errorf("exam export categories %q, want %q", cats, want)
	}

	// A query that is not a number is malformed (400); a number out of
	// range, or a category too long, is refused by the service (422).
	for _, tt := range []struct {
		query, field string
		status       int
	}{
		{"count=0", "count", 422},
		{"count=501", "count", 422},
		{"count=x", "count", 400},
		{"seed=-1", "seed", 400},
		{"category=" + strings.Repeat("c", 201), "category", 422},
	} {
		r := h.call("GET", "/api/v1/templates/dasc7606%2Fq7/export/moodle?"+tt.query, prof, nil, tt.status, nil)
		if !strings.Contains(string(r.body), `"field":"`+tt.field+`"`) {
			t.Errorf("%s: the error does not name %s: %s", tt.query, tt.field, r.body)
		}
	}
	h.call("GET", fmt.Sprintf("/api/v1/exams/%d/export/moodle", examID), student, nil, 403, nil)
}
