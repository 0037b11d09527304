package exams

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/papercode"
)

// fakePrinter prints a line per student, reporting three pages each. With
// step set it waits for a value before each student; with block it
// never reports and waits for its context.
type fakePrinter struct {
	step  chan struct{}
	block bool
	err   error
	panic bool

	mu    sync.Mutex
	calls int
}

func (f *fakePrinter) PrintPapers(ctx context.Context, w io.Writer, ep *marksmith.ExamPapers, format string, progress func(done, total, pages int)) (int, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	switch {
	case f.panic:
		panic("the printer broke")
	case f.err != nil:
		return 0, f.err
	case f.block:
		<-ctx.Done()
		return 0, ctx.Err()
	}
	if _, err := fmt.Fprintf(w, "%s of exam %d, key %v\n", format, ep.Exam.ID, ep.Key); err != nil {
		return 0, err
	}
	for i, sp := range ep.Students {
		if f.step != nil {
			select {
			case <-f.step:
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		if _, err := fmt.Fprintf(w, "%s\n", sp.Number); err != nil {
			return 0, err
		}
		if progress != nil {
			progress(i+1, len(ep.Students), 3*(i+1))
		}
	}
	return 3 * len(ep.Students), nil
}

// printHarness is a harness whose service prints with printer, quickly
// polled, and a paper exam of four students.
func printHarness(t *testing.T, printer marksmith.PaperPrinter) (*harness, *marksmith.Exam) {
	t.Helper()
	h := newHarness(t, 4)
	h.svc.Print = PrintOptions{Printer: printer, Poll: 5 * time.Millisecond, ProgressEvery: time.Millisecond, MaxQueued: 3}
	in := h.input(4)
	in.Delivery = marksmith.DeliveryPaper
	return h, h.published(t, in)
}

// runJobs runs the service's print jobs until the test ends.
func runJobs(t *testing.T, s *Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RunPrintJobs(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// waitJob polls a job until its status is one of want, and returns it.
func waitJob(t *testing.T, h *harness, examID, id int64, want ...string) *marksmith.PrintJob {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := h.svc.FindPrintJob(t.Context(), h.instructor, examID, id)
		if err != nil {
			t.Fatalf("FindPrintJob: %v", err)
		}
		for _, w := range want {
			if j.Status == w {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s (%q), want %v", id, j.Status, j.Error, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestPrintJob queues a job, prints it a student at a time, reads its
// progress as it goes, and reads the finished file.
func TestPrintJob(t *testing.T) {
	printer := &fakePrinter{step: make(chan struct{})}
	h, e := printHarness(t, printer)
	ctx := t.Context()
	job, err := h.svc.StartPrintJob(ctx, h.instructor, e.ID, marksmith.PrintJobInput{})
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != marksmith.JobQueued || job.Format != "pdf" || job.Total != 4 || job.QueuePosition != 1 ||
		job.RequestedBy != h.instructor.ID || !job.CreatedAt.Equal(t0) {
		t.Fatalf("queued %+v", job)
	}
	// The same print asked again is the same job; another is another.
	again, err := h.svc.StartPrintJob(ctx, h.admin, e.ID, marksmith.PrintJobInput{Format: "pdf", Student: "  "})
	if err != nil || again.ID != job.ID {
		t.Fatalf("the same print again: %+v %v, want job %d", again, err, job.ID)
	}
	keys, err := h.svc.StartPrintJob(ctx, h.instructor, e.ID, marksmith.PrintJobInput{Format: "zip", Key: true, Student: " " + h.students[1].StudentKey + " "})
	if err != nil || keys.ID == job.ID || keys.Total != 1 || keys.QueuePosition != 2 || keys.Student != h.students[1].StudentKey {
		t.Fatalf("keys of one student: %+v %v", keys, err)
	}
	_, _, err = h.svc.OpenPrintJobFile(ctx, h.instructor, e.ID, job.ID)
	wantCode(t, "the file of a queued job", err, marksmith.ECONFLICT)

	runJobs(t, h.svc)
	last := -1
	for i := 0; i < 4; i++ {
		printer.step <- struct{}{}
		// The progress is written within a few milliseconds.
		deadline := time.Now().Add(5 * time.Second)
		for {
			j := waitJob(t, h, e.ID, job.ID, marksmith.JobRunning, marksmith.JobDone)
			if j.Done < last {
				t.Fatalf("progress went back from %d to %d", last, j.Done)
			}
			last = j.Done
			if j.Done == i+1 {
				if j.Status == marksmith.JobRunning && (j.Pages != 3*(i+1) || j.StartedAt == nil) {
					t.Errorf("running %+v", j)
				}
				if j.Status == marksmith.JobRunning && i < 3 && (j.ETASeconds == nil || *j.ETASeconds != 0) {
					t.Errorf("no ETA while running (the clock stands still: 0): %+v", j.ETASeconds)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("progress stuck at %d, want %d", j.Done, i+1)
			}
			time.Sleep(time.Millisecond)
		}
		if i == 1 {
			_, _, err = h.svc.OpenPrintJobFile(ctx, h.instructor, e.ID, job.ID)
			if err == nil || !strings.Contains(marksmith.ErrorMessage(err), "printing: 2 of 4 students") {
				t.Errorf("the file of a running job: %v", err)
			}
		}
	}
	done := waitJob(t, h, e.ID, job.ID, marksmith.JobDone)
	if done.Done != 4 || done.Pages != 12 || done.FileName != fmt.Sprintf("exam-%d-papers.pdf", e.ID) ||
		done.FinishedAt == nil || done.ExpiresAt == nil || !done.ExpiresAt.Equal(done.FinishedAt.Add(DefaultPrintKeep)) {
		t.Fatalf("done %+v", done)
	}
	got, r, err := h.svc.OpenPrintJobFile(ctx, h.admin, e.ID, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	r.Close()
	// In student-number order: student numbers, then emails for those
	// without one.
	want := fmt.Sprintf("pdf of exam %d, key false\n%s\n%s\n%s\n%s\n", e.ID,
		h.students[1].StudentKey, h.students[3].StudentKey, h.students[0].Email, h.students[2].Email)
	if err != nil || string(b) != want || got.Bytes != int64(len(want)) {
		t.Errorf("file %q (%d bytes, %v), want %q", b, got.Bytes, err, want)
	}

	printer.step <- struct{}{}
	k := waitJob(t, h, e.ID, keys.ID, marksmith.JobDone)
	code, err := papercode.New(e.ID, h.students[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if k.FileName != fmt.Sprintf("key-exam-%d-%s.zip", e.ID, code) || k.Total != 1 || k.Pages != 3 {
		t.Errorf("keys job %+v", k)
	}

	// Another instructor does not see the job; a job of another exam is
	// not this exam's.
	_, err = h.svc.FindPrintJob(ctx, h.other, e.ID, job.ID)
	wantCode(t, "another instructor", err, marksmith.ENOTFOUND)
	other := h.published(t, h.input(1))
	_, err = h.svc.FindPrintJob(ctx, h.instructor, other.ID, job.ID)
	wantCode(t, "a job through another exam", err, marksmith.ENOTFOUND)

	// A day later the job and its file are gone.
	h.clock.set(t0.Add(DefaultPrintKeep + time.Second))
	if _, err := h.svc.SweepPrintJobs(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.FindPrintJob(ctx, h.instructor, e.ID, job.ID)
	wantCode(t, "an expired job", err, marksmith.ENOTFOUND)
}

// TestStartPrintJobRefusals checks what a job is refused for, and that
// a refusal queues nothing.
func TestStartPrintJobRefusals(t *testing.T) {
	h, e := printHarness(t, &fakePrinter{})
	ctx := t.Context()
	online := h.published(t, h.input(2))
	draft, err := h.svc.CreateExam(ctx, h.instructor, h.input(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		actor *marksmith.User
		exam  int64
		in    marksmith.PrintJobInput
		code  string
		msg   string
	}{
		{"a student", h.students[0], e.ID, marksmith.PrintJobInput{}, marksmith.EFORBIDDEN, "Only instructors"},
		{"another instructor", h.other, e.ID, marksmith.PrintJobInput{}, marksmith.ENOTFOUND, "not found"},
		{"no such exam", h.admin, e.ID + 100, marksmith.PrintJobInput{}, marksmith.ENOTFOUND, "not found"},
		{"a draft", h.instructor, draft.ID, marksmith.PrintJobInput{}, marksmith.ECONFLICT, "publish it first"},
		{"papers of an online exam", h.instructor, online.ID, marksmith.PrintJobInput{}, marksmith.ECONFLICT, "online only"},
		{"html", h.instructor, e.ID, marksmith.PrintJobInput{Format: "html"}, marksmith.EUNPROCESSABLE, "format: html is not printed as a job"},
		{"docx", h.instructor, e.ID, marksmith.PrintJobInput{Format: "docx"}, marksmith.EUNPROCESSABLE, "format: must be pdf or zip"},
		{"a long student", h.instructor, e.ID, marksmith.PrintJobInput{Student: strings.Repeat("9", 255)}, marksmith.EUNPROCESSABLE, "longer than 254"},
		{"not on the roster", h.instructor, e.ID, marksmith.PrintJobInput{Student: "nobody"}, marksmith.ENOTFOUND, "not on the roster"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.svc.StartPrintJob(ctx, c.actor, c.exam, c.in)
			if marksmith.ErrorCode(err) != c.code || !strings.Contains(marksmith.ErrorMessage(err), c.msg) {
				t.Errorf("error %v, want %s with %q", err, c.code, c.msg)
			}
		})
	}
	if n, _ := h.store.QueuedPrintJobs(ctx, 0); n != 0 {
		t.Errorf("refusals queued %d jobs", n)
	}
	// Keys of an online exam print.
	if _, err := h.svc.StartPrintJob(ctx, h.instructor, online.ID, marksmith.PrintJobInput{Key: true}); err != nil {
		t.Errorf("keys of an online exam: %v", err)
	}

	// Too many students for a job.
	h.svc.Print.MaxStudents = 3
	_, err = h.svc.StartPrintJob(ctx, h.instructor, e.ID, marksmith.PrintJobInput{})
	wantCode(t, "over the students of a job", err, marksmith.ETOOLARGE)
	h.svc.Print.MaxStudents = 0

	// A full queue (3 here): refused with a time to retry.
	for _, in := range []marksmith.PrintJobInput{{}, {Format: "zip"}} {
		if _, err := h.svc.StartPrintJob(ctx, h.instructor, e.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	_, err = h.svc.StartPrintJob(ctx, h.instructor, e.ID, marksmith.PrintJobInput{Key: true})
	var me *marksmith.Error
	if !errors.As(err, &me) || me.Code != marksmith.EUNAVAILABLE || me.RetryAfter <= 0 || !strings.Contains(me.Message, "queue is full") {
		t.Errorf("a full queue: %v", err)
	}

	// A server that cannot print.
	h.svc.Print.Printer = nil
	_, err = h.svc.StartPrintJob(ctx, h.instructor, e.ID, marksmith.PrintJobInput{Student: h.students[0].Email})
	wantCode(t, "no printer", err, marksmith.EUNAVAILABLE)
}

// TestPrintJobFailures: a job that cannot be printed ends failed, with a
// message a user can act on, whatever went wrong; a job whose server
// stops is queued again.
func TestPrintJobFailures(t *testing.T) {
	for _, c := range []struct {
		name    string
		printer *fakePrinter
		opt     func(*PrintOptions)
		want    string
	}{
		{"no Chromium", &fakePrinter{err: marksmith.Errorf(marksmith.EUNAVAILABLE, "This server cannot print PDFs (no Chromium).")}, nil,
			"This server cannot print PDFs (no Chromium)."},
		{"a fault of ours", &fakePrinter{err: errors.New("chromium: websocket closed")}, nil, printJobInternal},
		{"a panic", &fakePrinter{panic: true}, nil, printJobInternal},
		{"no progress", &fakePrinter{block: true}, func(o *PrintOptions) { o.Stale = 50 * time.Millisecond }, "made no progress for 50ms"},
		{"too large", &fakePrinter{}, func(o *PrintOptions) { o.MaxBytes = 10 }, "larger than 10 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, e := printHarness(t, c.printer)
			if c.opt != nil {
				c.opt(&h.svc.Print)
			}
			job, err := h.svc.StartPrintJob(t.Context(), h.instructor, e.ID, marksmith.PrintJobInput{})
			if err != nil {
				t.Fatal(err)
			}
			runJobs(t, h.svc)
			j := waitJob(t, h, e.ID, job.ID, marksmith.JobFailed, marksmith.JobDone)
			if j.Status != marksmith.JobFailed || !strings.Contains(j.Error, c.want) || j.FinishedAt == nil {
				t.Errorf("job %s %q, want failed %q", j.Status, j.Error, c.want)
			}
			_, _, err = h.svc.OpenPrintJobFile(t.Context(), h.instructor, e.ID, job.ID)
			if marksmith.ErrorCode(err) != marksmith.ECONFLICT || !strings.Contains(marksmith.ErrorMessage(err), c.want) {
				t.Errorf("the file of a failed job: %v", err)
			}
		})
	}

	t.Run("unpublished since", func(t *testing.T) {
		h, e := printHarness(t, &fakePrinter{})
		job, err := h.svc.StartPrintJob(t.Context(), h.instructor, e.ID, marksmith.PrintJobInput{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Unpublish(t.Context(), h.instructor, e.ID); err != nil {
			t.Fatal(err)
		}
		runJobs(t, h.svc)
		j := waitJob(t, h, e.ID, job.ID, marksmith.JobFailed, marksmith.JobDone)
		if j.Status != marksmith.JobFailed || !strings.Contains(j.Error, "is a draft: publish it first") {
			t.Errorf("job %s %q", j.Status, j.Error)
		}
	})

	t.Run("server stops", func(t *testing.T) {
		printer := &fakePrinter{step: make(chan struct{})}
		h, e := printHarness(t, printer)
		job, err := h.svc.StartPrintJob(t.Context(), h.instructor, e.ID, marksmith.PrintJobInput{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			h.svc.RunPrintJobs(ctx)
		}()
		printer.step <- struct{}{}
		waitJob(t, h, e.ID, job.ID, marksmith.JobRunning)
		cancel()
		<-stopped
		j := waitJob(t, h, e.ID, job.ID, marksmith.JobQueued)
		if j.Done != 0 || j.StartedAt != nil || j.FinishedAt != nil {
			t.Errorf("queued again %+v", j)
		}
		// Another server prints it.
		close(printer.step)
		runJobs(t, h.svc)
		waitJob(t, h, e.ID, job.ID, marksmith.JobDone)
	})
}

// TestStalePrintJobs: a job left running by a server that died fails
// once it has made no progress for Stale, and one nobody takes from the
// queue within QueueTimeout; a server still printing a job failed so
// stops.
func TestStalePrintJobs(t *testing.T) {
	printer := &fakePrinter{step: make(chan struct{})}
	h, e := printHarness(t, printer)
	ctx := t.Context()
	dead, err := h.svc.StartPrintJob(ctx, h.instructor, e.ID, marksmith.PrintJobInput{})
	if err != nil {
		t.Fatal(err)
	}
	waiting, err := h.svc.StartPrintJob(ctx, h.instructor, e.ID, marksmith.PrintJobInput{Format: "zip"})
	if err != nil {
		t.Fatal(err)
	}
	// A server claims the first job and dies.
	if j, err := h.store.ClaimPrintJob(ctx, t0); err != nil || j.ID != dead.ID {
		t.Fatalf("claim %+v %v", j, err)
	}
	h.clock.set(t0.Add(DefaultPrintStale - time.Second))
	if n, err := h.svc.SweepPrintJobs(ctx); err != nil || n != 0 {
		t.Fatalf("swept %d %v before the job is stale", n, err)
	}
	h.clock.set(t0.Add(DefaultPrintStale + time.Second))
	if n, err := h.svc.SweepPrintJobs(ctx); err != nil || n != 1 {
		t.Fatalf("swept %d %v, want the dead server's job", n, err)
	}
	j := waitJob(t, h, e.ID, dead.ID, marksmith.JobFailed)
	if j.Error != "The server printing this job stopped (no progress for 10m0s): start the job again." {
		t.Errorf("stale job's error %q", j.Error)
	}
	h.clock.set(t0.Add(DefaultPrintQueueTimeout + time.Second))
	if n, err := h.svc.SweepPrintJobs(ctx); err != nil || n != 1 {
		t.Fatalf("swept %d %v, want the job nobody took", n, err)
	}
	j = waitJob(t, h, e.ID, waiting.ID, marksmith.JobFailed)
	if !strings.Contains(j.Error, "No server started printing this job within 1h0m0s") {
		t.Errorf("queued job's error %q", j.Error)
	}

	// A server printing a job that a sweep failed (it seemed dead) stops
	// and leaves the job failed.
	h.clock.set(t0.Add(2 * DefaultPrintQueueTimeout))
	slow, err := h.svc.StartPrintJob(ctx, h.instructor, e.ID, marksmith.PrintJobInput{})
	if err != nil {
		t.Fatal(err)
	}
	runJobs(t, h.svc)
	printer.step <- struct{}{}
	waitJob(t, h, e.ID, slow.ID, marksmith.JobRunning)
	h.clock.set(t0.Add(2*DefaultPrintQueueTimeout + DefaultPrintStale + time.Second))
	if n, err := h.svc.SweepPrintJobs(ctx); err != nil || n != 1 {
		t.Fatalf("swept %d %v", n, err)
	}
	// The next student's progress finds the job failed; or the first
	// student's already did, when it came after the sweep, and the print
	// has stopped without waiting for another step.
	select {
	case printer.step <- struct{}{}:
	case <-time.After(2 * time.Second):
	}
	// The server stops that print and takes the next job.
	next, err := h.svc.StartPrintJob(ctx, h.instructor, e.ID, marksmith.PrintJobInput{Format: "zip"})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, h, e.ID, next.ID, marksmith.JobRunning)
	close(printer.step)
	waitJob(t, h, e.ID, next.ID, marksmith.JobDone)
	j = waitJob(t, h, e.ID, slow.ID, marksmith.JobFailed)
	if !strings.Contains(j.Error, "stopped (no progress") || j.Bytes != 0 {
		t.Errorf("the failed job was overwritten: %+v", j)
	}
}
