package marksmith

import (
	"context"
	"encoding/json"
	"time"
)

// Limits of an exam's questions that every service and front end shares:
// a value past them names nothing an exam can hold, so it is refused
// before any query.
const (
	// MaxQuestions is the most questions an exam holds; a question's
	// number (its position on the paper) is 1 to MaxQuestions.
	MaxQuestions = 100
	// MaxPartID is the longest part id, in characters. The bank refuses
	// a template with a longer one (bank.MaxPartIDLength is the same).
	MaxPartID = 64
)

// ExamStatus is where an exam is in its life.
type ExamStatus string

// The exam statuses.
const (
	ExamDraft     ExamStatus = "draft"     // being assembled; editable
	ExamPublished ExamStatus = "published" // papers generated and stored; students may start in the window
)

// Feedback levels: what a student sees of a graded attempt.
const (
	FeedbackNone  = "none"  // nothing but that it was submitted
	FeedbackScore = "score" // the total
	FeedbackParts = "parts" // per-part scores and feedback
	FeedbackKey   = "key"   // per-part scores, feedback and the key
)

// FeedbackPolicy says what a student sees after submitting and after the
// instructor releases results.
type FeedbackPolicy struct {
	AfterSubmit  string `json:"after_submit"`  // none | score | parts
	AfterRelease string `json:"after_release"` // score | parts | key
}

// ExamQuestion is one question of an exam: a template at a pinned version,
// worth Marks (the template's marks are scaled to it), at Position (1-based).
// GradeVersion, once a regrade has run, is the corrected version of the
// template that grades the question: papers keep the variant issued at
// Version, and grading rebuilds its key with GradeVersion.
type ExamQuestion struct {
	Position     int     `json:"position"`
	TemplateID   string  `json:"template"`
	Version      int     `json:"version"`
	Marks        float64 `json:"marks"`
	GradeVersion int     `json:"grade_version,omitempty"`
}

// Exam is an exam: questions from the bank, a seed, a roster, a window.
type Exam struct {
	ID               int64          `json:"id"`
	Title            string         `json:"title"`
	Seed             Seed           `json:"seed"`
	Questions        []ExamQuestion `json:"questions"`
	OpensAt          time.Time      `json:"opens_at"`
	ClosesAt         time.Time      `json:"closes_at"`
	TimeLimitSeconds int            `json:"time_limit_seconds"` // 0: until the window closes
	LateGraceSeconds int            `json:"late_grace_seconds"` // 0: no late work accepted
	ShuffleQuestions bool           `json:"shuffle_questions"`
	ShuffleOptions   bool           `json:"shuffle_options"`
	Feedback         FeedbackPolicy `json:"feedback"`
	Delivery         string         `json:"delivery"` // online | paper | both
	Status           ExamStatus     `json:"status"`
	Released         bool           `json:"released"`
	CreatedBy        int64          `json:"created_by"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
	PublishedAt      *time.Time     `json:"published_at,omitempty"`
	ReleasedAt       *time.Time     `json:"released_at,omitempty"`
	// Version is raised by every change to the exam (by the database,
	// whatever the change): a copy kept in memory is current while its
	// Version is the one the database returns.
	Version int64 `json:"-"`
}

// Paper is one student's stored variant of one question of an exam: the
// whole generated variant, key included, as JSON (a bank.Variant). It is
// written once at publish and never regenerated.
type Paper struct {
	ExamID     int64           `json:"exam_id"`
	UserID     int64           `json:"user_id"`
	Position   int             `json:"position"` // the question's position in the exam
	Order      int             `json:"order"`    // where this student sees it (question shuffling)
	TemplateID string          `json:"template"`
	Version    int             `json:"version"`
	Seed       Seed            `json:"variant"`
	Variant    json.RawMessage `json:"-"`
}

// AttemptStatus is the state of an attempt.
type AttemptStatus string

// The attempt statuses.
const (
	AttemptOpen      AttemptStatus = "open"
	AttemptSubmitted AttemptStatus = "submitted" // by the student
	AttemptClosed    AttemptStatus = "closed"    // by the server at the deadline, graded with what was saved
)

// Attempt is a student's sitting of an exam.
type Attempt struct {
	ID          int64         `json:"id"`
	ExamID      int64         `json:"exam_id"`
	UserID      int64         `json:"user_id"`
	Status      AttemptStatus `json:"status"`
	StartedAt   time.Time     `json:"started_at"`
	DeadlineAt  time.Time     `json:"deadline_at"` // when answers stop being on time
	GraceUntil  time.Time     `json:"grace_until"` // when answers stop being accepted: the deadline plus the exam's late grace
	Mode        string        `json:"mode"`        // online, or paper for answers uploaded in bulk
	SubmittedAt *time.Time    `json:"submitted_at,omitempty"`
	Late        bool          `json:"late,omitempty"` // submitted within the grace period
	Score       *float64      `json:"score,omitempty"`
	Max         float64       `json:"max"`
	// ExamVersion is the exam's Version when the attempt was read by
	// FindAttemptByID (0 from other reads).
	ExamVersion int64 `json:"-"`
}

// Answer is the latest saved answer to one part. Seq is the client's
// sequence number: a save with a lower or equal Seq never overwrites.
type Answer struct {
	AttemptID   int64     `json:"-"`
	Position    int       `json:"question"`
	Part        string    `json:"part"`
	Raw         string    `json:"answer"`
	Seq         int64     `json:"seq"`
	FormatError string    `json:"format_error,omitempty"`
	SavedAt     time.Time `json:"saved_at"`
}

// Grade is the score of one part of one attempt, with where it came from.
// A reviewer's override keeps the suggested score beside it.
type Grade struct {
	AttemptID       int64      `json:"attempt_id"`
	Position        int        `json:"question"`
	Part            string     `json:"part"`
	Score           float64    `json:"score"` // scaled to the exam's marks for the question
	Max             float64    `json:"max"`
	Rule            string     `json:"rule"`
	Feedback        string     `json:"feedback,omitempty"`
	NeedsReview     bool       `json:"needs_review,omitempty"`
	TemplateVersion int        `json:"template_version"`
	GradedAt        time.Time  `json:"graded_at"`
	Suggested       *float64   `json:"suggested,omitempty"` // the grader's score, kept when a reviewer overrides it
	ReviewedBy      *int64     `json:"reviewed_by,omitempty"`
	ReviewReason    string     `json:"review_reason,omitempty"`
	ReviewedAt      *time.Time `json:"reviewed_at,omitempty"`
}

// AuditEntry records who changed what: an override, a regrade, a release.
type AuditEntry struct {
	ID     int64           `json:"id"`
	ExamID int64           `json:"exam_id"`
	Actor  int64           `json:"actor"`
	Action string          `json:"action"` // "override", "regrade", "release", "publish"
	Target string          `json:"target"` // e.g. "attempt 12 question 3 part e"
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	Reason string          `json:"reason,omitempty"`
	At     time.Time       `json:"at"`
}

// ExamFilter selects exams; nil fields do not filter.
type ExamFilter struct {
	CreatedBy *int64 // exams this instructor created
	Student   *int64 // exams whose roster holds this student
	Status    *ExamStatus
	Offset    int
	Limit     int
}

// ExamStore stores exams, rosters, papers, attempts, answers, grades and
// the audit log. Each method is one statement or one transaction; run
// several in one transaction with Store.WithTx.
type ExamStore interface {
	CreateExam(ctx context.Context, e *Exam) error
	FindExamByID(ctx context.Context, id int64) (*Exam, error)
	FindExams(ctx context.Context, filter ExamFilter) ([]*Exam, int, error)
	// UpdateExam rewrites a draft exam; ECONFLICT when it is published.
	UpdateExam(ctx context.Context, e *Exam) error
	DeleteExam(ctx context.Context, id int64) error

	// SetRoster replaces a draft exam's roster.
	SetRoster(ctx context.Context, examID int64, userIDs []int64) error
	// AddToRoster adds students to an exam's roster (any status); those
	// already on it are left alone.
	AddToRoster(ctx context.Context, examID int64, userIDs []int64) error
	// RemoveFromRoster removes a student from a roster; ENOTFOUND when not
	// on it.
	RemoveFromRoster(ctx context.Context, examID, userID int64) error
	FindRoster(ctx context.Context, examID int64) ([]*RosterEntry, error)
	// FindRosterEntry returns a student's roster entry; ENOTFOUND when the
	// student is not on the roster.
	FindRosterEntry(ctx context.Context, examID, userID int64) (*RosterEntry, error)
	SetAccommodation(ctx context.Context, examID, userID int64, a Accommodation) error

	// SavePapers stores a batch of generated papers.
	SavePapers(ctx context.Context, papers []*Paper) error
	// MarkPublished moves a draft exam to published; ECONFLICT otherwise.
	MarkPublished(ctx context.Context, examID int64, at time.Time) error
	// MarkDraft moves a published exam back to draft and deletes its
	// papers; ECONFLICT when it is not published or has attempts.
	MarkDraft(ctx context.Context, examID int64, at time.Time) error
	// EndExam closes a published exam's window at at (when it closes later),
	// for every student: later closes of accommodations are cut to at too.
	EndExam(ctx context.Context, examID int64, at time.Time) error
	// DeletePapers removes the papers of an exam, or of one student of it
	// (userID > 0).
	DeletePapers(ctx context.Context, examID, userID int64) error
	// FindPapers returns a student's papers in the order the student sees them.
	FindPapers(ctx context.Context, examID, userID int64) ([]*Paper, error)
	// FindAttemptPaper returns one question's paper of the student of an attempt
	// owned by userID; ENOTFOUND otherwise.
	FindAttemptPaper(ctx context.Context, attemptID, userID int64, position int) (*Paper, error)
	// FindExamPapers returns the papers of one question of an exam (every
	// question when position is 0), ordered by student and position.
	FindExamPapers(ctx context.Context, examID int64, position int) ([]*Paper, error)
	// SetGradeVersion records the corrected template version that grades
	// one question of a published exam (see ExamQuestion.GradeVersion).
	SetGradeVersion(ctx context.Context, examID int64, position, version int) error

	// CreateAttempt stores a new attempt; ECONFLICT when the student already has one.
	CreateAttempt(ctx context.Context, a *Attempt) error
	FindAttemptByID(ctx context.Context, id int64) (*Attempt, error)
	// LockAttempt returns an attempt and, inside Store.WithTx, locks it
	// against saves and other changes until the transaction ends.
	LockAttempt(ctx context.Context, id int64) (*Attempt, error)
	FindAttempt(ctx context.Context, examID, userID int64) (*Attempt, error)
	FindAttempts(ctx context.Context, examID int64) ([]*Attempt, error)
	// UpdateAttempt rewrites an attempt's status, times, lateness and score.
	UpdateAttempt(ctx context.Context, a *Attempt) error

	// SaveAnswer stores a part's answer in one statement, when the attempt
	// belongs to userID (an enabled account with a password of its own),
	// is open and is not past its
	// GraceUntil at a's SavedAt, and the stored answer's Seq is lower. It
	// says which.
	SaveAnswer(ctx context.Context, a *Answer, userID int64) (*SaveOutcome, error)
	FindAnswers(ctx context.Context, attemptID int64) ([]*Answer, error)
	// FindExamAnswers returns the answers of every attempt of an exam.
	FindExamAnswers(ctx context.Context, examID int64) ([]*Answer, error)
	// LastSaves returns, per attempt of an exam, when its last answer was
	// saved and how many parts have a non-blank answer.
	LastSaves(ctx context.Context, examID int64) (map[int64]SaveActivity, error)

	// CloseAttempt records the end of an open attempt with its grades and
	// score; ECONFLICT when it is no longer open.
	CloseAttempt(ctx context.Context, a *Attempt, grades []*Grade) error
	FindGrades(ctx context.Context, attemptID int64) ([]*Grade, error)
	FindExamGrades(ctx context.Context, examID int64) ([]*Grade, error)
	// LockPartGrades returns the grades of one part of an exam's question
	// and, inside Store.WithTx, locks them until the transaction ends, so
	// that two review decisions on the part are made one after the other.
	LockPartGrades(ctx context.Context, examID int64, position int, part string) ([]*Grade, error)
	// DeleteGrades removes an attempt's grades (a reopened attempt).
	DeleteGrades(ctx context.Context, attemptID int64) error
	// UpdateGrades replaces grades (override, regrade), sets the score of
	// each attempt they belong to to the sum of its grades as stored after
	// the change, and appends audit entries.
	UpdateGrades(ctx context.Context, grades []*Grade, audit []*AuditEntry) error

	// Release marks an exam's results released.
	Release(ctx context.Context, examID int64, at time.Time, audit *AuditEntry) error
	AddAudit(ctx context.Context, e *AuditEntry) error
	FindAudit(ctx context.Context, examID int64) ([]*AuditEntry, error)
}

// SaveOutcome is what SaveAnswer did. With Stored the answer was written
// and Current is it; otherwise Refused says why nothing was written
// ("" when the stored answer's Seq is as high or higher: Current is the
// stored answer).
type SaveOutcome struct {
	Stored  bool
	Late    bool // saved after the attempt's deadline
	Current *Answer
	Refused string   // "", or one of the Save… reasons
	Attempt *Attempt // when refused: the attempt as it is now, if it is the saver's
}

// Reasons SaveAnswer refuses a save.
const (
	SaveNoAttempt = "no_attempt" // no such attempt of this student
	SaveDisabled  = "disabled"   // the student's account is disabled
	// SavePasswordPending: the account must change its one-time password first.
	SavePasswordPending = "password_pending"
	SaveNotOpen         = "not_open" // submitted or closed
	SaveOverdue         = "overdue"  // open, but past its grace
)

// SaveActivity is an attempt's autosave activity.
type SaveActivity struct {
	LastSaveAt time.Time
	Answered   int
}

// ThrottleStore counts events (login attempts) in fixed windows, shared by
// every instance of the server.
type ThrottleStore interface {
	// Hit counts one event under key and returns the count in the current
	// window and when the window ends; a window starts at the first event
	// after the previous one ended.
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (count int, resetAt time.Time, err error)
	// Peek returns the count under key and when its window ends, without
	// counting (0 when the window has ended).
	Peek(ctx context.Context, key string, now time.Time) (count int, resetAt time.Time, err error)
	// Clear forgets key.
	Clear(ctx context.Context, key string) error
}

// Store is the whole of storage, with transactions: the services take one
// and run each use case's writes in one WithTx.
type Store interface {
	UserStore
	TokenStore
	TemplateStore
	ExamStore
	SubmissionStore
	PrintJobStore
	ThrottleStore
	// WithTx runs fn in one transaction with a Store bound to it: fn's error
	// (or a panic) rolls everything back. Called inside fn, WithTx runs in
	// the same transaction.
	WithTx(ctx context.Context, fn func(tx Store) error) error
	// Exclusive runs fn unless another holder of the lock named name (on
	// any server instance) is running; it reports whether fn ran.
	Exclusive(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error)
}
