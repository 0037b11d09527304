package exams

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/internal/pgtest"
	"github.com/marksmith/marksmith/storage"
	"github.com/marksmith/marksmith/variants"
)

// openPostgres opens a fresh schema of the test Postgres, dropped when the
// test ends. Without Postgres it skips, or fails when CI=true.
func openPostgres(t testing.TB) *storage.DB {
	t.Helper()
	db, err := storage.Open(t.Context(), pgtest.Schema(t, "marksmith_exams_"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// addStudents inserts n students (bench00001@example.org, …) in one statement.
func addStudents(t testing.TB, db *storage.DB, n int) []int64 {
	t.Helper()
	ctx := t.Context()
	q := `INSERT INTO users (email, name, role, student_key, password_hash, created_at, updated_at)
		SELECT 'bench' || lpad(i::text, 5, '0') || '@example.org', 'Student ' || i, 'student', '3035' || lpad(i::text, 6, '0'), 'x', now(), now()
		FROM generate_series(1, $1) AS i`
	if db.Dialect() == storage.DialectSQLite {
		q = `INSERT INTO users (email, name, role, student_key, password_hash, created_at, updated_at)
		WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		SELECT 'bench' || printf('%05d', i) || '@example.org', 'Student ' || i, 'student', '3035' || printf('%06d', i), 'x',
			strftime('%Y-%m-%d %H:%M:%S', 'now'), strftime('%Y-%m-%d %H:%M:%S', 'now')
		FROM seq`
	}
	if _, err := db.SQLDB().ExecContext(ctx, q, n); err != nil {
		t.Fatalf("add students: %v", err)
	}
	rows, err := db.SQLDB().QueryContext(ctx, `SELECT id FROM users WHERE email LIKE 'bench%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(ids) != n {
		t.Fatalf("added %d students, want %d", len(ids), n)
	}
	return ids
}

// BenchmarkPublish10k publishes the built-in paper to 10,000 students on
// Postgres, and for comparison generates the same papers without storing
// them, on one goroutine and on the publish's workers. Run it with
//
//	go test ./exams -run '^$' -bench Publish10k -benchtime 1x
func BenchmarkPublish10k(b *testing.B) {
	const n = 10000
	h, ts, _, newExam := publishSetup(b, openPostgres(b), n)
	ctx := b.Context()
	benchPublish(b, h, newExam)

	roster, err := h.exams.FindRoster(ctx, newExam(b).ID)
	if err != nil {
		b.Fatal(err)
	}
	e := newExam(b)
	qs, err := h.svc.loadQuestions(ctx, e)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("generate-parallel", func(b *testing.B) {
		for b.Loop() {
			for _, q := range qs {
				q.cohort = q.t.Generator().NewCohortDraw(uint64(e.Seed), q.t.ID, cohortRetries)
			}
			for lo := 0; lo < n; lo += DefaultBatchSize {
				if _, err := h.svc.generateBatch(e, qs, users(roster[lo:min(lo+DefaultBatchSize, n)])); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n*len(qs))*float64(b.N)/b.Elapsed().Seconds(), "papers/s")
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/publish")
	})
	// Storing alone: the papers of the first batch, their JSON reused for
	// every later batch, saved batch by batch as Publish does.
	sample, err := h.svc.generateBatch(e, qs, users(roster[:DefaultBatchSize]))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("store-only", func(b *testing.B) {
		var bytes int
		for b.Loop() {
			b.StopTimer()
			target := newExam(b)
			b.StartTimer()
			bytes = 0
			for lo := 0; lo < n; lo += DefaultBatchSize {
				batch := make([]*marksmith.Paper, 0, len(sample))
				for _, p := range sample {
					c := *p
					c.ExamID, c.UserID = target.ID, roster[lo+int(p.UserID-roster[0].ID)].ID
					bytes += len(c.Variant)
					batch = append(batch, &c)
				}
				if err := h.exams.SavePapers(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n*len(qs))*float64(b.N)/b.Elapsed().Seconds(), "papers/s")
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/publish")
		b.ReportMetric(float64(bytes)/float64(n*len(qs)), "bytes/paper")
	})
	b.Run("generate-serial", func(b *testing.B) {
		for b.Loop() {
			for _, u := range roster {
				for _, tp := range ts {
					v, err := tp.Variant(variants.Seed(uint64(e.Seed), studentKey(u.User), tp.ID))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := json.Marshal(v); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		b.ReportMetric(float64(n*len(ts))*float64(b.N)/b.Elapsed().Seconds(), "papers/s")
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/publish")
	})
	// Per template, 200 variants each, to show where generation time goes.
	for _, tp := range ts {
		b.Run("variant/"+tp.ID, func(b *testing.B) {
			const per = 200
			for b.Loop() {
				for i := range per {
					if _, err := tp.Variant(variants.Seed(1, fmt.Sprint(i), tp.ID)); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*per), "µs/variant")
		})
	}
}

// sampleHeap records the largest live heap (objects) seen every 20 ms
// until the returned function is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			*peak = max(*peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// BenchmarkPublish10kSQLite publishes the built-in paper to 10,000
// students on the embedded SQLite database, the default deployment.
func BenchmarkPublish10kSQLite(b *testing.B) {
	db, err := storage.Open(b.Context(), "sqlite:"+filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	h, _, _, newExam := publishSetup(b, db, 10000)
	benchPublish(b, h, newExam)
}

// publishSetup stores n students and the built-in bank, and returns a
// function creating a draft exam of the whole bank for them.
func publishSetup(b *testing.B, db *storage.DB, n int) (*harness, []*bank.Template, []int64, func(*testing.B) *marksmith.Exam) {
	h := setupHarness(b, db, 0)
	ids := addStudents(b, db, n)
	ts := h.storeBuiltin(b)
	var questions []marksmith.QuestionInput
	for _, tp := range ts {
		questions = append(questions, marksmith.QuestionInput{Template: tp.ID})
	}
	b.Logf("%d students × %d built-in questions on %s", len(ids), len(questions), db.Dialect())
	newExam := func(b *testing.B) *marksmith.Exam {
		seed := marksmith.Seed(20250519)
		in := h.input(0)
		in.Seed, in.Questions, in.ShuffleQuestions, in.ShuffleOptions = &seed, questions, true, true
		e, err := h.svc.CreateExam(b.Context(), h.instructor, in)
		if err != nil {
			b.Fatal(err)
		}
		if err := h.exams.SetRoster(b.Context(), e.ID, ids); err != nil {
			b.Fatal(err)
		}
		return e
	}
	return h, ts, ids, newExam
}

// benchPublish times Publish of a fresh exam, reporting papers per second
// and the peak heap.
func benchPublish(b *testing.B, h *harness, newExam func(*testing.B) *marksmith.Exam) {
	ctx := b.Context()
	b.Run("publish", func(b *testing.B) {
		var papers int
		var peak uint64
		for b.Loop() {
			b.StopTimer()
			e := newExam(b)
			runtime.GC()
			stop := sampleHeap(&peak)
			b.StartTimer()
			rep, err := h.svc.Publish(ctx, h.instructor, e.ID)
			stop()
			if err != nil {
				b.Fatal(err)
			}
			papers = rep.Papers
		}
		b.ReportMetric(float64(papers)*float64(b.N)/b.Elapsed().Seconds(), "papers/s")
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/publish")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	})
}
