// Package api is Marksmith's JSON API over HTTP: a Fiber app with JWT
// bearer authentication, roles, one error shape, request ids, access logs,
// Prometheus metrics and an OpenAPI document of the whole surface.
//
// The whole surface is listed in routes.go; handlers are maker functions,
// one file per area.
package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/marksmith/marksmith"
)

// Defaults for the zero values of Config.
const (
	DefaultBodyLimit      = 4 << 20 // 4 MiB: a roster of a few thousand rows, a template with figures
	DefaultReadTimeout    = 15 * time.Second
	DefaultWriteTimeout   = 30 * time.Second
	DefaultIdleTimeout    = 120 * time.Second
	DefaultRequestTimeout = 60 * time.Second

	// readBufferSize bounds the request line and headers (8 KiB, as most
	// proxies do); larger requests get 413 before any handler runs.
	readBufferSize = 8 << 10
)

// Config configures the HTTP side of the API. Zero fields take their
// defaults.
type Config struct {
	BodyLimit    int           // largest request body in bytes; default 4 MiB
	ReadTimeout  time.Duration // default 15s
	WriteTimeout time.Duration // default 30s
	IdleTimeout  time.Duration // keep-alive idle timeout; default 120s
	// RequestTimeout bounds the work of one request: its context is
	// cancelled after it, and every query stops with it. Default 60s.
	RequestTimeout time.Duration

	// TrustProxy takes the client address from the last entry of
	// X-Forwarded-For (the one the proxy in front of us added). Set it only
	// behind a proxy that sets that header.
	TrustProxy bool

	// PrintStudents is the most students one request prints as PDF or
	// zip; default MaxPrintStudents.
	PrintStudents int
}

// Deps are the API's dependencies: the use-case services, and what the
// operations routes report.
type Deps struct {
	Auth      marksmith.AuthService
	Users     marksmith.UserService
	Templates marksmith.TemplateService
	Exams     marksmith.ExamService

	// Pages, when set, are the web pages, served beside the API on the
	// same app: their routes are added after the API's, and errors on any
	// path outside the API's are theirs to render.
	Pages Pages

	// Printer prints papers to PDF; nil: the papers route prints HTML
	// only, and answers a PDF with 503.
	Printer Printer

	Logger  *slog.Logger                    // nil: logs are discarded
	Ready   func(ctx context.Context) error // readiness probe (database reachable, schema current); nil: always ready
	Metrics *prometheus.Registry            // nil: a private registry
}

// Pages is what the API needs of the web pages to serve them beside it.
type Pages interface {
	// Register adds the pages' routes.
	Register(r fiber.Router)
	// Paths lists their path patterns, for metric labels.
	Paths() []string
	// Fail renders an error as a page.
	Fail(c *fiber.Ctx, err error) error
}

// withDefaults returns cfg with its zero fields set to their defaults.
func (cfg Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.ReadTimeout, DefaultReadTimeout)
	def(&cfg.WriteTimeout, DefaultWriteTimeout)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	def(&cfg.RequestTimeout, DefaultRequestTimeout)
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.PrintStudents == 0 {
		cfg.PrintStudents = MaxPrintStudents
	}
	return cfg
}

// Validate reports what is wrong with cfg, after defaults are applied.
func (cfg Config) Validate() error {
	cfg = cfg.withDefaults()
	var errs []error
	for name, d := range map[string]time.Duration{
		"read timeout": cfg.ReadTimeout, "write timeout": cfg.WriteTimeout, "idle timeout": cfg.IdleTimeout,
		"request timeout": cfg.RequestTimeout,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %v is negative", name, d))
		}
	}
	if cfg.PrintStudents < 0 {
		errs = append(errs, errors.New("print students must not be negative"))
	}
	if cfg.BodyLimit < 0 {
		errs = append(errs, errors.New("body limit must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("api config: %w", err)
	}
	return nil
}

// server holds what the handlers share.
type server struct {
	cfg       Config
	auth      marksmith.AuthService
	users     marksmith.UserService
	templates marksmith.TemplateService
	exams     marksmith.ExamService
	log       *slog.Logger
	ready     func(ctx context.Context) error
	registry  *prometheus.Registry
	metrics   *metrics
	ids       *requestIDs
	pages     Pages
	printer   Printer

	routePaths map[string]bool // the patterns of routes(), for metric labels
}

// New returns the API as a Fiber app with every route of routes.go. It
// panics if cfg is invalid (see Config.Validate) or a service is missing:
// both are programming errors caught at start-up.
func New(cfg Config, deps Deps) *fiber.App {
	s, err := newServer(cfg, deps)
	if err != nil {
		panic(fmt.Sprintf("api.New: %v", err))
	}
	app := s.newApp()
	s.register(app)
	s.refuseUnknownMethods(app)
	return app
}

// knownMethods are the methods Fiber routes; it answers any other with a
// plain-text 400 before any middleware runs.
var knownMethods = map[string]bool{
	fiber.MethodGet: true, fiber.MethodHead: true, fiber.MethodPost: true, fiber.MethodPut: true, fiber.MethodDelete: true,
	fiber.MethodConnect: true, fiber.MethodOptions: true, fiber.MethodTrace: true, fiber.MethodPatch: true,
}

// refuseUnknownMethods answers a request with a method Fiber does not know
// in the error shape (405), as every other refusal is, with the API's
// security headers whatever the path: the answer is JSON, not a page.
func (s *server) refuseUnknownMethods(app *fiber.App) {
	srv := app.Server()
	next := srv.Handler
	srv.Handler = func(fc *fasthttp.RequestCtx) {
		if knownMethods[string(fc.Method())] {
			next(fc)
			return
		}
		fc.SetStatusCode(fiber.StatusMethodNotAllowed)
		fc.SetContentType(fiber.MIMEApplicationJSON)
		fc.Response.Header.Set(HeaderRequestID, s.ids.next())
		apiHeaders(&fc.Response.Header)
		fc.SetBodyString(`{"error":{"code":"method_not_allowed","message":"Unknown HTTP method."}}`)
	}
}

func newServer(cfg Config, deps Deps) (*server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Auth == nil || deps.Users == nil || deps.Templates == nil || deps.Exams == nil {
		return nil, errors.New("deps: Auth, Users, Templates and Exams are required")
	}
	s := &server{
		cfg:       cfg.withDefaults(),
		auth:      deps.Auth,
		users:     deps.Users,
		templates: deps.Templates,
		exams:     deps.Exams,
		log:       deps.Logger,
		ready:     deps.Ready,
		registry:  deps.Metrics,
		ids:       newRequestIDs(),
		pages:     deps.Pages,
		printer:   deps.Printer,
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.ready == nil {
		s.ready = func(context.Context) error { return nil }
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	m, err := newMetrics(s.registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// newApp builds the Fiber app with the global middleware: request ids,
// access logs and metrics, panics turned into 500s, request timeouts.
func (s *server) newApp() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "marksmith",
		BodyLimit:             s.cfg.BodyLimit,
		ReadTimeout:           s.cfg.ReadTimeout,
		WriteTimeout:          s.cfg.WriteTimeout,
		IdleTimeout:           s.cfg.IdleTimeout,
		ReadBufferSize:        readBufferSize,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
		CaseSensitive:         true,
		Immutable:             true,
	})
	app.Use(s.requestID, s.observe, s.recoverPanics, s.timeout)
	return app
}

// register adds every route of routes() to app.
func (s *server) register(app *fiber.App) {
	s.routePaths = map[string]bool{}
	for _, r := range s.routes() {
		s.routePaths[r.path] = true
		app.Add(r.method, r.path, s.handler(r))
	}
	if s.pages != nil {
		s.pages.Register(app)
		for _, p := range s.pages.Paths() {
			s.routePaths[p] = true
		}
	}
}

// apiPath reports whether a path is the API's (its routes and the
// operations routes), whose errors are JSON; any other is a page's.
func apiPath(p string) bool {
	switch p {
	case "/api", "/healthz", "/readyz", "/metrics", "/openapi.json":
		return true
	}
	return strings.HasPrefix(p, "/api/")
}
