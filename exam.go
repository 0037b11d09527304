package marksmith

import (
	"context"
	"encoding/json"
	"time"
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
	Seed             uint64         `json:"seed"`
	Questions        []ExamQuestion `json:"questions"`
	OpensAt          time.Time      `json:"opens_at"`
	ClosesAt         time.Time      `json:"closes_at"`
	TimeLimitSeconds int            `json:"time_limit_seconds"` // 0: until the window closes
	LateGraceSeconds int            `json:"late_grace_seconds"` // 0: no late work accepted
	ShuffleQuestions bool           `json:"shuffle_questions"`
	ShuffleOptions   bool           `json:"shuffle_options"`
	Feedback         FeedbackPolicy `json:"feedback"`
	Status           ExamStatus     `json:"status"`
	Released         bool           `json:"released"`
	CreatedBy        int64          `json:"created_by"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
	PublishedAt      *time.Time     `json:"published_at,omitempty"`
	ReleasedAt       *time.Time     `json:"released_at,omitempty"`
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
	Seed       uint64          `json:"variant"`
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
	DeadlineAt  time.Time     `json:"deadline_at"` // when answers stop being accepted (grace excluded)
	SubmittedAt *time.Time    `json:"submitted_at,omitempty"`
	Late        bool          `json:"late,omitempty"` // submitted within the grace period
	Score       *float64      `json:"score,omitempty"`
	Max         float64       `json:"max"`
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
// the audit log. Each method is one transaction.
type ExamStore interface {
	CreateExam(ctx context.Context, e *Exam) error
	FindExamByID(ctx context.Context, id int64) (*Exam, error)
	FindExams(ctx context.Context, filter ExamFilter) ([]*Exam, int, error)
	// UpdateExam rewrites a draft exam; ECONFLICT when it is published.
	UpdateExam(ctx context.Context, e *Exam) error
	DeleteExam(ctx context.Context, id int64) error

	// SetRoster replaces a draft exam's roster.
	SetRoster(ctx context.Context, examID int64, userIDs []int64) error
	FindRoster(ctx context.Context, examID int64) ([]*User, error)
	OnRoster(ctx context.Context, examID, userID int64) (bool, error)

	// SavePapers stores a batch of generated papers (publish calls it
	// once per batch, so memory is bounded by the batch).
	SavePapers(ctx context.Context, papers []*Paper) error
	// MarkPublished moves a draft exam to published; ECONFLICT otherwise.
	MarkPublished(ctx context.Context, examID int64, at time.Time) error
	// DeletePapers removes the papers of an exam whose publish failed.
	DeletePapers(ctx context.Context, examID int64) error
	// FindPapers returns a student's papers in the order the student sees them.
	FindPapers(ctx context.Context, examID, userID int64) ([]*Paper, error)
	// FindExamPapers returns the papers of one question of an exam (every
	// question when position is 0), ordered by student and position.
	FindExamPapers(ctx context.Context, examID int64, position int) ([]*Paper, error)
	// SetGradeVersion records the corrected template version that grades
	// one question of a published exam (see ExamQuestion.GradeVersion).
	SetGradeVersion(ctx context.Context, examID int64, position, version int) error

	// CreateAttempt stores a new attempt; ECONFLICT when the student already has one.
	CreateAttempt(ctx context.Context, a *Attempt) error
	FindAttemptByID(ctx context.Context, id int64) (*Attempt, error)
	FindAttempt(ctx context.Context, examID, userID int64) (*Attempt, error)
	FindAttempts(ctx context.Context, examID int64) ([]*Attempt, error)

	// SaveAnswer stores a part's answer unless the stored one has a Seq at
	// least as high. It reports whether it was stored and returns the
	// answer now stored. The answer is durable when it returns.
	SaveAnswer(ctx context.Context, a *Answer) (stored bool, current *Answer, err error)
	FindAnswers(ctx context.Context, attemptID int64) ([]*Answer, error)
	// FindExamAnswers returns the answers of every attempt of an exam.
	FindExamAnswers(ctx context.Context, examID int64) ([]*Answer, error)

	// CloseAttempt records the end of an open attempt with its grades and
	// score, in one transaction; ECONFLICT when it is no longer open.
	CloseAttempt(ctx context.Context, a *Attempt, grades []*Grade) error
	FindGrades(ctx context.Context, attemptID int64) ([]*Grade, error)
	FindExamGrades(ctx context.Context, examID int64) ([]*Grade, error)
	// UpdateGrades replaces grades (override, regrade), sets each affected
	// attempt's score to scores[attemptID], and appends audit entries, in
	// one transaction.
	UpdateGrades(ctx context.Context, grades []*Grade, scores map[int64]float64, audit []*AuditEntry) error

	// Release marks an exam's results released.
	Release(ctx context.Context, examID int64, at time.Time, audit *AuditEntry) error
	AddAudit(ctx context.Context, e *AuditEntry) error
	FindAudit(ctx context.Context, examID int64) ([]*AuditEntry, error)
}
