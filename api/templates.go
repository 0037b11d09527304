package api

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
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

// templateID reads the {id} path parameter. Template ids contain slashes
// ("dasc7606/q6-cnn"), sent percent-encoded as %2F.
func templateID(c *fiber.Ctx) (string, error) {
	id, err := url.PathUnescape(c.Params("id"))
	if err != nil || id == "" {
		return "", marksmith.Errorf(marksmith.EINVALID, "Invalid template id in the path.")
	}
	return id, nil
}

// handleListTemplates lists the latest version of each template, searched
// by id or title (q) and tag, paginated.
func (s *server) handleListTemplates() fiber.Handler {
	return func(c *fiber.Ctx) error {
		pg, err := parsePage(c)
		if err != nil {
			return err
		}
		f := marksmith.TemplateFilter{Query: strings.TrimSpace(c.Query("q")), Tag: strings.TrimSpace(c.Query("tag")), Offset: pg.Offset, Limit: pg.Limit}
		ts, total, err := s.templates.FindTemplates(c.UserContext(), f)
		if err != nil {
			return fmt.Errorf("list templates: %w", err)
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
	if err != nil || v < 1 {
		return 0, &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.",
			Details: []fieldError{{Field: "version", Message: "must be a whole number, 1 or more"}}}
	}
	return v, nil
}

// handleGetTemplate returns one template: a version (the latest unless
// ?version=) with its source, and the list of all versions.
func (s *server) handleGetTemplate() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		id, err := templateID(c)
		if err != nil {
			return err
		}
		version, err := parseVersion(c)
		if err != nil {
			return err
		}
		t, err := s.templates.FindTemplateVersion(ctx, id, version)
		if err != nil {
			return notFoundTemplate(err, id, version)
		}
		versions, err := s.templates.FindTemplateVersions(ctx, id)
		if err != nil {
			return fmt.Errorf("template %s: versions: %w", id, err)
		}
		resp := templateResponse{templateSummary: summarize(t), Source: t.Source, Versions: make([]templateSummary, 0, len(versions))}
		for _, v := range versions {
			resp.Versions = append(resp.Versions, summarize(v))
		}
		return encode(c, fiber.StatusOK, resp)
	}
}

func notFoundTemplate(err error, id string, version int) error {
	if marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
		return fmt.Errorf("template %s version %d: %w", id, version, err)
	}
	if version > 0 {
		return marksmith.Errorf(marksmith.ENOTFOUND, "Template %s has no version %d.", id, version)
	}
	return marksmith.Errorf(marksmith.ENOTFOUND, "No template %s.", id)
}

// handleUploadTemplate stores a template, as YAML or JSON, as a new version
// (numbered by the server). A template with problems is refused with 422
// and the problems, each with its line, column and field. Uploading the
// latest version's exact source again stores nothing.
func (s *server) handleUploadTemplate() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		p, err := caller(c)
		if err != nil {
			return err
		}
		var name string
		switch mt := mediaType(c); mt {
		case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
			name = "upload.yaml"
		case fiber.MIMEApplicationJSON:
			name = "upload.json"
		default:
			return marksmith.Errorf(marksmith.EINVALID, "Content-Type must be application/yaml, text/yaml or application/json, not %q.", mt)
		}
		body := c.Body()
		if len(strings.TrimSpace(string(body))) == 0 {
			return marksmith.Errorf(marksmith.EINVALID, "Request body is empty; send the template.")
		}
		t, err := bank.Load(name, body)
		var verr *bank.ValidationError
		if errors.As(err, &verr) {
			return &marksmith.Error{Code: marksmith.EUNPROCESSABLE,
				Message: fmt.Sprintf("The template has %d problem(s).", len(verr.Problems)), Details: verr.Problems}
		} else if err != nil {
			return fmt.Errorf("upload template: load: %w", err)
		}
		latest, err := s.templates.FindTemplateVersion(ctx, t.ID, 0)
		switch {
		case err == nil && latest.Source == string(t.Source):
			return encode(c, fiber.StatusOK, uploadResponse{templateSummary: summarize(latest), Unchanged: true})
		case err != nil && marksmith.ErrorCode(err) != marksmith.ENOTFOUND:
			return fmt.Errorf("upload template %s: find latest: %w", t.ID, err)
		}
		uid := p.ID
		tv := &marksmith.TemplateVersion{
			TemplateID: t.ID, Title: t.Title, Marks: t.Marks, Tags: t.Tags, Format: t.Format,
			Source: string(t.Source), CreatedBy: &uid, CreatedAt: s.now().UTC(),
		}
		if err := s.templates.CreateTemplateVersion(ctx, tv); marksmith.ErrorCode(err) == marksmith.ECONFLICT {
			return marksmith.Errorf(marksmith.ECONFLICT, "Template %s changed while uploading; try again.", t.ID)
		} else if err != nil {
			return fmt.Errorf("upload template %s: %w", t.ID, err)
		}
		return encode(c, fiber.StatusCreated, uploadResponse{templateSummary: summarize(tv)})
	}
}

// handlePreviewTemplate draws one variant of a stored version, with its
// key: ?seed=N (omitted or 0: the canonical variant, the printed paper),
// ?version=V (omitted: the latest).
func (s *server) handlePreviewTemplate() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := templateID(c)
		if err != nil {
			return err
		}
		version, err := parseVersion(c)
		if err != nil {
			return err
		}
		var seed uint64
		if q := c.Query("seed"); q != "" {
			if seed, err = strconv.ParseUint(q, 10, 64); err != nil {
				return &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.",
					Details: []fieldError{{Field: "seed", Message: "must be a whole number from 0 to 18446744073709551615"}}}
			}
		}
		tv, err := s.templates.FindTemplateVersion(c.UserContext(), id, version)
		if err != nil {
			return notFoundTemplate(err, id, version)
		}
		t, err := bank.Load(tv.TemplateID+"."+tv.Format, []byte(tv.Source))
		if err != nil {
			// A stored version was valid when stored; failing now means
			// the loader changed under it.
			return fmt.Errorf("preview %s v%d: load stored source: %w", tv.TemplateID, tv.Version, err)
		}
		v, err := t.Variant(seed)
		if err != nil {
			return marksmith.Errorf(marksmith.EUNPROCESSABLE, "Cannot draw variant %d of %s: %v.", seed, tv.TemplateID, err)
		}
		v.Version = tv.Version
		return encode(c, fiber.StatusOK, v)
	}
}
