package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"gorm.io/gorm"

	"github.com/marksmith/marksmith"
)

// PrintJobStore stores print jobs and their finished files. It implements
// marksmith.PrintJobStore.
//
// A file is stored in the database, in pieces of ChunkSize bytes (table
// print_job_chunks), rather than in a directory: every server instance
// reads what any other wrote, on SQLite and Postgres alike, without a
// shared file system; and pieces keep the memory of writing and reading a
// file of any size to one piece.
type PrintJobStore struct{ db *DB }

var _ marksmith.PrintJobStore = (*PrintJobStore)(nil)

// NewPrintJobStore returns the print job store of db.
func NewPrintJobStore(db *DB) *PrintJobStore { return &PrintJobStore{db: db} }

// ChunkSize is the size of the pieces a print job's file is stored in.
const ChunkSize = 1 << 20

// printJobRow is a row of print_jobs.
type printJobRow struct {
	ID          int64 `gorm:"primaryKey"`
	ExamID      int64
	RequestedBy int64
	Student     string
	Format      string
	WithKeys    bool
	Status      string
	Done        int
	Total       int
	Pages       int
	Bytes       int64
	FileName    string
	Error       string
	CreatedAt   time.Time
	StartedAt   *time.Time
	UpdatedAt   time.Time
	FinishedAt  *time.Time
}

func (printJobRow) TableName() string { return "print_jobs" }

func (r *printJobRow) toDomain() *marksmith.PrintJob {
	return &marksmith.PrintJob{ID: r.ID, ExamID: r.ExamID, RequestedBy: r.RequestedBy, Student: r.Student, Format: r.Format,
		Key: r.WithKeys, Status: r.Status, Done: r.Done, Total: r.Total, Pages: r.Pages, Bytes: r.Bytes, FileName: r.FileName,
		Error: r.Error, CreatedAt: r.CreatedAt.UTC(), StartedAt: utcPtr(r.StartedAt), UpdatedAt: r.UpdatedAt.UTC(),
		FinishedAt: utcPtr(r.FinishedAt)}
}

// chunkRow is a row of print_job_chunks.
type chunkRow struct {
	JobID int64 `gorm:"primaryKey;autoIncrement:false"`
	Seq   int   `gorm:"primaryKey;autoIncrement:false"`
	Data  []byte
}

func (chunkRow) TableName() string { return "print_job_chunks" }

// CreatePrintJob stores a new job and sets its ID and times.
func (s *PrintJobStore) CreatePrintJob(ctx context.Context, j *marksmith.PrintJob) error {
	now := s.db.now()
	j.CreatedAt, j.UpdatedAt = now, now
	r := &printJobRow{ExamID: j.ExamID, RequestedBy: j.RequestedBy, Student: j.Student, Format: j.Format, WithKeys: j.Key,
		Status: j.Status, Done: j.Done, Total: j.Total, CreatedAt: now, UpdatedAt: now}
	if err := s.db.gorm.WithContext(ctx).Create(r).Error; err != nil {
		return translate(err, fmt.Sprintf("print job of exam %d", j.ExamID))
	}
	j.ID = r.ID
	return nil
}

// FindPrintJob returns a job of an exam; ENOTFOUND otherwise, a job of
// another exam included.
func (s *PrintJobStore) FindPrintJob(ctx context.Context, examID, id int64) (*marksmith.PrintJob, error) {
	var r printJobRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ? AND exam_id = ?", id, examID).Take(&r).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("print job %d of exam %d", id, examID))
	}
	return r.toDomain(), nil
}

// FindActivePrintJob returns the oldest queued or running job of the exam
// for the same input.
func (s *PrintJobStore) FindActivePrintJob(ctx context.Context, examID int64, in marksmith.PrintJobInput) (*marksmith.PrintJob, error) {
	var r printJobRow
	err := s.db.gorm.WithContext(ctx).
		Where("exam_id = ? AND status IN ? AND student = ? AND format = ? AND with_keys = ?",
			examID, []string{marksmith.JobQueued, marksmith.JobRunning}, in.Student, in.Format, in.Key).
		Order("id").Take(&r).Error
	if err != nil {
		return nil, translate(err, fmt.Sprintf("print job of exam %d", examID))
	}
	return r.toDomain(), nil
}

// QueuedPrintJobs counts the queued jobs (before 0) or those queued
// before the job before.
func (s *PrintJobStore) QueuedPrintJobs(ctx context.Context, before int64) (int, error) {
	q := s.db.gorm.WithContext(ctx).Model(&printJobRow{}).Where("status = ?", marksmith.JobQueued)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, translate(err, "queued print jobs")
	}
	return int(n), nil
}

// ClaimPrintJob marks the oldest queued job running. The update is
// conditional on the job being queued still, so that of two servers
// claiming it at once one gets it; the other tries the next.
func (s *PrintJobStore) ClaimPrintJob(ctx context.Context, now time.Time) (*marksmith.PrintJob, error) {
	now = dbTime(now)
	for range 10 {
		var r printJobRow
		err := s.db.gorm.WithContext(ctx).Where("status = ?", marksmith.JobQueued).Order("id").Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, translate(err, "claim a print job")
		}
		res := s.db.gorm.WithContext(ctx).Model(&printJobRow{}).Where("id = ? AND status = ?", r.ID, marksmith.JobQueued).
			Updates(map[string]any{"status": marksmith.JobRunning, "started_at": now, "updated_at": now})
		if res.Error != nil {
			return nil, translate(res.Error, fmt.Sprintf("claim print job %d", r.ID))
		}
		if res.RowsAffected == 1 {
			r.Status, r.StartedAt, r.UpdatedAt = marksmith.JobRunning, &now, now
			return r.toDomain(), nil
		}
	}
	return nil, nil // others are claiming as fast: leave it to them
}

// UpdatePrintJob writes a running job's progress and sets its UpdatedAt.
func (s *PrintJobStore) UpdatePrintJob(ctx context.Context, j *marksmith.PrintJob) error {
	now := s.db.now()
	res := s.db.gorm.WithContext(ctx).Model(&printJobRow{}).Where("id = ? AND status = ?", j.ID, marksmith.JobRunning).
		Updates(map[string]any{"done": j.Done, "total": j.Total, "pages": j.Pages, "updated_at": now})
	if res.Error != nil {
		return translate(res.Error, fmt.Sprintf("print job %d", j.ID))
	}
	if res.RowsAffected == 0 {
		return marksmith.Errorf(marksmith.ECONFLICT, "print job %d is no longer running", j.ID)
	}
	j.UpdatedAt = now
	return nil
}

// FinishPrintJob ends a running job in one transaction: its row as j
// says and, with file, the file in pieces.
func (s *PrintJobStore) FinishPrintJob(ctx context.Context, j *marksmith.PrintJob, file io.Reader) error {
	now := s.db.now()
	what := fmt.Sprintf("print job %d", j.ID)
	var bytes int64
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		fields := map[string]any{"status": j.Status, "done": j.Done, "total": j.Total, "pages": j.Pages,
			"file_name": j.FileName, "error": j.Error, "updated_at": now, "finished_at": dbTimePtr(j.FinishedAt)}
		if j.Status == marksmith.JobQueued {
			fields["started_at"] = nil
		}
		if file != nil {
			buf := make([]byte, ChunkSize)
			for seq := 0; ; seq++ {
				n, err := io.ReadFull(file, buf)
				if n > 0 {
					if err := tx.Create(&chunkRow{JobID: j.ID, Seq: seq, Data: buf[:n]}).Error; err != nil {
						return err
					}
					bytes += int64(n)
				}
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					break
				} else if err != nil {
					return fmt.Errorf("read the file: %w", err)
				}
			}
			fields["bytes"] = bytes
		}
		res := tx.Model(&printJobRow{}).Where("id = ? AND status = ?", j.ID, marksmith.JobRunning).Updates(fields)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return marksmith.Errorf(marksmith.ECONFLICT, "print job %d is no longer running", j.ID)
		}
		return nil
	})
	if err != nil {
		return translate(err, what)
	}
	j.UpdatedAt = now
	if file != nil {
		j.Bytes = bytes
	}
	if j.Status == marksmith.JobQueued {
		j.StartedAt = nil
	}
	return nil
}

// OpenPrintJobFile returns a reader of a job's file that reads one piece
// at a time, each with a query of its own on ctx: no connection is held
// between reads, however slowly the file is read.
func (s *PrintJobStore) OpenPrintJobFile(ctx context.Context, id int64) (io.ReadCloser, error) {
	r := &chunkReader{ctx: ctx, db: s.db, job: id}
	if err := r.next(); err != nil && err != io.EOF {
		return nil, err
	}
	return r, nil
}

// chunkReader reads a job's file piece by piece.
type chunkReader struct {
	ctx  context.Context
	db   *DB
	job  int64
	seq  int
	buf  []byte
	err  error
	done bool
}

// next reads the next piece into buf; io.EOF after the last.
func (r *chunkReader) next() error {
	var row chunkRow
	err := r.db.gorm.WithContext(r.ctx).Where("job_id = ? AND seq = ?", r.job, r.seq).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		r.done = true
		return io.EOF
	} else if err != nil {
		return translate(err, fmt.Sprintf("file of print job %d, piece %d", r.job, r.seq))
	}
	r.seq++
	r.buf = row.Data
	return nil
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		if err := r.next(); err != nil {
			r.err = err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Close stops reading.
func (r *chunkReader) Close() error {
	r.done, r.buf = true, nil
	return nil
}

// FailStalePrintJobs fails the jobs running with no progress since
// idleSince and those queued since queuedSince.
func (s *PrintJobStore) FailStalePrintJobs(ctx context.Context, now, idleSince, queuedSince time.Time, idleMsg, queuedMsg string) (int, error) {
	now = dbTime(now)
	n := 0
	for _, c := range []struct {
		status string
		since  time.Time
		msg    string
	}{{marksmith.JobRunning, idleSince, idleMsg}, {marksmith.JobQueued, queuedSince, queuedMsg}} {
		res := s.db.gorm.WithContext(ctx).Model(&printJobRow{}).Where("status = ? AND updated_at < ?", c.status, dbTime(c.since)).
			Updates(map[string]any{"status": marksmith.JobFailed, "error": c.msg, "updated_at": now, "finished_at": now})
		if res.Error != nil {
			return n, translate(res.Error, "fail stale print jobs")
		}
		n += int(res.RowsAffected)
	}
	return n, nil
}

// DeletePrintJobs deletes the jobs finished before t; their files go with
// them (ON DELETE CASCADE).
func (s *PrintJobStore) DeletePrintJobs(ctx context.Context, finishedBefore time.Time) (int, error) {
	res := s.db.gorm.WithContext(ctx).Where("finished_at < ?", dbTime(finishedBefore)).Delete(&printJobRow{})
	if res.Error != nil {
		return 0, translate(res.Error, "delete finished print jobs")
	}
	return int(res.RowsAffected), nil
}
