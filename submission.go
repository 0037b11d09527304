package marksmith

import (
	"context"
	"io"
	"time"
)

// Bulk grading: a whole cohort's answers to a published exam, uploaded at
// once (a paper exam typed up, another system's export), read row by row
// and graded against each student's stored paper as online answers are.
// An upload runs as a job whose progress, per-row errors and receipt are
// stored, so that any server instance can report on it.

// SubmissionUpload is an upload of a cohort's answers. Format is csv,
// json, jsonl or "" (sniffed); Body is read once, as a stream.
type SubmissionUpload struct {
	Format string
	Body   io.Reader
	// Replace lets a row replace the graded answers a student has already
	// (audited with the old and new scores); without it such a row is
	// refused.
	Replace bool
	// DryRun grades and reports without storing any answer or grade.
	DryRun bool
}

// Submission job statuses.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed" // the upload could not be read on, or storage failed: see Error
)

// SubmissionJob is an upload being graded, or graded: its progress and,
// once done, its receipt (SHA256, Bytes and the row counts).
type SubmissionJob struct {
	ID        int64  `json:"id"`
	ExamID    int64  `json:"exam_id"`
	Actor     int64  `json:"actor"`
	Status    string `json:"status"`
	Format    string `json:"format"`
	Replace   bool   `json:"replace"`
	DryRun    bool   `json:"dry_run"`
	SHA256    string `json:"sha256,omitempty"` // of the whole upload, once read
	Bytes     int64  `json:"bytes"`
	RowsRead  int    `json:"rows_read"`
	Graded    int    `json:"rows_graded"`
	Unchanged int    `json:"rows_unchanged"` // the same answers were stored already
	Rejected  int    `json:"rows_rejected"`
	// Error is why a failed job stopped; rows before it stand.
	Error      string     `json:"error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Errors are the problems of rejected rows, in line order (at most
	// MaxJobErrors of them in a job's report).
	Errors []RowError `json:"errors"`
}

// MaxJobErrors bounds the row errors a job's report lists; the results
// file has every row.
const MaxJobErrors = 1000

// RowError is one problem of one row of an upload: its line, its column
// (CSV, 1-based; 0 for the whole row) and the field it is about.
type RowError struct {
	Line    int    `json:"line"`
	Column  int    `json:"column,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// SubmissionRow is the stored outcome of one row of an upload: its
// status (graded, unchanged or rejected), its problems, and its line of
// the results file (CSV, without the line break).
type SubmissionRow struct {
	JobID  int64
	Line   int
	Status string
	Errors []RowError
	Result string
}

// PaperAttempt is an uploaded student's attempt to store: the attempt
// (submitted, mode paper) with its answers and grades. With Replace the
// student's existing attempt (Attempt.ID) has its answers and grades
// replaced; otherwise a new attempt is created.
type PaperAttempt struct {
	Attempt *Attempt
	Answers []*Answer
	Grades  []*Grade
	Replace bool
}

// SubmissionStore stores upload jobs and the attempts they grade.
type SubmissionStore interface {
	CreateSubmissionJob(ctx context.Context, j *SubmissionJob) error
	// UpdateSubmissionJob writes a job's status, receipt and counts.
	UpdateSubmissionJob(ctx context.Context, j *SubmissionJob) error
	// FindSubmissionJob returns a job of an exam with the first
	// MaxJobErrors row errors; ENOTFOUND otherwise.
	FindSubmissionJob(ctx context.Context, examID, id int64) (*SubmissionJob, error)
	// SaveSubmissionRows stores a batch of row outcomes.
	SaveSubmissionRows(ctx context.Context, rows []*SubmissionRow) error
	// SubmissionResults calls fn with each row's results line, in line order.
	SubmissionResults(ctx context.Context, jobID int64, fn func(line string) error) error

	// FindPapersOf returns the papers of some students of an exam.
	FindPapersOf(ctx context.Context, examID int64, userIDs []int64) ([]*Paper, error)
	// FindAttemptsOf returns the attempts of some students of an exam.
	FindAttemptsOf(ctx context.Context, examID int64, userIDs []int64) ([]*Attempt, error)
	// FindAnswersOf returns the answers of some attempts.
	FindAnswersOf(ctx context.Context, attemptIDs []int64) ([]*Answer, error)
	// SavePaperAttempts stores a batch of graded attempts, setting the IDs
	// of new ones, and appends audit entries, in one transaction.
	SavePaperAttempts(ctx context.Context, attempts []*PaperAttempt, audit []*AuditEntry) error
}
