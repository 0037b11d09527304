package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// errInjected is a failure a test injects halfway through a transaction.
var errInjected = errors.New("injected failure")

func TestWithTxRollsBackEverything(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		ctx := t.Context()
		store := NewStore(db)
		if err := store.SetRoster(ctx, f.exam.ID, []int64{f.students[0].ID, f.students[1].ID}); err != nil {
			t.Fatal(err)
		}
		papers := func(n int) []*marksmith.Paper {
			var out []*marksmith.Paper
			for i := range n {
				out = append(out, &marksmith.Paper{ExamID: f.exam.ID, UserID: f.students[i%2].ID, Position: i/2 + 1, Order: 1,
					TemplateID: "t", Version: 1, Seed: marksmith.Seed(i), Variant: json.RawMessage(`{"parts":[]}`)})
			}
			return out
		}
		// Papers (COPY on Postgres), the publish, and an audit entry, then a
		// failure: nothing of it stays.
		err := store.WithTx(ctx, func(tx marksmith.Store) error {
			if err := tx.SavePapers(ctx, papers(4)); err != nil {
				return err
			}
			if err := tx.MarkPublished(ctx, f.exam.ID, testClock); err != nil {
				return err
			}
			if err := tx.AddAudit(ctx, &marksmith.AuditEntry{ExamID: f.exam.ID, Actor: f.instructor.ID, Action: "publish", Target: "x"}); err != nil {
				return err
			}
			// Inside the transaction its own writes are visible.
			if ps, err := tx.FindExamPapers(ctx, f.exam.ID, 0); err != nil || len(ps) != 4 {
				return fmt.Errorf("inside: %d papers, %v", len(ps), err)
			}
			return errInjected
		})
		if !errors.Is(err, errInjected) {
			t.Fatalf("WithTx = %v, want the injected failure", err)
		}
		e, _ := store.FindExamByID(ctx, f.exam.ID)
		ps, _ := store.FindExamPapers(ctx, f.exam.ID, 0)
		log, _ := store.FindAudit(ctx, f.exam.ID)
		if e.Status != marksmith.ExamDraft || len(ps) != 0 || len(log) != 0 {
			t.Fatalf("after a rolled-back publish: status %s, %d papers, %d audit entries", e.Status, len(ps), len(log))
		}
		// A panic rolls back too, and is passed on.
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("the panic was swallowed")
				}
			}()
			_ = store.WithTx(ctx, func(tx marksmith.Store) error {
				if err := tx.SavePapers(ctx, papers(2)); err != nil {
					return err
				}
				panic("halfway")
			})
		}()
		if ps, _ := store.FindExamPapers(ctx, f.exam.ID, 0); len(ps) != 0 {
			t.Fatalf("after a panic: %d papers", len(ps))
		}
		// The same work committed.
		err = store.WithTx(ctx, func(tx marksmith.Store) error {
			if err := tx.SavePapers(ctx, papers(4)); err != nil {
				return err
			}
			// WithTx inside WithTx joins the transaction.
			return tx.WithTx(ctx, func(inner marksmith.Store) error { return inner.MarkPublished(ctx, f.exam.ID, testClock) })
		})
		if err != nil {
			t.Fatal(err)
		}
		e, _ = store.FindExamByID(ctx, f.exam.ID)
		ps, _ = store.FindExamPapers(ctx, f.exam.ID, 0)
		if e.Status != marksmith.ExamPublished || len(ps) != 4 {
			t.Fatalf("after commit: status %s, %d papers", e.Status, len(ps))
		}
	})
}

func TestRosterChangesAndUnpublish(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		ctx := t.Context()
		s, e := f.s, f.exam
		if err := s.SetRoster(ctx, e.ID, []int64{f.students[0].ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkPublished(ctx, e.ID, testClock); err != nil {
			t.Fatal(err)
		}
		// Published: students can still be added, twice harmlessly.
		if err := s.AddToRoster(ctx, e.ID, []int64{f.students[1].ID, f.students[2].ID, f.students[1].ID}); err != nil {
			t.Fatalf("AddToRoster: %v", err)
		}
		if err := s.AddToRoster(ctx, e.ID, []int64{f.students[1].ID}); err != nil {
			t.Fatalf("AddToRoster again: %v", err)
		}
		wantCode(t, "add unknown user", s.AddToRoster(ctx, e.ID, []int64{4242}), marksmith.EINVALID)
		wantCode(t, "add to missing exam", s.AddToRoster(ctx, e.ID+100, []int64{f.students[0].ID}), marksmith.ENOTFOUND)
		if r, err := s.FindRoster(ctx, e.ID); err != nil || len(r) != 3 {
			t.Fatalf("roster = %d, %v; want 3", len(r), err)
		}
		closes := testClock.Add(5 * time.Hour)
		acc := marksmith.Accommodation{ExtraSeconds: 1800, ClosesAt: &closes, Reason: "extra time"}
		if err := s.SetAccommodation(ctx, e.ID, f.students[1].ID, acc); err != nil {
			t.Fatalf("SetAccommodation: %v", err)
		}
		entry, err := s.FindRosterEntry(ctx, e.ID, f.students[1].ID)
		if err != nil || entry.ExtraSeconds != 1800 || entry.ClosesAt == nil || !entry.ClosesAt.Equal(closes) ||
			entry.AccommodationReason != "extra time" || entry.Email != f.students[1].Email {
			t.Fatalf("entry = %+v, %v", entry, err)
		}
		wantCode(t, "accommodation off the roster", s.SetAccommodation(ctx, e.ID, f.instructor.ID, acc), marksmith.ENOTFOUND)
		// Ending the exam cuts the later close too.
		end := testClock.Add(time.Hour)
		if err := s.EndExam(ctx, e.ID, end); err != nil {
			t.Fatalf("EndExam: %v", err)
		}
		got, _ := s.FindExamByID(ctx, e.ID)
		entry, _ = s.FindRosterEntry(ctx, e.ID, f.students[1].ID)
		if !got.ClosesAt.Equal(end) || !entry.ClosesAt.Equal(end) {
			t.Fatalf("after EndExam: closes %v, the student's %v; want %v", got.ClosesAt, entry.ClosesAt, end)
		}
		if err := s.RemoveFromRoster(ctx, e.ID, f.students[2].ID); err != nil {
			t.Fatalf("RemoveFromRoster: %v", err)
		}
		wantCode(t, "remove twice", s.RemoveFromRoster(ctx, e.ID, f.students[2].ID), marksmith.ENOTFOUND)
		// Unpublish: back to draft with no papers, refused once started.
		if err := s.SavePapers(ctx, []*marksmith.Paper{{ExamID: e.ID, UserID: f.students[0].ID, Position: 1, Order: 1, TemplateID: "t",
			Version: 1, Variant: json.RawMessage(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkDraft(ctx, e.ID, testClock); err != nil {
			t.Fatalf("MarkDraft: %v", err)
		}
		got, _ = s.FindExamByID(ctx, e.ID)
		ps, _ := s.FindExamPapers(ctx, e.ID, 0)
		if got.Status != marksmith.ExamDraft || got.PublishedAt != nil || len(ps) != 0 {
			t.Fatalf("after MarkDraft: %+v, %d papers", got, len(ps))
		}
		wantCode(t, "unpublish a draft", s.MarkDraft(ctx, e.ID, testClock), marksmith.ECONFLICT)
		if err := s.MarkPublished(ctx, e.ID, testClock); err != nil {
			t.Fatal(err)
		}
		f.openAttempt(t, 0)
		wantCode(t, "unpublish a started exam", s.MarkDraft(ctx, e.ID, testClock), marksmith.ECONFLICT)
	})
}

func TestThrottle(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		s := NewThrottleStore(db)
		for i := 1; i <= 3; i++ {
			n, reset, err := s.Hit(ctx, "k", time.Minute, testClock.Add(time.Duration(i)*time.Second))
			if err != nil || n != i || !reset.Equal(testClock.Add(time.Second+time.Minute)) {
				t.Fatalf("hit %d = %d, %v, %v", i, n, reset, err)
			}
		}
		if n, _, err := s.Peek(ctx, "k", testClock.Add(30*time.Second)); err != nil || n != 3 {
			t.Fatalf("Peek = %d, %v; want 3", n, err)
		}
		if n, _, err := s.Peek(ctx, "other", testClock); err != nil || n != 0 {
			t.Fatalf("Peek unknown = %d, %v; want 0", n, err)
		}
		// After the window a new one starts.
		later := testClock.Add(2 * time.Minute)
		if n, _, _ := s.Peek(ctx, "k", later); n != 0 {
			t.Fatalf("Peek after the window = %d; want 0", n)
		}
		if n, reset, err := s.Hit(ctx, "k", time.Minute, later); err != nil || n != 1 || !reset.Equal(later.Add(time.Minute)) {
			t.Fatalf("hit in a new window = %d, %v, %v", n, reset, err)
		}
		if err := s.Clear(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := s.Peek(ctx, "k", later); n != 0 {
			t.Fatalf("Peek after Clear = %d", n)
		}
		// Concurrent hits are all counted.
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := s.Hit(ctx, "c", time.Minute, testClock); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n, _, _ := s.Peek(ctx, "c", testClock); n != 20 {
			t.Fatalf("after 20 concurrent hits: %d", n)
		}
		if pruned, err := s.PruneThrottle(ctx, testClock.Add(time.Hour)); err != nil || pruned != 1 {
			t.Fatalf("PruneThrottle = %d, %v; want 1", pruned, err)
		}
	})
}

func TestExclusive(t *testing.T) {
	db := openTestDB(t, DialectPostgres)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	a, b := NewStore(db), NewStore(db)
	ctx := t.Context()
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		ran, err := a.Exclusive(ctx, "sweep", func(context.Context) error {
			close(inside)
			<-release
			return nil
		})
		if !ran && err == nil {
			err = errors.New("the first holder did not run")
		}
		done <- err
	}()
	<-inside
	ran, err := b.Exclusive(ctx, "sweep", func(context.Context) error { return errors.New("ran while held") })
	if err != nil || ran {
		t.Fatalf("second holder while held: ran %v, %v", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ran, err = b.Exclusive(ctx, "sweep", func(context.Context) error { return nil })
	if err != nil || !ran {
		t.Fatalf("after release: ran %v, %v", ran, err)
	}
}

// TestSaveWaitsForClose makes saves race a close that holds the attempt
// (LockAttempt in a transaction) hundreds of times: a save either lands
// before the close reads the answers, or is refused; never stored after
// the answers were read.
func TestSaveWaitsForClose(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		f := newExamFixture(t, db)
		ctx := t.Context()
		store := NewStore(db)
		rounds := 100
		if testing.Short() {
			rounds = 20
		}
		var lost atomic.Int64
		for round := range rounds {
			a := f.openAttempt(t, round%3)
			owner := f.students[round%3].ID
			var wg sync.WaitGroup
			acked := make(chan *marksmith.Answer, 8)
			for i := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ans := &marksmith.Answer{AttemptID: a.ID, Position: 1, Part: fmt.Sprintf("p%d", i), Raw: "x", Seq: 1, SavedAt: testClock}
					out, err := store.SaveAnswer(ctx, ans, owner)
					if err != nil {
						t.Error(err)
						return
					}
					if out.Stored {
						acked <- out.Current
					}
				}()
			}
			var graded map[string]bool
			err := store.WithTx(ctx, func(tx marksmith.Store) error {
				cur, err := tx.LockAttempt(ctx, a.ID)
				if err != nil {
					return err
				}
				answers, err := tx.FindAnswers(ctx, a.ID)
				if err != nil {
					return err
				}
				graded = map[string]bool{}
				for _, ans := range answers {
					graded[ans.Part] = true
				}
				sc := 0.0
				closed := *cur
				closed.Status, closed.Score = marksmith.AttemptSubmitted, &sc
				return tx.CloseAttempt(ctx, &closed, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			close(acked)
			for ans := range acked {
				if !graded[ans.Part] {
					lost.Add(1)
				}
			}
			// Clean up for the next round: the student's attempt goes.
			if err := db.gorm.WithContext(ctx).Exec("DELETE FROM attempts WHERE id = ?", a.ID).Error; err != nil {
				t.Fatal(err)
			}
		}
		if n := lost.Load(); n > 0 {
			t.Fatalf("%d acknowledged saves were stored after the close read the answers", n)
		}
	})
}
