package api

import (
	"bytes"
	"fmt"
	"mime"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/csvout"
)

// mimeCSV is the gradebook's CSV media type.
const mimeCSV = "text/csv; charset=utf-8"

type reviewResponse struct {
	Groups []marksmith.ReviewGroup `json:"groups"`
}

type auditResponse struct {
	Entries []*marksmith.AuditEntry `json:"entries"`
}

// handleReviewQueue lists the answers that need a person's decision,
// identical answers to a part grouped so one decision grades them all.
func (s *server) handleReviewQueue() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		gs, err := s.exams.ReviewQueue(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		if gs == nil {
			gs = []marksmith.ReviewGroup{}
		}
		return encode(c, fiber.StatusOK, reviewResponse{Groups: gs})
	})
}

// handleReview scores exactly the attempts the reviewer saw for one part:
// the listed ones, or a group at the version the reviewer loaded (409 if
// it changed). A reason is required; each change is in the audit log.
func (s *server) handleReview() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		var in marksmith.ReviewDecision
		if err := decode(c, &in); err != nil {
			return err
		}
		res, err := s.exams.Review(c.UserContext(), actor, id, in)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, res)
	})
}

// handleAcceptSuggested confirms every suggested score still awaiting
// review, of a part, a question or the exam, in one audited decision.
func (s *server) handleAcceptSuggested() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		var in marksmith.AcceptInput
		if err := decodeOptional(c, &in); err != nil {
			return err
		}
		res, err := s.exams.AcceptSuggested(c.UserContext(), actor, id, in)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, res)
	})
}

// handleRegrade regrades an exam's attempts against a corrected version of
// one of its templates. A dry run reports every score that would change
// and changes nothing.
func (s *server) handleRegrade() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		var in marksmith.RegradeInput
		if err := decode(c, &in); err != nil {
			return err
		}
		rep, err := s.exams.Regrade(c.UserContext(), actor, id, in)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, rep)
	})
}

// handleRelease releases an exam's results to its students, as far as its
// feedback policy shows them: all at once, or with {"partial": true} the
// finished and reviewed attempts now and the rest as they finish.
func (s *server) handleRelease() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		var in marksmith.ReleaseInput
		if err := decodeOptional(c, &in); err != nil {
			return err
		}
		rep, err := s.exams.Release(c.UserContext(), actor, id, in)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, rep)
	})
}

// wantsCSV says whether a gradebook request asks for CSV: ?format=csv, or
// an Accept header that prefers text/csv to JSON.
func wantsCSV(c *fiber.Ctx) (bool, error) {
	switch f := c.Query("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.",
			Details: []marksmith.FieldError{{Field: "format", Message: "must be json or csv"}}}
	}
	return c.Accepts(fiber.MIMEApplicationJSON, "text/csv") == "text/csv", nil
}

// handleGradebook returns an exam's gradebook: JSON, or CSV (UTF-8 with a
// byte-order mark, as an attachment) for spreadsheets.
func (s *server) handleGradebook() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		csv, err := wantsCSV(c)
		if err != nil {
			return err
		}
		g, err := s.exams.Gradebook(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		if !csv {
			return encode(c, fiber.StatusOK, g)
		}
		var b bytes.Buffer
		if err := csvout.Gradebook(&b, g); err != nil {
			return fmt.Errorf("gradebook of exam %d: write CSV: %w", id, err)
		}
		c.Set(fiber.HeaderContentType, mimeCSV)
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("exam-%d-gradebook.csv", id)}))
		return c.Status(fiber.StatusOK).Send(b.Bytes())
	})
}

// handleStats returns an exam's item statistics and per-parameter fairness.
func (s *server) handleStats() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		st, err := s.exams.Stats(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, st)
	})
}

// handleAudit returns an exam's audit log, oldest first.
func (s *server) handleAudit() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		es, err := s.exams.Audit(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, auditResponse{Entries: es})
	})
}
