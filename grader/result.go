package grader

import "math"

// Result is the grade of one part.
type Result struct {
	Part        string  `json:"part"`
	Score       float64 `json:"score"`
	Max         float64 `json:"max"`
	Rule        string  `json:"rule"`
	Feedback    string  `json:"feedback,omitempty"`
	NeedsReview bool    `json:"needs_review,omitempty"`
	FormatError string  `json:"format_error,omitempty"`
	Answer      any     `json:"answer,omitempty"` // the parsed answer in canonical JSON-friendly form
}

// FormatError is returned by Parse when the answer cannot be read; Msg is
// for the student. An answer with a format error is not graded: it is
// neither right nor wrong.
type FormatError struct{ Msg string }

// Error returns the message for the student.
func (e *FormatError) Error() string { return e.Msg }

// The rules a score can come from (Result.Rule).
const (
	RuleExact        = "exact"                 // the answer equals the key
	RuleTolerance    = "tolerance"             // a number within the part's tolerance
	RuleECF          = "error-carried-forward" // consistent with the student's own earlier answers
	RulePerCell      = "per-cell"              // table: credit per right cell
	RulePerToken     = "per-token"             // sequence: credit per right token
	RulePerPoint     = "per-point"             // points: credit per right point
	RulePerOption    = PerOption               // multi-select scheme
	RuleAllOrNothing = AllOrNothing            // multi-select scheme
	RuleRightMinus   = RightMinusWrong         // multi-select scheme
	RuleAccepted     = "accepted-phrase"       // short text matching an accepted phrasing or pattern
	RuleRubric       = "rubric"                // suggested score from rubric criteria, to be reviewed
	RuleBlank        = "blank"                 // no answer
	RuleFormatError  = "format-error"          // the answer could not be read
	RuleWrong        = "wrong"                 // a readable answer that earns nothing
)

// Feedback texts; short constants so grading does not allocate for them.
const (
	fbExact     = "Correct."
	fbTolerance = "Correct, within the allowed tolerance."
	fbECF       = "Consistent with your earlier answers (error carried forward)."
	fbWrong     = "Incorrect."
	fbBlank     = "No answer given."
	fbReview    = "An instructor will review this answer."
	fbAccepted  = "Correct: matches an accepted answer."

	fbNotAccepted = "Not one of the accepted answers; an instructor will review it."
	fbSuggested   = "Suggested score; an instructor will review this answer."
)

// round rounds a score to 1e-9, removing floating-point noise.
func round(x float64) float64 {
	return math.Round(x*1e9) / 1e9
}

// Total sums scores and maxima.
func Total(rs []Result) (score, max float64) {
	for i := range rs {
		score += rs[i].Score
		max += rs[i].Max
	}
	return round(score), round(max)
}
