package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/marksmith/marksmith"
)

// TestUploadSubmissions uploads a CSV file through the API, polls the job
// and reads its results file: a good row graded, a bad one reported with
// its line, and what a client gets wrong answered with 4xx, never 500.
func TestUploadSubmissions(t *testing.T) {
	f := newExamFixture(t)
	h := f.h
	base := fmt.Sprintf("/api/v1/exams/%d/submissions", f.exam)
	csv := "\ufeffstudent;1.a;1.b\r\nkim@example.edu;A;\r\nnobody@example.edu;A;\r\n"
	resp := h.do(request{method: "POST", path: base, token: f.prof, contentType: "text/csv", body: []byte(csv)})
	if resp.status != 202 || !strings.HasPrefix(resp.header.Get("Location"), base+"/") {
		t.Fatalf("upload: %d %s %s", resp.status, resp.header, resp.body)
	}
	var job marksmith.SubmissionJob
	resp.decode(t, &job)
	h.exams.WaitJobs()
	h.call("GET", fmt.Sprintf("%s/%d", base, job.ID), f.prof, nil, 200, &job)
	if job.Status != marksmith.JobDone || job.RowsRead != 2 || job.Graded != 1 || job.Rejected != 1 || len(job.SHA256) != 64 ||
		len(job.Errors) != 1 || job.Errors[0].Line != 3 || job.Errors[0].Field != "student" {
		t.Fatalf("job %+v", job)
	}
	res := h.call("GET", fmt.Sprintf("%s/%d/results.csv", base, job.ID), f.prof, nil, 200, nil)
	lines := strings.Split(strings.TrimSpace(string(res.body)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "2,kim@example.edu,,graded,") || !strings.HasPrefix(lines[2], "3,nobody@example.edu,,rejected,") {
		t.Fatalf("results:\n%s", res.body)
	}
	var gb marksmith.Gradebook
	h.call("GET", fmt.Sprintf("/api/v1/exams/%d/gradebook", f.exam), f.prof, nil, 200, &gb)
	modes := map[string]string{}
	for _, r := range gb.Rows {
		modes[r.Email] = r.Mode
	}
	if modes["kim@example.edu"] != "paper" || modes["sam@example.edu"] != "online" {
		t.Errorf("gradebook modes %v", modes)
	}

	for _, tt := range []struct {
		name, path, contentType, body string
		want                          int
	}{
		{"bad header", base, "text/csv", "student,6d\n", 422},
		{"empty", base, "text/csv", "", 422},
		{"bad flag", base + "?replace=maybe", "text/csv", csv, 400},
		{"bad format", base + "?format=xml", "text/csv", csv, 400},
		{"bad content type", base, "image/png", csv, 400},
		{"draft", fmt.Sprintf("/api/v1/exams/%d/submissions", f.draft), "text/csv", csv, 409},
		{"no job", base + "/999999", "", "", 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			method := "POST"
			if tt.body == "" && tt.contentType == "" {
				method = "GET"
			}
			f.h.t = t
			defer func() { f.h.t = h.t }()
			if got := h.do(request{method: method, path: tt.path, token: f.prof, contentType: tt.contentType, body: []byte(tt.body)}); got.status != tt.want {
				t.Errorf("status %d, want %d: %s", got.status, tt.want, got.body)
			}
		})
	}
	h.exams.UploadBytes = 16
	defer func() { h.exams.UploadBytes = 0 }()
	if got := h.do(request{method: "POST", path: base, token: f.prof, contentType: "text/csv", body: []byte(csv)}); got.status != 413 {
		t.Errorf("too large: %d %s", got.status, got.body)
	}
}
