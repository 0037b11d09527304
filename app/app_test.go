package app

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/exams"
	"github.com/marksmith/marksmith/storage"
)

// TestSweepTokens checks that the sweep deletes tokens expired more than
// a refresh lifetime ago, keeps the rest, and stops with its context.
func TestSweepTokens(t *testing.T) {
	db, err := storage.Open(t.Context(), filepath.Join(t.TempDir(), "sweep.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	u := &marksmith.User{Email: "s@uni.edu", Role: marksmith.RoleStudent}
	if err := storage.NewUserStore(db).CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	tokens := storage.NewTokenStore(db)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ttl := 7 * 24 * time.Hour
	for hash, expires := range map[string]time.Time{
		"long-gone": now.Add(-ttl - time.Minute), "recently-expired": now.Add(-time.Hour), "live": now.Add(time.Hour),
	} {
		if err := tokens.CreateRefreshToken(t.Context(), &marksmith.RefreshToken{UserID: u.ID, Family: "f", Hash: hash, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := New(Config{JWTSecret: []byte("0123456789abcdef0123456789abcdef"), RefreshTTL: ttl, TokenSweepInterval: 5 * time.Millisecond},
		Deps{DB: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		every(ctx, a.cfg.TokenSweepInterval, a.sweepTokens)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := tokens.FindRefreshTokenByHash(t.Context(), "long-gone")
		if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the long-expired token was not swept: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("sweep did not stop with its context")
	}
	for _, hash := range []string{"recently-expired", "live"} {
		if _, err := tokens.FindRefreshTokenByHash(t.Context(), hash); err != nil {
			t.Errorf("%s was swept: %v", hash, err)
		}
	}
}

// blockingPrinter reports one student printed, then waits for its
// context: a print that outlives the server.
type blockingPrinter struct{}

func (blockingPrinter) PrintPapers(ctx context.Context, w io.Writer, ep *marksmith.ExamPapers, format string, progress func(done, total, pages int)) (int, error) {
	progress(1, len(ep.Students), 5)
	<-ctx.Done()
	return 0, ctx.Err()
}

// TestRunPrintsJobs checks that a running server prints queued jobs and
// that, stopped mid-print, it queues the job again for another server
// before it returns.
func TestRunPrintsJobs(t *testing.T) {
	db, err := storage.Open(t.Context(), filepath.Join(t.TempDir(), "print.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{JWTSecret: []byte("0123456789abcdef0123456789abcdef"),
		PrintJobs: exams.PrintOptions{Printer: blockingPrinter{}, Poll: 10 * time.Millisecond, ProgressEvery: time.Millisecond}},
		Deps{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := a.Templates.SeedBuiltin(ctx); err != nil {
		t.Fatal(err)
	}
	store := storage.NewUserStore(db)
	prof := &marksmith.User{Email: "prof@uni.edu", Role: marksmith.RoleInstructor}
	if err := store.CreateUser(ctx, prof); err != nil {
		t.Fatal(err)
	}
	var roster []string
	for _, email := range []string{"a@uni.edu", "b@uni.edu"} {
		if err := store.CreateUser(ctx, &marksmith.User{Email: email, Role: marksmith.RoleStudent}); err != nil {
			t.Fatal(err)
		}
		roster = append(roster, email)
	}
	now := time.Now()
	e, err := a.Exams.CreateExam(ctx, prof, marksmith.ExamInput{Title: "Printed", Delivery: marksmith.DeliveryPaper,
		Questions: []marksmith.QuestionInput{{Template: "dasc7606/q7"}}, OpensAt: now, ClosesAt: now.Add(time.Hour), Roster: roster})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exams.Publish(ctx, prof, e.ID); err != nil {
		t.Fatal(err)
	}
	job, err := a.Exams.StartPrintJob(ctx, prof, e.ID, marksmith.PrintJobInput{})
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(run, ln) }()
	wait := func(status string, printed int) *marksmith.PrintJob {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			j, err := a.Exams.FindPrintJob(ctx, prof, e.ID, job.ID)
			if err != nil {
				t.Fatal(err)
			}
			if j.Status == status && j.Done == printed {
				return j
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s with %d done, want %s with %d", j.Status, j.Done, status, printed)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if j := wait(marksmith.JobRunning, 1); j.Pages != 5 || j.Total != 2 {
		t.Errorf("running %+v", j)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop")
	}
	// Queued again before Run returned.
	if j, err := a.Exams.FindPrintJob(ctx, prof, e.ID, job.ID); err != nil || j.Status != marksmith.JobQueued || j.Done != 0 || j.StartedAt != nil {
		t.Errorf("after the server stopped: %+v %v", j, err)
	}
}
