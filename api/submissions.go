package api

import (
	"bytes"
	"fmt"
	"mime"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// queryBool reads an optional true/false query flag.
func queryBool(c *fiber.Ctx, name string) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.",
			Details: []marksmith.FieldError{{Field: name, Message: "must be true or false"}}}
	}
	return b, nil
}

// uploadFormat is the format an upload's Content-Type (or ?format=) names;
// "" lets the reader tell from the first byte.
func uploadFormat(c *fiber.Ctx) (string, error) {
	switch f := c.Query("format"); f {
	case "csv", "json", "jsonl":
		return f, nil
	case "":
	default:
		return "", &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.",
			Details: []marksmith.FieldError{{Field: "format", Message: "must be csv, json or jsonl"}}}
	}
	switch mt := mediaType(c); mt {
	case "text/csv":
		return "csv", nil
	case fiber.MIMEApplicationJSON:
		return "json", nil
	case "application/x-ndjson", "application/jsonl", "application/x-jsonlines":
		return "jsonl", nil
	case "", "text/plain", "application/octet-stream":
		return "", nil
	default:
		return "", marksmith.Errorf(marksmith.EINVALID, "Content-Type must be text/csv, application/json or application/x-ndjson, not %q.", mt)
	}
}

// handleUploadSubmissions starts grading a cohort's answers: 202 with the
// job, whose progress and receipt GET .../submissions/{job} reports.
func (s *server) handleUploadSubmissions() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		var in marksmith.SubmissionUpload
		var err error
		if in.Format, err = uploadFormat(c); err != nil {
			return err
		}
		if in.Replace, err = queryBool(c, "replace"); err != nil {
			return err
		}
		if in.DryRun, err = queryBool(c, "dry_run"); err != nil {
			return err
		}
		in.Body = bytes.NewReader(c.Body())
		job, err := s.exams.UploadSubmissions(c.UserContext(), actor, id, in)
		if err != nil {
			return err
		}
		noStore(c)
		c.Set(fiber.HeaderLocation, fmt.Sprintf("/api/v1/exams/%d/submissions/%d", id, job.ID))
		return encode(c, fiber.StatusAccepted, job)
	})
}

// handleGetSubmissionJob reports an upload job: status, progress, row
// errors, and the receipt once done.
func (s *server) handleGetSubmissionJob() handlerFunc {
	return withJobID(func(c *fiber.Ctx, actor *marksmith.User, id, jobID int64) error {
		job, err := s.exams.FindSubmissionJob(c.UserContext(), actor, id, jobID)
		if err != nil {
			return err
		}
		noStore(c)
		return encode(c, fiber.StatusOK, job)
	})
}

// handleSubmissionResults sends a finished upload's results file.
func (s *server) handleSubmissionResults() handlerFunc {
	return withJobID(func(c *fiber.Ctx, actor *marksmith.User, id, jobID int64) error {
		var b bytes.Buffer
		if err := s.exams.SubmissionResults(c.UserContext(), actor, id, jobID, &b); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, mimeCSV)
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment",
			map[string]string{"filename": fmt.Sprintf("exam-%d-upload-%d-results.csv", id, jobID)}))
		return c.Status(fiber.StatusOK).Send(b.Bytes())
	})
}
