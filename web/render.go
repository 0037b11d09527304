package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

//go:embed templates
var templatesFS embed.FS

// pages are the parsed templates: one set per page (the layout, the
// partials and the page's own file, which defines "main"), and the
// partials alone for the fragments htmx swaps in.
type pages struct {
	byName   map[string]*template.Template
	partials *template.Template
	bufs     sync.Pool
}

// parsePages parses every template once; any error stops the server
// from starting.
func parsePages(funcs template.FuncMap) (*pages, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templatesFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	files, err := fs.Glob(templatesFS, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}, partials: base}
	p.bufs.New = func() any { return new(bytes.Buffer) }
	for _, f := range files {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("parse templates: %w", err)
		}
		if t, err = t.ParseFS(templatesFS, f); err != nil {
			return nil, fmt.Errorf("parse templates: %w", err)
		}
		if t.Lookup("main") == nil {
			return nil, fmt.Errorf("parse templates: %s defines no \"main\"", f)
		}
		p.byName[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return p, nil
}

// view is what the layout and every page see.
type view struct {
	App   string
	Title string
	User  *marksmith.User
	CSRF  string
	Flash string
	Nav   string // the section of the site the page is in, for the menu
	Math  bool   // load KaTeX: the page has formulas
	Exam  bool   // the exam page: its script, and no site menu
	Page  any
}

// renderOpt changes how a page is rendered.
type renderOpt func(*view)

// withMath loads KaTeX on the page.
func withMath(v *view) { v.Math = true }

// render writes page name with data as the response, in the layout.
func (w *Web) render(c *fiber.Ctx, name, title string, data any, opts ...renderOpt) error {
	t, ok := w.pages.byName[name]
	if !ok {
		return fmt.Errorf("render: no page %q", name)
	}
	s := sessionOf(c)
	v := &view{App: w.cfg.AppName, Title: title, User: s.user, CSRF: s.csrf, Page: data, Nav: navOf(c.Path())}
	if c.Method() == fiber.MethodGet {
		v.Flash = w.takeFlash(c)
	}
	for _, o := range opts {
		o(v)
	}
	return w.execute(c, t, "layout", v)
}

// renderPartial writes one partial template (an htmx fragment).
func (w *Web) renderPartial(c *fiber.Ctx, name string, data any) error {
	return w.execute(c, w.pages.partials, name, data)
}

func (w *Web) execute(c *fiber.Ctx, t *template.Template, name string, data any) error {
	buf := w.pages.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer w.pages.bufs.Put(buf)
	if err := t.ExecuteTemplate(buf, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	// Send copies: the buffer goes back to the pool.
	return c.Send(append([]byte(nil), buf.Bytes()...))
}

func navOf(p string) string {
	switch {
	case strings.HasPrefix(p, "/instructor/bank"):
		return "bank"
	case strings.HasPrefix(p, "/instructor"):
		return "exams"
	case strings.HasPrefix(p, "/admin"):
		return "users"
	case strings.HasPrefix(p, "/exams"), strings.HasPrefix(p, "/attempts"):
		return "my"
	case strings.HasPrefix(p, "/password"):
		return "account"
	}
	return ""
}

// funcs are the functions templates may call.
func (w *Web) funcs() template.FuncMap {
	return template.FuncMap{
		"asset":    func(name string) string { return w.static.url(name) },
		"md":       w.md.block,
		"mdInline": w.md.inline,
		"score":    formatScore,
		"scoreOf": func(f *float64) string {
			if f == nil {
				return "–"
			}
			return formatScore(*f)
		},
		"percent": func(f float64) string { return strconv.FormatFloat(math.Round(f*100), 'f', 0, 64) + "%" },
		"fixed":   func(d int, f float64) string { return strconv.FormatFloat(f, 'f', d, 64) },
		"when":    timeTag,
		"whenPtr": func(t *time.Time) template.HTML {
			if t == nil {
				return "–"
			}
			return timeTag(*t)
		},
		"clock":    func(t time.Time) string { return t.UTC().Format("15:04:05") },
		"rfc3339":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"duration": formatDuration,
		"domID":    domID,
		"add":      func(a, b int) int { return a + b },
		"isAdmin":  func(u *marksmith.User) bool { return u != nil && u.Role == marksmith.RoleAdmin },
		"isStaff": func(u *marksmith.User) bool {
			return u != nil && (u.Role == marksmith.RoleAdmin || u.Role == marksmith.RoleInstructor)
		},
		"isStudent": func(u *marksmith.User) bool { return u != nil && u.Role == marksmith.RoleStudent },
		"widget":    func(p paperPart) template.HTML { return w.md.partWidget(&p) },
		"join":      strings.Join,
		"partLabel": marksmith.PartLabel,
		"derefID": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"localValue": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02T15:04")
		},
		"div60": func(s int) int { return s / 60 },
		"words": func(s string) int { return len(strings.Fields(s)) },
	}
}

// formatScore writes a score with at most two decimals and no trailing
// zeros: 3, 1.5, 1.33.
func formatScore(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// timeTag writes a time as a <time> element: UTC on the server, turned
// into the reader's own time zone by the page's script.
func timeTag(t time.Time) template.HTML {
	if t.IsZero() {
		return "–"
	}
	u := t.UTC()
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `" class="local">` + u.Format("Mon 2 Jan 2006, 15:04") + ` UTC</time>`)
}

// formatDuration writes seconds as "1 h 30 min", "45 min", "30 s".
func formatDuration(seconds int) string {
	if seconds <= 0 {
		return "0 min"
	}
	h, m, s := seconds/3600, seconds%3600/60, seconds%60
	var parts []string
	if h > 0 {
		parts = append(parts, strconv.Itoa(h)+" h")
	}
	if m > 0 {
		parts = append(parts, strconv.Itoa(m)+" min")
	}
	if s > 0 && h == 0 {
		parts = append(parts, strconv.Itoa(s)+" s")
	}
	return strings.Join(parts, " ")
}

// domID makes an element id from parts: letters, digits, '-' and '_'
// are kept, anything else becomes '_'.
func domID(parts ...any) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('-')
		}
		for _, r := range fmt.Sprint(p) {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }
