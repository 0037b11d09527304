package api

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/internal/testenv"
	"github.com/marksmith/marksmith/paper"
)

// paperExam creates and publishes, as the instructor, an exam of two
// questions of the built-in bank for three students, with the delivery
// mode, and returns it with the students' paper codes by student number.
func paperExam(t *testing.T, h *harness, delivery string) (*marksmith.Exam, map[string]string) {
	t.Helper()
	prof := h.tokenFor(h.instructor)
	var roster []string
	for i := 1; i <= 3; i++ {
		email := fmt.Sprintf("%s-s%d@example.edu", delivery, i)
		h.call("POST", "/api/v1/users", prof, map[string]any{"email": email, "name": fmt.Sprintf("Student %d", i),
			"student_key": fmt.Sprintf("30350%s%d", map[string]string{"paper": "1", "both": "2", "online": "3"}[delivery], i), "password": testPassword}, 201, nil)
		roster = append(roster, email)
	}
	start := h.clock.Now()
	var e marksmith.Exam
	h.call("POST", "/api/v1/exams", prof, map[string]any{
		"title": "Printed " + delivery, "seed": "7606", "delivery": delivery, "shuffle_questions": true,
		"questions": []map[string]any{{"template": "dasc7606/q6"}, {"template": "dasc7606/q7"}},
		"opens_at":  start, "closes_at": start.Add(3 * time.Hour), "roster": roster,
	}, 201, &e)
	if e.Delivery != delivery {
		t.Fatalf("delivery %q, want %q", e.Delivery, delivery)
	}
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/publish", e.ID), prof, nil, 200, nil)
	var roster2 struct {
		Students []*marksmith.User `json:"students"`
	}
	h.call("GET", fmt.Sprintf("/api/v1/exams/%d/roster", e.ID), prof, nil, 200, &roster2)
	entries := roster2.Students
	codes := map[string]string{}
	for _, r := range entries {
		code, err := paper.Code(e.ID, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		codes[r.StudentKey] = code.String()
	}
	if len(codes) != 3 {
		t.Fatalf("roster %+v", entries)
	}
	return &e, codes
}

// TestPapersRoute checks who may print an exam's papers and what each
// bad request gets, on HTML (no browser needed).
func TestPapersRoute(t *testing.T) {
	h := newHarness(t, withBank, func(c *harnessConfig) { c.http.PrintStudents = 2 })
	e, codes := paperExam(t, h, marksmith.DeliveryPaper)
	online, _ := paperExam(t, h, marksmith.DeliveryOnline)
	other := h.seedUser("other@example.edu", marksmith.RoleInstructor, testPassword)
	path := func(id int64, q string) string { return fmt.Sprintf("/api/v1/exams/%d/papers?%s", id, q) }

	// A student of a paper-only exam cannot start it online.
	student := h.login("paper-s1@example.edu", testPassword).AccessToken
	resp := h.call("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", e.ID), student, nil, 409, nil)
	if msg := resp.err(t).Message; !strings.Contains(msg, "on paper") {
		t.Errorf("start a paper exam: %q", msg)
	}

	for _, c := range []struct {
		name, token, path string
		status            int
		want              string // in the body
	}{
		{"the instructor, the class", h.tokenFor(h.instructor), path(e.ID, "format=html"), 200, ""},
		{"an admin, keys", h.tokenFor(h.admin), path(e.ID, "format=html&key=true"), 200, "Summary"},
		{"one student by number", h.tokenFor(h.instructor), path(e.ID, "format=html&student=3035013"), 200, codes["3035013"]},
		{"one student by email", h.tokenFor(h.instructor), path(e.ID, "format=html&student="+url.QueryEscape("paper-s2@example.edu")), 200, codes["3035012"]},
		{"another instructor", h.tokenFor(other), path(e.ID, "format=html"), 404, "not found"},
		{"a student", student, path(e.ID, "format=html"), 403, ""},
		{"a student of the exam, own paper", student, path(e.ID, "format=html&student=3035011"), 403, ""},
		{"no token", "", path(e.ID, "format=html"), 401, ""},
		{"no such exam", h.tokenFor(h.admin), path(e.ID+100, "format=html"), 404, ""},
		{"not on the roster", h.tokenFor(h.instructor), path(e.ID, "format=html&student=999"), 404, "999"},
		{"an unknown format", h.tokenFor(h.instructor), path(e.ID, "format=docx"), 400, "format"},
		{"key not a bool", h.tokenFor(h.instructor), path(e.ID, "format=html&key=maybe"), 400, "key"},
		{"papers of an online exam", h.tokenFor(h.instructor), path(online.ID, "format=html"), 409, "online"},
		{"keys of an online exam", h.tokenFor(h.instructor), path(online.ID, "format=html&key=true"), 200, ""},
		{"a class over the PDF limit", h.tokenFor(h.instructor), path(e.ID, "format=pdf"), 413, "more than the 2"},
		{"a PDF without a browser", h.tokenFor(h.instructor), path(e.ID, "format=pdf&student=3035011"), 503, "Chromium"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := h.do(request{method: "GET", path: c.path, token: c.token})
			if resp.status != c.status {
				t.Fatalf("status %d, want %d: %.300s", resp.status, c.status, resp.body)
			}
			if c.want != "" && !strings.Contains(string(resp.body), c.want) {
				t.Errorf("body lacks %q: %.300s", c.want, resp.body)
			}
			if c.status != 200 {
				return
			}
			if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q", ct)
			}
			if cd := resp.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=") {
				t.Errorf("Content-Disposition %q", cd)
			}
		})
	}

	// The class's page holds every student's paper code, and no key.
	resp = h.call("GET", path(e.ID, "format=html"), h.tokenFor(h.instructor), nil, 200, nil)
	for number, code := range codes {
		if !strings.Contains(string(resp.body), code) || !strings.Contains(string(resp.body), number) {
			t.Errorf("class page lacks %s (%s)", code, number)
		}
	}
	if strings.Contains(string(resp.body), "Summary of keys") {
		t.Error("a question paper holds the summary of keys")
	}
}

// pdfText is the text of a PDF, by pdftotext.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "p.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// TestPapersPDF prints a class's papers as one PDF and as a zip with
// Chromium and reads each student's paper code back.
func TestPapersPDF(t *testing.T) {
	testenv.Tools(t, "apt-get install chromium poppler-utils", "chromium", "pdftotext")
	printer := paper.NewOnDemand(paper.PrinterOptions{})
	t.Cleanup(func() { printer.Close() })
	h := newHarness(t, withBank, func(c *harnessConfig) { c.wrap = func(d *Deps) { d.Printer = printer } })
	e, codes := paperExam(t, h, marksmith.DeliveryBoth)
	prof := h.tokenFor(h.instructor)

	resp := h.call("GET", fmt.Sprintf("/api/v1/exams/%d/papers", e.ID), prof, nil, 200, nil)
	if ct := resp.header.Get("Content-Type"); ct != "application/pdf" || !bytes.HasPrefix(resp.body, []byte("%PDF-")) {
		t.Fatalf("Content-Type %q, body %.20q", ct, resp.body)
	}
	text := pdfText(t, resp.body)
	for number, code := range codes {
		if !strings.Contains(text, code) || !strings.Contains(text, number) {
			t.Errorf("the class's PDF lacks %s (%s)", code, number)
		}
	}

	resp = h.call("GET", fmt.Sprintf("/api/v1/exams/%d/papers?format=zip&key=true", e.ID), prof, nil, 200, nil)
	zr, err := zip.NewReader(bytes.NewReader(resp.body), int64(len(resp.body)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	for number, code := range codes {
		name := "key-" + code + "_" + number + ".pdf"
		if !names[name] {
			t.Errorf("the zip lacks %s: %v", name, names)
		}
	}
}
