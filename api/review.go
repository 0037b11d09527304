package api

import (
	"bytes"
	"fmt"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/exams"
)

// mimeCSV is the gradebook's CSV media type.
const mimeCSV = "text/csv; charset=utf-8"

type reviewResponse struct {
	Groups []exams.ReviewGroup `json:"groups"`
}

type auditResponse struct {
	Entries []*marksmith.AuditEntry `json:"entries"`
}

// handleReviewQueue lists the answers that need a person's decision,
// identical answers to a part grouped so one decision grades them all.
func (s *server) handleReviewQueue() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		gs, err := s.exams.ReviewQueue(c.UserContext(), actor, id)
		if err != nil {
			return fmt.Errorf("review queue of exam %d: %w", id, err)
		}
		if gs == nil {
			gs = []exams.ReviewGroup{}
		}
		return encode(c, fiber.StatusOK, reviewResponse{Groups: gs})
	})
}

// handleOverride sets the score of a group of identical answers (or of
// listed attempts) for one part. A reason is required; each change is in
// the audit log.
func (s *server) handleOverride() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		var in exams.OverrideInput
		if err := decode(c, &in); err != nil {
			return err
		}
		if strings.TrimSpace(in.Reason) == "" {
			return validationErrors{{Field: "reason", Message: "is required: say why the score is what it is"}}.err("override")
		}
		res, err := s.exams.Override(c.UserContext(), actor, id, in)
		if err != nil {
			return fmt.Errorf("override in exam %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, res)
	})
}

// handleRegrade regrades an exam's attempts against a corrected version of
// one of its templates. A dry run reports every score that would change
// and changes nothing.
func (s *server) handleRegrade() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		var in exams.RegradeInput
		if err := decode(c, &in); err != nil {
			return err
		}
		rep, err := s.exams.Regrade(c.UserContext(), actor, id, in)
		if err != nil {
			return fmt.Errorf("regrade exam %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, rep)
	})
}

// handleRelease releases an exam's results to its students, as far as its
// feedback policy shows them.
func (s *server) handleRelease() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		if err := s.exams.Release(ctx, actor, id); err != nil {
			return fmt.Errorf("release exam %d: %w", id, err)
		}
		e, err := s.exams.GetExam(ctx, actor, id)
		if err != nil {
			return fmt.Errorf("release exam %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, e)
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
			Details: []fieldError{{Field: "format", Message: fmt.Sprintf("%q is not json or csv", f)}}}
	}
	return c.Accepts(fiber.MIMEApplicationJSON, "text/csv") == "text/csv", nil
}

// handleGradebook returns an exam's gradebook: JSON, or CSV (UTF-8 with a
// byte-order mark, as an attachment) for spreadsheets.
func (s *server) handleGradebook() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		csv, err := wantsCSV(c)
		if err != nil {
			return err
		}
		g, err := s.exams.Gradebook(c.UserContext(), actor, id)
		if err != nil {
			return fmt.Errorf("gradebook of exam %d: %w", id, err)
		}
		if !csv {
			return encode(c, fiber.StatusOK, g)
		}
		var b bytes.Buffer
		if err := exams.WriteGradebookCSV(&b, g); err != nil {
			return fmt.Errorf("gradebook of exam %d: write CSV: %w", id, err)
		}
		c.Set(fiber.HeaderContentType, mimeCSV)
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("exam-%d-gradebook.csv", id)}))
		return c.Status(fiber.StatusOK).Send(b.Bytes())
	})
}

// handleStats returns an exam's item statistics and per-parameter fairness.
func (s *server) handleStats() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		st, err := s.exams.Stats(c.UserContext(), actor, id)
		if err != nil {
			return fmt.Errorf("stats of exam %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, st)
	})
}

// handleAudit returns an exam's audit log, oldest first.
func (s *server) handleAudit() fiber.Handler {
	return s.withActor(func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		es, err := s.exams.Audit(c.UserContext(), actor, id)
		if err != nil {
			return fmt.Errorf("audit of exam %d: %w", id, err)
		}
		return encode(c, fiber.StatusOK, auditResponse{Entries: es})
	})
}
