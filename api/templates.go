package api

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// templateSummary is a template version without its source.
type templateSummary struct {
	ID        string   `json:"id"`
	Version   int      `json:"version"`
	Title     string   `json:"title"`
	Marks     float64  `json:"marks"`
	Tags      []string `json:"tags"`
	Format    string   `json:"format"`
	Builtin   bool     `json:"builtin"`
	CreatedBy *int64   `json:"created_by,omitempty"`
	CreatedAt string   `json:"created_at"`
}

func summarize(t *marksmith.TemplateVersion) templateSummary {
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	return templateSummary{
		ID: t.TemplateID, Version: t.Version, Title: t.Title, Marks: t.Marks, Tags: tags,
		Format: t.Format, Builtin: t.Builtin, CreatedBy: t.CreatedBy,
		CreatedAt: t.CreatedAt.UTC().Format("2006-01-02T15:04:05Z07:00"),
	}
}

type listTemplatesResponse struct {
	Templates []templateSummary `json:"templates"`
	Total     int               `json:"total"`
	Offset    int               `json:"offset"`
	Limit     int               `json:"limit"`
}

// templateResponse is one template: its latest (or asked-for) version with
// the source, and every version.
type templateResponse struct {
	templateSummary
	Source   string            `json:"source"`
	Versions []templateSummary `json:"versions"`
}

type uploadResponse struct {
	templateSummary
	Unchanged bool `json:"unchanged,omitempty"` // the upload equals the latest version, which is returned
}

// templateVersion reads the template id of the path and its ?version=
// (0 for the latest).
func templateVersion(c *fiber.Ctx) (string, int, error) {
	id, err := templateID(c)
	if err != nil {
		return "", 0, err
	}
	version, err := parseVersion(c)
	return id, version, err
}

// templateID reads the {id} path parameter. Template ids contain slashes
// ("dasc7606/q6-cnn"), sent percent-encoded as %2F.
func templateID(c *fiber.Ctx) (string, error) {
	id, err := url.PathUnescape(c.Params("id"))
	if err != nil || id == "" {
		return "", marksmith.Errorf(marksmith.EINVALID, "Invalid template id in the path.")
	}
	var p marksmith.Problems
	p.CheckText("id", id, marksmith.MaxTemplateID)
	if len(p) > 0 {
		// A path that cannot name a template is malformed, not invalid.
		return "", &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid path parameter.", Details: []marksmith.FieldError(p)}
	}
	return id, nil
}

// handleListTemplates lists the latest version of each template, searched
// by id or title (q) and tag, paginated.
func (s *server) handleListTemplates() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		pg, err := parsePage(c)
		if err != nil {
			return err
		}
		f := marksmith.TemplateFilter{Query: strings.TrimSpace(c.Query("q")), Tag: strings.TrimSpace(c.Query("tag")), Offset: pg.Offset, Limit: pg.Limit}
		ts, total, err := s.templates.FindTemplates(c.UserContext(), actor, f)
		if err != nil {
			return err
		}
		resp := listTemplatesResponse{Templates: make([]templateSummary, 0, len(ts)), Total: total, Offset: pg.Offset, Limit: pg.Limit}
		for _, t := range ts {
			resp.Templates = append(resp.Templates, summarize(t))
		}
		return encode(c, fiber.StatusOK, resp)
	}
}

// parseVersion reads the optional version query parameter (0: latest).
func parseVersion(c *fiber.Ctx) (int, error) {
	s := c.Query("version")
	if s == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > 1<<30 {
		return 0, &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.",
			Details: []marksmith.FieldError{{Field: "version", Message: "must be a whole number from 1 to 1073741824"}}}
	}
	return v, nil
}

// handleGetTemplate returns one template: a version (the latest unless
// ?version=) with its source, and the list of all versions.
func (s *server) handleGetTemplate() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		id, version, err := templateVersion(c)
		if err != nil {
			return err
		}
		t, versions, err := s.templates.FindTemplate(c.UserContext(), actor, id, version)
		if err != nil {
			return err
		}
		resp := templateResponse{templateSummary: summarize(t), Source: t.Source, Versions: make([]templateSummary, 0, len(versions))}
		for _, v := range versions {
			resp.Versions = append(resp.Versions, summarize(v))
		}
		return encode(c, fiber.StatusOK, resp)
	}
}

// handleUploadTemplate stores a template, as YAML or JSON, as a new version
// (numbered by the server). A template with problems is refused with 422
// and the problems, each with its line, column and field. Uploading the
// latest version's exact source again stores nothing.
func (s *server) handleUploadTemplate() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		var format string
		switch mt := mediaType(c); mt {
		case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
			format = "yaml"
		case fiber.MIMEApplicationJSON:
			format = "json"
		default:
			return marksmith.Errorf(marksmith.EINVALID, "Content-Type must be application/yaml, text/yaml or application/json, not %q.", mt)
		}
		tv, unchanged, err := s.templates.UploadTemplate(c.UserContext(), actor, marksmith.TemplateUpload{Format: format, Source: c.Body()})
		if err != nil {
			return err
		}
		status := fiber.StatusCreated
		if unchanged {
			status = fiber.StatusOK
		}
		return encode(c, status, uploadResponse{templateSummary: summarize(tv), Unchanged: unchanged})
	}
}

// handlePreviewTemplate draws one variant of a stored version, with its
// key: ?seed=N (omitted or 0: the canonical variant, the printed paper),
// ?version=V (omitted: the latest).
func (s *server) handlePreviewTemplate() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		id, version, err := templateVersion(c)
		if err != nil {
			return err
		}
		var seed uint64
		if q := c.Query("seed"); q != "" {
			if seed, err = strconv.ParseUint(q, 10, 64); err != nil {
				return &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.",
					Details: []marksmith.FieldError{{Field: "seed", Message: "must be a whole number from 0 to 18446744073709551615"}}}
			}
		}
		q, err := s.templates.PreviewTemplate(c.UserContext(), actor, id, version, marksmith.Seed(seed))
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, q)
	}
}
