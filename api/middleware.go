package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/marksmith/marksmith"
)

// HeaderRequestID carries the request id, in and out.
const HeaderRequestID = "X-Request-ID"

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyPrincipal
	keyUnmatched
)

// RequestID returns the request id stored in ctx by the API, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

func requestIDOf(c *fiber.Ctx) string {
	id, _ := c.Locals(keyRequestID).(string)
	return id
}

// validRequestID accepts a client's request id only if it is short and
// plain, so that it is safe to log and to echo.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// requestIDs makes request ids: a random prefix drawn once per server,
// which tells instances apart, and a counter, so that an id costs no
// system call.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return &requestIDs{prefix: strconv.FormatInt(time.Now().UnixNano(), 36)}
	}
	return &requestIDs{prefix: hex.EncodeToString(b)}
}

func (r *requestIDs) next() string {
	return r.prefix + "-" + strconv.FormatUint(r.n.Add(1), 36)
}

// requestID takes the request id from X-Request-ID or makes one, echoes it,
// and puts it in the request context that every service call receives.
func (s *server) requestID(c *fiber.Ctx) error {
	id := c.Get(HeaderRequestID)
	if !validRequestID(id) {
		id = s.ids.next()
	}
	c.Locals(keyRequestID, id)
	c.Set(HeaderRequestID, id)
	securityHeaders(c)
	c.SetUserContext(context.WithValue(c.UserContext(), keyRequestID, id))
	return c.Next()
}

// fail answers err: in the error shape, or on a page's path (unknown
// paths outside the API included) as the pages render errors. It sets the
// security headers itself: some errors are raised before any middleware
// has run (a body over the limit).
func (s *server) fail(c *fiber.Ctx, err error) {
	securityHeaders(c)
	if s.pages != nil && !apiPath(c.Path()) {
		if err := s.pages.Fail(c, err); err != nil {
			s.writeError(c, err)
		}
		return
	}
	s.writeError(c, err)
}

// observe writes any error in the error shape, then logs the request and
// records its metrics.
func (s *server) observe(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		// The router's own 404 and 405 ("Cannot GET /x"): no route
		// matched, though Fiber leaves the request on the middleware's
		// route, whose path "/" is the home page's.
		var fe *fiber.Error
		if errors.As(err, &fe) && (fe.Code == fiber.StatusNotFound || fe.Code == fiber.StatusMethodNotAllowed) && strings.HasPrefix(fe.Message, "Cannot ") {
			c.Locals(keyUnmatched, true)
		}
		s.fail(c, err)
	}
	elapsed := time.Since(start)
	status := c.Response().StatusCode()
	route := s.routeLabel(c)
	s.metrics.observe(c.Method(), route, status, elapsed)
	attrs := []slog.Attr{
		slog.String("request_id", requestIDOf(c)),
		slog.String("method", c.Method()),
		slog.String("path", c.Path()),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", elapsed),
		slog.String("client", s.clientAddr(c)),
	}
	if p, ok := c.Locals(keyPrincipal).(marksmith.Principal); ok {
		attrs = append(attrs, slog.Int64("user_id", p.UserID))
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(c.UserContext(), level, "request", attrs...)
	return nil
}

// routeLabel is the matched route pattern, or "unmatched", so that metric
// labels stay few whatever paths clients ask for.
func (s *server) routeLabel(c *fiber.Ctx) string {
	if unmatched, _ := c.Locals(keyUnmatched).(bool); unmatched {
		return "unmatched"
	}
	if p := c.Route().Path; s.routePaths[p] {
		return p
	}
	return "unmatched"
}

// recoverPanics turns a panic in a handler into an internal error, which
// observe logs with the stack and the request id and shows as a generic 500.
func (s *server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in %s %s: %v\n%s", c.Method(), c.Path(), r, debug.Stack())
		}
	}()
	return c.Next()
}

// clientAddr is the client's address: the peer, or with TrustProxy the
// last X-Forwarded-For entry (the one our proxy added).
func (s *server) clientAddr(c *fiber.Ctx) string {
	if s.cfg.TrustProxy {
		if ips := c.IPs(); len(ips) > 0 {
			if last := strings.TrimSpace(ips[len(ips)-1]); last != "" {
				return last
			}
		}
	}
	return c.IP()
}

// timeout gives every request a context that ends after RequestTimeout
// (or when the client goes), so that no query outlives its request.
func (s *server) timeout(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// handler wraps a route's handler with its access rules: a public route
// runs as it is; any other needs a valid bearer access token of one of its
// roles, and gets the caller's account, resolved once here (EUNAUTHORIZED
// for an account that is gone or whose role changed, EFORBIDDEN for a
// disabled one). An account that must still change its one-time password
// reaches only the routes marked for it. A route whose service checks the
// account itself gets the token's claims instead of a loaded account.
func (s *server) handler(r route) fiber.Handler {
	if r.access.public {
		return func(c *fiber.Ctx) error {
			return r.handler(c, nil)
		}
	}
	return func(c *fiber.Ctx) error {
		p, err := s.principal(c)
		if err != nil {
			return err
		}
		c.Locals(keyPrincipal, p)
		if !slices.Contains(r.access.roles, p.Role) {
			return marksmith.Errorf(marksmith.EFORBIDDEN, "Your role (%s) may not do this.", p.Role)
		}
		if r.access.claims {
			return r.handler(c, &marksmith.User{ID: p.UserID, Role: p.Role})
		}
		actor, err := s.auth.Actor(c.UserContext(), p)
		if err != nil {
			return err
		}
		if actor.MustChangePassword && !r.access.pending {
			return marksmith.Errorf(marksmith.EFORBIDDEN, "Choose your own password first: PUT /api/v1/users/me/password with your one-time password.")
		}
		return r.handler(c, actor)
	}
}

// securityHeaders sets the security headers of a response: on the API's
// paths all of apiHeaders; on any other path only nosniff, as the pages
// set their own (a page's CSP allows its scripts and styles).
func securityHeaders(c *fiber.Ctx) {
	if apiPath(c.Path()) {
		apiHeaders(&c.Response().Header)
		return
	}
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
}

// apiHeaders sets the security headers of every API response: a JSON API
// is never a page to render, frame, sniff or follow links from. It takes
// the bare response header so that the answers written beneath Fiber
// (refuseUnknownMethods) carry them too.
func apiHeaders(h *fasthttp.ResponseHeader) {
	h.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; frame-ancestors 'none'")
	h.Set(fiber.HeaderXFrameOptions, "DENY")
	h.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
}

// principal verifies the request's bearer access token.
func (s *server) principal(c *fiber.Ctx) (marksmith.Principal, error) {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="marksmith"`)
		return marksmith.Principal{}, marksmith.Errorf(marksmith.EUNAUTHORIZED, "Authentication required: send an access token as Authorization: Bearer <token>.")
	}
	p, err := s.auth.Verify(strings.TrimSpace(token))
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="marksmith", error="invalid_token"`)
		return marksmith.Principal{}, err
	}
	return p, nil
}
