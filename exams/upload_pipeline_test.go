package exams

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/marksmith/marksmith"
)

// Batches are graded while the one before is written: the results are
// those of one batch at a time.
func TestUploadSmallBatchesSQLite(t *testing.T) {
	h := newHarness(t, 6)
	h.svc.UploadBatch = 2
	testUpload(t, h)
}

func TestUploadSmallBatchesPostgres(t *testing.T) {
	h := setupHarness(t, openPostgres(t), 6)
	h.svc.UploadBatch = 1
	testUpload(t, h)
}

// syncBuffer is a log written from the job's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// everyone is an upload of every student of h answering 1.a with 1, one
// row each, in order (lines 2, 3, …).
func everyone(h *harness) string {
	var b strings.Builder
	b.WriteString("student,1.a\n")
	for _, s := range h.students {
		fmt.Fprintf(&b, "%s,1\n", s.Email)
	}
	return b.String()
}

// runUpload uploads body and waits for the job, whatever its end.
func runUpload(t *testing.T, h *harness, examID int64, body string) *marksmith.SubmissionJob {
	t.Helper()
	j, err := h.svc.UploadSubmissions(t.Context(), h.instructor, examID, marksmith.SubmissionUpload{Body: strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	h.svc.WaitJobs()
	if j, err = h.svc.FindSubmissionJob(t.Context(), h.instructor, examID, j.ID); err != nil {
		t.Fatal(err)
	}
	return j
}

// stoodAfter checks that exactly the first n students have an attempt and
// that the results file has their lines only.
func stoodAfter(t *testing.T, h *harness, e *marksmith.Exam, j *marksmith.SubmissionJob, n int) {
	t.Helper()
	for i, s := range h.students {
		_, err := h.exams.FindAttempt(t.Context(), e.ID, s.ID)
		if has := err == nil; has != (i < n) {
			t.Errorf("student %d (line %d): attempt %v, want one: %v", i+1, i+2, err, i < n)
		}
	}
	res := h.results(t, e.ID, j.ID)
	if len(res) != n+1 {
		t.Fatalf("results:\n%s", strings.Join(res, "\n"))
	}
	for i, line := range res[1:] {
		if !strings.HasPrefix(line, fmt.Sprintf("%d,%s,,graded,", i+2, h.students[i].Email)) {
			t.Errorf("results line %d = %q", i+2, line)
		}
	}
}

// A paper that cannot be read stops the job in the batch of its row: the
// batches before it are written (the one being written as it was graded
// too), nothing after it, and the log names the row.
func TestUploadStopsAtAnUnreadablePaper(t *testing.T) {
	h := newHarness(t, 6)
	var log syncBuffer
	h.svc.logger = slog.New(slog.NewTextHandler(&log, nil))
	e := h.published(t, h.input(6))
	if _, err := h.db.SQLDB().ExecContext(t.Context(), `UPDATE papers SET variant = '{"parts": [' WHERE exam_id = ? AND user_id = ?`,
		e.ID, h.students[3].ID); err != nil {
		t.Fatal(err)
	}
	h.svc.UploadBatch = 2 // lines 2-3, 4-5 (line 5: the unreadable paper), 6-7
	j := runUpload(t, h, e.ID, everyone(h))
	if j.Status != marksmith.JobFailed || j.RowsRead != 2 || j.Graded != 2 || !strings.Contains(j.Error, "rows before it stand") {
		t.Fatalf("job %+v", j)
	}
	stoodAfter(t, h, e, j, 2)
	if !strings.Contains(log.String(), "line 5: ") {
		t.Errorf("log:\n%s", log.String())
	}
}

// failingWrites fails the nth write of paper attempts, or panics in it.
type failingWrites struct {
	marksmith.Store
	mu     sync.Mutex
	n      int
	calls  int
	panics bool
}

func (s *failingWrites) SavePaperAttempts(ctx context.Context, attempts []*marksmith.PaperAttempt, audit []*marksmith.AuditEntry) error {
	s.mu.Lock()
	s.calls++
	fail := s.calls == s.n
	s.mu.Unlock()
	if fail && s.panics {
		panic("disk on fire")
	}
	if fail {
		return errors.New("disk full")
	}
	return s.Store.SavePaperAttempts(ctx, attempts, audit)
}

// A batch that cannot be written stops the job: the batches before it
// stand, and the one graded meanwhile is not written.
func TestUploadStopsAtAFailedWrite(t *testing.T) {
	h := newHarness(t, 6)
	e := h.published(t, h.input(6))
	fs := &failingWrites{Store: h.store, n: 2}
	h.svc.store = fs
	h.svc.UploadBatch = 2
	j := runUpload(t, h, e.ID, everyone(h))
	if j.Status != marksmith.JobFailed || j.RowsRead != 2 || j.Graded != 2 {
		t.Fatalf("job %+v", j)
	}
	stoodAfter(t, h, e, j, 2)
	if fs.calls != 2 {
		t.Errorf("%d writes of attempts, want 2 (the third batch is not written)", fs.calls)
	}

	// Written again in full, the upload leaves the first rows unchanged.
	fs.n = 0
	j = runUpload(t, h, e.ID, everyone(h))
	if j.Status != marksmith.JobDone || j.RowsRead != 6 || j.Unchanged != 2 || j.Graded != 4 {
		t.Fatalf("again: job %+v", j)
	}
}

// A panic while a batch is written fails the job like any error there.
func TestUploadPanicInAWrite(t *testing.T) {
	h := newHarness(t, 6)
	e := h.published(t, h.input(6))
	h.svc.store = &failingWrites{Store: h.store, n: 2, panics: true}
	h.svc.UploadBatch = 2
	j := runUpload(t, h, e.ID, everyone(h))
	if j.Status != marksmith.JobFailed || j.RowsRead != 2 || !strings.Contains(j.Error, "internal error") {
		t.Fatalf("job %+v", j)
	}
	stoodAfter(t, h, e, j, 2)
}
