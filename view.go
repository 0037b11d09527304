package marksmith

import (
	"strings"
	"time"
)

// Answer types: the closed set of ways a part is answered. The grader
// parses and scores each.
const (
	TypeNumber   = "number"
	TypeInteger  = "integer"
	TypeChoice   = "choice"
	TypeMulti    = "multi"
	TypeText     = "text"
	TypeEssay    = "essay"
	TypeSequence = "sequence"
	TypeTable    = "table"
	TypePoints   = "points"
)

// Question is one question of a paper (a stored variant of a template) as
// its reader may see it. Parts carry only what is needed to answer them;
// Key is set on a part only for a reader who may see keys (staff, or a
// student once results are released with the key).
type Question struct {
	Position int     `json:"question"` // the question's position in the exam: the {question} of the answer route
	Order    int     `json:"order"`    // where the student sees it, from 1
	Marks    float64 `json:"marks"`
	Title    string  `json:"title"`
	Stem     string  `json:"stem,omitempty"`
	Parts    []Part  `json:"parts"`

	// Staff only: where the question came from.
	Template string         `json:"template,omitempty"`
	Version  int            `json:"version,omitempty"`
	Variant  *Seed          `json:"variant,omitempty"`
	Params   map[string]any `json:"params,omitempty"`

	// In an attempt: the saved answers, and the grades as the reader may
	// see them.
	Answers []Answer `json:"answers,omitempty"`
	Grades  []Grade  `json:"grades,omitempty"`
	Score   *float64 `json:"score,omitempty"`
}

// Part is one part of a question: its prompt and what its answer widget
// needs, never its key unless Key is set.
type Part struct {
	ID    string  `json:"id"`
	Marks float64 `json:"marks"` // scaled to the exam's marks for the question
	// Lead is shown above the part (an instruction for it and the parts
	// after it); Prompt is the question; Hint is one line: how to write
	// the answer.
	Lead     string   `json:"lead,omitempty"`
	Prompt   string   `json:"prompt"`
	Type     string   `json:"type"` // one of the Type constants
	Hint     string   `json:"hint"`
	Unit     string   `json:"unit,omitempty"`
	Suffixes bool     `json:"suffixes,omitempty"`
	Scheme   string   `json:"scheme,omitempty"` // multi-select scoring scheme
	Options  []Option `json:"options,omitempty"`
	Rows     []string `json:"rows,omitempty"`    // table: row labels
	Columns  []string `json:"columns,omitempty"` // table: column labels
	// Height and Width are a table's shape, labelled or not: the grid
	// of cells to answer in.
	Height int      `json:"height,omitempty"`
	Width  int      `json:"width,omitempty"`
	Charts []Chart  `json:"charts,omitempty"` // points: the charts to plot on
	Labels []string `json:"labels,omitempty"` // points: the labels of the points to place
	Length int      `json:"length,omitempty"` // sequence: how many tokens
	Key    *PartKey `json:"key,omitempty"`
}

// PartLabel is how a part's id is shown to people: the id itself
// ("b"), or, for a part that continues another ("b_why"), the part it
// continues and what it asks for ("b, why").
func PartLabel(id string) string {
	first, rest, ok := strings.Cut(id, "_")
	if !ok || first == "" || rest == "" {
		return id
	}
	return first + ", " + strings.ReplaceAll(rest, "_", " ")
}

// Option is an option of a choice or multi-select part. ID is its identity
// (grading is by ID); Label is what the reader sees ("A", "B", …).
type Option struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Text  string `json:"text"`
}

// Chart is a chart to place points on, without the key's points. The
// ranges are a view that holds every point of the key with a margin.
type Chart struct {
	ID     string  `json:"id"`
	Title  string  `json:"title,omitempty"`
	XLabel string  `json:"x_label,omitempty"`
	YLabel string  `json:"y_label,omitempty"`
	XMin   float64 `json:"x_min"`
	XMax   float64 `json:"x_max"`
	YMin   float64 `json:"y_min"`
	YMax   float64 `json:"y_max"`
}

// PartKey is a part's key and marking scheme, for markers and reviewers.
type PartKey struct {
	Answer     string      `json:"answer"`              // the key as a student would write it
	Tolerance  string      `json:"tolerance,omitempty"` // e.g. "within 0.1% of the key"
	Accept     []string    `json:"accept,omitempty"`    // text: accepted phrasings
	Patterns   []string    `json:"patterns,omitempty"`  // text: accepted patterns
	Rubric     []Criterion `json:"rubric,omitempty"`
	Reference  string      `json:"reference,omitempty"` // a model answer
	Follow     string      `json:"follow,omitempty"`    // error carried forward: the rule
	FollowNote string      `json:"follow_note,omitempty"`
	Points     []Point     `json:"points,omitempty"` // points: the key's points
}

// Criterion is one rubric criterion of an essay or short-text part.
type Criterion struct {
	ID       string   `json:"id"`
	Text     string   `json:"text"`
	Marks    float64  `json:"marks"`
	Phrases  []string `json:"phrases,omitempty"`
	Patterns []string `json:"patterns,omitempty"`
}

// Point is a labelled point of a points part's key, on one chart.
type Point struct {
	Chart string  `json:"chart"`
	Label string  `json:"label"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
}

// AttemptView is an attempt with its paper, as its reader may see it: a
// student never gets a key before results are released with the key, and
// grades only as the exam's feedback policy allows.
type AttemptView struct {
	Attempt   *Attempt `json:"attempt"`
	ExamTitle string   `json:"exam_title"`
	// Deadline is when answers stop being on time; GraceUntil when they
	// stop being accepted at all. ServerTime is the server's clock when the
	// view was made: a countdown runs from it, not the browser's clock.
	Deadline         time.Time  `json:"deadline"`
	GraceUntil       time.Time  `json:"grace_until"`
	ServerTime       time.Time  `json:"server_time"`
	RemainingSeconds int        `json:"remaining_seconds"` // to Deadline; 0 when past or closed
	Released         bool       `json:"released"`          // the student may read results
	Questions        []Question `json:"questions"`         // in the order the student sees them
}

// StudentExam is an exam as a student on its roster sees it in their
// list: no seed, no questions, and their attempt if they have one.
type StudentExam struct {
	ID               int64           `json:"id"`
	Title            string          `json:"title"`
	OpensAt          time.Time       `json:"opens_at"`
	ClosesAt         time.Time       `json:"closes_at"`
	TimeLimitSeconds int             `json:"time_limit_seconds"`
	LateGraceSeconds int             `json:"late_grace_seconds"`
	ExtraSeconds     int             `json:"extra_seconds,omitempty"` // the student's accommodation
	Questions        int             `json:"questions"`
	Max              float64         `json:"max"`
	Released         bool            `json:"released"`
	State            string          `json:"state"`     // upcoming | open | closed
	CanStart         bool            `json:"can_start"` // a start (or resume) would succeed now
	Attempt          *AttemptSummary `json:"attempt,omitempty"`
}

// The exam states a student sees.
const (
	StateUpcoming = "upcoming"
	StateOpen     = "open"
	StateClosed   = "closed"
)

// AttemptSummary is a student's attempt in their list of exams; Score is
// set only when the feedback policy shows it.
type AttemptSummary struct {
	ID          int64         `json:"id"`
	Status      AttemptStatus `json:"status"`
	StartedAt   time.Time     `json:"started_at"`
	DeadlineAt  time.Time     `json:"deadline_at"`
	SubmittedAt *time.Time    `json:"submitted_at,omitempty"`
	Late        bool          `json:"late,omitempty"`
	Score       *float64      `json:"score,omitempty"`
	Max         float64       `json:"max"`
}

// SaveInput is one autosave: a part's answer with the client's sequence
// number, which must grow with every edit of that part.
type SaveInput struct {
	AttemptID int64
	Question  int    // the question's position in the exam
	Part      string // the part's ID
	Answer    string
	Seq       int64
}

// SaveResult is the outcome of an autosave. Stored is false for a stale
// save (Stale: a newer one is stored) or a repeat of the stored one;
// Answer is the answer now stored either way. FormatError says why the
// answer cannot be read: it is stored all the same, so nothing typed is
// lost, and grades as a format error unless corrected.
type SaveResult struct {
	Stored      bool   `json:"stored"`
	Stale       bool   `json:"stale"`
	Late        bool   `json:"late,omitempty"` // saved after the deadline, within the grace
	Answer      Answer `json:"answer"`
	FormatError string `json:"format_error,omitempty"`
}
