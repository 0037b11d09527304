package api

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/exams"
	"github.com/marksmith/marksmith/internal/testenv"
	"github.com/marksmith/marksmith/paper"
)

// stepPrinter prints a stand-in for a PDF, a line per student, reporting
// four pages a student; it waits for a value on step before each student.
type stepPrinter struct{ step chan struct{} }

func (p *stepPrinter) PrintPapers(ctx context.Context, w io.Writer, ep *marksmith.ExamPapers, format string, progress func(done, total, pages int)) (int, error) {
	fmt.Fprintf(w, "%%PDF-stand-in %s exam %d\n", format, ep.Exam.ID)
	for i, sp := range ep.Students {
		select {
		case <-p.step:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		fmt.Fprintf(w, "%s %s\n", sp.Number, sp.Name)
		progress(i+1, len(ep.Students), 4*(i+1))
	}
	return 4 * len(ep.Students), nil
}

// pollPrintJob polls a print job until it is done or failed, checking
// that its progress never goes back, and returns it with the distinct
// counts of students seen printed.
func pollPrintJob(t *testing.T, h *harness, token, path string, limit time.Duration, between func()) (marksmith.PrintJob, []int) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var job marksmith.PrintJob
	var seen []int
	lastDone, lastPages := 0, 0
	for {
		h.call("GET", path, token, nil, 200, &job)
		if job.Done < lastDone || job.Pages < lastPages {
			t.Fatalf("progress went back: %d students, %d pages after %d, %d", job.Done, job.Pages, lastDone, lastPages)
		}
		if job.Done > lastDone || len(seen) == 0 {
			seen = append(seen, job.Done)
		}
		lastDone, lastPages = job.Done, job.Pages
		if job.Status == marksmith.JobDone || job.Status == marksmith.JobFailed {
			return job, seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still %s after %v: %+v", job.Status, limit, job)
		}
		if between != nil {
			between()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPrintJobRoutes drives the three routes with a stand-in printer: who
// may start, read and download a job, what a bad request gets, the
// progress as the job prints, the file, a full queue and a job whose
// server died.
func TestPrintJobRoutes(t *testing.T) {
	printer := &stepPrinter{step: make(chan struct{})}
	h := newHarness(t, withBank, func(c *harnessConfig) {
		c.print = func(o *exams.PrintOptions) {
			o.Printer, o.Poll, o.ProgressEvery, o.MaxQueued = printer, 10*time.Millisecond, time.Millisecond, 3
		}
	})
	e, codes := paperExam(t, h, marksmith.DeliveryPaper)
	online, _ := paperExam(t, h, marksmith.DeliveryOnline)
	other := h.seedUser("other@example.edu", marksmith.RoleInstructor, testPassword)
	var draft marksmith.Exam
	h.call("POST", "/api/v1/exams", h.tokenFor(h.instructor), map[string]any{"title": "Draft",
		"questions": []map[string]any{{"template": "dasc7606/q7"}}, "delivery": "paper",
		"opens_at": h.clock.Now(), "closes_at": h.clock.Now().Add(time.Hour)}, 201, &draft)
	prof, admin := h.tokenFor(h.instructor), h.tokenFor(h.admin)
	student := h.login("paper-s1@example.edu", testPassword).AccessToken
	jobs := fmt.Sprintf("/api/v1/exams/%d/papers/jobs", e.ID)

	// The class's papers, as one PDF: queued, with its URL.
	resp := h.call("POST", jobs, prof, nil, 202, nil)
	var job marksmith.PrintJob
	resp.decode(t, &job)
	path := printJobPath(e.ID, job.ID)
	if resp.header.Get("Location") != path || resp.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", resp.header)
	}
	if job.Status != marksmith.JobQueued || job.Total != 3 || job.Done != 0 || job.Format != "pdf" || job.Key ||
		job.QueuePosition != 1 || job.RequestedBy != h.instructor.ID || job.ExamID != e.ID {
		t.Fatalf("queued %+v", job)
	}
	// Asked again, by an admin, with a body: the same job.
	var again marksmith.PrintJob
	h.call("POST", jobs, admin, map[string]any{"format": "pdf"}, 202, &again)
	if again.ID != job.ID {
		t.Errorf("the same print again is job %d, want %d", again.ID, job.ID)
	}

	for _, c := range []struct {
		name, method, path, token string
		contentType, body         string
		status                    int
		want                      string   // in the body
		fields                    []string // named in details
	}{
		{"no token", "POST", jobs, "", "", "", 401, "", nil},
		{"a student", "POST", jobs, student, "", "", 403, "", nil},
		{"another instructor", "POST", jobs, h.tokenFor(other), "", "", 404, "not found", nil},
		{"no such exam", "POST", fmt.Sprintf("/api/v1/exams/%d/papers/jobs", e.ID+100), admin, "", "", 404, "", nil},
		{"a draft", "POST", fmt.Sprintf("/api/v1/exams/%d/papers/jobs", draft.ID), prof, "", "", 409, "publish it first", nil},
		{"papers of an online exam", "POST", fmt.Sprintf("/api/v1/exams/%d/papers/jobs", online.ID), prof, "", "", 409, "online", nil},
		{"not on the roster", "POST", jobs + "?student=999", prof, "", "", 404, "999", nil},
		{"key not a bool", "POST", jobs + "?key=maybe", prof, "", "", 400, "", []string{"key"}},
		{"format docx and key maybe", "POST", jobs + "?format=docx&key=maybe", prof, "", "", 400, "", []string{"key", "format"}},
		{"format html", "POST", jobs + "?format=html", prof, "", "", 400, "GET /api/v1/exams/{id}/papers?format=html", []string{"format"}},
		{"a body with html", "POST", jobs, prof, "application/json", `{"format":"html"}`, 422, "", []string{"format"}},
		{"a body with a long student", "POST", jobs, prof, "application/json", `{"student":"` + strings.Repeat("x", 255) + `"}`, 422, "254", []string{"student"}},
		{"a body with an unknown field", "POST", jobs, prof, "application/json", `{"copies":2}`, 400, "copies", nil},
		{"a body not JSON", "POST", jobs, prof, "text/plain", `format=zip`, 400, "application/json", nil},
		{"query and body", "POST", jobs + "?key=true", prof, "application/json", `{"format":"zip"}`, 400, "not both", nil},
		{"the job, no token", "GET", path, "", "", "", 401, "", nil},
		{"the job, a student", "GET", path, student, "", "", 403, "", nil},
		{"the job, another instructor", "GET", path, h.tokenFor(other), "", "", 404, "", nil},
		{"the job through another exam", "GET", printJobPath(online.ID, job.ID), prof, "", "", 404, "not found", nil},
		{"no such job", "GET", printJobPath(e.ID, job.ID+100), prof, "", "", 404, "", nil},
		{"job 0", "GET", printJobPath(e.ID, 0), prof, "", "", 400, "", []string{"job"}},
		{"the file, queued", "GET", path + "/file", prof, "", "", 409, "waiting to be printed", nil},
		{"the file, a student", "GET", path + "/file", student, "", "", 403, "", nil},
		{"the file, another instructor", "GET", path + "/file", h.tokenFor(other), "", "", 404, "", nil},
		{"the file through another exam", "GET", printJobPath(online.ID, job.ID) + "/file", admin, "", "", 404, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			defer func() { h.t = t }()
			resp := h.do(request{method: c.method, path: c.path, token: c.token, contentType: c.contentType, body: []byte(c.body)})
			if resp.status != c.status {
				t.Fatalf("status %d, want %d: %s", resp.status, c.status, resp.body)
			}
			if c.want != "" && !strings.Contains(string(resp.body), c.want) {
				t.Errorf("body lacks %q: %s", c.want, resp.body)
			}
			if c.fields != nil {
				if got := resp.fields(t); strings.Join(got, ",") != strings.Join(c.fields, ",") {
					t.Errorf("fields %v, want %v", got, c.fields)
				}
			}
		})
	}
	h.t = t
	if n, _ := h.store.QueuedPrintJobs(t.Context(), 0); n != 1 {
		t.Fatalf("%d jobs queued, want the one", n)
	}

	// The keys of one student, as a zip: a second job, second in line.
	var keys marksmith.PrintJob
	h.call("POST", jobs+"?student=3035012&format=zip&key=true", prof, nil, 202, &keys)
	if keys.ID == job.ID || keys.Total != 1 || keys.QueuePosition != 2 || keys.Student != "3035012" || !keys.Key {
		t.Fatalf("keys job %+v", keys)
	}

	// Printed, a student at a time: the progress only grows, and the
	// file comes once the job is done.
	h.runPrintJobs()
	step := func() {
		select {
		case printer.step <- struct{}{}:
		default:
		}
	}
	done, seen := pollPrintJob(t, h, prof, path, 10*time.Second, step)
	if done.Status != marksmith.JobDone || done.Done != 3 || done.Pages != 12 || done.FinishedAt == nil || done.StartedAt == nil ||
		done.ExpiresAt == nil || done.FileName != fmt.Sprintf("exam-%d-papers.pdf", e.ID) || done.Error != "" {
		t.Fatalf("done %+v", done)
	}
	if len(seen) < 2 || seen[len(seen)-1] != 3 {
		t.Errorf("progress seen %v: the job went from queued to done unseen", seen)
	}
	resp = h.call("GET", path+"/file", prof, nil, 200, nil)
	if ct, cd := resp.header.Get("Content-Type"), resp.header.Get("Content-Disposition"); ct != "application/pdf" ||
		cd != fmt.Sprintf("attachment; filename=exam-%d-papers.pdf", e.ID) {
		t.Errorf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	if n, _ := strconv.Atoi(resp.header.Get("Content-Length")); n != len(resp.body) || int64(n) != done.Bytes {
		t.Errorf("Content-Length %q, body %d bytes, job %d bytes", resp.header.Get("Content-Length"), len(resp.body), done.Bytes)
	}
	want := fmt.Sprintf("%%PDF-stand-in pdf exam %d\n3035011 Student 1\n3035012 Student 2\n3035013 Student 3\n", e.ID)
	if string(resp.body) != want {
		t.Errorf("file %q, want %q", resp.body, want)
	}
	keysDone, _ := pollPrintJob(t, h, admin, printJobPath(e.ID, keys.ID), 10*time.Second, step)
	resp = h.call("GET", printJobPath(e.ID, keys.ID)+"/file", admin, nil, 200, nil)
	if ct, cd := resp.header.Get("Content-Type"), resp.header.Get("Content-Disposition"); ct != "application/zip" ||
		cd != fmt.Sprintf("attachment; filename=key-exam-%d-%s.zip", e.ID, codes["3035012"]) || keysDone.Pages != 4 {
		t.Errorf("keys file: Content-Type %q, Content-Disposition %q, %d pages", ct, cd, keysDone.Pages)
	}

	// A full queue (3 here) is 503 with a time to retry. (The worker
	// takes the first of these and waits on the stand-in printer.)
	refused := false
	for _, q := range []string{"?format=zip", "?key=true", "?student=3035011", "?student=3035013", "?student=3035012&format=zip"} {
		resp := h.do(request{method: "POST", path: jobs + q, token: prof})
		if resp.status == 202 {
			continue
		}
		if n, _ := h.store.QueuedPrintJobs(t.Context(), 0); resp.status != 503 || n != 3 || resp.header.Get("Retry-After") != "60" ||
			!strings.Contains(resp.err(t).Message, "queue is full (3 jobs waiting)") {
			t.Errorf("with %d queued: %d %s %s", n, resp.status, resp.header.Get("Retry-After"), resp.body)
		}
		refused = true
		break
	}
	if !refused {
		t.Error("a full queue took another job")
	}
}

// TestPrintJobStale: a job left running by a server that died is failed
// once it has made no progress for the time allowed, and says so; its
// file is refused with the reason.
func TestPrintJobStale(t *testing.T) {
	h := newHarness(t, withBank, func(c *harnessConfig) {
		c.print = func(o *exams.PrintOptions) { o.Printer = &stepPrinter{} }
	})
	e, _ := paperExam(t, h, marksmith.DeliveryPaper)
	prof := h.tokenFor(h.instructor)
	var job marksmith.PrintJob
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/papers/jobs", e.ID), prof, nil, 202, &job)
	// A server claims it and dies (no worker runs here).
	if j, err := h.store.ClaimPrintJob(t.Context(), h.clock.Now()); err != nil || j.ID != job.ID {
		t.Fatalf("claim %+v %v", j, err)
	}
	path := printJobPath(e.ID, job.ID)
	h.clock.Advance(5 * time.Minute)
	h.call("GET", path, prof, nil, 200, &job)
	if job.Status != marksmith.JobRunning || job.ElapsedSeconds != 300 || job.ETASeconds != nil {
		t.Fatalf("running %+v", job)
	}
	// Another instance's sweep, ten minutes without progress later.
	h.clock.Advance(exams.DefaultPrintStale)
	if n, err := h.twin().exams.SweepPrintJobs(t.Context()); err != nil || n != 1 {
		t.Fatalf("swept %d %v", n, err)
	}
	h.call("GET", path, prof, nil, 200, &job)
	if job.Status != marksmith.JobFailed || job.FinishedAt == nil ||
		job.Error != "The server printing this job stopped (no progress for 10m0s): start the job again." {
		t.Fatalf("stale job %+v", job)
	}
	resp := h.call("GET", path+"/file", prof, nil, 409, nil)
	if !strings.Contains(resp.err(t).Message, "failed: The server printing this job stopped") {
		t.Errorf("file of a failed job: %s", resp.body)
	}
	// A new job for the same print is a new job.
	var next marksmith.PrintJob
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/papers/jobs", e.ID), prof, nil, 202, &next)
	if next.ID == job.ID || next.Status != marksmith.JobQueued {
		t.Errorf("after a failure: %+v", next)
	}
}

// TestPrintJobNoPrinter: a server that cannot print refuses a job with
// 503, saying to print the HTML.
func TestPrintJobNoPrinter(t *testing.T) {
	h := newHarness(t, withBank)
	e, _ := paperExam(t, h, marksmith.DeliveryPaper)
	resp := h.call("POST", fmt.Sprintf("/api/v1/exams/%d/papers/jobs", e.ID), h.tokenFor(h.instructor), nil, 503, nil)
	if !strings.Contains(resp.err(t).Message, "format=html") {
		t.Errorf("no printer: %s", resp.body)
	}
}

// TestPrintJobPDF prints a class with Chromium as a job, on SQLite and on
// Postgres, polls it to the end, downloads the file, and reads every
// student's paper code and name back; then the keys as a zip. On Postgres
// a second instance prints what the first queued.
func TestPrintJobPDF(t *testing.T) {
	testenv.Tools(t, "apt-get install chromium poppler-utils", "chromium", "pdftotext")
	// A print a student at a time, so that the progress has steps.
	printer := paper.NewOnDemand(paper.PrinterOptions{Batch: 1})
	t.Cleanup(func() { printer.Close() })
	for _, db := range []struct {
		name string
		opt  harnessOption
	}{{"sqlite", dialect("sqlite")}, {"postgres", onPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			h := newHarness(t, withBank, db.opt, func(c *harnessConfig) {
				c.print = func(o *exams.PrintOptions) {
					o.Printer, o.Poll, o.ProgressEvery = printer, 50*time.Millisecond, 10*time.Millisecond
				}
			})
			printing := h
			if db.name == "postgres" {
				printing = h.twin()
			}
			printing.runPrintJobs()
			e, codes := paperExam(t, h, marksmith.DeliveryBoth)
			prof := h.tokenFor(h.instructor)
			jobs := fmt.Sprintf("/api/v1/exams/%d/papers/jobs", e.ID)

			var job marksmith.PrintJob
			h.call("POST", jobs, prof, nil, 202, &job)
			job, seen := pollPrintJob(t, h, prof, printJobPath(e.ID, job.ID), 3*time.Minute, nil)
			if job.Status != marksmith.JobDone || job.Done != 3 || job.Total != 3 {
				t.Fatalf("job %+v", job)
			}
			t.Logf("progress seen: %v; %d pages, %d bytes, %.1f s", seen, job.Pages, job.Bytes, job.ElapsedSeconds)
			resp := h.call("GET", printJobPath(e.ID, job.ID)+"/file", prof, nil, 200, nil)
			if !bytes.HasPrefix(resp.body, []byte("%PDF-")) || int64(len(resp.body)) != job.Bytes {
				t.Fatalf("file: %d bytes, %.20q; job says %d", len(resp.body), resp.body, job.Bytes)
			}
			text := pdfText(t, resp.body)
			for number, code := range codes {
				if !strings.Contains(text, code) || !strings.Contains(text, number) {
					t.Errorf("the PDF lacks %s (%s)", code, number)
				}
			}
			for i := 1; i <= 3; i++ {
				if !strings.Contains(text, fmt.Sprintf("Student %d", i)) {
					t.Errorf("the PDF lacks Student %d's name", i)
				}
			}
			// pdftotext ends every page with a form feed.
			if pages := strings.Count(text, "\f"); pages != job.Pages || pages < 3 {
				t.Errorf("the PDF has %d pages, the job says %d", pages, job.Pages)
			}

			// The keys, one PDF per student and the summary, in a zip.
			h.call("POST", jobs+"?format=zip&key=true", prof, nil, 202, &job)
			job, _ = pollPrintJob(t, h, prof, printJobPath(e.ID, job.ID), 3*time.Minute, nil)
			if job.Status != marksmith.JobDone || job.FileName != fmt.Sprintf("exam-%d-keys.zip", e.ID) {
				t.Fatalf("keys job %+v", job)
			}
			resp = h.call("GET", printJobPath(e.ID, job.ID)+"/file", prof, nil, 200, nil)
			zr, err := zip.NewReader(bytes.NewReader(resp.body), int64(len(resp.body)))
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, f := range zr.File {
				names[f.Name] = true
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				head := make([]byte, 5)
				if _, err := io.ReadFull(rc, head); err != nil || string(head) != "%PDF-" {
					t.Errorf("%s is not a PDF: %q %v", f.Name, head, err)
				}
				rc.Close()
			}
			for number, code := range codes {
				if name := "key-" + code + "_" + number + ".pdf"; !names[name] {
					t.Errorf("the zip lacks %s: %v", name, names)
				}
			}
			if len(names) != 4 || !names["summary.pdf"] {
				t.Errorf("the zip holds %v, want three keys and the summary", names)
			}
		})
	}
}
