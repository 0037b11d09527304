package api

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// pathID reads a positive integer path parameter.
func pathID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id < 1 {
		return 0, &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid path parameter.",
			Details: []marksmith.FieldError{{Field: name, Message: "must be a whole number from 1 to 9223372036854775807"}}}
	}
	return id, nil
}

// examRoute is a handler of a route on one exam (or one attempt): it gets
// the caller and the {id} path parameter.
type examRoute func(c *fiber.Ctx, actor *marksmith.User, id int64) error

// withID reads the {id} path parameter for h.
func withID(h examRoute) handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		return h(c, actor, id)
	}
}

// withJobID is withID for a route under an exam that also names a job
// (":job"): h gets the exam's and the job's ids, both checked.
func withJobID(h func(c *fiber.Ctx, actor *marksmith.User, examID, jobID int64) error) handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		jobID, err := pathID(c, "job")
		if err != nil {
			return err
		}
		return h(c, actor, id, jobID)
	})
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
	Students []*marksmith.RosterEntry `json:"students"`
}

// handleCreateExam creates a draft exam from questions of the bank.
func (s *server) handleCreateExam() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		var in marksmith.ExamInput
		if err := decode(c, &in); err != nil {
			return err
		}
		e, err := s.exams.CreateExam(c.UserContext(), actor, in)
		if err != nil {
			return err
		}
		c.Location(fmt.Sprintf("/api/v1/exams/%d", e.ID))
		return encode(c, fiber.StatusCreated, e)
	}
}

// handleListExams lists the caller's exams (an admin's: all), newest
// first, paginated.
func (s *server) handleListExams() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		pg, err := parsePage(c)
		if err != nil {
			return err
		}
		es, total, err := s.exams.FindExams(c.UserContext(), actor, pg.Offset, pg.Limit)
		if err != nil {
			return err
		}
		if es == nil {
			es = []*marksmith.Exam{}
		}
		return encode(c, fiber.StatusOK, listExamsResponse{Exams: es, Total: total, Offset: pg.Offset, Limit: pg.Limit})
	}
}

// handleGetExam returns one exam of the caller's.
func (s *server) handleGetExam() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		e, err := s.exams.FindExam(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, e)
	})
}

// handleUpdateExam rewrites a draft exam; a published one is 409.
func (s *server) handleUpdateExam() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		var in marksmith.ExamInput
		if err := decode(c, &in); err != nil {
			return err
		}
		e, err := s.exams.UpdateExam(c.UserContext(), actor, id, in)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, e)
	})
}

// handleDeleteExam deletes a draft exam with its roster; a published one
// is 409 (its papers and attempts are records).
func (s *server) handleDeleteExam() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		if err := s.exams.DeleteExam(c.UserContext(), actor, id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// decodeStudents reads a body listing students by email or student key.
func decodeStudents(c *fiber.Ctx) ([]string, error) {
	var req rosterRequest
	if err := decode(c, &req); err != nil {
		return nil, err
	}
	if req.Students == nil {
		return nil, (marksmith.Problems{{Field: "students", Message: "is required (an array of emails or student keys)"}}).Err("roster")
	}
	return req.Students, nil
}

// handleSetRoster replaces a draft exam's roster with students named by
// email or student key; the result lists each entry's outcome.
func (s *server) handleSetRoster() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		students, err := decodeStudents(c)
		if err != nil {
			return err
		}
		res, err := s.exams.SetRoster(c.UserContext(), actor, id, students)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, res)
	})
}

// handleGetRoster lists an exam's students with their accommodations.
func (s *server) handleGetRoster() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		entries, err := s.exams.FindRoster(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, rosterResponse{Students: entries})
	})
}

// handlePublish generates and stores every student's paper and opens the
// exam to its roster in its window.
func (s *server) handlePublish() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		rep, err := s.exams.Publish(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, rep)
	})
}

// handleUnpublish returns an exam nobody has started to draft.
func (s *server) handleUnpublish() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		e, err := s.exams.Unpublish(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, e)
	})
}

// handleAddStudents adds students to an exam's roster; on a published
// exam their papers are drawn at once.
func (s *server) handleAddStudents() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		students, err := decodeStudents(c)
		if err != nil {
			return err
		}
		res, err := s.exams.AddStudents(c.UserContext(), actor, id, students)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, res)
	})
}

// handleRemoveStudent removes a student who has not started.
func (s *server) handleRemoveStudent() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		user, err := pathID(c, "user")
		if err != nil {
			return err
		}
		if err := s.exams.RemoveStudent(c.UserContext(), actor, id, user); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

// handleAccommodation sets one student's extra time or later deadline.
func (s *server) handleAccommodation() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		user, err := pathID(c, "user")
		if err != nil {
			return err
		}
		var in marksmith.Accommodation
		if err := decode(c, &in); err != nil {
			return err
		}
		entry, err := s.exams.SetAccommodation(c.UserContext(), actor, id, user, in)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, entry)
	})
}

// handleCloseAttempts closes listed open attempts, or all of them (ending
// the exam), graded with what was saved.
func (s *server) handleCloseAttempts() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		var in marksmith.CloseInput
		if err := decode(c, &in); err != nil {
			return err
		}
		rep, err := s.exams.CloseAttempts(c.UserContext(), actor, id, in)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, rep)
	})
}

// handleReopen reopens a finished attempt for a while, with a reason.
func (s *server) handleReopen() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		var in marksmith.ReopenInput
		if err := decode(c, &in); err != nil {
			return err
		}
		a, err := s.exams.ReopenAttempt(c.UserContext(), actor, id, in)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, a)
	})
}

// handleMonitor reports who has not started, who is working and who has
// finished.
func (s *server) handleMonitor() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		m, err := s.exams.Monitor(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return encode(c, fiber.StatusOK, m)
	})
}
