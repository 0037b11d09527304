// Package exams is the online exam service: instructors assemble an exam
// from the bank and publish it to a roster, which generates and stores
// every student's paper; students start, autosave and submit attempts
// within the exam's window and time limit; the server grades them with the
// core grader; instructors review what needs a human, regrade against a
// corrected template version, release results and read the gradebook and
// statistics.
//
// The service holds no state of its own: everything is read from and
// written to the marksmith.ExamStore, UserStore and TemplateStore
// it is given, so several instances may serve one database. Time comes from
// the now function passed to New.
//
// # Rules
//
// Publishing loads each question's pinned template version once, runs its
// self-test over min(roster, 200) variants with the exam seed (a failure
// stops the publish, EUNPROCESSABLE, naming the template and its
// failures), then draws each student's variant exactly as
// variants.DrawCohort would (seeded by exam seed, student key — the
// user's StudentKey, else the email — and template; distinct across the
// roster where the space allows), in batches of BatchSize students built
// on Workers goroutines while the previous batch is stored. With
// ShuffleQuestions each student sees the questions in the order
// variants.Permutation(seed, "questions"+key, n). The bank shuffles a
// part's options per variant; with ShuffleOptions false, options are put
// back in the template's canonical order (parts whose options are computed
// from the parameters keep the variant's order). Grading is by option
// identity either way.
//
// An attempt starts in [OpensAt, ClosesAt) and its deadline is the time
// limit from the start, never past ClosesAt. Saves and a submit are
// accepted until the deadline plus LateGraceSeconds; any after the
// deadline make the attempt late. After that the attempt is closed and
// graded with what was saved, whenever it is next touched (or by
// CloseOverdue), and saves are EGONE. An answer that cannot be read is
// stored with its format error, which the save returns.
//
// Scores are the grader's, scaled from the template's marks to the exam's
// marks for the question. A reviewer's override applies to every answer
// that normalises to the same text (or to listed attempts), keeps the
// grader's score as Suggested and is audited. A regrade rebuilds each
// stored variant with the corrected template version (the drawn values
// kept), grades the saved answers again, keeps reviewers' decisions, and
// records the version in the grades and in ExamQuestion.GradeVersion, which
// grades later submissions too; the paper as issued is never rewritten.
// Release needs every attempt submitted or closed and nothing awaiting
// review; once released, no new attempt may start.
package exams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
)

// DefaultBatchSize is how many students' papers Publish generates and
// stores at a time; memory is bounded by a few batches, not the roster.
const DefaultBatchSize = 500

// Service is the exam service, marksmith.ExamService. Create it with New.
type Service struct {
	store  marksmith.Store
	now    func() time.Time
	logger *slog.Logger
	// parts keeps, per published exam, what a save needs of each
	// student's paper (see saves.go).
	parts *partCache
	// exams keeps decoded exams by version (see examcache.go).
	exams *examCache

	// BatchSize is how many students Publish generates papers for and
	// stores at a time; 0 means DefaultBatchSize.
	BatchSize int
	// Workers is how many goroutines generate variants during Publish; 0
	// means runtime.GOMAXPROCS(0).
	Workers int
	// UploadBytes, UploadRows and UploadBatch are the largest upload of
	// answers, its most rows, and how many rows are graded and stored at a
	// time; 0 means DefaultUploadBytes, DefaultUploadRows and
	// DefaultUploadBatch.
	UploadBytes int64
	UploadRows  int
	UploadBatch int
	// jobs are the upload jobs running on this instance.
	jobs sync.WaitGroup
	// Print configures the print jobs (see printjobs.go); printWake
	// wakes this instance's RunPrintJobs when a job is queued here.
	Print     PrintOptions
	printWake chan struct{}

	// Limits are the template limits stored versions are loaded under:
	// the ones uploads were checked against (zero fields: bank's defaults).
	Limits bank.Limits
}

var _ marksmith.ExamService = (*Service)(nil)

// New returns the exam service over store. now is the clock every window,
// deadline and timestamp is read from (time.Now in production); a nil
// logger discards.
func New(store marksmith.Store, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, now: now, logger: logger, parts: newPartCache(defaultPartCacheSize), exams: newExamCache(),
		printWake: make(chan struct{}, 1)}
}

// clock returns the current time in UTC, truncated to the microsecond the
// databases store, so that comparisons with stored times are exact.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func (s *Service) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return DefaultBatchSize
}

func (s *Service) workers() int {
	if s.Workers > 0 {
		return s.Workers
	}
	return max(1, runtime.GOMAXPROCS(0))
}

// isStaff reports whether u may manage exams.
func isStaff(u *marksmith.User) bool {
	return u != nil && (u.Role == marksmith.RoleInstructor || u.Role == marksmith.RoleAdmin)
}

// checkActor refuses a missing or disabled actor.
func checkActor(actor *marksmith.User) error {
	if actor == nil || actor.ID == 0 {
		return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Sign in first.")
	}
	if actor.Disabled {
		return marksmith.Errorf(marksmith.EFORBIDDEN, "This account is disabled.")
	}
	return nil
}

// requireStaff refuses anyone but instructors and admins.
func requireStaff(actor *marksmith.User) error {
	if err := checkActor(actor); err != nil {
		return err
	}
	if !isStaff(actor) {
		return marksmith.Errorf(marksmith.EFORBIDDEN, "Only instructors and admins may do this.")
	}
	return nil
}

// requireStudent refuses anyone but students.
func requireStudent(actor *marksmith.User) error {
	if err := checkActor(actor); err != nil {
		return err
	}
	if actor.Role != marksmith.RoleStudent {
		return marksmith.Errorf(marksmith.EFORBIDDEN, "Only students take exams.")
	}
	return nil
}

// canManage reports whether the staff member may manage the exam: its
// creator, or an admin.
func canManage(actor *marksmith.User, e *marksmith.Exam) bool {
	return actor.Role == marksmith.RoleAdmin || (actor.Role == marksmith.RoleInstructor && e.CreatedBy == actor.ID)
}

// examNotFound is the error for an exam that does not exist or that the
// actor may not see; the two are not told apart.
func examNotFound(id int64) error {
	return marksmith.Errorf(marksmith.ENOTFOUND, "Exam %d not found.", id)
}

// attemptNotFound is examNotFound for attempts.
func attemptNotFound(id int64) error {
	return marksmith.Errorf(marksmith.ENOTFOUND, "Attempt %d not found.", id)
}

// managedExam returns the exam if actor may manage it.
func (s *Service) managedExam(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.Exam, error) {
	if err := requireStaff(actor); err != nil {
		return nil, err
	}
	e, err := s.store.FindExamByID(ctx, id)
	if isCode(err, marksmith.ENOTFOUND) {
		return nil, examNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("find exam %d: %w", id, err)
	}
	if !canManage(actor, e) {
		return nil, examNotFound(id)
	}
	return e, nil
}

// publishedExam is managedExam for operations on published exams.
func (s *Service) publishedExam(ctx context.Context, actor *marksmith.User, id int64) (*marksmith.Exam, error) {
	e, err := s.managedExam(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if e.Status != marksmith.ExamPublished {
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "Exam %d is a draft: publish it first.", id)
	}
	return e, nil
}

// isCode reports whether err carries the marksmith error code.
func isCode(err error, code string) bool {
	var me *marksmith.Error
	return errors.As(err, &me) && me.Code == code
}

// invalid returns the EUNPROCESSABLE error of problems with what.
func invalid(what string, problems marksmith.Problems) error { return problems.Err(what) }

// examMax returns the total marks of the exam.
func examMax(e *marksmith.Exam) float64 {
	var m float64
	for _, q := range e.Questions {
		m += q.Marks
	}
	return round(m)
}

// questionAt returns the exam's question at position, or nil.
func questionAt(e *marksmith.Exam, position int) *marksmith.ExamQuestion {
	for i := range e.Questions {
		if e.Questions[i].Position == position {
			return &e.Questions[i]
		}
	}
	return nil
}
