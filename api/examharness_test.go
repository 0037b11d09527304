package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/exams"
	"github.com/marksmith/marksmith/internal/pgtest"
)

// newExamHarness is a harness on the dialect with the built-in bank
// stored as serve stores it.
func newExamHarness(t *testing.T, d string) *harness {
	t.Helper()
	return newHarness(t, dialect(d), withBank, func(c *harnessConfig) {
		c.print = func(o *exams.PrintOptions) { o.Printer = instantPrinter{} }
	})
}

// testPostgresSchema creates a schema of the test's own, dropped when it
// ends, and returns a DSN whose search_path selects it.
func testPostgresSchema(t *testing.T) string {
	t.Helper()
	return pgtest.Schema(t, "marksmith_api_")
}

// studentLeaks walks a JSON document and returns the paths of anything a
// student must never see: a key, a correct flag that is true, a rubric, a
// reference answer, an error-carried-forward rule, accepted phrasings or
// patterns, or drawn parameters.
func studentLeaks(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	forbidden := map[string]bool{"key": true, "rubric": true, "reference": true, "follow": true, "follow_marks": true,
		"accept": true, "patterns": true, "params": true, "variant": true}
	var leaks []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				p := path + "." + k
				if forbidden[k] {
					leaks = append(leaks, p)
				}
				if k == "correct" && child == true {
					leaks = append(leaks, p+"=true")
				}
				walk(p, child)
			}
		case []any:
			for i, child := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), child)
			}
		}
	}
	walk("$", doc)
	return leaks
}

// TestStudentLeaks checks the leak scanner itself.
func TestStudentLeaks(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"questions":[{"parts":[{"id":"a","prompt":"followed by a key idea"}]}]}`, ""},
		{`{"questions":[{"parts":[{"answer":{"key":null}}]}]}`, "$.questions[0].parts[0].answer.key"},
		{`{"options":[{"id":"x","correct":false}]}`, ""},
		{`{"options":[{"id":"x","correct":true}]}`, "$.options[0].correct=true"},
		{`{"a":{"rubric":[]}}`, "$.a.rubric"},
		{`{"reference":"x"}`, "$.reference"},
		{`{"follow":"ans.d"}`, "$.follow"},
		{`{"feedback":{"after_release":"key"}}`, ""},
	}
	for _, tt := range tests {
		got := strings.Join(studentLeaks([]byte(tt.body)), ",")
		if got != tt.want {
			t.Errorf("studentLeaks(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}
