package api

import (
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

type myExamsResponse struct {
	Exams []*marksmith.StudentExam `json:"exams"`
}

// handleMyExams lists the exams on the caller's rosters with their
// attempt's status and, as each exam's policy allows, its score.
func (s *server) handleMyExams() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		es, err := s.exams.MyExams(c.UserContext(), actor)
		if err != nil {
			return err
		}
		if es == nil {
			es = []*marksmith.StudentExam{}
		}
		return encode(c, fiber.StatusOK, myExamsResponse{Exams: es})
	}
}

// encodeAttempt writes an attempt's view, which no cache may keep.
func encodeAttempt(c *fiber.Ctx, v *marksmith.AttemptView) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return encode(c, fiber.StatusOK, v)
}

// handleStartAttempt starts the caller's attempt at an exam, or resumes it:
// the paper comes from what publish stored.
func (s *server) handleStartAttempt() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		v, err := s.exams.StartAttempt(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		return encodeAttempt(c, v)
	})
}

// handleGetAttempt returns an attempt with its paper: a student's own, or
// any of an instructor's own exams (admins: any).
func (s *server) handleGetAttempt() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		v, err := s.exams.GetAttempt(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		return encodeAttempt(c, v)
	})
}

type saveRequest struct {
	Answer *string `json:"answer"`
	Seq    *int64  `json:"seq"`
}

// handleSaveAnswer autosaves one part's answer with the client's sequence
// number. It answers 200 only once the answer is durable; a stale or
// repeated save is 200 with stored=false and leaves the stored answer
// alone.
func (s *server) handleSaveAnswer() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		// The path names a question and a part an exam can hold, or it is
		// malformed: checked before any query, and never echoed.
		var p marksmith.Problems
		question, qerr := strconv.Atoi(c.Params("question"))
		if qerr != nil || question < 1 || question > marksmith.MaxQuestions {
			p.Add("question", "must be a question number from 1 to %d", marksmith.MaxQuestions)
		}
		part, perr := url.PathUnescape(c.Params("part"))
		switch {
		case perr != nil || part == "" || utf8.RuneCountInString(part) > marksmith.MaxPartID:
			p.Add("part", "must be a part id of 1 to %d characters", marksmith.MaxPartID)
		default:
			p.CheckText("part", part, marksmith.MaxPartID)
		}
		if len(p) > 0 {
			return &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid path parameters.", Details: []marksmith.FieldError(p)}
		}
		var req saveRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if req.Answer == nil {
			p.Add("answer", "is required (a string; empty clears the answer)")
		}
		if req.Seq == nil {
			p.Add("seq", "is required (the client's save counter, increasing)")
		}
		if err := p.Err("save"); err != nil {
			return err
		}
		res, err := s.exams.SaveAnswer(c.UserContext(), actor, marksmith.SaveInput{AttemptID: id, Question: question, Part: part,
			Answer: *req.Answer, Seq: *req.Seq})
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, res)
	})
}

// handleSubmit submits the caller's attempt and grades it. Submitting again
// returns the submitted attempt unchanged.
func (s *server) handleSubmit() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		v, err := s.exams.Submit(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		return encodeAttempt(c, v)
	})
}
