package marksmith

import "time"

// ExamInput is what an instructor sends to create or update a draft exam.
type ExamInput struct {
	Title string `json:"title"`
	// Seed seeds every student's variants; nil draws a random one at
	// create (and keeps the stored one at update).
	Seed *Seed `json:"seed"`
	// Questions in exam order; positions are 1, 2, … in this order.
	Questions        []QuestionInput `json:"questions"`
	OpensAt          time.Time       `json:"opens_at"`
	ClosesAt         time.Time       `json:"closes_at"`
	TimeLimitSeconds int             `json:"time_limit_seconds"` // 0: until the window closes
	LateGraceSeconds int             `json:"late_grace_seconds"` // 0: no late work
	ShuffleQuestions bool            `json:"shuffle_questions"`
	ShuffleOptions   bool            `json:"shuffle_options"`
	Feedback         FeedbackPolicy  `json:"feedback"`
	Delivery         string          `json:"delivery,omitempty"` // online (the default), paper or both
	// Roster lists students by email or student key; nil leaves the
	// roster alone (use SetRoster), an empty list clears it.
	Roster []string `json:"roster"`
}

// QuestionInput is one question of an ExamInput.
type QuestionInput struct {
	Template string  `json:"template"`
	Version  int     `json:"version"` // 0: the latest at create, then pinned
	Marks    float64 `json:"marks"`   // 0: the template's marks
}

// RosterResult reports a SetRoster: the roster is set to the entries that
// name students; the others are listed, none is silently dropped.
type RosterResult struct {
	Students int           `json:"students"`          // on the roster now
	Unknown  []string      `json:"unknown,omitempty"` // entries that match no user
	Errors   []RosterError `json:"errors,omitempty"`  // entries that match a user who cannot sit the exam
}

// RosterError is a roster entry that was not added, and why.
type RosterError struct {
	Entry   string `json:"entry"`
	Message string `json:"message"`
}

// PublishReport says what a publish generated.
type PublishReport struct {
	ExamID    int64              `json:"exam_id"`
	Students  int                `json:"students"`
	Questions int                `json:"questions"`
	Papers    int                `json:"papers"` // one per student and question
	Distinct  []QuestionDistinct `json:"distinct"`
	Duration  time.Duration      `json:"-"`
	// DurationMS is Duration in milliseconds, for JSON.
	DurationMS int64 `json:"duration_ms"`
}

// QuestionDistinct is how many distinct variants one question has across
// the roster. Exhausted is set when the template's parameter space (or the
// search for a distinct variant) ran out, so some students share a variant.
type QuestionDistinct struct {
	Position  int    `json:"question"`
	Template  string `json:"template"`
	Version   int    `json:"version"`
	Distinct  int    `json:"distinct"`
	Exhausted bool   `json:"exhausted,omitempty"`
}

// SelfTestFailure is a template whose self-test failed at publish; it is
// the Details of the EUNPROCESSABLE error Publish returns.
type SelfTestFailure struct {
	Positions []int    `json:"questions"`
	Template  string   `json:"template"`
	Version   int      `json:"version"`
	Failures  []string `json:"failures"`
}

// RegradeInput asks to regrade an exam's questions from one template
// against another (typically corrected) version of it.
type RegradeInput struct {
	Template string `json:"template"`
	Version  int    `json:"version"` // 0: the latest
	DryRun   bool   `json:"dry_run"`
}

// RegradeReport lists every score a regrade changed (or, in a dry run,
// would change). Grades a reviewer set are kept; what the corrected key
// would give them is listed in Kept.
type RegradeReport struct {
	Template  string        `json:"template"`
	Version   int           `json:"version"`
	DryRun    bool          `json:"dry_run"`
	Questions []int         `json:"questions"`
	Attempts  int           `json:"attempts"` // graded attempts regraded
	Changes   []ScoreChange `json:"changes"`
	Kept      []ScoreChange `json:"kept,omitempty"`
}

// Gradebook is an exam's results, one row per student on the roster.
type Gradebook struct {
	ExamID    int64               `json:"exam_id"`
	Title     string              `json:"title"`
	Released  bool                `json:"released"`
	Questions []GradebookQuestion `json:"questions"`
	Max       float64             `json:"max"`
	Rows      []GradebookRow      `json:"rows"`
}

// GradebookQuestion is one column of the gradebook.
type GradebookQuestion struct {
	Position int     `json:"question"`
	Template string  `json:"template"`
	Marks    float64 `json:"marks"`
}

// GradebookRow is one student's results. Status is "not started" for a
// student without an attempt; Scores are per question, in position order,
// nil until graded.
type GradebookRow struct {
	UserID      int64      `json:"user_id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	StudentKey  string     `json:"student_key"`
	Status      string     `json:"status"`
	Mode        string     `json:"mode,omitempty"` // online or paper, once there is an attempt
	AttemptID   *int64     `json:"attempt_id,omitempty"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	Late        bool       `json:"late"`
	Scores      []*float64 `json:"scores"`
	Total       *float64   `json:"total"`
	Max         float64    `json:"max"`
	NeedsReview int        `json:"needs_review"` // parts awaiting review
}

// ReviewGroup is a group of identical answers (after normalising white
// space and, unless the part is case-sensitive, case) to one part that
// await a reviewer's decision. A decision on the group applies to exactly
// its members: send back AttemptIDs, or Answer with Version. Version
// changes whenever the group gains or loses a member, so a decision made
// on an outdated view is refused (ECONFLICT) instead of reaching attempts
// the reviewer never saw.
type ReviewGroup struct {
	Question   int            `json:"question"`
	Part       string         `json:"part"`
	Answer     string         `json:"answer"` // the normalised answer the group shares
	Version    string         `json:"version"`
	Count      int            `json:"count"`
	AttemptIDs []int64        `json:"attempt_ids"`
	Members    []ReviewMember `json:"members"`
	Suggested  float64        `json:"suggested"` // the grader's score (the most common one in the group)
	Max        float64        `json:"max"`
	Feedback   string         `json:"feedback,omitempty"`
	Reference  string         `json:"reference,omitempty"` // the first member's
	Rubric     []Criterion    `json:"rubric,omitempty"`
}

// ReviewMember is one attempt of a review group: the answer as the student
// typed it, and the reference answer of the student's own variant.
type ReviewMember struct {
	AttemptID int64   `json:"attempt_id"`
	Answer    string  `json:"answer"`
	Reference string  `json:"reference,omitempty"`
	Suggested float64 `json:"suggested"`
	Feedback  string  `json:"feedback,omitempty"`
}

// ReviewDecision is a reviewer's score for one part of one question, for
// exactly the attempts listed in AttemptIDs, or for the group whose answer
// is Answer at version Group. Reason is required: it is the feedback the
// students read and the audit log's reason.
type ReviewDecision struct {
	Question   int     `json:"question"`
	Part       string  `json:"part"`
	AttemptIDs []int64 `json:"attempt_ids,omitempty"`
	Answer     string  `json:"answer,omitempty"`
	Group      string  `json:"group,omitempty"` // the group's Version
	Score      float64 `json:"score"`
	Reason     string  `json:"reason"`
}

// AcceptInput accepts the grader's suggested score for every answer still
// awaiting review: of one part (Question and Part), one question
// (Question), or the whole exam (neither), in one audited decision.
type AcceptInput struct {
	Question int    `json:"question,omitempty"`
	Part     string `json:"part,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// ReviewResult lists the grades a review decision changed.
type ReviewResult struct {
	Updated int           `json:"updated"`
	Changes []ScoreChange `json:"changes"`
}

// ScoreChange is one part's score before and after an override or a
// regrade.
type ScoreChange struct {
	AttemptID int64   `json:"attempt_id"`
	UserID    int64   `json:"user_id"`
	Student   string  `json:"student"` // email
	Question  int     `json:"question"`
	Part      string  `json:"part"`
	Before    float64 `json:"before"`
	After     float64 `json:"after"`
}

// Stats are an exam's item statistics over its graded attempts.
type Stats struct {
	ExamID  int64 `json:"exam_id"`
	Summary       // of attempt totals
	// Online and Paper count the graded attempts by how they were sat:
	// online, or on paper with the answers uploaded in bulk.
	Online    int             `json:"online"`
	Paper     int             `json:"paper"`
	Questions []QuestionStats `json:"questions"`
}

// Summary describes the scores of one item (an exam, a question, a part)
// over N graded attempts. Difficulty is the mean as a fraction of the
// maximum (1: everyone full marks). Discrimination is the corrected
// item-total correlation: the Pearson correlation between the item's score
// and the rest of the exam (the total less the item); nil when it is
// undefined (fewer than 3 attempts, or no spread).
type Summary struct {
	N              int      `json:"n"`
	Max            float64  `json:"max"`
	Mean           float64  `json:"mean"`
	Difficulty     float64  `json:"difficulty"`
	Discrimination *float64 `json:"discrimination,omitempty"`
	Histogram      []Bin    `json:"histogram"`
}

// Bin is one histogram bin: scores in [From, To), the last bin closed.
type Bin struct {
	From  float64 `json:"from"`
	To    float64 `json:"to"`
	Count int     `json:"count"`
}

// QuestionStats are one question's statistics, its parts', and the
// fairness of its drawn parameters.
type QuestionStats struct {
	Position int    `json:"question"`
	Template string `json:"template"`
	Version  int    `json:"version"`
	Summary
	Parts    []PartStats     `json:"parts"`
	Fairness []ParamFairness `json:"fairness"`
}

// PartStats are one part's statistics.
type PartStats struct {
	Part string `json:"part"`
	Summary
}

// ParamFairness asks whether a question's difficulty depends on the value
// drawn for one of its sampled parameters: the mean score fraction of the
// question per distinct value (per range of values, for a numeric
// parameter with more than FairnessMaxValues values), the gap between the
// best and the worst value drawn by at least FairnessMinN students, and
// Flagged when the gap is over FairnessGap.
type ParamFairness struct {
	Param   string       `json:"param"`
	Values  []ValueScore `json:"values"`
	Gap     float64      `json:"gap"`
	Flagged bool         `json:"flagged"`
}

// ValueScore is the mean score fraction of the students who drew one value
// (or, for a range, "low–high", a value in it).
type ValueScore struct {
	Value string  `json:"value"`
	N     int     `json:"n"`
	Mean  float64 `json:"mean"`
}

// Delivery modes of an exam.
const (
	DeliveryOnline = "online" // students sit it in the browser
	DeliveryPaper  = "paper"  // printed papers; answers uploaded in bulk
	DeliveryBoth   = "both"
)

// RosterEntry is a student on an exam's roster, with their accommodation.
type RosterEntry struct {
	*User
	ExtraSeconds        int        `json:"extra_seconds,omitempty"`
	ClosesAt            *time.Time `json:"closes_at,omitempty"` // a later close of the window for this student
	AccommodationReason string     `json:"accommodation_reason,omitempty"`
	// ExamVersion is the exam's Version when the entry was read.
	ExamVersion int64 `json:"-"`
}

// Accommodation gives one student more time: ExtraSeconds more than the
// time limit (and past the window's close), and optionally a later close
// of the window. Set before the exam it applies when the student starts;
// set during it, it moves the deadline of their open attempt.
type Accommodation struct {
	ExtraSeconds int        `json:"extra_seconds"`
	ClosesAt     *time.Time `json:"closes_at,omitempty"`
	Reason       string     `json:"reason"`
}

// CloseInput ends open attempts now, grading each with what was saved:
// the listed ones, or with All every open attempt of the exam ("end the
// exam").
type CloseInput struct {
	AttemptIDs []int64 `json:"attempt_ids,omitempty"`
	All        bool    `json:"all,omitempty"`
	Reason     string  `json:"reason"`
}

// CloseReport lists the attempts a CloseInput closed.
type CloseReport struct {
	Closed   int     `json:"closed"`
	Attempts []int64 `json:"attempts"`
}

// ReopenInput reopens a submitted or closed attempt for Seconds from now,
// for a reason (a technical failure, an accommodation granted late).
type ReopenInput struct {
	Seconds int    `json:"seconds"`
	Reason  string `json:"reason"`
}

// ReleaseInput releases an exam's results. Without Partial, release waits
// for every attempt to be finished and reviewed (ECONFLICT otherwise); with
// it, finished and reviewed attempts are released now and the rest as they
// finish.
type ReleaseInput struct {
	Partial bool `json:"partial,omitempty"`
}

// ReleaseReport says what a release made visible.
type ReleaseReport struct {
	Exam     *Exam `json:"exam"`
	Released int   `json:"released"` // attempts whose results students can read now
	Pending  int   `json:"pending"`  // open or awaiting review: released as they finish
}

// StatusNotStarted is the gradebook and monitor status of a student with
// no attempt.
const StatusNotStarted = "not started"

// Monitor is the live state of a published exam for its instructor.
type Monitor struct {
	ExamID     int64        `json:"exam_id"`
	Title      string       `json:"title"`
	ServerTime time.Time    `json:"server_time"`
	NotStarted int          `json:"not_started"`
	Working    int          `json:"working"`
	Finished   int          `json:"finished"`
	Students   []MonitorRow `json:"students"`
}

// MonitorRow is one student's state in the monitor. Status is "not
// started" or the attempt's status.
type MonitorRow struct {
	UserID      int64      `json:"user_id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	StudentKey  string     `json:"student_key"`
	Status      string     `json:"status"`
	AttemptID   *int64     `json:"attempt_id,omitempty"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	LastSaveAt  *time.Time `json:"last_save_at,omitempty"`
	Answered    int        `json:"answered"` // parts with a non-blank saved answer
	DeadlineAt  *time.Time `json:"deadline_at,omitempty"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	Late        bool       `json:"late,omitempty"`
	Extra       int        `json:"extra_seconds,omitempty"`
}
