package main

import (
	"archive/zip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/internal/testenv"
	"github.com/marksmith/marksmith/paper"
)

// TestPaperFromBank prints papers of the built-in bank without a server
// and reads every paper code back from the PDF.
func TestPaperFromBank(t *testing.T) {
	testenv.Tools(t, "apt-get install chromium poppler-utils", "chromium", "pdftotext")
	dir := t.TempDir()
	pdf := filepath.Join(dir, "papers.pdf")
	out, err := runWithEnv(t, nil, "paper", "--template", "dasc7606/q6,dasc7606/q7", "--seed", "7", "--count", "4", "--out", pdf)
	if err != nil {
		t.Fatalf("paper: %v", err)
	}
	if !strings.Contains(out, "wrote "+pdf+": 4 papers") {
		t.Errorf("output %q", out)
	}
	text, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 4; i++ {
		code, _ := paper.Code(1, i)
		if !strings.Contains(string(text), code.String()) {
			t.Errorf("the PDF lacks paper code %s", code)
		}
	}

	// Keys, one PDF per student, and the summary.
	zf := filepath.Join(dir, "keys.zip")
	if _, err := runWithEnv(t, nil, "paper", "--template", "dasc7606/q6", "--count", "2", "--key", "--out", zf); err != nil {
		t.Fatalf("paper --key: %v", err)
	}
	zr, err := zip.OpenReader(zf)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); got != "key-E1-S00001-1_S00001.pdf key-E1-S00002-2_S00002.pdf summary.pdf" {
		t.Errorf("zip holds %s", got)
	}
}

// TestPaperHTMLAndMistakes needs no browser: HTML, and every mistake of
// the flags, each refused with what to do and no file left behind.
func TestPaperHTMLAndMistakes(t *testing.T) {
	dir := t.TempDir()
	html := filepath.Join(dir, "p.html")
	if _, err := runWithEnv(t, nil, "paper", "--template", "dasc7606/q7", "--count", "3", "--out", html); err != nil {
		t.Fatalf("paper html: %v", err)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 3; i++ {
		code, _ := paper.Code(1, i)
		if !strings.Contains(string(b), code.String()) {
			t.Errorf("the page lacks paper code %s", code)
		}
	}
	if fi, err := os.Stat(html); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the page's mode: %v, %v", fi.Mode(), err)
	}
	bad := filepath.Join(dir, "bad.pdf")
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"--template", "dasc7606/q7"}, "--out FILE is required"},
		{[]string{"--template", "dasc7606/q7", "--out", filepath.Join(dir, "p.docx")}, "must end in .pdf, .zip or .html"},
		{[]string{"--out", bad}, "give --exam ID"},
		{[]string{"--exam", "3", "--template", "dasc7606/q7", "--out", bad}, "not both"},
		{[]string{"--template", "dasc7606/q7", "--count", "0", "--out", bad}, "--count must be from 1 to 5000"},
		{[]string{"--template", "nope/q1", "--out", bad}, `no template "nope/q1"`},
		{[]string{"--template", "dasc7606/q7", "--student", "x", "--out", bad}, "go with --exam"},
		{[]string{"--exam", "3", "--out", bad}, "MARKSMITH_TOKEN is empty"},
		{[]string{"--exam", "-2", "--out", bad}, "positive exam id"},
	} {
		_, err := runWithEnv(t, nil, append([]string{"paper"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.err) || exitCode(err) != 2 {
			t.Errorf("%q: error %v (exit %d), want %q", c.args, err, exitCode(err), c.err)
		}
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a refused print left %s", bad)
	}
}

// TestPaperFromServer fetches an exam's papers from the API with the
// token, and reports the API's message on a refusal.
func TestPaperFromServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(401)
			return
		}
		q := r.URL.Query()
		if r.URL.Path == "/api/v1/exams/7/papers" && q.Get("format") == "zip" && q.Get("student") == "3035 1" && q.Get("key") == "true" {
			w.Header().Set("Content-Type", "application/zip")
			w.Write([]byte("PK zip bytes"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(409)
		w.Write([]byte(`{"error":{"code":"conflict","message":"Exam 8 is a draft: publish it first."}}`))
	}))
	defer srv.Close()
	env := map[string]string{"MARKSMITH_TOKEN": "tok", "MARKSMITH_SERVER": srv.URL}
	zf := filepath.Join(t.TempDir(), "k.zip")
	out, err := runWithEnv(t, env, "paper", "--exam", "7", "--student", "3035 1", "--key", "--out", zf)
	if err != nil {
		t.Fatalf("paper --exam: %v", err)
	}
	if b, _ := os.ReadFile(zf); string(b) != "PK zip bytes" || !strings.Contains(out, "exam 7, 12 bytes") {
		t.Errorf("wrote %q, said %q", b, out)
	}
	pf := filepath.Join(t.TempDir(), "p.pdf")
	_, err = runWithEnv(t, env, "paper", "--exam", "8", "--out", pf, "--server", srv.URL+"/")
	if err == nil || !strings.Contains(err.Error(), "409 Conflict: Exam 8 is a draft: publish it first.") {
		t.Errorf("draft: %v", err)
	}
	if _, err := os.Stat(pf); !os.IsNotExist(err) {
		t.Error("a refused print left a file")
	}
}

// TestPaperJobFromServer prints a whole class through a print job: the
// job is queued with the format and key, polled until done, and its file
// written; a failed job is an error that names its reason and leaves no
// file.
func TestPaperJobFromServer(t *testing.T) {
	pollInterval = time.Millisecond
	var mu sync.Mutex
	polls := 0
	var queued string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(401)
			return
		}
		job := marksmith.PrintJob{ID: 4, ExamID: 7, Format: "zip", Key: true, Status: marksmith.JobQueued, Total: 3}
		switch {
		case r.Method == "POST" && r.URL.Path == "/api/v1/exams/7/papers/jobs":
			queued = r.URL.RawQuery
			w.Header().Set("Location", "/api/v1/exams/7/papers/jobs/4")
			w.WriteHeader(http.StatusAccepted)
		case r.Method == "POST" && r.URL.Path == "/api/v1/exams/9/papers/jobs":
			job.ID, job.ExamID = 5, 9
			w.WriteHeader(http.StatusAccepted)
		case r.Method == "GET" && r.URL.Path == "/api/v1/exams/7/papers/jobs/4":
			polls++
			job.Status, job.Done, job.Pages = marksmith.JobRunning, min(polls, 3), 15*min(polls, 3)
			if polls > 3 {
				job.Status, job.Bytes, job.FileName = marksmith.JobDone, 9, "exam-7-keys.zip"
			}
		case r.Method == "GET" && r.URL.Path == "/api/v1/exams/7/papers/jobs/4/file":
			w.Header().Set("Content-Type", "application/zip")
			io.WriteString(w, "PK keys!\n")
			return
		case r.Method == "GET" && r.URL.Path == "/api/v1/exams/9/papers/jobs/5":
			job.ID, job.ExamID, job.Status, job.Error = 5, 9, marksmith.JobFailed, "The print made no progress for 10m0s: start the job again."
		default:
			w.WriteHeader(404)
			io.WriteString(w, `{"error":{"code":"not_found","message":"No such route."}}`)
			return
		}
		json.NewEncoder(w).Encode(job)
	}))
	defer srv.Close()
	env := map[string]string{"MARKSMITH_TOKEN": "tok", "MARKSMITH_SERVER": srv.URL}
	zf := filepath.Join(t.TempDir(), "keys.zip")
	out, err := runWithEnv(t, env, "paper", "--exam", "7", "--key", "--out", zf)
	if err != nil {
		t.Fatalf("paper --exam: %v", err)
	}
	if b, _ := os.ReadFile(zf); string(b) != "PK keys!\n" || !strings.Contains(out, "exam 7, print job 4: 3 students, 45 pages, 9 bytes") {
		t.Errorf("wrote %q, said %q", b, out)
	}
	if queued != "format=zip&key=true" || polls != 4 {
		t.Errorf("queued with %q, polled %d times", queued, polls)
	}

	pf := filepath.Join(t.TempDir(), "p.pdf")
	_, err = runWithEnv(t, env, "paper", "--exam", "9", "--out", pf)
	if err == nil || !strings.Contains(err.Error(), "print job 5 failed: The print made no progress for 10m0s") {
		t.Errorf("a failed job: %v", err)
	}
	if _, err := os.Stat(pf); !os.IsNotExist(err) {
		t.Error("a failed job left a file")
	}
}
