package web

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

const pageSize = 50

// bankPage is the list of templates, searched.
type bankPage struct {
	Query     string
	Tag       string
	Templates []*marksmith.TemplateVersion
	Total     int
	Offset    int
	Prev      string
	Next      string
}

func (w *Web) handleInstructorHome() fiber.Handler {
	return func(c *fiber.Ctx) error { return w.redirect(c, "/instructor/exams") }
}

func (w *Web) handleBank() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := bankPage{Query: strings.TrimSpace(c.Query("q")), Tag: strings.TrimSpace(c.Query("tag")), Offset: max(0, c.QueryInt("offset"))}
		list, total, err := w.templates.FindTemplates(c.UserContext(), actor(c),
			marksmith.TemplateFilter{Query: p.Query, Tag: p.Tag, Offset: p.Offset, Limit: pageSize})
		if err != nil {
			return err
		}
		p.Templates, p.Total = list, total
		link := func(off int) string {
			q := url.Values{}
			if p.Query != "" {
				q.Set("q", p.Query)
			}
			if p.Tag != "" {
				q.Set("tag", p.Tag)
			}
			q.Set("offset", strconv.Itoa(off))
			return "/instructor/bank?" + q.Encode()
		}
		if p.Offset > 0 {
			p.Prev = link(max(0, p.Offset-pageSize))
		}
		if p.Offset+len(list) < total {
			p.Next = link(p.Offset + pageSize)
		}
		return w.render(c, "bank", "Question bank", p)
	}
}

// templatePage is one template: its versions, its source and a preview of
// one variant with its key.
type templatePage struct {
	Template   *marksmith.TemplateVersion
	Versions   []*marksmith.TemplateVersion
	Seed       marksmith.Seed
	RandomSeed marksmith.Seed
	Preview    *paperQuestion
	Error      string
}

func (w *Web) handleTemplate() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, u := c.UserContext(), actor(c)
		id := c.Query("id")
		version := c.QueryInt("version")
		var seed marksmith.Seed
		if s := c.Query("seed"); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return marksmith.Errorf(marksmith.EINVALID, "The seed must be a whole number from 0 to 18446744073709551615.")
			}
			seed = marksmith.Seed(n)
		}
		tv, versions, err := w.templates.FindTemplate(ctx, u, id, version)
		if err != nil {
			return err
		}
		p := templatePage{Template: tv, Versions: versions, Seed: seed, RandomSeed: randomSeed()}
		q, err := w.templates.PreviewTemplate(ctx, u, tv.TemplateID, tv.Version, seed)
		switch code := marksmith.ErrorCode(err); code {
		case "":
			p.Preview = previewQuestion(q)
		case marksmith.EUNPROCESSABLE, marksmith.EINVALID:
			p.Error = marksmith.ErrorMessage(err)
		default:
			return err
		}
		return w.render(c, "template", tv.Title, p, withMath)
	}
}

// previewQuestion prepares a previewed variant for the results partials,
// which show the key.
func previewQuestion(q *marksmith.Question) *paperQuestion {
	v := &marksmith.AttemptView{Attempt: &marksmith.Attempt{}, Questions: []marksmith.Question{*q}}
	qs := paperQuestions(v, true)
	return &qs[0]
}

func randomSeed() marksmith.Seed {
	var b [8]byte
	rand.Read(b[:])
	return marksmith.Seed(binary.BigEndian.Uint64(b[:]) | 1)
}

// uploadPage is the upload form, with the problems of a rejected upload
// shown at their lines.
type uploadPage struct {
	Format   string
	Source   string
	Problems []templateProblem
	Lines    []sourceLine
	Error    string
}

// templateProblem is one problem of a rejected template. The service's
// error carries them as Details; they are read through their JSON form
// (line, column, field, message), whatever their Go type.
type templateProblem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// sourceLine is one line of the source with the problems found on it.
type sourceLine struct {
	N        int
	Text     string
	Problems []templateProblem
}

func (w *Web) handleUploadForm() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return w.render(c, "upload", "Upload a template", uploadPage{Format: "yaml"})
	}
}

// maxTemplateSize bounds an uploaded template.
const maxTemplateSize = 1 << 20

func (w *Web) handleUpload() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := uploadPage{Format: c.FormValue("format"), Source: c.FormValue("source")}
		if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
			if fh.Size > maxTemplateSize {
				return marksmith.Errorf(marksmith.ETOOLARGE, "A template may be at most 1 MiB.")
			}
			f, err := fh.Open()
			if err != nil {
				return err
			}
			b, err := io.ReadAll(io.LimitReader(f, maxTemplateSize+1))
			f.Close()
			if err != nil {
				return err
			}
			p.Source = string(b)
			switch strings.ToLower(path.Ext(fh.Filename)) {
			case ".json":
				p.Format = "json"
			case ".yaml", ".yml":
				p.Format = "yaml"
			}
		}
		if p.Format != "json" {
			p.Format = "yaml"
		}
		if strings.TrimSpace(p.Source) == "" {
			p.Error = "Choose a file or paste the template."
			c.Status(fiber.StatusUnprocessableEntity)
			return w.render(c, "upload", "Upload a template", p)
		}
		tv, unchanged, err := w.templates.UploadTemplate(c.UserContext(), actor(c), marksmith.TemplateUpload{Format: p.Format, Source: []byte(p.Source)})
		if err != nil {
			var me *marksmith.Error
			if !errors.As(err, &me) || me.Code != marksmith.EUNPROCESSABLE && me.Code != marksmith.EINVALID && me.Code != marksmith.EFORBIDDEN && me.Code != marksmith.ECONFLICT {
				return err
			}
			p.Error = me.Message
			p.Problems = problemsOf(me.Details)
			p.Lines = annotate(p.Source, p.Problems)
			c.Status(statusOf(me.Code))
			return w.render(c, "upload", "Upload a template", p)
		}
		msg := "Stored " + tv.TemplateID + " as version " + strconv.Itoa(tv.Version) + "."
		if unchanged {
			msg = "The template is the same as version " + strconv.Itoa(tv.Version) + ": nothing new was stored."
		}
		w.flash(c, msg)
		return w.redirect(c, "/instructor/bank/template?"+url.Values{"id": {tv.TemplateID}, "version": {strconv.Itoa(tv.Version)}}.Encode())
	}
}

// problemsOf reads template problems from an error's details through
// their JSON form.
func problemsOf(details any) []templateProblem {
	if details == nil {
		return nil
	}
	b, err := json.Marshal(details)
	if err != nil {
		return nil
	}
	var ps []templateProblem
	if json.Unmarshal(b, &ps) != nil {
		return nil
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
	return ps
}

// annotate splits the source into lines, each with its problems.
func annotate(src string, ps []templateProblem) []sourceLine {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	out := make([]sourceLine, len(lines))
	for i, l := range lines {
		out[i] = sourceLine{N: i + 1, Text: l}
	}
	for _, p := range ps {
		if p.Line >= 1 && p.Line <= len(out) {
			out[p.Line-1].Problems = append(out[p.Line-1].Problems, p)
		}
	}
	return out
}

// handleTemplateMoodle sends ?count= variants (default 20) of a template
// version, drawn from ?seed= (default 1), as Moodle XML.
func (w *Web) handleTemplateMoodle() fiber.Handler {
	return func(c *fiber.Ctx) error {
		o, err := moodleOptions(c, 20)
		if err != nil {
			return err
		}
		id := c.Query("id")
		var b bytes.Buffer
		if err := w.templates.ExportMoodle(c.UserContext(), actor(c), id, c.QueryInt("version"), o, &b); err != nil {
			return err
		}
		return sendMoodle(c, strings.NewReplacer("/", "-", `"`, "").Replace(id)+"-moodle.xml", b.Bytes())
	}
}

// handleExamMoodle sends an exam's questions as Moodle XML.
func (w *Web) handleExamMoodle() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		o, err := moodleOptions(c, 100)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := w.exams.ExportMoodle(c.UserContext(), actor(c), id, o, &b); err != nil {
			return err
		}
		return sendMoodle(c, fmt.Sprintf("exam-%d-moodle.xml", id), b.Bytes())
	}
}

// moodleOptions reads a Moodle export's count (default def) and seed.
func moodleOptions(c *fiber.Ctx, def int) (marksmith.MoodleExport, error) {
	o := marksmith.MoodleExport{Count: def, Seed: 1}
	if s := c.Query("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return o, marksmith.Errorf(marksmith.EINVALID, "The number of variants must be a whole number from 1 to %d.", marksmith.MaxExportCount)
		}
		o.Count = n
	}
	if s := c.Query("seed"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return o, marksmith.Errorf(marksmith.EINVALID, "The seed must be a whole number from 0 to 18446744073709551615.")
		}
		o.Seed = marksmith.Seed(n)
	}
	return o, nil
}

// sendMoodle sends a Moodle XML file as a download.
func sendMoodle(c *fiber.Ctx, name string, b []byte) error {
	c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	return c.Send(b)
}
