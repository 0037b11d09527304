// Package web is Marksmith's pages: server-rendered HTML for students who
// sit exams in a browser and for the instructors and admins who run them.
//
// The pages call the same use-case services as the JSON API
// (marksmith.AuthService, UserService, TemplateService, ExamService), so
// no rule is written twice: a page decodes a form, calls one service
// method with the signed-in user, and renders what it returns.
//
// Templates (html/template) and static assets are embedded and parsed once
// by New; routes.go lists the whole surface. Sessions are the API's access
// and refresh tokens, kept in HttpOnly cookies; every state-changing
// request carries a CSRF token; every page is served with a strict
// Content-Security-Policy: no inline script or style at all, so the
// scripts under static/js are the only code the pages run.
package web

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// Config configures the pages. The zero value is ready for a server
// reached over plain HTTP on one instance.
type Config struct {
	// Secure marks the session cookies Secure on every response: set it
	// when the server is reached over HTTPS through a proxy that ends TLS.
	// Requests that arrive over TLS get Secure cookies either way.
	Secure bool

	// TrustProxy takes the client address (for the login limits) from the
	// last entry of X-Forwarded-For, as the API does. Set it only behind a
	// proxy that sets that header.
	TrustProxy bool

	// CSRFKey signs CSRF tokens (HMAC-SHA256). With several instances
	// behind one address they must share it; empty: a random key per
	// process, which suits a single instance (a restart only makes open
	// forms ask to be sent again).
	CSRFKey []byte

	// AppName is shown in the title of every page; default "Marksmith".
	AppName string
}

// Deps are the services and helpers the pages call.
type Deps struct {
	Auth      marksmith.AuthService
	Users     marksmith.UserService
	Templates marksmith.TemplateService
	Exams     marksmith.ExamService

	// GradebookCSV writes a gradebook as the CSV the JSON API serves, so
	// that both front ends send the same file; nil: the pages offer no
	// CSV download.
	GradebookCSV func(w io.Writer, g *marksmith.Gradebook) error

	Logger *slog.Logger     // nil: logs are discarded
	Now    func() time.Time // nil: time.Now
}

// Web is the pages, ready to be mounted on a Fiber app with Register.
type Web struct {
	cfg       Config
	auth      marksmith.AuthService
	users     marksmith.UserService
	templates marksmith.TemplateService
	exams     marksmith.ExamService
	csv       func(io.Writer, *marksmith.Gradebook) error
	log       *slog.Logger
	now       func() time.Time

	pages   *pages
	static  *assets
	md      *markdown
	csrf    *csrfSigner
	refresh *refresher
}

// New returns the pages. It parses every template and loads every static
// asset, and fails if any template does not parse or a service is
// missing.
func New(cfg Config, deps Deps) (*Web, error) {
	if deps.Auth == nil || deps.Users == nil || deps.Templates == nil || deps.Exams == nil {
		return nil, errors.New("web: Auth, Users, Templates and Exams services are required")
	}
	if cfg.AppName == "" {
		cfg.AppName = "Marksmith"
	}
	w := &Web{
		cfg:       cfg,
		auth:      deps.Auth,
		users:     deps.Users,
		templates: deps.Templates,
		exams:     deps.Exams,
		csv:       deps.GradebookCSV,
		log:       deps.Logger,
		now:       deps.Now,
	}
	if w.log == nil {
		w.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if w.now == nil {
		w.now = time.Now
	}
	key := cfg.CSRFKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("web: CSRF key: %w", err)
		}
	}
	w.csrf = &csrfSigner{key: key}
	w.refresh = newRefresher(w.auth, w.now)
	var err error
	if w.static, err = loadAssets(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	w.md = newMarkdown()
	if w.pages, err = parsePages(w.funcs()); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return w, nil
}

// Register adds every page route (routes.go) to r: the app the JSON API
// is on, or a group of it. The pages live at the root ("/", "/login",
// "/exams", "/instructor/…", "/admin/…", "/static/…") and leave
// "/api/…", "/healthz", "/openapi.json" and the other API paths alone.
// Each route carries its own middleware, so nothing here runs for the
// API's routes.
func (w *Web) Register(r fiber.Router) {
	for _, rt := range w.routes() {
		r.Add(rt.method, rt.path, w.chain(rt)...)
	}
}

// Fail renders err as a page (or, on the exam page's JSON routes, as
// JSON): for a server that mounts the pages beside other routes and
// hands it the errors on the pages' paths, unknown paths included. The
// answer carries the pages' security headers, as a page route's does: the
// error may have been raised before any of the pages' handlers ran (no
// such path, a body over the limit).
func (w *Web) Fail(c *fiber.Ctx, err error) error {
	w.pageHeaders(c)
	return w.fail(c, err)
}

// Paths returns the path pattern of every page route (as Register adds
// them, e.g. "/attempts/:id"), for the server's metric labels and route
// tests.
func (w *Web) Paths() []string {
	var out []string
	seen := map[string]bool{}
	for _, rt := range w.routes() {
		if !seen[rt.path] {
			seen[rt.path] = true
			out = append(out, rt.path)
		}
	}
	return out
}

// App returns a Fiber app serving only the pages, configured as the API's
// app is; for tests and for running the pages on their own.
func (w *Web) App() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "marksmith-web",
		DisableStartupMessage: true,
		CaseSensitive:         true,
		Immutable:             true,
		BodyLimit:             8 << 20,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			return w.fail(c, err)
		},
	})
	w.Register(app)
	return app
}
