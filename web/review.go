package web

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// reviewPage is the review queue: groups of identical answers, part by
// part, each scored with one decision.
type reviewPage struct {
	ExamID  int64
	Exam    *marksmith.Exam
	Groups  []*reviewCard
	Answers int // answers awaiting review, over every group
	CSRF    string
}

// reviewCard is one group as the page shows it.
type reviewCard struct {
	marksmith.ReviewGroup
	ExamID   int64
	DOM      string
	IDs      string // the attempt ids, comma-separated, for the form
	Prompt   string // the part's prompt, as printed (the canonical variant)
	Title    string
	Score    string // the score in the form: the suggestion, or what was sent
	Reason   string
	Done     *marksmith.ReviewResult
	Position int // where the group is in the queue, from 1
	CSRF     string
}

func (w *Web) handleReview() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		ctx, u := c.UserContext(), actor(c)
		e, err := w.exams.FindExam(ctx, u, id)
		if err != nil {
			return err
		}
		groups, err := w.exams.ReviewQueue(ctx, u, id)
		if err != nil {
			return err
		}
		p := &reviewPage{ExamID: id, Exam: e, CSRF: sessionOf(c).csrf}
		prompts := w.prompts(c, e)
		for i, g := range groups {
			card := newReviewCard(id, g, i+1, sessionOf(c).csrf)
			if pr, ok := prompts[g.Question]; ok {
				card.Title = pr.Title
				for _, part := range pr.Parts {
					if part.ID == g.Part {
						card.Prompt = part.Prompt
					}
				}
			}
			p.Groups = append(p.Groups, card)
			p.Answers += g.Count
		}
		return w.render(c, "review", "Review: "+e.Title, p, withMath)
	}
}

func newReviewCard(examID int64, g marksmith.ReviewGroup, pos int, csrf string) *reviewCard {
	ids := make([]string, len(g.AttemptIDs))
	for i, a := range g.AttemptIDs {
		ids[i] = strconv.FormatInt(a, 10)
	}
	return &reviewCard{
		ReviewGroup: g, ExamID: examID, DOM: domID("g", g.Question, g.Part, pos), IDs: strings.Join(ids, ","),
		Score: formatScore(g.Suggested), Reason: g.Feedback, Position: pos, CSRF: csrf,
	}
}

// prompts returns the canonical variant of each question of an exam, for
// showing reviewers what a part asks. Students' numbers differ; the
// wording does not.
func (w *Web) prompts(c *fiber.Ctx, e *marksmith.Exam) map[int]*marksmith.Question {
	out := map[int]*marksmith.Question{}
	for _, q := range e.Questions {
		pq, err := w.templates.PreviewTemplate(c.UserContext(), actor(c), q.TemplateID, q.Version, 0)
		if err != nil {
			continue // the prompt is a help, not a need
		}
		out[q.Position] = pq
	}
	return out
}

// handleDecide scores one group. htmx gets the group's card back, done
// or with the reason it was refused; a plain form goes back to the queue.
func (w *Web) handleDecide() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		q, _ := strconv.Atoi(c.FormValue("question"))
		in := marksmith.ReviewDecision{
			Question: q, Part: c.FormValue("part"), Answer: c.FormValue("answer"), Group: c.FormValue("group"),
			Reason: strings.TrimSpace(c.FormValue("reason")),
		}
		for _, s := range strings.Split(c.FormValue("attempt_ids"), ",") {
			if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
				in.AttemptIDs = append(in.AttemptIDs, n)
			}
		}
		scoreText := strings.TrimSpace(c.FormValue("score"))
		score, perr := strconv.ParseFloat(scoreText, 64)
		g := marksmith.ReviewGroup{Question: q, Part: in.Part, Answer: in.Answer, Version: in.Group, AttemptIDs: in.AttemptIDs, Count: len(in.AttemptIDs)}
		g.Max, _ = strconv.ParseFloat(c.FormValue("max"), 64)
		pos, _ := strconv.Atoi(c.FormValue("position"))
		card := newReviewCard(id, g, pos, sessionOf(c).csrf)
		card.Score, card.Reason = scoreText, in.Reason
		var res *marksmith.ReviewResult
		if perr != nil {
			err = marksmith.Errorf(marksmith.EINVALID, "The score must be a number.")
		} else {
			in.Score = score
			res, err = w.exams.Review(c.UserContext(), actor(c), id, in)
		}
		htmx := c.Get("HX-Request") == "true"
		if err != nil {
			switch marksmith.ErrorCode(err) {
			case marksmith.EUNPROCESSABLE, marksmith.EINVALID, marksmith.ECONFLICT:
			default:
				return err
			}
			msg := marksmith.ErrorMessage(err)
			for _, fe := range fieldErrors(err) {
				msg += " " + fe.Field + " " + fe.Message + "."
			}
			if marksmith.ErrorCode(err) == marksmith.ECONFLICT {
				msg += " Reload the queue to see the group as it is now."
			}
			if !htmx {
				w.flash(c, msg)
				return w.redirect(c, "/instructor/exams/"+strconv.FormatInt(id, 10)+"/review")
			}
			// The card stays as it is, with the message in its error slot.
			c.Set("HX-Retarget", "#"+card.DOM+"-error")
			c.Set("HX-Reswap", "innerHTML")
			c.Status(statusOf(marksmith.ErrorCode(err)))
			return w.renderPartial(c, "review-error", msg)
		}
		if !htmx {
			w.flash(c, "Scored "+strconv.Itoa(res.Updated)+" answer(s).")
			return w.redirect(c, "/instructor/exams/"+strconv.FormatInt(id, 10)+"/review")
		}
		card.Done = res
		return w.renderPartial(c, "review-card", card)
	}
}

// handleAcceptAll accepts the suggested score of every answer awaiting
// review (of one part or question when the form says so).
func (w *Web) handleAcceptAll() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		q, _ := strconv.Atoi(c.FormValue("question"))
		in := marksmith.AcceptInput{Question: q, Part: c.FormValue("part"), Reason: strings.TrimSpace(c.FormValue("reason"))}
		res, err := w.exams.AcceptSuggested(c.UserContext(), actor(c), id, in)
		if err != nil {
			switch marksmith.ErrorCode(err) {
			case marksmith.EUNPROCESSABLE, marksmith.EINVALID, marksmith.ECONFLICT:
				w.flash(c, marksmith.ErrorMessage(err))
				return w.redirect(c, "/instructor/exams/"+strconv.FormatInt(id, 10)+"/review")
			}
			return err
		}
		w.flash(c, "Accepted the suggested score of "+strconv.Itoa(res.Updated)+" answer(s).")
		return w.redirect(c, "/instructor/exams/"+strconv.FormatInt(id, 10)+"/review")
	}
}
