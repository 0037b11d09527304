package api

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/exams"
	"github.com/marksmith/marksmith/grader"
)

// maxAnswerLength bounds one saved answer (an essay of a few pages).
const maxAnswerLength = 64 << 10

// attemptResponse is an attempt with its paper. A student's never holds a
// key unless the results are released with the key: its parts carry only
// what is needed to answer them, and its grades only what the exam's
// feedback policy shows. An instructor's adds each question's whole stored
// variant, key included.
type attemptResponse struct {
	Attempt          *marksmith.Attempt `json:"attempt"`
	ExamTitle        string             `json:"exam_title"`
	Deadline         time.Time          `json:"deadline"`          // when answers stop being on time
	GraceUntil       time.Time          `json:"grace_until"`       // when answers stop being accepted (late after Deadline)
	RemainingSeconds int                `json:"remaining_seconds"` // until Deadline; 0 once passed or closed
	Released         bool               `json:"released"`
	Questions        []questionResponse `json:"questions"`
}

// questionResponse is one question of a paper, in the order the student
// sees it.
type questionResponse struct {
	Question int               `json:"question"` // the question's position in the exam: the {question} of the answer route
	Order    int               `json:"order"`    // where the student sees it, from 1
	Marks    float64           `json:"marks"`
	Title    string            `json:"title"`
	Stem     string            `json:"stem,omitempty"`
	Parts    []partResponse    `json:"parts"`
	Answers  []*answerResponse `json:"answers"`
	Grades   []gradeResponse   `json:"grades,omitempty"`
	Score    *float64          `json:"score,omitempty"`
	// Variant is the stored variant with its key: instructors and admins only.
	Variant *bank.Variant `json:"variant,omitempty"`
}

// partResponse is what a student needs to answer a part: never its key.
type partResponse struct {
	ID       string           `json:"id"`
	Marks    float64          `json:"marks"`
	Prompt   string           `json:"prompt"`
	Type     grader.Type      `json:"type"`
	Unit     string           `json:"unit,omitempty"`
	Suffixes bool             `json:"suffixes,omitempty"`
	Scheme   string           `json:"scheme,omitempty"`
	Options  []optionResponse `json:"options,omitempty"`
	Rows     []string         `json:"rows,omitempty"`
	Columns  []string         `json:"columns,omitempty"`
	Charts   []chartResponse  `json:"charts,omitempty"`
	// Key is the answer written as a student would type it: only once the
	// results are released with the key.
	Key string `json:"key,omitempty"`
}

type optionResponse struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Text  string `json:"text"`
}

// chartResponse is a chart to plot on, without the key's points.
type chartResponse struct {
	ID     string `json:"id"`
	Title  string `json:"title,omitempty"`
	XLabel string `json:"x_label,omitempty"`
	YLabel string `json:"y_label,omitempty"`
}

// answerResponse is a saved answer.
type answerResponse struct {
	Question    int       `json:"question"`
	Part        string    `json:"part"`
	Answer      string    `json:"answer"`
	Seq         int64     `json:"seq"`
	FormatError string    `json:"format_error,omitempty"`
	SavedAt     time.Time `json:"saved_at"`
}

// gradeResponse is a part's grade as its reader may see it: students get
// the score and, when the policy shows parts, the feedback; staff get where
// it came from too.
type gradeResponse struct {
	Question        int        `json:"question"`
	Part            string     `json:"part"`
	Score           float64    `json:"score"`
	Max             float64    `json:"max"`
	Feedback        string     `json:"feedback,omitempty"`
	NeedsReview     bool       `json:"needs_review,omitempty"`
	Rule            string     `json:"rule,omitempty"`
	TemplateVersion int        `json:"template_version,omitempty"`
	ReviewedBy      *int64     `json:"reviewed_by,omitempty"`
	ReviewReason    string     `json:"review_reason,omitempty"`
	ReviewedAt      *time.Time `json:"reviewed_at,omitempty"`
}

func toAnswer(a *marksmith.Answer) *answerResponse {
	return &answerResponse{Question: a.Position, Part: a.Part, Answer: a.Raw, Seq: a.Seq, FormatError: a.FormatError, SavedAt: a.SavedAt.UTC()}
}

func toGrade(g *marksmith.Grade, staff bool) gradeResponse {
	out := gradeResponse{Question: g.Position, Part: g.Part, Score: g.Score, Max: g.Max, Feedback: g.Feedback, NeedsReview: g.NeedsReview}
	if staff {
		out.Rule, out.TemplateVersion = g.Rule, g.TemplateVersion
		out.ReviewedBy, out.ReviewReason, out.ReviewedAt = g.ReviewedBy, g.ReviewReason, g.ReviewedAt
	}
	return out
}

// paperParts turns a variant's parts into what a student may see. It reads
// only the fields a student needs, so nothing else of a stored variant can
// leak through it; the key is added only with withKey (results released
// with the key).
func paperParts(v *bank.Variant, withKey bool) []partResponse {
	parts := make([]partResponse, len(v.Parts))
	for i, p := range v.Parts {
		s := p.Answer
		out := partResponse{ID: p.ID, Marks: p.Marks, Prompt: p.Prompt, Type: s.Type, Unit: s.Unit, Suffixes: s.Suffixes,
			Scheme: s.Scheme, Rows: p.Rows, Columns: p.Columns}
		for _, o := range s.Options {
			out.Options = append(out.Options, optionResponse{ID: o.ID, Label: o.Label, Text: o.Text})
		}
		for _, ch := range p.Charts {
			out.Charts = append(out.Charts, chartResponse{ID: ch.ID, Title: ch.Title, XLabel: ch.XLabel, YLabel: ch.YLabel})
		}
		if withKey && s.Key != nil {
			out.Key = bank.KeyAnswer(&s)
		}
		parts[i] = out
	}
	return parts
}

// isStaff says whether u sees keys and grading details.
func isStaff(u *marksmith.User) bool {
	return u.Role == marksmith.RoleAdmin || u.Role == marksmith.RoleInstructor
}

// toAttempt renders the service's view of an attempt for its reader. The
// service gives a student a public variant (no key) unless the results are
// released with the key; this keeps only the fields a student needs either
// way.
func toAttempt(v *exams.AttemptView, reader *marksmith.User) attemptResponse {
	staff := isStaff(reader)
	out := attemptResponse{Attempt: v.Attempt, ExamTitle: v.ExamTitle, Deadline: v.Deadline.UTC(), GraceUntil: v.GraceUntil.UTC(),
		RemainingSeconds: v.RemainingSeconds, Released: v.Released, Questions: make([]questionResponse, 0, len(v.Questions))}
	for _, q := range v.Questions {
		qr := questionResponse{Question: q.Position, Order: q.Order, Marks: q.Marks, Answers: make([]*answerResponse, 0, len(q.Answers)), Score: q.Score}
		if q.Variant != nil {
			qr.Title, qr.Stem = q.Variant.Title, q.Variant.Stem
			qr.Parts = paperParts(q.Variant, !staff)
			if staff {
				qr.Variant = q.Variant
			}
		}
		for i := range q.Answers {
			qr.Answers = append(qr.Answers, toAnswer(&q.Answers[i]))
		}
		for i := range q.Grades {
			qr.Grades = append(qr.Grades, toGrade(&q.Grades[i], staff))
		}
		out.Questions = append(out.Questions, qr)
	}
	return out
}

// handleMyExams lists the exams on the caller's rosters with their
// attempt's status and, as each exam's policy allows, its score.
func (s *server) handleMyExams() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		es, err := s.exams.MyExams(c.UserContext(), actor)
		if err != nil {
			return fmt.Errorf("my exams: %w", err)
		}
		if es == nil {
			es = []*exams.StudentExam{}
		}
		return encode(c, fiber.StatusOK, myExamsResponse{Exams: es})
	})
}

type myExamsResponse struct {
	Exams []*exams.StudentExam `json:"exams"`
}

// handleStartAttempt starts the caller's attempt at an exam, or resumes it:
// the paper comes from what publish stored.
func (s *server) handleStartAttempt() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		v, err := s.exams.StartAttempt(c.UserContext(), actor, id)
		if err != nil {
			return fmt.Errorf("start attempt at exam %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, toAttempt(v, actor))
	})
}

// handleGetAttempt returns an attempt with its paper: a student's own, or
// any of an instructor's own exams (admins: any).
func (s *server) handleGetAttempt() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		v, err := s.exams.GetAttempt(c.UserContext(), actor, id)
		if err != nil {
			return fmt.Errorf("get attempt %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, toAttempt(v, actor))
	})
}

type saveRequest struct {
	Answer *string `json:"answer"`
	Seq    *int64  `json:"seq"`
}

// saveResponse is the outcome of an autosave. Stored says the answer was
// written. A save whose seq is not above the stored one stores nothing:
// it is Stale when the stored answer is newer or differs, and merely not
// stored when it repeats the stored save exactly (a retry). Answer is what
// is stored now; FormatError, when set, says why the stored answer cannot
// be graded as written.
type saveResponse struct {
	Stored      bool            `json:"stored"`
	Stale       bool            `json:"stale"`
	Late        bool            `json:"late,omitempty"` // saved after the deadline, within the grace
	Answer      *answerResponse `json:"answer"`
	FormatError string          `json:"format_error,omitempty"`
}

// handleSaveAnswer autosaves one part's answer with the client's sequence
// number. It answers 200 only once the answer is durable; a stale or
// repeated save is 200 with stored=false and leaves the stored answer alone.
func (s *server) handleSaveAnswer() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		var problems validationErrors
		question, qerr := strconv.Atoi(c.Params("question"))
		if qerr != nil || question < 1 {
			problems.add("question", "must be a question position, 1 or more")
		}
		part, perr := url.PathUnescape(c.Params("part"))
		if perr != nil || part == "" {
			problems.add("part", "must be a part id")
		}
		if len(problems) > 0 {
			return &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid path parameters.", Details: []fieldError(problems)}
		}
		var req saveRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		switch {
		case req.Answer == nil:
			problems.add("answer", "is required (a string; empty clears the answer)")
		case len(*req.Answer) > maxAnswerLength:
			problems.add("answer", "is longer than %d bytes", maxAnswerLength)
		}
		switch {
		case req.Seq == nil:
			problems.add("seq", "is required (the client's save counter, increasing)")
		case *req.Seq < 1:
			problems.add("seq", "must be 1 or more")
		}
		if err := problems.err("answer"); err != nil {
			return err
		}
		res, err := s.exams.SaveAnswer(c.UserContext(), actor, id, question, part, *req.Answer, *req.Seq)
		if err != nil {
			return fmt.Errorf("save answer to attempt %d question %d part %s: %w", id, question, part, err)
		}
		out := saveResponse{Stored: res.Stored, Stale: res.Stale, Late: res.Late, FormatError: res.FormatError}
		out.Answer = toAnswer(&res.Answer)
		return encode(c, fiber.StatusOK, out)
	})
}

// handleSubmit submits the caller's attempt and grades it. Submitting again
// returns the submitted attempt unchanged.
func (s *server) handleSubmit() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		v, err := s.exams.Submit(c.UserContext(), actor, id)
		if err != nil {
			return fmt.Errorf("submit attempt %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, toAttempt(v, actor))
	})
}
