package web

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// myExamsPage sorts a student's exams the way they think of them.
type myExamsPage struct {
	Open      []*marksmith.StudentExam
	Upcoming  []*marksmith.StudentExam
	Submitted []*marksmith.StudentExam
	Released  []*marksmith.StudentExam
	Missed    []*marksmith.StudentExam
}

func (w *Web) handleMyExams() fiber.Handler {
	return func(c *fiber.Ctx) error {
		list, err := w.exams.MyExams(c.UserContext(), actor(c))
		if err != nil {
			return err
		}
		var p myExamsPage
		for _, e := range list {
			switch {
			case e.Attempt != nil && e.Attempt.Status != marksmith.AttemptOpen && e.Released:
				p.Released = append(p.Released, e)
			case e.Attempt != nil && e.Attempt.Status != marksmith.AttemptOpen:
				p.Submitted = append(p.Submitted, e)
			case e.State == marksmith.StateUpcoming:
				p.Upcoming = append(p.Upcoming, e)
			case e.State == marksmith.StateOpen || e.Attempt != nil:
				p.Open = append(p.Open, e)
			default:
				p.Missed = append(p.Missed, e)
			}
		}
		return w.render(c, "my-exams", "My exams", p)
	}
}

// handleMyExam shows one exam of the student's before they start it, or
// sends them to their attempt.
func (w *Web) handleMyExam() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		list, err := w.exams.MyExams(c.UserContext(), actor(c))
		if err != nil {
			return err
		}
		for _, e := range list {
			if e.ID != id {
				continue
			}
			if e.Attempt != nil {
				return w.redirect(c, "/attempts/"+strconv.FormatInt(e.Attempt.ID, 10))
			}
			return w.render(c, "my-exam", e.Title, e)
		}
		return marksmith.Errorf(marksmith.ENOTFOUND, "No such exam.")
	}
}

// handleStart starts (or resumes) the student's attempt and opens it.
func (w *Web) handleStart() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		v, err := w.exams.StartAttempt(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		return w.redirect(c, "/attempts/"+strconv.FormatInt(v.Attempt.ID, 10))
	}
}

// handleAttempt shows an attempt: the exam page while a student's attempt
// is open, its results page otherwise (and always to staff).
func (w *Web) handleAttempt() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		u := actor(c)
		v, err := w.exams.GetAttempt(c.UserContext(), u, id)
		if err != nil {
			return err
		}
		if u.Role == marksmith.RoleStudent && v.Attempt.Status == marksmith.AttemptOpen && v.ServerTime.Before(v.GraceUntil) {
			return w.render(c, "exam", v.ExamTitle, newExamPage(v), withMath, func(v *view) { v.Exam = true })
		}
		return w.render(c, "attempt", v.ExamTitle, newResultPage(v, u.Role != marksmith.RoleStudent), withMath)
	}
}

// saveRequest is the body of an autosave.
type saveRequest struct {
	Answer *string `json:"answer"`
	Seq    int64   `json:"seq"`
}

// handleSave autosaves one part's answer for the exam page's script and
// answers with the service's SaveResult.
func (w *Web) handleSave() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		q, err := strconv.Atoi(c.Params("question"))
		if err != nil || q < 1 {
			return marksmith.Errorf(marksmith.EINVALID, "The question must be a whole number, 1 or more.")
		}
		var body saveRequest
		if err := json.Unmarshal(c.Body(), &body); err != nil || body.Answer == nil {
			return &marksmith.Error{Code: marksmith.EINVALID, Message: "Send {\"answer\": \"…\", \"seq\": n} as JSON."}
		}
		res, err := w.exams.SaveAnswer(c.UserContext(), actor(c), marksmith.SaveInput{
			AttemptID: id, Question: q, Part: c.Params("part"), Answer: *body.Answer, Seq: body.Seq,
		})
		if err != nil {
			return err
		}
		return c.JSON(res)
	}
}

// clock is the state of an attempt's time, for the exam page's
// countdown: it follows extra time and an early end.
type clock struct {
	Status           marksmith.AttemptStatus `json:"status"`
	RemainingSeconds int                     `json:"remaining_seconds"`
	GraceSeconds     int                     `json:"grace_seconds"` // from now to the end of the grace
	Deadline         time.Time               `json:"deadline"`
	GraceUntil       time.Time               `json:"grace_until"`
	ServerTime       time.Time               `json:"server_time"`
}

func (w *Web) handleClock() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		v, err := w.exams.GetAttempt(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		return c.JSON(clockOf(v))
	}
}

func clockOf(v *marksmith.AttemptView) clock {
	return clock{
		Status:           v.Attempt.Status,
		RemainingSeconds: v.RemainingSeconds,
		GraceSeconds:     max(0, int(v.GraceUntil.Sub(v.ServerTime).Seconds())),
		Deadline:         v.Deadline,
		GraceUntil:       v.GraceUntil,
		ServerTime:       v.ServerTime,
	}
}

// submitPage asks a student to confirm a submit (without JavaScript; the
// exam page asks in a dialog and sends confirm=1).
type submitPage struct {
	View       *marksmith.AttemptView
	Unanswered []string
}

// handleSubmit submits the student's attempt once confirmed.
func (w *Web) handleSubmit() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		ctx, u := c.UserContext(), actor(c)
		if c.FormValue("confirm") != "1" {
			v, err := w.exams.GetAttempt(ctx, u, id)
			if err != nil {
				return err
			}
			return w.render(c, "submit", "Submit "+v.ExamTitle, submitPage{View: v, Unanswered: unanswered(v)})
		}
		v, err := w.exams.Submit(ctx, u, id)
		if err != nil {
			return err
		}
		msg := "Your answers are submitted."
		if v.Attempt.Late {
			msg = "Your answers are submitted, after the deadline (late)."
		}
		w.flash(c, msg)
		return w.redirect(c, "/attempts/"+strconv.FormatInt(id, 10))
	}
}

// unanswered lists the parts without a saved answer, as "Question 2 (b)".
func unanswered(v *marksmith.AttemptView) []string {
	var out []string
	for _, q := range v.Questions {
		saved := map[string]bool{}
		for _, a := range q.Answers {
			if strings.TrimSpace(a.Raw) != "" {
				saved[a.Part] = true
			}
		}
		for _, p := range q.Parts {
			if !saved[p.ID] {
				out = append(out, "Question "+strconv.Itoa(q.Order)+" ("+marksmith.PartLabel(p.ID)+")")
			}
		}
	}
	return out
}

// paramID reads a positive id from the path.
func paramID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id < 1 {
		return 0, marksmith.Errorf(marksmith.ENOTFOUND, "No such page.")
	}
	return id, nil
}
