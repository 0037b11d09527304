package exams

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/marksmith/marksmith"
)

// Print jobs. A request to print a class too large for one request
// queues a job in the database (StartPrintJob). Every server instance
// with a printer runs RunPrintJobs, which claims the oldest queued job
// (one instance gets each), prints it with the PaperPrinter into a
// temporary file, writing the students and pages printed so far to the
// job at most every ProgressEvery, and stores the finished file with the
// job. Each instance prints one job at a time; the queue is shared.
//
// A job never waits forever. A running job whose progress stops for
// Stale (its server died, or its printer hung) is failed, by its own
// server (which stops the print) or by the sweep any instance runs; a
// job queued for QueueTimeout without a server taking it (no instance
// can print) is failed too. A server that stops while printing puts its
// job back in the queue for another. A finished job, with its file, is
// deleted Keep after it finished.

// Defaults of PrintOptions.
const (
	DefaultPrintQueue        = 10
	DefaultPrintJobStudents  = 1000
	DefaultPrintJobBytes     = 1 << 30
	DefaultPrintStale        = 10 * time.Minute
	DefaultPrintQueueTimeout = time.Hour
	DefaultPrintKeep         = 24 * time.Hour
	DefaultPrintPoll         = 5 * time.Second
	DefaultPrintProgress     = 2 * time.Second
)

// PrintOptions configure the print jobs; zero fields take the defaults.
type PrintOptions struct {
	// Printer prints the jobs; nil: this instance prints none, and
	// refuses to start one (EUNAVAILABLE).
	Printer marksmith.PaperPrinter
	// MaxQueued is the most jobs waiting, counted over the database: one
	// more is refused with EUNAVAILABLE and a time to retry.
	MaxQueued int
	// MaxStudents is the most students one job prints; MaxBytes the
	// largest file it may write.
	MaxStudents int
	MaxBytes    int64
	// Stale is how long a running job may go without progress before it
	// is failed; it must be well above the printer's time for one batch
	// of students (the paper printer allows 20 s a student, 10 a batch).
	Stale time.Duration
	// QueueTimeout is how long a job may wait in the queue.
	QueueTimeout time.Duration
	// Keep is how long a finished job and its file are kept.
	Keep time.Duration
	// Poll is how often an idle instance looks for jobs queued elsewhere
	// (one queued here wakes it at once); ProgressEvery, the least time
	// between two writes of a job's progress.
	Poll          time.Duration
	ProgressEvery time.Duration
}

// printOptions returns the options with their defaults.
func (s *Service) printOptions() PrintOptions {
	o := s.Print
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Stale, DefaultPrintStale)
	def(&o.QueueTimeout, DefaultPrintQueueTimeout)
	def(&o.Keep, DefaultPrintKeep)
	def(&o.Poll, DefaultPrintPoll)
	def(&o.ProgressEvery, DefaultPrintProgress)
	if o.MaxQueued <= 0 {
		o.MaxQueued = DefaultPrintQueue
	}
	if o.MaxStudents <= 0 {
		o.MaxStudents = DefaultPrintJobStudents
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultPrintJobBytes
	}
	return o
}

// StartPrintJob queues a print of a published exam's papers, or returns
// the job for the same input queued or running already.
func (s *Service) StartPrintJob(ctx context.Context, actor *marksmith.User, examID int64, in marksmith.PrintJobInput) (*marksmith.PrintJob, error) {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return nil, err
	}
	in.Student = strings.TrimSpace(in.Student)
	if err := in.Problems().Err("print job"); err != nil {
		return nil, err
	}
	if in.Format == "" {
		in.Format = marksmith.PrintPDF
	}
	students, err := s.paperStudents(ctx, e, in.Student, in.Key)
	if err != nil {
		return nil, err
	}
	opt := s.printOptions()
	if len(students) > opt.MaxStudents {
		return nil, marksmith.Errorf(marksmith.ETOOLARGE,
			"Exam %d has %d students, more than the %d one print job prints: print it a student at a time (student=KEY).",
			examID, len(students), opt.MaxStudents)
	}
	if opt.Printer == nil {
		return nil, marksmith.Errorf(marksmith.EUNAVAILABLE,
			"This server cannot print PDFs (no Chromium): print the HTML (GET /api/v1/exams/%d/papers?format=html) from a browser.", examID)
	}
	job, err := s.store.FindActivePrintJob(ctx, e.ID, in)
	switch {
	case err == nil:
		return job, s.describePrintJob(ctx, job)
	case !isCode(err, marksmith.ENOTFOUND):
		return nil, fmt.Errorf("exam %d: print jobs: %w", examID, err)
	}
	queued, err := s.store.QueuedPrintJobs(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("exam %d: print queue: %w", examID, err)
	}
	if queued >= opt.MaxQueued {
		return nil, &marksmith.Error{Code: marksmith.EUNAVAILABLE, RetryAfter: time.Minute,
			Message: fmt.Sprintf("The print queue is full (%d jobs waiting): try again in a few minutes.", queued)}
	}
	job = &marksmith.PrintJob{ExamID: e.ID, RequestedBy: actor.ID, Student: in.Student, Format: in.Format, Key: in.Key,
		Status: marksmith.JobQueued, Total: len(students)}
	if err := s.store.CreatePrintJob(ctx, job); err != nil {
		return nil, fmt.Errorf("exam %d: queue a print job: %w", examID, err)
	}
	select {
	case s.printWake <- struct{}{}:
	default: // awake already
	}
	return job, s.describePrintJob(ctx, job)
}

// FindPrintJob returns a print job of an exam the actor manages.
func (s *Service) FindPrintJob(ctx context.Context, actor *marksmith.User, examID, jobID int64) (*marksmith.PrintJob, error) {
	if _, err := s.managedExam(ctx, actor, examID); err != nil {
		return nil, err
	}
	j, err := s.store.FindPrintJob(ctx, examID, jobID)
	if isCode(err, marksmith.ENOTFOUND) {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Print job %d of exam %d not found.", jobID, examID)
	} else if err != nil {
		return nil, fmt.Errorf("exam %d: print job %d: %w", examID, jobID, err)
	}
	return j, s.describePrintJob(ctx, j)
}

// OpenPrintJobFile returns a done print job and its file.
func (s *Service) OpenPrintJobFile(ctx context.Context, actor *marksmith.User, examID, jobID int64) (*marksmith.PrintJob, io.ReadCloser, error) {
	j, err := s.FindPrintJob(ctx, actor, examID, jobID)
	if err != nil {
		return nil, nil, err
	}
	switch j.Status {
	case marksmith.JobQueued:
		return nil, nil, marksmith.Errorf(marksmith.ECONFLICT, "Print job %d is waiting to be printed (%d in the queue before it).", jobID, j.QueuePosition-1)
	case marksmith.JobRunning:
		return nil, nil, marksmith.Errorf(marksmith.ECONFLICT, "Print job %d is printing: %d of %d students so far.", jobID, j.Done, j.Total)
	case marksmith.JobFailed:
		return nil, nil, marksmith.Errorf(marksmith.ECONFLICT, "Print job %d failed: %s", jobID, j.Error)
	}
	r, err := s.store.OpenPrintJobFile(ctx, j.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("exam %d: file of print job %d: %w", examID, jobID, err)
	}
	return j, r, nil
}

// describePrintJob fills in what a job's reader is told beside its row:
// when it will be deleted, its place in the queue, the time it has taken
// and, printing, the time left at the rate so far.
func (s *Service) describePrintJob(ctx context.Context, j *marksmith.PrintJob) error {
	now := s.clock()
	end := now
	if j.FinishedAt != nil {
		end = *j.FinishedAt
		exp := j.FinishedAt.Add(s.printOptions().Keep)
		j.ExpiresAt = &exp
	}
	j.ElapsedSeconds = seconds(end.Sub(j.CreatedAt))
	if j.Status == marksmith.JobRunning && j.StartedAt != nil && j.Done > 0 && j.Done < j.Total {
		left := seconds(now.Sub(*j.StartedAt) / time.Duration(j.Done) * time.Duration(j.Total-j.Done))
		j.ETASeconds = &left
	}
	if j.Status == marksmith.JobQueued {
		before, err := s.store.QueuedPrintJobs(ctx, j.ID)
		if err != nil {
			return fmt.Errorf("print job %d: place in the queue: %w", j.ID, err)
		}
		j.QueuePosition = before + 1
	}
	return nil
}

// seconds is d in seconds, to the tenth, never negative.
func seconds(d time.Duration) float64 {
	return math.Round(max(d, 0).Seconds()*10) / 10
}

// RunPrintJobs prints queued print jobs, one at a time, until ctx ends;
// between jobs it fails stale jobs and deletes expired ones. It returns
// at once on an instance without a printer. When ctx ends during a print,
// the print stops and its job is queued again.
func (s *Service) RunPrintJobs(ctx context.Context) {
	opt := s.printOptions()
	if opt.Printer == nil {
		return
	}
	poll := time.NewTicker(opt.Poll)
	defer poll.Stop()
	sweepEvery := max(opt.Poll, opt.Stale/4)
	var swept time.Time
	for {
		if time.Since(swept) >= sweepEvery {
			if _, err := s.SweepPrintJobs(ctx); err != nil && ctx.Err() == nil {
				s.logger.Warn("sweep print jobs", "error", err.Error())
			}
			swept = time.Now()
		}
		for ctx.Err() == nil {
			job, err := s.store.ClaimPrintJob(ctx, s.clock())
			if err != nil {
				if ctx.Err() == nil {
					s.logger.Warn("claim a print job", "error", err.Error())
				}
				break
			}
			if job == nil {
				break
			}
			s.printJob(ctx, job)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.printWake:
		case <-poll.C:
		}
	}
}

// SweepPrintJobs fails the running jobs with no progress for Stale and
// the jobs queued for QueueTimeout, and deletes the jobs finished Keep
// ago with their files; it returns how many it failed. Any number of
// instances may sweep at once.
func (s *Service) SweepPrintJobs(ctx context.Context) (int, error) {
	opt := s.printOptions()
	now := s.clock()
	n, err := s.store.FailStalePrintJobs(ctx, now, now.Add(-opt.Stale), now.Add(-opt.QueueTimeout),
		fmt.Sprintf("The server printing this job stopped (no progress for %s): start the job again.", opt.Stale),
		fmt.Sprintf("No server started printing this job within %s (can any server print?): start it again.", opt.QueueTimeout))
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.logger.Warn("failed stale print jobs", "count", n)
	}
	if _, err := s.store.DeletePrintJobs(ctx, now.Add(-opt.Keep)); err != nil {
		return n, err
	}
	return n, nil
}

// Why a print stops before its end, besides its server stopping.
var (
	errStalled      = errors.New("no progress")
	errNoLongerOurs = errors.New("the job is no longer running")
	errFileTooLarge = errors.New("file too large")
)

const (
	// recordTimeout bounds the write of a job's end once its server is
	// stopping.
	recordTimeout = 10 * time.Second
	// printJobInternal is a failed job's error when the cause is ours.
	printJobInternal = "The papers could not be printed: an internal error (logged for the operator). Start the job again."
)

// printJob prints one claimed job to its end: done with its file,
// failed, or, when ctx ends first, queued again.
func (s *Service) printJob(ctx context.Context, job *marksmith.PrintJob) {
	log := s.logger.With("print_job", job.ID, "exam", job.ExamID)
	opt := s.printOptions()
	start := time.Now()
	pages, name, err := s.printToFile(ctx, job, opt, func(file io.Reader) error {
		now := s.clock()
		job.Status, job.FinishedAt, job.Error = marksmith.JobDone, &now, ""
		err := s.store.FinishPrintJob(ctx, job, file)
		if isCode(err, marksmith.ECONFLICT) {
			return errNoLongerOurs
		}
		return err
	})
	switch {
	case err == nil:
		log.Info("print job done", "students", job.Total, "pages", pages, "bytes", job.Bytes, "file", name,
			"wall", time.Since(start).Round(time.Millisecond))
		return
	case ctx.Err() != nil:
		// This server is stopping: another (or this one, started again)
		// prints the job from the start.
		job.Status, job.Done, job.Pages, job.FinishedAt = marksmith.JobQueued, 0, 0, nil
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if err := s.store.FinishPrintJob(rctx, job, nil); err != nil {
			log.Warn("print job: queue again", "error", err.Error())
		} else {
			log.Info("print job queued again: the server is stopping")
		}
		return
	case errors.Is(err, errNoLongerOurs):
		log.Warn("print job stopped: no longer running (failed by a sweep)")
		return
	}
	now := s.clock()
	job.Status, job.FinishedAt = marksmith.JobFailed, &now
	var me *marksmith.Error
	switch {
	case errors.Is(err, errStalled):
		job.Error = fmt.Sprintf("The print made no progress for %s: start the job again.", opt.Stale)
	case errors.Is(err, errFileTooLarge):
		job.Error = fmt.Sprintf("The file would be larger than %d bytes: print the class a student at a time.", opt.MaxBytes)
	case errors.As(err, &me) && me.Code != marksmith.EINTERNAL:
		job.Error = me.Message
	default:
		log.Error("print job failed", "error", err.Error())
		job.Error = printJobInternal
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := s.store.FinishPrintJob(rctx, job, nil); err != nil {
		log.Warn("print job: record the failure", "error", err.Error())
	}
}

// printToFile reads the job's papers, prints them into a temporary file
// with progress, and hands the file to store; it returns the pages and
// the file's name. Nothing it meets reaches a user as a panic.
func (s *Service) printToFile(ctx context.Context, job *marksmith.PrintJob, opt PrintOptions, store func(io.Reader) error) (pages int, name string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("print job %d panicked: %v", job.ID, p)
		}
	}()
	ep, err := s.jobPapers(ctx, job)
	if err != nil {
		return 0, "", err
	}
	job.Total, job.FileName = len(ep.Students), ep.FileName(job.Format)
	tmp, err := os.CreateTemp("", "marksmith-print-*")
	if err != nil {
		return 0, "", fmt.Errorf("print job %d: temporary file: %w", job.ID, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pr := &progress{job: *job, last: time.Now()}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.writeProgress(pctx, pr, opt, cancel)
	}()
	pages, err = opt.Printer.PrintPapers(pctx, &limitWriter{w: tmp, left: opt.MaxBytes}, ep, job.Format, pr.set)
	cancel(nil)
	wg.Wait()
	if cause := context.Cause(pctx); err != nil && ctx.Err() == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	if err != nil {
		return 0, "", err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return 0, "", fmt.Errorf("print job %d: %w", job.ID, err)
	}
	job.Done, job.Pages = job.Total, pages
	if err := store(tmp); err != nil {
		return 0, "", err
	}
	return pages, job.FileName, nil
}

// jobPapers reads the papers a job prints, checked again as a request
// is: the exam may have been unpublished, its roster changed, or the
// requester lost the right to print it since the job was queued.
func (s *Service) jobPapers(ctx context.Context, job *marksmith.PrintJob) (*marksmith.ExamPapers, error) {
	actor, err := s.store.FindUserByID(ctx, job.RequestedBy)
	if isCode(err, marksmith.ENOTFOUND) {
		return nil, marksmith.Errorf(marksmith.EFORBIDDEN, "The account that asked for this print no longer exists.")
	} else if err != nil {
		return nil, err
	}
	if err := checkActor(actor); err != nil {
		return nil, marksmith.Errorf(marksmith.EFORBIDDEN, "The account that asked for this print may no longer print: %s", marksmith.ErrorMessage(err))
	}
	e, err := s.publishedExam(ctx, actor, job.ExamID)
	if err != nil {
		return nil, err
	}
	students, err := s.paperStudents(ctx, e, job.Student, job.Key)
	if err != nil {
		return nil, err
	}
	if opt := s.printOptions(); len(students) > opt.MaxStudents {
		return nil, marksmith.Errorf(marksmith.ETOOLARGE, "Exam %d has %d students, more than the %d one print job prints.",
			e.ID, len(students), opt.MaxStudents)
	}
	return s.examPapers(ctx, e, job.Key, students)
}

// progress is a running job's progress as the printer reports it.
type progress struct {
	mu      sync.Mutex
	job     marksmith.PrintJob // Done, Total and Pages so far
	changed bool
	last    time.Time // when the printer last reported
}

func (p *progress) set(done, total, pages int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.job.Done, p.job.Total, p.job.Pages, p.changed, p.last = done, total, pages, true, time.Now()
}

// take returns the progress if it changed since it was last taken, and
// how long ago the printer last reported.
func (p *progress) take() (marksmith.PrintJob, bool, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	changed := p.changed
	p.changed = false
	return p.job, changed, time.Since(p.last)
}

// writeProgress writes the job's progress at most every ProgressEvery,
// until ctx ends. It stops the print (through cancel) when the printer
// has not reported for Stale, or when the job is no longer running (a
// sweep failed it).
func (s *Service) writeProgress(ctx context.Context, p *progress, opt PrintOptions, cancel context.CancelCauseFunc) {
	t := time.NewTicker(opt.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		j, changed, idle := p.take()
		if idle >= opt.Stale {
			cancel(errStalled)
			return
		}
		if !changed {
			continue
		}
		err := s.store.UpdatePrintJob(ctx, &j)
		switch {
		case isCode(err, marksmith.ECONFLICT):
			cancel(errNoLongerOurs)
			return
		case err != nil && ctx.Err() == nil:
			s.logger.Warn("print job: write progress", "print_job", j.ID, "error", err.Error())
		}
	}
}

// limitWriter refuses to write more than left bytes.
type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if int64(len(b)) > l.left {
		return 0, errFileTooLarge
	}
	n, err := l.w.Write(b)
	l.left -= int64(n)
	return n, err
}
