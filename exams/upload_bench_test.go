package exams

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
)

// BenchmarkUpload10k uploads the answers of 10,000 students to the whole
// built-in paper (every part answered with the student's key) on
// Postgres and waits for the job, and, in the same run, writes the same
// answer and grade rows with a bare COPY, the floor any store of them
// has. Run it with
//
//	go test ./exams -run '^$' -bench Upload10k -benchtime 1x -timeout 30m
func BenchmarkUpload10k(b *testing.B) {
	const n = 10000
	db := openPostgres(b)
	h, _, _, newExam := publishSetup(b, db, n)
	ctx := b.Context()
	e := newExam(b)
	start := time.Now()
	if _, err := h.svc.Publish(ctx, h.instructor, e.ID); err != nil {
		b.Fatal(err)
	}
	b.Logf("published in %s", time.Since(start).Round(time.Millisecond))
	file, parts := uploadFile(b, h, e)
	b.Logf("upload: %d bytes, %d answer columns", len(file), parts)
	sql := db.SQLDB()
	clear := func(b *testing.B) {
		if _, err := sql.ExecContext(ctx, `DELETE FROM attempts WHERE exam_id = $1`, e.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("upload", func(b *testing.B) {
		var peak uint64
		var job *marksmith.SubmissionJob
		for b.Loop() {
			b.StopTimer()
			clear(b)
			runtime.GC()
			stop := sampleHeap(&peak)
			b.StartTimer()
			j, err := h.svc.UploadSubmissions(ctx, h.instructor, e.ID, marksmith.SubmissionUpload{Body: bytes.NewReader(file)})
			if err != nil {
				b.Fatal(err)
			}
			h.svc.WaitJobs()
			stop()
			if job, err = h.svc.FindSubmissionJob(ctx, h.instructor, e.ID, j.ID); err != nil {
				b.Fatal(err)
			}
		}
		if job.Status != marksmith.JobDone || job.Graded != n {
			b.Fatalf("job %+v", job)
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/upload")
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "students/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	})
	// The same rows, read back, then written with COPY alone.
	answers, grades := readRows(b, h, e.ID)
	b.Logf("%d answers, %d grades", len(answers), len(grades))
	b.Run("copy", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if _, err := sql.ExecContext(ctx, `DELETE FROM answers WHERE attempt_id IN (SELECT id FROM attempts WHERE exam_id = $1)`, e.ID); err != nil {
				b.Fatal(err)
			}
			if _, err := sql.ExecContext(ctx, `DELETE FROM grades WHERE attempt_id IN (SELECT id FROM attempts WHERE exam_id = $1)`, e.ID); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			conn, err := sql.Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			err = conn.Raw(func(dc any) error {
				pc := dc.(*stdlib.Conn).Conn()
				if _, err := pc.CopyFrom(ctx, pgx.Identifier{"answers"}, []string{"attempt_id", "question", "part", "raw", "seq", "format_error", "saved_at"}, pgx.CopyFromRows(answers)); err != nil {
					return err
				}
				_, err := pc.CopyFrom(ctx, pgx.Identifier{"grades"}, []string{"attempt_id", "question", "part", "score", "max_score", "rule", "feedback", "needs_review", "template_version", "graded_at"}, pgx.CopyFromRows(grades))
				return err
			})
			conn.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/copy")
	})
}

// uploadFile writes the CSV upload of every student of e answering every
// part with their own key, and returns it with its number of answer columns.
func uploadFile(b *testing.B, h *harness, e *marksmith.Exam) ([]byte, int) {
	ctx := b.Context()
	cols, err := h.svc.examColumns(ctx, e)
	if err != nil {
		b.Fatal(err)
	}
	roster, err := h.exams.FindRoster(ctx, e.ID)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := []string{"student"}
	for _, c := range cols {
		header = append(header, c.String())
	}
	if err := w.Write(header); err != nil {
		b.Fatal(err)
	}
	for lo := 0; lo < len(roster); lo += 500 {
		var ids []int64
		for _, en := range roster[lo:min(lo+500, len(roster))] {
			ids = append(ids, en.ID)
		}
		papers, err := h.store.FindPapersOf(ctx, e.ID, ids)
		if err != nil {
			b.Fatal(err)
		}
		keys := map[int64]map[string]string{}
		for _, p := range papers {
			v, err := decodeVariant(p)
			if err != nil {
				b.Fatal(err)
			}
			if keys[p.UserID] == nil {
				keys[p.UserID] = map[string]string{}
			}
			for i := range v.Parts {
				keys[p.UserID][fmt.Sprintf("%d.%s", p.Position, v.Parts[i].ID)] = bank.KeyAnswer(&v.Parts[i].Answer)
			}
		}
		for _, en := range roster[lo:min(lo+500, len(roster))] {
			rec := []string{en.StudentKey}
			for _, c := range cols {
				rec = append(rec, strings.ReplaceAll(keys[en.ID][c.String()], "\n", " "))
			}
			if err := w.Write(rec); err != nil {
				b.Fatal(err)
			}
		}
	}
	w.Flush()
	return buf.Bytes(), len(cols)
}

// readRows reads back the answers and grades of an exam's attempts as
// COPY rows.
func readRows(b *testing.B, h *harness, examID int64) (answers, grades [][]any) {
	ctx := b.Context()
	as, err := h.exams.FindExamAnswers(ctx, examID)
	if err != nil {
		b.Fatal(err)
	}
	for _, a := range as {
		answers = append(answers, []any{a.AttemptID, a.Position, a.Part, a.Raw, a.Seq, a.FormatError, a.SavedAt})
	}
	gs, err := h.exams.FindExamGrades(ctx, examID)
	if err != nil {
		b.Fatal(err)
	}
	for _, g := range gs {
		grades = append(grades, []any{g.AttemptID, g.Position, g.Part, g.Score, g.Max, g.Rule, g.Feedback, g.NeedsReview, g.TemplateVersion, g.GradedAt})
	}
	return answers, grades
}
