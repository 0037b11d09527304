package api

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/exams"
)

// examHandler is a handler of an exam route: it gets the caller's account.
type examHandler func(c *fiber.Ctx, actor *marksmith.User) error

// withActor loads the caller's account for the exams service, which checks
// object-level access (an instructor's own exams, a student's own attempt)
// with it. A server built without an exams service answers 503.
func (s *server) withActor(h examHandler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.exams == nil {
			return marksmith.Errorf(marksmith.EUNAVAILABLE, "Online exams are not configured on this server.")
		}
		p, err := caller(c)
		if err != nil {
			return err
		}
		u, err := s.users.FindUserByID(c.UserContext(), p.ID)
		if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
			return marksmith.Errorf(marksmith.EUNAUTHORIZED, "The account of this token no longer exists.")
		} else if err != nil {
			return fmt.Errorf("find user %d: %w", p.ID, err)
		}
		if u.Disabled {
			return marksmith.Errorf(marksmith.EFORBIDDEN, "This account is disabled.")
		}
		if u.Role != p.Role {
			// The role changed since the token was issued; the route was
			// authorised on the token's role, so ask for a fresh token.
			return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Your role changed; log in again.")
		}
		return h(c, u)
	}
}

// pathID reads a positive integer path parameter.
func pathID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id < 1 {
		return 0, &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid path parameter.",
			Details: []fieldError{{Field: name, Message: "must be a whole number, 1 or more"}}}
	}
	return id, nil
}

type listExamsResponse struct {
	Exams  []*marksmith.Exam `json:"exams"`
	Total  int               `json:"total"`
	Offset int               `json:"offset"`
	Limit  int               `json:"limit"`
}

type rosterRequest struct {
	Students []string `json:"students"`
}

type rosterResponse struct {
	Students []*marksmith.User `json:"students"`
}

// handleCreateExam creates a draft exam from questions of the bank.
func (s *server) handleCreateExam() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		var in exams.ExamInput
		if err := decode(c, &in); err != nil {
			return err
		}
		e, err := s.exams.CreateExam(c.UserContext(), actor, in)
		if err != nil {
			return fmt.Errorf("create exam: %w", err)
		}
		c.Location(fmt.Sprintf("/api/v1/exams/%d", e.ID))
		return encode(c, fiber.StatusCreated, e)
	})
}

// handleListExams lists the caller's exams (an admin's: all), newest
// first, paginated.
func (s *server) handleListExams() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		pg, err := parsePage(c)
		if err != nil {
			return err
		}
		es, total, err := s.exams.ListExams(c.UserContext(), actor, pg.Offset, pg.Limit)
		if err != nil {
			return fmt.Errorf("list exams: %w", err)
		}
		if es == nil {
			es = []*marksmith.Exam{}
		}
		return encode(c, fiber.StatusOK, listExamsResponse{Exams: es, Total: total, Offset: pg.Offset, Limit: pg.Limit})
	})
}

// handleGetExam returns one exam of the caller's.
func (s *server) handleGetExam() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		e, err := s.exams.GetExam(c.UserContext(), actor, id)
		if err != nil {
			return fmt.Errorf("get exam %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, e)
	})
}

// handleUpdateExam rewrites a draft exam; a published one is 409.
func (s *server) handleUpdateExam() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		var in exams.ExamInput
		if err := decode(c, &in); err != nil {
			return err
		}
		e, err := s.exams.UpdateExam(c.UserContext(), actor, id, in)
		if err != nil {
			return fmt.Errorf("update exam %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, e)
	})
}

// handleDeleteExam deletes a draft exam with its roster; a published one
// is 409 (its papers and attempts are records).
func (s *server) handleDeleteExam() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		if err := s.exams.DeleteExam(c.UserContext(), actor, id); err != nil {
			return fmt.Errorf("delete exam %d: %w", id, err)
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// handleSetRoster replaces a draft exam's roster with students named by
// email or student key; the result lists each entry's outcome.
func (s *server) handleSetRoster() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		var req rosterRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if req.Students == nil {
			return validationErrors{{Field: "students", Message: "is required (an array of emails or student keys)"}}.err("roster")
		}
		res, err := s.exams.SetRoster(c.UserContext(), actor, id, req.Students)
		if err != nil {
			return fmt.Errorf("set roster of exam %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, res)
	})
}

// handleGetRoster lists an exam's students.
func (s *server) handleGetRoster() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		us, err := s.exams.Roster(c.UserContext(), actor, id)
		if err != nil {
			return fmt.Errorf("roster of exam %d: %w", id, err)
		}
		if us == nil {
			us = []*marksmith.User{}
		}
		return encode(c, fiber.StatusOK, rosterResponse{Students: us})
	})
}

// handlePublish generates and stores every student's paper and opens the
// exam to its roster in its window.
func (s *server) handlePublish() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		rep, err := s.exams.Publish(c.UserContext(), actor, id)
		if err != nil {
			return fmt.Errorf("publish exam %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, rep)
	})
}
