package api

import (
	"bytes"
	"fmt"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// mimeXML is the media type of a Moodle XML export.
const mimeXML = "application/xml; charset=utf-8"

// moodleQuery reads a Moodle export's query: count (default def), seed
// (default 1, as the command line's) and category.
func moodleQuery(c *fiber.Ctx, def int) (marksmith.MoodleExport, error) {
	o := marksmith.MoodleExport{Count: def, Seed: 1, Category: c.Query("category")}
	var p marksmith.Problems
	if s := c.Query("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			p.Add("count", "must be a whole number from 1 to %d", marksmith.MaxExportCount)
		}
		o.Count = n
	}
	if s := c.Query("seed"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			p.Add("seed", "must be a whole number from 0 to 18446744073709551615")
		}
		o.Seed = marksmith.Seed(seed)
	}
	if len(p) > 0 {
		return o, &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.", Details: []marksmith.FieldError(p)}
	}
	return o, nil
}

// sendXML sends a Moodle XML export as an attachment.
func sendXML(c *fiber.Ctx, name string, b []byte) error {
	c.Set(fiber.HeaderContentType, mimeXML)
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	return c.Status(fiber.StatusOK).Send(b)
}

// handleExportTemplateMoodle writes ?count=N variants (default 20) of a
// template as Moodle XML, drawn from ?seed=S.
func (s *server) handleExportTemplateMoodle() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		id, version, err := templateVersion(c)
		if err != nil {
			return err
		}
		o, err := moodleQuery(c, 20)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := s.templates.ExportMoodle(c.UserContext(), actor, id, version, o, &b); err != nil {
			return err
		}
		return sendXML(c, strings.NewReplacer("/", "-", `"`, "").Replace(id)+"-moodle.xml", b.Bytes())
	}
}

// handleExportExamMoodle writes an exam's questions as Moodle XML: a
// published exam's papers as issued (?count=N of each, default 100), a
// draft's N variants drawn from its seed.
func (s *server) handleExportExamMoodle() handlerFunc {
	return withID(func(c *fiber.Ctx, actor *marksmith.User, id int64) error {
		o, err := moodleQuery(c, 100)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := s.exams.ExportMoodle(c.UserContext(), actor, id, o, &b); err != nil {
			return err
		}
		return sendXML(c, fmt.Sprintf("exam-%d-moodle.xml", id), b.Bytes())
	})
}
