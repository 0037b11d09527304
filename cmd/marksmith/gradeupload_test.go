package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// TestGradeUpload runs grade --exam against a stand-in server: the upload
// goes with the token, its type and flags; the job is polled until done;
// the receipt, the rejected rows and the results file are printed.
func TestGradeUpload(t *testing.T) {
	pollInterval = time.Millisecond
	var mu sync.Mutex
	polls := 0
	var got struct{ body, ctype, auth, query string }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		job := marksmith.SubmissionJob{ID: 9, ExamID: 3, Status: marksmith.JobRunning, Format: "csv", Errors: []marksmith.RowError{}}
		switch {
		case r.Method == "POST" && r.URL.Path == "/api/v1/exams/3/submissions":
			b, _ := io.ReadAll(r.Body)
			got.body, got.ctype, got.auth, got.query = string(b), r.Header.Get("Content-Type"), r.Header.Get("Authorization"), r.URL.RawQuery
			w.WriteHeader(http.StatusAccepted)
		case r.Method == "GET" && r.URL.Path == "/api/v1/exams/3/submissions/9":
			if polls++; polls > 2 {
				job.Status, job.SHA256, job.Bytes, job.RowsRead, job.Graded, job.Rejected = marksmith.JobDone, "ab12", 40, 2, 1, 1
				job.Errors = []marksmith.RowError{{Line: 3, Field: "student", Message: `No student "x" on the exam's roster.`}}
			}
		case r.Method == "GET" && r.URL.Path == "/api/v1/exams/3/submissions/9/results.csv":
			io.WriteString(w, "line,student\n2,a\n3,x\n")
			return
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error": {"code": "not_found", "message": "Exam 4 not found."}}`)
			return
		}
		json.NewEncoder(w).Encode(job)
	}))
	defer srv.Close()
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.csv")
	if err := os.WriteFile(answers, []byte("student,1.a\na,1\nx,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(dir, "results.csv")
	environ := map[string]string{"MARKSMITH_TOKEN": "tok", "MARKSMITH_SERVER": srv.URL}
	out, err := runWithEnv(t, environ, "grade", "--exam", "3", "--answers", answers, "--replace", "--results", results)
	if err == nil || !strings.Contains(err.Error(), "1 rows were rejected") {
		t.Fatalf("error %v", err)
	}
	for _, w := range []string{"upload 9: done", "sha256     ab12", "rows read  2", "graded     1", "rejected   1", `line 3 (student): No student "x"`} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if got.body != "student,1.a\na,1\nx,2\n" || got.ctype != "text/csv" || got.auth != "Bearer tok" || got.query != "replace=true" {
		t.Errorf("request %+v", got)
	}
	if b, err := os.ReadFile(results); err != nil || string(b) != "line,student\n2,a\n3,x\n" {
		t.Errorf("results %q, %v", b, err)
	}

	// The server's error is shown; no token, no upload.
	if _, err := runWithEnv(t, environ, "grade", "--exam", "4", "--answers", answers); err == nil || !strings.Contains(err.Error(), "Exam 4 not found.") {
		t.Errorf("unknown exam: %v", err)
	}
	if _, err := runWithEnv(t, map[string]string{"MARKSMITH_SERVER": srv.URL}, "grade", "--exam", "3", "--answers", answers); err == nil || !strings.Contains(err.Error(), "MARKSMITH_TOKEN") {
		t.Errorf("no token: %v", err)
	}
}
