package exams

import (
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// TestExamCacheFollowsOtherInstances runs two services on one database, as
// two servers would: what one changes about an exam (releasing it, ending
// it) the other serves at once, though it had the exam decoded in memory.
func TestExamCacheFollowsOtherInstances(t *testing.T) {
	h := newHarness(t, 2)
	ctx := t.Context()
	other := New(h.store, h.clock.now, nil) // a second server
	e := h.published(t, h.input(2))
	s1, s2 := h.students[0], h.students[1]
	v1 := h.start(t, s1, e.ID) // the first server decodes the exam
	if v1.Released {
		t.Fatal("released before release")
	}
	h.clock.set(t0.Add(5 * time.Minute))
	if _, err := h.svc.Submit(ctx, s1, v1.Attempt.ID); err != nil {
		t.Fatal(err)
	}
	// The second server releases the submitted attempts.
	if _, err := other.Release(ctx, h.instructor, e.ID, marksmith.ReleaseInput{Partial: true}); err != nil {
		t.Fatal(err)
	}
	got, err := h.svc.GetAttempt(ctx, s1, v1.Attempt.ID)
	if err != nil || !got.Released {
		t.Fatalf("the first server after a release by the second: released %v, %v", got != nil && got.Released, err)
	}
	// The second server ends the exam; the first refuses a new start.
	if _, err := other.CloseAttempts(ctx, h.instructor, e.ID, marksmith.CloseInput{All: true, Reason: "fire alarm"}); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.StartAttempt(ctx, s2, e.ID)
	wantCode(t, "a start after the exam ended elsewhere", err, marksmith.EGONE)
}

// TestConcurrentStarts starts each student's attempt from several
// requests at once (a double click, two tabs), on both databases, many
// times: every request gets the same one attempt, and the database holds
// exactly one per student.
func TestConcurrentStarts(t *testing.T) {
	const students, tries = 40, 4
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var h *harness
			if dialect == "postgres" {
				h = setupHarness(t, openPostgres(t), students)
			} else {
				h = newHarness(t, students)
			}
			e := h.published(t, h.input(students))
			type result struct {
				student int
				id      int64
				err     error
			}
			out := make(chan result, students*tries)
			for i, s := range h.students {
				for range tries {
					go func() {
						v, err := h.svc.StartAttempt(t.Context(), s, e.ID)
						r := result{student: i, err: err}
						if err == nil {
							r.id = v.Attempt.ID
						}
						out <- r
					}()
				}
			}
			ids := map[int]int64{}
			for range students * tries {
				r := <-out
				if r.err != nil {
					t.Fatalf("student %d: %v", r.student, r.err)
				}
				if id, ok := ids[r.student]; ok && id != r.id {
					t.Errorf("student %d got attempts %d and %d", r.student, id, r.id)
				}
				ids[r.student] = r.id
			}
			all, err := h.exams.FindAttempts(t.Context(), e.ID)
			if err != nil || len(all) != students {
				t.Fatalf("%d attempts stored for %d students, %v", len(all), students, err)
			}
		})
	}
}
