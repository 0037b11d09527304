// Package grader parses submitted answers and scores them against a part's
// answer spec. It is pure: no I/O, no clock, no global random.
package grader

// Type is an answer type. The set is closed.
type Type string

// The answer types.
const (
	Number   Type = "number"   // a real number, with tolerance
	Integer  Type = "integer"  // an exact integer
	Choice   Type = "choice"   // one option
	Multi    Type = "multi"    // any number of options
	Text     Type = "text"     // a short text matched against accepted phrasings
	Essay    Type = "essay"    // free text scored by rubric, always reviewed
	Sequence Type = "sequence" // a sequence of tokens, per-token credit
	Table    Type = "table"    // a table of numbers, per-cell credit
	Points   Type = "points"   // labelled points on one or more charts, per-point credit
)

// Types lists every answer type.
func Types() []Type {
	return []Type{Number, Integer, Choice, Multi, Text, Essay, Sequence, Table, Points}
}

// Tolerance says how far a number may be from the key and still be right.
// A number is right when any of the set rules accepts it; with none set it
// must equal the key (up to 1e-9 relative, for floating-point noise).
type Tolerance struct {
	Abs      float64 `json:"abs,omitempty" yaml:"abs,omitempty"`           // |x-key| <= Abs
	Rel      float64 `json:"rel,omitempty" yaml:"rel,omitempty"`           // |x-key| <= Rel*|key|
	SigFigs  int     `json:"sigfigs,omitempty" yaml:"sigfigs,omitempty"`   // x rounded to SigFigs significant figures equals key so rounded
	Decimals int     `json:"decimals,omitempty" yaml:"decimals,omitempty"` // x rounded to Decimals places equals key so rounded
}

// Option is one option of a choice or multi-select part. ID is its identity,
// stable across shuffles; Label is what the student sees ("A", "B", …) in
// this variant.
type Option struct {
	ID      string `json:"id"`
	Label   string `json:"label"`
	Text    string `json:"text"`
	Correct bool   `json:"correct"`
}

// Criterion is one rubric criterion: it earns Marks when the answer contains
// any of Phrases (case- and space-insensitive) or matches any of Patterns
// (regular expressions).
type Criterion struct {
	ID       string   `json:"id"`
	Text     string   `json:"text"`
	Marks    float64  `json:"marks"`
	Phrases  []string `json:"phrases,omitempty"`
	Patterns []string `json:"patterns,omitempty"`
}

// Point is a labelled point.
type Point struct {
	Label string  `json:"label"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
}

// Chart is one chart of a points answer and, in a key, the points it must show.
type Chart struct {
	ID     string  `json:"id"`
	Title  string  `json:"title,omitempty"`
	XLabel string  `json:"x_label,omitempty"`
	YLabel string  `json:"y_label,omitempty"`
	Points []Point `json:"points"`
}

// Multi-select scoring schemes.
const (
	AllOrNothing    = "all-or-nothing"    // full marks for exactly the right set, else 0
	PerOption       = "per-option"        // each option judged right earns marks/len(options); each wrong one costs Penalty of that
	RightMinusWrong = "right-minus-wrong" // (right picks - wrong picks) / correct options, floored at 0
)

// Spec is a part's answer spec for one variant, with its key already
// computed. It is JSON-serialisable: a published paper stores it, so a
// regrade never regenerates it.
type Spec struct {
	Part  string  `json:"part"`
	Type  Type    `json:"type"`
	Marks float64 `json:"marks"`

	// Key is the right answer, by type: Number float64; Integer int;
	// Choice the option ID (string); Multi the option IDs ([]string);
	// Text the model answer (string); Essay the reference answer (string);
	// Sequence []string; Table [][]float64; Points []Chart.
	Key any `json:"key"`

	Tolerance Tolerance `json:"tolerance,omitzero"`
	// Unit is the unit the key is in ("GB", "GiB", "MB", …), if any; an
	// answer may then be written in any unit of the same kind.
	Unit string `json:"unit,omitempty"`
	// Suffixes allows K, M, B (billion) and T multipliers on numbers.
	Suffixes bool `json:"suffixes,omitempty"`

	Options []Option `json:"options,omitempty"` // in display order
	Scheme  string   `json:"scheme,omitempty"`
	Penalty float64  `json:"penalty,omitempty"` // per-option: fraction of an option's share lost per wrong judgement

	Accept        []string `json:"accept,omitempty"`   // text: accepted phrasings
	Patterns      []string `json:"patterns,omitempty"` // text: accepted regular expressions
	CaseSensitive bool     `json:"case_sensitive,omitempty"`

	Rubric    []Criterion `json:"rubric,omitempty"`
	Reference string      `json:"reference,omitempty"` // shown to reviewers

	// Follow is an expression over the variant's parameters and ans, the
	// map of this question's parsed submitted answers by part ID; when the
	// submitted answer equals its value (within Tolerance) the part earns
	// FollowMarks (error carried forward).
	Follow      string  `json:"follow,omitempty"`
	FollowMarks float64 `json:"follow_marks,omitempty"`
}
