package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/marksmith/marksmith"
)

// SubmissionStore stores bulk-upload jobs, their rows, and the attempts
// they grade. It implements marksmith.SubmissionStore.
type SubmissionStore struct{ db *DB }

var _ marksmith.SubmissionStore = (*SubmissionStore)(nil)

// NewSubmissionStore returns the submission store of db.
func NewSubmissionStore(db *DB) *SubmissionStore { return &SubmissionStore{db: db} }

// jobRow is a row of submission_jobs.
type jobRow struct {
	ID            int64 `gorm:"primaryKey"`
	ExamID        int64
	Actor         int64
	Status        string
	Format        string
	ReplaceGraded bool
	DryRun        bool
	SHA256        string `gorm:"column:sha256"`
	Bytes         int64
	RowsRead      int
	RowsGraded    int
	RowsUnchanged int
	RowsRejected  int
	Error         string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	FinishedAt    *time.Time
}

func (jobRow) TableName() string { return "submission_jobs" }

func (r *jobRow) toDomain() *marksmith.SubmissionJob {
	return &marksmith.SubmissionJob{ID: r.ID, ExamID: r.ExamID, Actor: r.Actor, Status: r.Status, Format: r.Format,
		Replace: r.ReplaceGraded, DryRun: r.DryRun, SHA256: r.SHA256, Bytes: r.Bytes, RowsRead: r.RowsRead,
		Graded: r.RowsGraded, Unchanged: r.RowsUnchanged, Rejected: r.RowsRejected, Error: r.Error,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), FinishedAt: utcPtr(r.FinishedAt),
		Errors: []marksmith.RowError{}}
}

func jobFromDomain(j *marksmith.SubmissionJob) *jobRow {
	return &jobRow{ID: j.ID, ExamID: j.ExamID, Actor: j.Actor, Status: j.Status, Format: j.Format,
		ReplaceGraded: j.Replace, DryRun: j.DryRun, SHA256: j.SHA256, Bytes: j.Bytes, RowsRead: j.RowsRead,
		RowsGraded: j.Graded, RowsUnchanged: j.Unchanged, RowsRejected: j.Rejected, Error: j.Error,
		CreatedAt: dbTime(j.CreatedAt), UpdatedAt: dbTime(j.UpdatedAt), FinishedAt: dbTimePtr(j.FinishedAt)}
}

// rowRow is a row of submission_rows.
type rowRow struct {
	JobID  int64 `gorm:"primaryKey;autoIncrement:false"`
	Line   int   `gorm:"primaryKey;autoIncrement:false"`
	Status string
	Errors string
	Result string
}

func (rowRow) TableName() string { return "submission_rows" }

// CreateSubmissionJob stores a new job and sets its ID and times.
func (s *SubmissionStore) CreateSubmissionJob(ctx context.Context, j *marksmith.SubmissionJob) error {
	now := s.db.now()
	j.CreatedAt, j.UpdatedAt = now, now
	r := jobFromDomain(j)
	r.ID = 0
	if err := s.db.gorm.WithContext(ctx).Create(r).Error; err != nil {
		return translate(err, fmt.Sprintf("upload job of exam %d", j.ExamID))
	}
	j.ID = r.ID
	if j.Errors == nil {
		j.Errors = []marksmith.RowError{}
	}
	return nil
}

// UpdateSubmissionJob writes a job's status, receipt, counts and error.
func (s *SubmissionStore) UpdateSubmissionJob(ctx context.Context, j *marksmith.SubmissionJob) error {
	j.UpdatedAt = s.db.now()
	r := jobFromDomain(j)
	res := s.db.gorm.WithContext(ctx).Model(&jobRow{}).Where("id = ?", j.ID).Updates(map[string]any{
		"status": r.Status, "sha256": r.SHA256, "bytes": r.Bytes, "rows_read": r.RowsRead, "rows_graded": r.RowsGraded,
		"rows_unchanged": r.RowsUnchanged, "rows_rejected": r.RowsRejected, "error": r.Error,
		"updated_at": r.UpdatedAt, "finished_at": r.FinishedAt,
	})
	if res.Error != nil {
		return translate(res.Error, fmt.Sprintf("upload job %d", j.ID))
	}
	if res.RowsAffected == 0 {
		return marksmith.Errorf(marksmith.ENOTFOUND, "upload job %d not found", j.ID)
	}
	return nil
}

// FindSubmissionJob returns a job of an exam with the errors of its first
// marksmith.MaxJobErrors rejected rows; ENOTFOUND otherwise.
func (s *SubmissionStore) FindSubmissionJob(ctx context.Context, examID, id int64) (*marksmith.SubmissionJob, error) {
	var r jobRow
	what := fmt.Sprintf("upload job %d of exam %d", id, examID)
	if err := s.db.gorm.WithContext(ctx).Where("id = ? AND exam_id = ?", id, examID).Take(&r).Error; err != nil {
		return nil, translate(err, what)
	}
	j := r.toDomain()
	var rows []rowRow
	err := s.db.gorm.WithContext(ctx).Select("line, errors").Where("job_id = ? AND status = ?", id, "rejected").
		Order("line").Limit(marksmith.MaxJobErrors).Find(&rows).Error
	if err != nil {
		return nil, translate(err, what)
	}
	for _, row := range rows {
		var errs []marksmith.RowError
		if err := json.Unmarshal([]byte(row.Errors), &errs); err != nil {
			return nil, fmt.Errorf("%s line %d: errors: %w", what, row.Line, err)
		}
		j.Errors = append(j.Errors, errs...)
	}
	return j, nil
}

// SaveSubmissionRows stores a batch of row outcomes.
func (s *SubmissionStore) SaveSubmissionRows(ctx context.Context, rows []*marksmith.SubmissionRow) error {
	if len(rows) == 0 {
		return nil
	}
	out := make([]rowRow, len(rows))
	for i, r := range rows {
		out[i] = rowRow{JobID: r.JobID, Line: r.Line, Status: r.Status, Result: r.Result}
		if len(r.Errors) > 0 {
			b, err := json.Marshal(r.Errors)
			if err != nil {
				return fmt.Errorf("upload job %d line %d: errors: %w", r.JobID, r.Line, err)
			}
			out[i].Errors = string(b)
		}
	}
	err := s.db.transaction(ctx, func(tx *gorm.DB) error { return tx.CreateInBatches(out, 500).Error })
	return translate(err, fmt.Sprintf("rows of upload job %d", rows[0].JobID))
}

// SubmissionResults calls fn with each row's results line, in line order,
// reading the rows a page at a time.
func (s *SubmissionStore) SubmissionResults(ctx context.Context, jobID int64, fn func(line string) error) error {
	last := -1
	for {
		var rows []rowRow
		err := s.db.gorm.WithContext(ctx).Select("line, result").Where("job_id = ? AND line > ?", jobID, last).
			Order("line").Limit(1000).Find(&rows).Error
		if err != nil {
			return translate(err, fmt.Sprintf("results of upload job %d", jobID))
		}
		for _, r := range rows {
			if err := fn(r.Result); err != nil {
				return err
			}
		}
		if len(rows) < 1000 {
			return nil
		}
		last = rows[len(rows)-1].Line
	}
}

// FindPapersOf returns the papers of some students of an exam, by
// student and position.
func (s *SubmissionStore) FindPapersOf(ctx context.Context, examID int64, userIDs []int64) ([]*marksmith.Paper, error) {
	var out []*marksmith.Paper
	for lo := 0; lo < len(userIDs); lo += 500 {
		var rows []paperRow
		err := s.db.gorm.WithContext(ctx).Where("exam_id = ? AND user_id IN ?", examID, userIDs[lo:min(lo+500, len(userIDs))]).
			Order("user_id, question").Find(&rows).Error
		if err != nil {
			return nil, translate(err, fmt.Sprintf("papers of exam %d", examID))
		}
		for i := range rows {
			out = append(out, rows[i].toDomain())
		}
	}
	return out, nil
}

// FindAttemptsOf returns the attempts of some students of an exam.
func (s *SubmissionStore) FindAttemptsOf(ctx context.Context, examID int64, userIDs []int64) ([]*marksmith.Attempt, error) {
	var out []*marksmith.Attempt
	for lo := 0; lo < len(userIDs); lo += 500 {
		var rows []attemptRow
		err := s.db.gorm.WithContext(ctx).Where("exam_id = ? AND user_id IN ?", examID, userIDs[lo:min(lo+500, len(userIDs))]).
			Find(&rows).Error
		if err != nil {
			return nil, translate(err, fmt.Sprintf("attempts at exam %d", examID))
		}
		for i := range rows {
			out = append(out, rows[i].toDomain())
		}
	}
	return out, nil
}

// FindAnswersOf returns the answers of some attempts.
func (s *SubmissionStore) FindAnswersOf(ctx context.Context, attemptIDs []int64) ([]*marksmith.Answer, error) {
	var out []*marksmith.Answer
	for lo := 0; lo < len(attemptIDs); lo += 500 {
		var rows []answerRow
		err := s.db.gorm.WithContext(ctx).Where("attempt_id IN ?", attemptIDs[lo:min(lo+500, len(attemptIDs))]).
			Find(&rows).Error
		if err != nil {
			return nil, translate(err, "answers of attempts")
		}
		for i := range rows {
			out = append(out, rows[i].toDomain())
		}
	}
	return out, nil
}

// answerColumns and gradeColumns are the columns COPY writes.
var (
	answerColumns = []string{"attempt_id", "question", "part", "raw", "seq", "format_error", "saved_at"}
	gradeColumns  = []string{"attempt_id", "question", "part", "score", "max_score", "rule", "feedback", "needs_review",
		"template_version", "graded_at"}
)

// SavePaperAttempts stores a batch of graded attempts in one transaction:
// new attempts are created (their IDs set), replaced ones rewritten with
// their old answers and grades deleted; then every answer and grade is
// written (with COPY on Postgres) and the audit entries appended.
func (s *SubmissionStore) SavePaperAttempts(ctx context.Context, attempts []*marksmith.PaperAttempt, audit []*marksmith.AuditEntry) error {
	if len(attempts) == 0 {
		return nil
	}
	what := fmt.Sprintf("paper attempts at exam %d", attempts[0].Attempt.ExamID)
	err := s.db.withTx(ctx, func(db *DB) error {
		tx := db.gorm
		var fresh []*attemptRow
		var freshOf []*marksmith.PaperAttempt
		var replaced []int64
		for _, pa := range attempts {
			r := attemptFromDomain(pa.Attempt)
			if !pa.Replace {
				r.ID = 0
				fresh, freshOf = append(fresh, r), append(freshOf, pa)
				continue
			}
			res := tx.Model(&attemptRow{}).Where("id = ?", r.ID).Updates(map[string]any{
				"status": r.Status, "mode": r.Mode, "submitted_at": r.SubmittedAt, "late": r.Late,
				"score": r.Score, "max_score": r.MaxScore})
			if res.Error != nil {
				return res.Error
			}
			replaced = append(replaced, r.ID)
		}
		if len(fresh) > 0 {
			if err := tx.CreateInBatches(fresh, 500).Error; err != nil {
				return err
			}
			for i, r := range fresh {
				freshOf[i].Attempt.ID = r.ID
			}
		}
		for lo := 0; lo < len(replaced); lo += 500 {
			ids := replaced[lo:min(lo+500, len(replaced))]
			if err := tx.Exec("DELETE FROM answers WHERE attempt_id IN ?", ids).Error; err != nil {
				return err
			}
			if err := tx.Exec("DELETE FROM grades WHERE attempt_id IN ?", ids).Error; err != nil {
				return err
			}
		}
		var answers []answerRow
		var grades []gradeRow
		for _, pa := range attempts {
			for _, a := range pa.Answers {
				a.AttemptID = pa.Attempt.ID
				answers = append(answers, answerRow{AttemptID: a.AttemptID, Position: a.Position, Part: a.Part, Raw: a.Raw,
					Seq: a.Seq, FormatError: a.FormatError, SavedAt: dbTime(a.SavedAt)})
			}
			for _, g := range pa.Grades {
				g.AttemptID = pa.Attempt.ID
				grades = append(grades, gradeFromDomain(g))
			}
		}
		if db.dialect == DialectPostgres && db.conn != nil {
			if err := copyRows(ctx, db.conn, "answers", answerColumns, len(answers), func(i int) []any {
				a := &answers[i]
				return []any{a.AttemptID, a.Position, a.Part, a.Raw, a.Seq, a.FormatError, a.SavedAt}
			}); err != nil {
				return err
			}
			if err := copyRows(ctx, db.conn, "grades", gradeColumns, len(grades), func(i int) []any {
				g := &grades[i]
				return []any{g.AttemptID, g.Position, g.Part, g.Score, g.MaxScore, g.Rule, g.Feedback, g.NeedsReview,
					g.TemplateVersion, g.GradedAt}
			}); err != nil {
				return err
			}
		} else {
			if len(answers) > 0 {
				if err := tx.CreateInBatches(answers, 500).Error; err != nil {
					return err
				}
			}
			if len(grades) > 0 {
				if err := tx.CreateInBatches(grades, 500).Error; err != nil {
					return err
				}
			}
		}
		if len(audit) > 0 {
			now := db.now()
			rows := make([]*auditRow, len(audit))
			for i, e := range audit {
				rows[i] = auditFromDomain(e, now)
			}
			if err := tx.CreateInBatches(rows, 200).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return translate(err, what)
}

// copyRows writes n rows to table with Postgres's COPY on conn.
func copyRows(ctx context.Context, conn *sql.Conn, table string, columns []string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy %s: driver connection is %T, not pgx", table, dc)
		}
		i := 0
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			i++
			return row(i - 1), nil
		})
		_, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, src)
		return err
	})
}
