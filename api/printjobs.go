package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// fileStreamTimeout bounds the sending of a print job's file: it is read
// from the database a piece at a time as the client takes it, after the
// handler has returned, so on a context of its own rather than the
// request's.
const fileStreamTimeout = 30 * time.Minute

// printJobPath is the URL path of a print job.
func printJobPath(examID, jobID int64) string {
	return fmt.Sprintf("/api/v1/exams/%d/papers/jobs/%d", examID, jobID)
}

// readPrintJobInput reads what to print from the query (student, format,
// key) or from a JSON body, not both. The query's problems are 400, as
// the papers route's are; a body's are the service's (422).
func readPrintJobInput(c *fiber.Ctx) (marksmith.PrintJobInput, error) {
	var in marksmith.PrintJobInput
	args := c.Context().QueryArgs()
	inQuery := args.Has("student") || args.Has("format") || args.Has("key")
	if len(bytes.TrimSpace(c.Body())) > 0 {
		if inQuery {
			return in, marksmith.Errorf(marksmith.EINVALID, "Give student, format and key in the query or in a JSON body, not both.")
		}
		return in, decode(c, &in)
	}
	in.Student, in.Format = c.Query("student"), c.Query("format")
	var p marksmith.Problems
	if k := c.Query("key"); k != "" {
		b, err := strconv.ParseBool(k)
		if err != nil {
			p.Add("key", "must be true or false")
		}
		in.Key = b
	}
	p = append(p, in.Problems()...)
	if len(p) > 0 {
		return in, &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.", Details: []marksmith.FieldError(p)}
	}
	return in, nil
}

// handleStartPrintJob queues a print of an exam's papers (or keys) as a
// job: 202 with the job and its Location, which reports its progress.
func (s *server) handleStartPrintJob() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		in, err := readPrintJobInput(c)
		if err != nil {
			return err
		}
		job, err := s.exams.StartPrintJob(c.UserContext(), actor, id, in)
		if err != nil {
			return err
		}
		noStore(c)
		c.Set(fiber.HeaderLocation, printJobPath(id, job.ID))
		return encode(c, fiber.StatusAccepted, job)
	})
}

// handleGetPrintJob reports a print job: status, students and pages
// printed, the time taken and left.
func (s *server) handleGetPrintJob() handlerFunc {
	return withJobID(func(c *fiber.Ctx, actor *marksmith.User, id, jobID int64) error {
		job, err := s.exams.FindPrintJob(c.UserContext(), actor, id, jobID)
		if err != nil {
			return err
		}
		noStore(c)
		return encode(c, fiber.StatusOK, job)
	})
}

// handlePrintJobFile sends a done print job's file, read from the
// database a piece at a time as the client takes it.
func (s *server) handlePrintJobFile() handlerFunc {
	return withJobID(func(c *fiber.Ctx, actor *marksmith.User, id, jobID int64) error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), fileStreamTimeout)
		job, r, err := s.exams.OpenPrintJobFile(ctx, actor, id, jobID)
		if err != nil {
			cancel()
			return err
		}
		media := "application/pdf"
		if job.Format == marksmith.PrintZip {
			media = "application/zip"
		}
		c.Set(fiber.HeaderContentType, media)
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": job.FileName}))
		noStore(c)
		// The body is read after the handler returns; its Close (fasthttp
		// closes a stream once sent, or when the client goes) ends ctx.
		return c.Status(fiber.StatusOK).SendStream(&closer{Reader: r, close: func() error { cancel(); return r.Close() }}, int(job.Bytes))
	})
}

// closer is a reader with its own Close.
type closer struct {
	io.Reader
	close func() error
}

func (c *closer) Close() error { return c.close() }
