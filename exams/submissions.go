package exams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/bulk"
	"github.com/marksmith/marksmith/grader"
)

// Bulk grading. An upload is spooled to a temporary file as it arrives
// (never held in memory), its header is read at once (a header that cannot
// be read is refused with every problem), and a job then reads it a row at
// a time and grades it in batches of UploadBatch rows: each batch's
// students, papers, attempts and answers are read in a few statements, its
// rows graded against each student's stored paper with the online grader,
// and its attempts, answers, grades and row outcomes written in one
// transaction each. A batch is graded while the one before it is being
// written, so that the grading and the database work at once; memory is
// bounded by two batches, not by the upload. Batches are written in order,
// and a failure stops the job with the rows before it written.
//
// A row is rejected, with its line and field, when it cannot be read, names
// no student on the roster, gives a paper code that is not the student's,
// names a student another row already did, or names a student who already
// has an attempt with other answers (unless the upload replaces: then the
// attempt's answers and grades are replaced, audited with the old and new
// scores). A row with exactly the answers stored already is unchanged:
// uploading a file again writes no answer, grade or attempt.

// Upload limits and batch size.
const (
	DefaultUploadBytes = 64 << 20
	DefaultUploadRows  = 100_000
	DefaultUploadBatch = 500
)

// uploadLimits returns the service's limits.
func (s *Service) uploadLimits() (bytes int64, rows, batch int) {
	bytes, rows, batch = DefaultUploadBytes, DefaultUploadRows, DefaultUploadBatch
	if s.UploadBytes > 0 {
		bytes = s.UploadBytes
	}
	if s.UploadRows > 0 {
		rows = s.UploadRows
	}
	if s.UploadBatch > 0 {
		batch = s.UploadBatch
	}
	return
}

// WaitJobs waits for the upload jobs this instance runs to finish.
func (s *Service) WaitJobs() { s.jobs.Wait() }

// UploadSubmissions starts grading an upload of a cohort's answers to a
// published exam and returns the job.
func (s *Service) UploadSubmissions(ctx context.Context, actor *marksmith.User, examID int64, in marksmith.SubmissionUpload) (*marksmith.SubmissionJob, error) {
	e, err := s.publishedExam(ctx, actor, examID)
	if err != nil {
		return nil, err
	}
	var format bulk.Format
	if in.Format != "" {
		if format, err = bulk.ParseFormat(in.Format); err != nil {
			return nil, marksmith.Errorf(marksmith.EINVALID, "%s", err.Error())
		}
	}
	if in.Body == nil {
		return nil, marksmith.Errorf(marksmith.EINVALID, "The upload is empty.")
	}
	maxBytes, maxRows, _ := s.uploadLimits()
	tmp, err := os.CreateTemp("", "marksmith-upload-*")
	if err != nil {
		return nil, fmt.Errorf("exam %d: spool upload: %w", examID, err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, io.LimitReader(in.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("exam %d: spool upload: %w", examID, err)
	}
	if n > maxBytes {
		return nil, marksmith.Errorf(marksmith.ETOOLARGE, "The upload has more than %d bytes.", maxBytes)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("exam %d: spool upload: %w", examID, err)
	}
	columns, err := s.examColumns(ctx, e)
	if err != nil {
		return nil, err
	}
	rd, err := bulk.NewReader(tmp, bulk.Options{Format: format, Columns: columns, Exam: e.ID, CheckExam: true,
		MaxBytes: maxBytes, MaxRows: maxRows})
	if err != nil {
		return nil, uploadError(err)
	}
	job := &marksmith.SubmissionJob{ExamID: e.ID, Actor: actor.ID, Status: marksmith.JobRunning, Format: string(rd.Format()),
		Replace: in.Replace, DryRun: in.DryRun}
	if err := s.store.CreateSubmissionJob(ctx, job); err != nil {
		return nil, fmt.Errorf("exam %d: create upload job: %w", examID, err)
	}
	keep = true
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		s.runJob(context.WithoutCancel(ctx), e, actor, *job, rd)
	}()
	return job, nil
}

// uploadError is the error of an upload whose header cannot be read.
func uploadError(err error) error {
	var fe *bulk.FileError
	var le *bulk.LimitError
	switch {
	case errors.As(err, &fe):
		return &marksmith.Error{Code: marksmith.EUNPROCESSABLE, Message: "The upload cannot be read: " + fe.Error(),
			Details: rowErrors(fe.Problems)}
	case errors.As(err, &le):
		return marksmith.Errorf(marksmith.ETOOLARGE, "The upload has more than %d %s.", le.Limit, le.What)
	}
	return marksmith.Errorf(marksmith.EINVALID, "The upload cannot be read: %s", err.Error())
}

func rowErrors(ps []bulk.Problem) []marksmith.RowError {
	out := make([]marksmith.RowError, len(ps))
	for i, p := range ps {
		out[i] = marksmith.RowError{Line: p.Line, Column: p.Column, Field: p.Field, Message: p.Message}
	}
	return out
}

// examColumns returns the answer columns of a published exam: every part
// of every question, read from one student's papers (every student's
// paper has the same parts). nil when nobody has a paper.
func (s *Service) examColumns(ctx context.Context, e *marksmith.Exam) ([]bulk.Column, error) {
	roster, err := s.store.FindRoster(ctx, e.ID)
	if err != nil {
		return nil, fmt.Errorf("exam %d: roster: %w", e.ID, err)
	}
	var cols []bulk.Column
	seen := map[int]bool{}
	// Students added to the roster after the exam was published have
	// papers too; the first student with any gives the columns.
	for _, en := range roster {
		papers, err := s.store.FindPapers(ctx, e.ID, en.ID)
		if err != nil {
			return nil, fmt.Errorf("exam %d: papers: %w", e.ID, err)
		}
		for _, p := range papers {
			if seen[p.Position] {
				continue
			}
			seen[p.Position] = true
			specs, err := partSpecs(p)
			if err != nil {
				return nil, err
			}
			for _, sp := range specs {
				cols = append(cols, bulk.Column{Question: p.Position, Part: sp.ID})
			}
		}
		if len(papers) > 0 {
			break
		}
	}
	return cols, nil
}

// answerSpec is a part's id and answer spec, as a paper stores them.
type answerSpec struct {
	ID     string      `json:"id"`
	Answer grader.Spec `json:"answer"`
}

// partSpecs reads only the parts' answer specs of a paper.
func partSpecs(p *marksmith.Paper) ([]answerSpec, error) {
	var v struct {
		Parts []answerSpec `json:"parts"`
	}
	if err := json.Unmarshal(p.Variant, &v); err != nil {
		return nil, fmt.Errorf("exam %d student %d question %d: stored variant: %w", p.ExamID, p.UserID, p.Position, err)
	}
	return v.Parts, nil
}

// jobRun is the state of one running upload job.
type jobRun struct {
	s         *Service
	e         *marksmith.Exam
	actor     *marksmith.User
	job       marksmith.SubmissionJob
	g         *grading
	dec       *bank.GradingDecoder // the job's papers, decoded for grading
	byKey     map[string]*marksmith.User
	byID      map[int64]*marksmith.User
	seen      map[int64]int // student → the line that named them
	questions []int
	now       time.Time
}

// runJob reads and grades the rest of an upload, recording progress after
// each batch and the receipt at the end. Nothing it meets reaches a user
// as a panic: a failure is the job's error.
func (s *Service) runJob(ctx context.Context, e *marksmith.Exam, actor *marksmith.User, job marksmith.SubmissionJob, rd *bulk.Reader) {
	r := &jobRun{s: s, e: e, actor: actor, job: job, g: newGrading(s, e), dec: bank.NewGradingDecoder(), seen: map[int64]int{}, now: s.clock()}
	defer func() {
		if p := recover(); p != nil {
			s.logger.Error("upload job panicked", "job", job.ID, "exam", e.ID, "panic", p)
			r.finish(ctx, fmt.Errorf("internal error"))
		}
	}()
	r.finish(ctx, r.run(ctx, rd))
}

func (r *jobRun) run(ctx context.Context, rd *bulk.Reader) (err error) {
	roster, err := r.s.store.FindRoster(ctx, r.e.ID)
	if err != nil {
		return fmt.Errorf("roster: %w", err)
	}
	r.byKey = make(map[string]*marksmith.User, 2*len(roster))
	r.byID = make(map[int64]*marksmith.User, len(roster))
	for _, en := range roster {
		u := en.User
		r.byID[u.ID] = u
		r.byKey[strings.ToLower(u.Email)] = u
		if u.StudentKey != "" {
			r.byKey[strings.ToLower(u.StudentKey)] = u
		}
	}
	for _, q := range r.e.Questions {
		r.questions = append(r.questions, q.Position)
	}
	_, _, size := r.s.uploadLimits()
	w := r.startWriter(ctx)
	// However grading ends, even by a panic, the batches already graded
	// are written before the job's end is: a failure to write one is the
	// job's error, as it came first.
	defer func() {
		if werr := w.close(); werr != nil {
			err = werr
		}
	}()
	batch := make([]*bulk.Submission, 0, size)
	var readErr error
	for {
		sub, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		batch = append(batch, sub)
		if len(batch) == size {
			if err := r.gradeBatch(ctx, w, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := r.gradeBatch(ctx, w, batch); err != nil {
		return err
	}
	if err := w.close(); err != nil {
		return err
	}
	if readErr != nil {
		var fe *bulk.FileError
		var le *bulk.LimitError
		if errors.As(readErr, &fe) || errors.As(readErr, &le) {
			return &marksmith.Error{Code: marksmith.EUNPROCESSABLE, Message: readErr.Error()}
		}
		return fmt.Errorf("read upload: %w", readErr)
	}
	n, sum, err := rd.Sum()
	if err != nil {
		return fmt.Errorf("read upload: %w", err)
	}
	r.job.Bytes, r.job.SHA256 = n, sum
	return nil
}

// finish records the job's end: done, or failed with err.
func (r *jobRun) finish(ctx context.Context, err error) {
	now := r.s.clock()
	r.job.FinishedAt = &now
	r.job.Status = marksmith.JobDone
	if err != nil {
		r.job.Status = marksmith.JobFailed
		var me *marksmith.Error
		if errors.As(err, &me) && me.Code != marksmith.EINTERNAL {
			r.job.Error = me.Message
		} else {
			r.s.logger.Error("upload job failed", "job", r.job.ID, "exam", r.e.ID, "err", err)
			r.job.Error = "The upload could not be graded to the end: an internal error. The rows before it stand; upload the file again."
		}
	}
	if err := r.s.store.UpdateSubmissionJob(ctx, &r.job); err != nil {
		r.s.logger.Error("upload job: record end", "job", r.job.ID, "err", err)
	}
}

// rowOutcome is one row of a batch as it is graded.
type rowOutcome struct {
	sub     *bulk.Submission
	user    *marksmith.User
	errs    []marksmith.RowError
	res     bulk.RowResult
	answers []*marksmith.Answer
	grades  []*marksmith.Grade
}

func (o *rowOutcome) reject(field, format string, args ...any) {
	o.errs = append(o.errs, marksmith.RowError{Line: o.sub.Line, Field: field, Message: fmt.Sprintf(format, args...)})
}

// gradedBatch is a batch of rows graded and ready to be written.
type gradedBatch struct {
	save  []*marksmith.PaperAttempt
	audit []*marksmith.AuditEntry
	rows  []*marksmith.SubmissionRow
}

// writer writes graded batches, in order, on a goroutine of its own.
type writer struct {
	r      *jobRun
	ctx    context.Context
	in     chan *gradedBatch
	failed chan struct{} // closed when a write fails
	done   chan struct{} // closed when the goroutine ends
	err    error         // the first failure; read after done
	closed bool
}

// startWriter starts the writer of a job's batches. Its channel is
// unbuffered: one batch is written while the next is graded, and the
// grading waits for the writing rather than running ahead of it.
func (r *jobRun) startWriter(ctx context.Context) *writer {
	w := &writer{r: r, ctx: ctx, in: make(chan *gradedBatch), failed: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

func (w *writer) loop() {
	defer close(w.done)
	defer func() {
		if p := recover(); p != nil {
			w.r.s.logger.Error("upload job panicked", "job", w.r.job.ID, "exam", w.r.e.ID, "panic", p)
			w.err = fmt.Errorf("internal error")
			close(w.failed)
			for range w.in { // let the grading side finish
			}
		}
	}()
	for b := range w.in {
		if w.err != nil {
			continue
		}
		if err := w.r.store(w.ctx, b); err != nil {
			w.err = err
			close(w.failed)
		}
	}
}

// send hands a graded batch to the writer; false when an earlier batch
// could not be written (the job stops: close says why).
func (w *writer) send(b *gradedBatch) bool {
	select {
	case w.in <- b:
		return true
	case <-w.failed:
		return false
	}
}

// close waits for the batches handed over to be written and returns the
// first failure to write one. It may be called more than once.
func (w *writer) close() error {
	if !w.closed {
		w.closed = true
		close(w.in)
	}
	<-w.done
	return w.err
}

// gradeBatch grades one batch of rows and hands it to the writer.
func (r *jobRun) gradeBatch(ctx context.Context, w *writer, subs []*bulk.Submission) error {
	if len(subs) == 0 {
		return nil
	}
	select {
	case <-w.failed:
		return errWriteFailed
	default:
	}
	b, err := r.grades(ctx, subs)
	if err != nil {
		return err
	}
	if !w.send(b) {
		return errWriteFailed
	}
	return nil
}

// errWriteFailed stops the grading when a batch could not be written; the
// writer's error is the job's.
var errWriteFailed = errors.New("an earlier batch could not be written")

// grades reads what a batch of rows needs, grades the rows and returns
// what is to be written; it writes nothing.
func (r *jobRun) grades(ctx context.Context, subs []*bulk.Submission) (*gradedBatch, error) {
	rows := make([]*rowOutcome, len(subs))
	var ids []int64
	for i, sub := range subs {
		o := &rowOutcome{sub: sub}
		rows[i] = o
		for _, p := range sub.Problems {
			o.errs = append(o.errs, marksmith.RowError{Line: p.Line, Column: p.Column, Field: p.Field, Message: p.Message})
		}
		if len(o.errs) > 0 {
			continue
		}
		r.resolve(o)
		if o.user != nil {
			ids = append(ids, o.user.ID)
		}
	}
	papers, err := r.s.store.FindPapersOf(ctx, r.e.ID, ids)
	if err != nil {
		return nil, err
	}
	paperOf := map[int64][]*marksmith.Paper{}
	for _, p := range papers {
		paperOf[p.UserID] = append(paperOf[p.UserID], p)
	}
	attempts, err := r.s.store.FindAttemptsOf(ctx, r.e.ID, ids)
	if err != nil {
		return nil, err
	}
	attemptOf := map[int64]*marksmith.Attempt{}
	var attemptIDs []int64
	for _, a := range attempts {
		attemptOf[a.UserID] = a
		attemptIDs = append(attemptIDs, a.ID)
	}
	stored, err := r.s.store.FindAnswersOf(ctx, attemptIDs)
	if err != nil {
		return nil, err
	}
	answersOf := map[int64][]*marksmith.Answer{}
	for _, a := range stored {
		answersOf[a.AttemptID] = append(answersOf[a.AttemptID], a)
	}
	if err := r.g.prepare(ctx, papers); err != nil {
		return nil, err
	}

	// Grading is pure work on what was read: the rows are graded on the
	// service's workers (the templates it needs were loaded by prepare).
	errs := make([]error, len(rows))
	parallel(len(rows), r.s.workers(), func(i int) {
		o := rows[i]
		if o.user == nil || len(o.errs) > 0 {
			return
		}
		defer func() {
			if p := recover(); p != nil {
				errs[i] = fmt.Errorf("line %d: grading panicked: %v", o.sub.Line, p)
			}
		}()
		ps := paperOf[o.user.ID]
		if len(ps) == 0 {
			o.reject("student", "Student %s has no paper for this exam (added to the roster after it was published?).", who(o.user))
			return
		}
		var err error
		if o.answers, err = r.grade(ctx, o, ps); err != nil {
			errs[i] = fmt.Errorf("line %d: %w", o.sub.Line, err)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	var save []*marksmith.PaperAttempt
	var audit []*marksmith.AuditEntry
	for _, o := range rows {
		if o.user == nil || len(o.errs) > 0 {
			continue
		}
		answers := o.answers
		score, max := totals(o.grades)
		a := attemptOf[o.user.ID]
		if a != nil && a.Status != marksmith.AttemptOpen && sameAnswers(answersOf[a.ID], answers) {
			o.res.Status = bulk.StatusUnchanged
			if a.Score != nil {
				score = *a.Score
			}
			o.res.Score, o.res.Max = score, max
			continue
		}
		if a != nil && !r.job.Replace {
			if a.Status == marksmith.AttemptOpen {
				o.reject("student", "Student %s has an online attempt in progress (attempt %d); upload with replace=true to replace it.", who(o.user), a.ID)
			} else {
				o.reject("student", "Student %s already has graded answers (attempt %d); upload with replace=true to replace them.", who(o.user), a.ID)
			}
			continue
		}
		o.res.Status = bulk.StatusGraded
		o.res.Score, o.res.Max = score, max
		now := r.now
		pa := &marksmith.PaperAttempt{Answers: answers, Grades: o.grades}
		if a == nil {
			pa.Attempt = &marksmith.Attempt{ExamID: r.e.ID, UserID: o.user.ID, Status: marksmith.AttemptSubmitted,
				StartedAt: now, DeadlineAt: now, GraceUntil: now, Mode: marksmith.DeliveryPaper, SubmittedAt: &now,
				Score: &score, Max: max}
		} else {
			c := *a
			c.Status, c.Mode, c.SubmittedAt, c.Late, c.Score, c.Max = marksmith.AttemptSubmitted, marksmith.DeliveryPaper, &now, false, &score, max
			pa.Attempt, pa.Replace = &c, true
			before, _ := json.Marshal(map[string]any{"score": a.Score, "max": a.Max, "mode": a.Mode, "status": a.Status})
			after, _ := json.Marshal(map[string]any{"score": score, "max": max, "mode": marksmith.DeliveryPaper, "status": marksmith.AttemptSubmitted})
			audit = append(audit, &marksmith.AuditEntry{ExamID: r.e.ID, Actor: r.actor.ID, Action: "replace",
				Target: fmt.Sprintf("attempt %d", a.ID), Before: before, After: after,
				Reason: fmt.Sprintf("upload job %d line %d", r.job.ID, o.sub.Line), At: now})
		}
		save = append(save, pa)
	}
	out := make([]*marksmith.SubmissionRow, len(rows))
	for i, o := range rows {
		o.res.Line, o.res.Student, o.res.PaperCode = o.sub.Line, o.sub.Student, o.sub.PaperCode
		if len(o.errs) > 0 {
			o.res.Status = bulk.StatusRejected
			for _, e := range o.errs {
				msg := e.Message
				if e.Field != "" {
					msg = e.Field + ": " + msg
				}
				o.res.Errors = append(o.res.Errors, msg)
			}
		}
		line, err := resultLine(r.questions, o)
		if err != nil {
			return nil, err
		}
		out[i] = &marksmith.SubmissionRow{JobID: r.job.ID, Line: o.sub.Line, Status: o.res.Status, Errors: o.errs, Result: line}
	}
	return &gradedBatch{save: save, audit: audit, rows: out}, nil
}

// store writes a graded batch — its attempts, answers, grades and audit
// entries in one transaction, then its rows' outcomes — and records the
// job's progress.
func (r *jobRun) store(ctx context.Context, b *gradedBatch) error {
	if !r.job.DryRun && len(b.save) > 0 {
		if err := r.s.store.SavePaperAttempts(ctx, b.save, b.audit); err != nil {
			return err
		}
	}
	if err := r.s.store.SaveSubmissionRows(ctx, b.rows); err != nil {
		return err
	}
	for _, row := range b.rows {
		switch row.Status {
		case bulk.StatusRejected:
			r.job.Rejected++
		case bulk.StatusUnchanged:
			r.job.Unchanged++
		default:
			r.job.Graded++
		}
	}
	r.job.RowsRead += len(b.rows)
	return r.s.store.UpdateSubmissionJob(ctx, &r.job)
}

// who names a student in a message.
func who(u *marksmith.User) string {
	if u.StudentKey != "" {
		return u.StudentKey
	}
	return u.Email
}

// resolve finds the row's student on the roster, by student number (or
// email) and paper code, which must agree.
func (r *jobRun) resolve(o *rowOutcome) {
	sub := o.sub
	var u *marksmith.User
	if sub.Student != "" {
		if u = r.byKey[strings.ToLower(strings.TrimSpace(sub.Student))]; u == nil {
			o.reject("student", "No student %q on the exam's roster.", sub.Student)
			return
		}
	}
	if sub.Code != nil {
		cu := r.byID[sub.Code.Student]
		switch {
		case cu == nil:
			o.reject("paper_code", "Paper code %s is not of a student on the exam's roster.", sub.PaperCode)
			return
		case u != nil && u.ID != cu.ID:
			o.reject("paper_code", "Paper code %s is not student %s's paper.", sub.PaperCode, sub.Student)
			return
		}
		u = cu
	}
	if u == nil {
		o.reject("student", "The row names no student: give student or paper_code.")
		return
	}
	if line, ok := r.seen[u.ID]; ok {
		o.reject("student", "Student %s is already on line %d of this upload.", who(u), line)
		return
	}
	r.seen[u.ID] = sub.Line
	o.user = u
}

// grade grades a row against the student's papers and returns the
// answers to store (blank cells are not stored: a blank scores 0). Each
// paper's variant is decoded once, for grading (the job's decoder shares
// what papers have in common): its parts read the answers, and it (or
// its rebuild with a corrected template version) grades them.
func (r *jobRun) grade(ctx context.Context, o *rowOutcome, papers []*marksmith.Paper) ([]*marksmith.Answer, error) {
	stored := make(map[int]*bank.GradingVariant, len(papers))
	for _, p := range papers {
		gv, err := r.dec.Decode(p.Variant)
		if err != nil {
			return nil, fmt.Errorf("exam %d student %d question %d: %w", p.ExamID, p.UserID, p.Position, err)
		}
		stored[p.Position] = gv
	}
	var answers []*marksmith.Answer
	byQuestion := map[int]map[string]string{}
	for _, a := range o.sub.Answers {
		gv := stored[a.Column.Question]
		if gv == nil {
			o.reject(a.Column.String(), "The exam has no question %d.", a.Column.Question)
			continue
		}
		part := -1
		for i := range gv.Parts {
			if gv.Parts[i].ID == a.Column.Part {
				part = i
				break
			}
		}
		if part < 0 {
			o.reject(a.Column.String(), "Question %d has no part %q.", a.Column.Question, a.Column.Part)
			continue
		}
		if strings.TrimSpace(a.Raw) == "" {
			continue
		}
		ans := &marksmith.Answer{Position: a.Column.Question, Part: a.Column.Part, Raw: a.Raw, Seq: 1, SavedAt: r.now}
		pr, err := gv.Part(part)
		if err != nil {
			return nil, fmt.Errorf("exam %d question %d part %s: %w", r.e.ID, a.Column.Question, a.Column.Part, err)
		}
		if _, err := pr.Parse(a.Raw); err != nil {
			var fe *grader.FormatError
			if !errors.As(err, &fe) {
				return nil, fmt.Errorf("exam %d question %d part %s: parse: %w", r.e.ID, a.Column.Question, a.Column.Part, err)
			}
			ans.FormatError = fe.Msg
			o.res.FormatErrors = append(o.res.FormatErrors, a.Column.String()+": "+fe.Msg)
		}
		answers = append(answers, ans)
		m := byQuestion[ans.Position]
		if m == nil {
			m = map[string]string{}
			byQuestion[ans.Position] = m
		}
		m[ans.Part] = ans.Raw
	}
	if len(o.errs) > 0 {
		return nil, nil
	}
	perQuestion := map[int]float64{}
	for _, p := range papers {
		v, q, err := r.g.question(ctx, p, stored[p.Position])
		if err != nil {
			return nil, err
		}
		gs := gradeQuestion(r.e, 0, p.Position, v, q, byQuestion[p.Position], r.now)
		for _, g := range gs {
			perQuestion[g.Position] += g.Score
			if g.NeedsReview {
				o.res.NeedsReview = append(o.res.NeedsReview, fmt.Sprintf("%d.%s", g.Position, g.Part))
			}
		}
		o.grades = append(o.grades, gs...)
	}
	for _, q := range r.questions {
		if sc, ok := perQuestion[q]; ok {
			sc = round(sc)
			o.res.Scores = append(o.res.Scores, &sc)
		} else {
			o.res.Scores = append(o.res.Scores, nil)
		}
	}
	return answers, nil
}

// sameAnswers reports whether stored answers are exactly the row's
// (blank stored answers count as absent).
func sameAnswers(stored, row []*marksmith.Answer) bool {
	m := map[string]string{}
	for _, a := range stored {
		if strings.TrimSpace(a.Raw) != "" {
			m[fmt.Sprintf("%d.%s", a.Position, a.Part)] = a.Raw
		}
	}
	if len(m) != len(row) {
		return false
	}
	for _, a := range row {
		if raw, ok := m[fmt.Sprintf("%d.%s", a.Position, a.Part)]; !ok || raw != a.Raw {
			return false
		}
	}
	return true
}

// resultLine is a row's line of the results file, without its line break.
func resultLine(questions []int, o *rowOutcome) (string, error) {
	var b bytes.Buffer
	w := bulk.NewResultsWriter(&b, questions)
	if err := w.Write(o.res); err != nil {
		return "", err
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	s := b.String()
	s = s[strings.IndexByte(s, '\n')+1:]
	return strings.TrimSuffix(s, "\n"), nil
}

// FindSubmissionJob returns an upload job of an exam the actor manages.
func (s *Service) FindSubmissionJob(ctx context.Context, actor *marksmith.User, examID, jobID int64) (*marksmith.SubmissionJob, error) {
	if _, err := s.managedExam(ctx, actor, examID); err != nil {
		return nil, err
	}
	j, err := s.store.FindSubmissionJob(ctx, examID, jobID)
	if isCode(err, marksmith.ENOTFOUND) {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Upload %d of exam %d not found.", jobID, examID)
	} else if err != nil {
		return nil, fmt.Errorf("exam %d: upload job %d: %w", examID, jobID, err)
	}
	return j, nil
}

// SubmissionResults writes the results file of a finished upload job;
// ECONFLICT while it runs.
func (s *Service) SubmissionResults(ctx context.Context, actor *marksmith.User, examID, jobID int64, w io.Writer) error {
	j, err := s.FindSubmissionJob(ctx, actor, examID, jobID)
	if err != nil {
		return err
	}
	if j.Status == marksmith.JobRunning {
		return marksmith.Errorf(marksmith.ECONFLICT, "Upload %d is still being graded (%d rows so far).", jobID, j.RowsRead)
	}
	e, err := s.managedExam(ctx, actor, examID)
	if err != nil {
		return err
	}
	var questions []int
	for _, q := range e.Questions {
		questions = append(questions, q.Position)
	}
	header := bulk.NewResultsWriter(nil, questions).Header()
	if _, err := io.WriteString(w, strings.Join(header, ",")+"\n"); err != nil {
		return err
	}
	return s.store.SubmissionResults(ctx, jobID, func(line string) error {
		_, err := io.WriteString(w, line+"\n")
		return err
	})
}
