package storage

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// TestPrintJobLifecycle queues jobs, claims them (each once, oldest
// first), records progress, stores a file of several pieces and reads it
// back, and checks that a job no longer running takes no more writes.
func TestPrintJobLifecycle(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		s := NewPrintJobStore(db)
		ctx := t.Context()
		queue := func(in marksmith.PrintJobInput) *marksmith.PrintJob {
			t.Helper()
			j := &marksmith.PrintJob{ExamID: f.exam.ID, RequestedBy: f.instructor.ID, Student: in.Student, Format: in.Format,
				Key: in.Key, Status: marksmith.JobQueued, Total: 3}
			if err := s.CreatePrintJob(ctx, j); err != nil {
				t.Fatal(err)
			}
			return j
		}
		a := queue(marksmith.PrintJobInput{Format: "pdf"})
		b := queue(marksmith.PrintJobInput{Format: "zip", Key: true, Student: "3035000001"})
		if a.ID == 0 || b.ID <= a.ID || !a.CreatedAt.Equal(testClock) {
			t.Fatalf("created %+v %+v", a, b)
		}
		if n, err := s.QueuedPrintJobs(ctx, 0); err != nil || n != 2 {
			t.Errorf("queued %d %v, want 2", n, err)
		}
		if n, err := s.QueuedPrintJobs(ctx, b.ID); err != nil || n != 1 {
			t.Errorf("queued before b: %d %v, want 1", n, err)
		}
		got, err := s.FindActivePrintJob(ctx, f.exam.ID, marksmith.PrintJobInput{Format: "zip", Key: true, Student: "3035000001"})
		if err != nil || got.ID != b.ID || got.Student != "3035000001" || !got.Key || got.Format != "zip" {
			t.Errorf("active job %+v %v, want %d", got, err, b.ID)
		}
		if _, err := s.FindActivePrintJob(ctx, f.exam.ID, marksmith.PrintJobInput{Format: "zip"}); marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
			t.Errorf("active job of another input: %v", err)
		}
		if _, err := s.FindPrintJob(ctx, f.exam.ID+1, a.ID); marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
			t.Errorf("job of another exam: %v", err)
		}

		// Two claims at once take a and b, one each; a third finds none.
		start := testClock.Add(time.Minute)
		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				j, err := s.ClaimPrintJob(ctx, start)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if j != nil {
					claimed[j.ID]++
					if j.Status != marksmith.JobRunning || j.StartedAt == nil || !j.StartedAt.Equal(start) {
						t.Errorf("claimed %+v", j)
					}
				} else {
					claimed[0]++
				}
			}()
		}
		wg.Wait()
		if claimed[a.ID] != 1 || claimed[b.ID] != 1 || claimed[0] != 1 {
			t.Fatalf("claims %v, want a and b once each and one empty", claimed)
		}

		a.Status, a.Done, a.Pages = marksmith.JobRunning, 2, 31
		if err := s.UpdatePrintJob(ctx, a); err != nil {
			t.Fatal(err)
		}
		file := bytes.Repeat([]byte("%PDF-0123456789"), ChunkSize/5) // three pieces
		now := testClock.Add(5 * time.Minute)
		a.Status, a.Done, a.Pages, a.FileName, a.FinishedAt = marksmith.JobDone, 3, 45, "exam-1-papers.pdf", &now
		if err := s.FinishPrintJob(ctx, a, bytes.NewReader(file)); err != nil {
			t.Fatal(err)
		}
		got, err = s.FindPrintJob(ctx, f.exam.ID, a.ID)
		if err != nil || got.Status != marksmith.JobDone || got.Done != 3 || got.Total != 3 || got.Pages != 45 ||
			got.Bytes != int64(len(file)) || got.FileName != "exam-1-papers.pdf" || !got.FinishedAt.Equal(now) {
			t.Fatalf("done job %+v %v", got, err)
		}
		var n int64
		db.gorm.Model(&chunkRow{}).Where("job_id = ?", a.ID).Count(&n)
		if n != 3 {
			t.Errorf("%d pieces, want 3", n)
		}
		r, err := s.OpenPrintJobFile(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(back, file) {
			t.Errorf("read back %d bytes (%v), want %d", len(back), err, len(file))
		}
		if err := s.UpdatePrintJob(ctx, a); marksmith.ErrorCode(err) != marksmith.ECONFLICT {
			t.Errorf("progress of a done job: %v", err)
		}
		if err := s.FinishPrintJob(ctx, a, bytes.NewReader(file)); marksmith.ErrorCode(err) != marksmith.ECONFLICT {
			t.Errorf("a done job finished again: %v", err)
		}

		// Queued again (its server stopping): started_at cleared.
		b.Status, b.Done = marksmith.JobQueued, 0
		if err := s.FinishPrintJob(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.FindPrintJob(ctx, f.exam.ID, b.ID); got.Status != marksmith.JobQueued || got.StartedAt != nil || got.FinishedAt != nil {
			t.Errorf("requeued %+v", got)
		}
		r, err = s.OpenPrintJobFile(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := io.ReadAll(r); err != nil || len(back) != 0 {
			t.Errorf("file of a job without one: %q %v", back, err)
		}
	})
}

// TestPrintJobSweeps fails the jobs running with no progress and those
// queued too long, and deletes finished jobs with their files.
func TestPrintJobSweeps(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		s := NewPrintJobStore(db)
		ctx := t.Context()
		clock := testClock
		db.Now = func() time.Time { return clock }
		mk := func() *marksmith.PrintJob {
			j := &marksmith.PrintJob{ExamID: f.exam.ID, RequestedBy: f.instructor.ID, Format: "pdf", Status: marksmith.JobQueued}
			if err := s.CreatePrintJob(ctx, j); err != nil {
				t.Fatal(err)
			}
			return j
		}
		stuck, fresh, waiting := mk(), mk(), mk()
		for _, j := range []*marksmith.PrintJob{stuck, fresh} {
			if c, err := s.ClaimPrintJob(ctx, clock); err != nil || c.ID != j.ID {
				t.Fatalf("claim %+v %v, want %d", c, err, j.ID)
			}
		}
		clock = clock.Add(10 * time.Minute)
		fresh.Status, fresh.Done = marksmith.JobRunning, 1
		if err := s.UpdatePrintJob(ctx, fresh); err != nil {
			t.Fatal(err)
		}
		n, err := s.FailStalePrintJobs(ctx, clock, clock.Add(-5*time.Minute), clock.Add(-time.Hour), "stopped", "never started")
		if err != nil || n != 1 {
			t.Fatalf("failed %d %v, want 1 (the stuck one)", n, err)
		}
		for _, c := range []struct {
			j      *marksmith.PrintJob
			status string
			err    string
		}{{stuck, marksmith.JobFailed, "stopped"}, {fresh, marksmith.JobRunning, ""}, {waiting, marksmith.JobQueued, ""}} {
			got, _ := s.FindPrintJob(ctx, f.exam.ID, c.j.ID)
			if got.Status != c.status || got.Error != c.err || (c.status == marksmith.JobFailed) != (got.FinishedAt != nil) {
				t.Errorf("job %d: %+v, want %s %q", c.j.ID, got, c.status, c.err)
			}
		}
		n, err = s.FailStalePrintJobs(ctx, clock, clock.Add(-5*time.Minute), clock.Add(-5*time.Minute), "stopped", "never started")
		if got, _ := s.FindPrintJob(ctx, f.exam.ID, waiting.ID); err != nil || n != 1 || got.Status != marksmith.JobFailed || got.Error != "never started" {
			t.Errorf("queued too long: %d %v %+v", n, err, got)
		}
		done := testClock.Add(time.Hour)
		fresh.Status, fresh.FinishedAt = marksmith.JobDone, &done
		if err := s.FinishPrintJob(ctx, fresh, bytes.NewReader([]byte("%PDF-"))); err != nil {
			t.Fatal(err)
		}
		// stuck and waiting finished at clock; fresh an hour after the start.
		n, err = s.DeletePrintJobs(ctx, clock.Add(time.Second))
		if err != nil || n != 2 {
			t.Fatalf("deleted %d %v, want 2", n, err)
		}
		if _, err := s.FindPrintJob(ctx, f.exam.ID, stuck.ID); marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
			t.Errorf("deleted job: %v", err)
		}
		n, err = s.DeletePrintJobs(ctx, done.Add(time.Second))
		var pieces int64
		db.gorm.Model(&chunkRow{}).Count(&pieces)
		if err != nil || n != 1 || pieces != 0 {
			t.Errorf("deleted %d %v, %d pieces left", n, err, pieces)
		}
	})
}

// TestPrintJobClaimRace queues hundreds of jobs and has several servers'
// claimers take them at once: every job is claimed by exactly one.
func TestPrintJobClaimRace(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		s := NewPrintJobStore(db)
		ctx := t.Context()
		const jobs, claimers = 200, 6
		want := map[int64]bool{}
		for range jobs {
			j := &marksmith.PrintJob{ExamID: f.exam.ID, RequestedBy: f.instructor.ID, Format: "pdf", Status: marksmith.JobQueued, Total: 1}
			if err := s.CreatePrintJob(ctx, j); err != nil {
				t.Fatal(err)
			}
			want[j.ID] = true
		}
		var mu sync.Mutex
		claimed := map[int64]int{}
		var wg sync.WaitGroup
		for range claimers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					j, err := s.ClaimPrintJob(ctx, testClock.Add(time.Minute))
					if err != nil {
						t.Error(err)
						return
					}
					if j == nil {
						return
					}
					mu.Lock()
					claimed[j.ID]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(claimed) != jobs {
			t.Fatalf("%d jobs claimed, want %d", len(claimed), jobs)
		}
		for id, n := range claimed {
			if n != 1 || !want[id] {
				t.Errorf("job %d claimed %d times (queued: %v)", id, n, want[id])
			}
		}
	})
}
