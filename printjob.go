package marksmith

import (
	"context"
	"io"
	"time"
)

// Print jobs: a published exam's papers printed as a job, for a class too
// large for one request. A job is queued in the database, printed by
// whichever server instance claims it first (one job at a time per
// instance), and its progress and finished file are stored, so that any
// instance answers for it.

// JobQueued is the status of a print job waiting for a server to print
// it; print jobs then run (JobRunning) and end done or failed, as upload
// jobs do.
const JobQueued = "queued"

// Print job formats: one PDF, or a zip of one PDF per student.
const (
	PrintPDF = "pdf"
	PrintZip = "zip"
)

// MaxPrintStudentKey bounds PrintJobInput.Student, as the papers route
// bounds its student parameter.
const MaxPrintStudentKey = 254

// PrintJobInput is what a print job prints: every student on the roster,
// or one (Student: a student number or an email); as one PDF or a zip of
// one PDF per student (Format, default pdf); question papers or, with
// Key, the markers' keys.
type PrintJobInput struct {
	Student string `json:"student,omitempty"`
	Format  string `json:"format,omitempty"`
	Key     bool   `json:"key,omitempty"`
}

// Problems returns what is wrong with the input, by field.
func (in PrintJobInput) Problems() Problems {
	var p Problems
	switch in.Format {
	case "", PrintPDF, PrintZip:
	case "html":
		p.Add("format", "html is not printed as a job: GET /api/v1/exams/{id}/papers?format=html writes it at once")
	default:
		p.Add("format", "must be pdf or zip")
	}
	p.CheckText("student", in.Student, MaxPrintStudentKey)
	return p
}

// PrintJob is a print of an exam's papers, queued, running or finished.
// Its file is kept for a while after it is done (ExpiresAt), then the job
// is deleted with it.
type PrintJob struct {
	ID          int64  `json:"id"`
	ExamID      int64  `json:"exam_id"`
	RequestedBy int64  `json:"requested_by"`
	Student     string `json:"student,omitempty"`
	Format      string `json:"format"`
	Key         bool   `json:"key"`
	// Status is queued, running, done or failed.
	Status string `json:"status"`
	// Done of Total students are printed; Pages so far.
	Done  int `json:"done"`
	Total int `json:"total"`
	Pages int `json:"pages"`
	// Bytes and FileName are the finished file's.
	Bytes    int64  `json:"bytes"`
	FileName string `json:"file_name,omitempty"`
	// Error is why a failed job stopped.
	Error      string     `json:"error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`

	// Computed when the job is read, not stored. ExpiresAt is when a
	// finished job and its file are deleted; QueuePosition, for a queued
	// job, how many queued jobs go first, plus one; ElapsedSeconds, the
	// time since the job was created (to its end, once finished); and
	// ETASeconds, for a running job with students printed, the time left
	// at the rate so far.
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`
	QueuePosition  int        `json:"queue_position,omitempty"`
	ElapsedSeconds float64    `json:"elapsed_seconds"`
	ETASeconds     *float64   `json:"eta_seconds,omitempty"`
}

// PaperPrinter prints an exam's papers as one PDF (format pdf) or a zip of
// one PDF per student (zip) to w, and returns the pages printed. progress,
// when set, is called (never concurrently) as students are printed, with
// the students and pages printed so far.
type PaperPrinter interface {
	PrintPapers(ctx context.Context, w io.Writer, ep *ExamPapers, format string, progress func(done, total, pages int)) (pages int, err error)
}

// PrintJobStore stores print jobs and their files.
type PrintJobStore interface {
	// CreatePrintJob stores a new job and sets its ID and times.
	CreatePrintJob(ctx context.Context, j *PrintJob) error
	// FindPrintJob returns a job of an exam; ENOTFOUND otherwise.
	FindPrintJob(ctx context.Context, examID, id int64) (*PrintJob, error)
	// FindActivePrintJob returns the oldest queued or running job of the
	// exam for the same input; ENOTFOUND when there is none.
	FindActivePrintJob(ctx context.Context, examID int64, in PrintJobInput) (*PrintJob, error)
	// QueuedPrintJobs counts the queued jobs, and those queued before job
	// before (0: all of them).
	QueuedPrintJobs(ctx context.Context, before int64) (int, error)
	// ClaimPrintJob marks the oldest queued job running, started at now,
	// and returns it; nil when none is queued. Of several servers claiming
	// at once, one gets each job.
	ClaimPrintJob(ctx context.Context, now time.Time) (*PrintJob, error)
	// UpdatePrintJob writes a running job's progress (Done, Total, Pages);
	// ECONFLICT when it is no longer running.
	UpdatePrintJob(ctx context.Context, j *PrintJob) error
	// FinishPrintJob ends a running job: with file, done, the file stored
	// with it (read to the end); without, as j says (failed, or queued
	// again). ECONFLICT when it is no longer running.
	FinishPrintJob(ctx context.Context, j *PrintJob, file io.Reader) error
	// OpenPrintJobFile reads a job's stored file a piece at a time, with
	// ctx.
	OpenPrintJobFile(ctx context.Context, id int64) (io.ReadCloser, error)
	// FailStalePrintJobs fails, with the messages, the jobs running with
	// no progress since idleSince and those queued since queuedSince, and
	// returns how many.
	FailStalePrintJobs(ctx context.Context, now, idleSince, queuedSince time.Time, idleMsg, queuedMsg string) (int, error)
	// DeletePrintJobs deletes the jobs, with their files, finished before
	// t, and returns how many.
	DeletePrintJobs(ctx context.Context, finishedBefore time.Time) (int, error)
}
