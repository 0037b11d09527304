package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// HeaderRequestID carries the request id, in and out.
const HeaderRequestID = "X-Request-ID"

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyPrincipal
)

// principal is the authenticated caller, from a verified access token.
type principal struct {
	ID   int64
	Role marksmith.Role
}

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

func newRequestID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	return hex.EncodeToString(b)
}

// requestID takes the request id from X-Request-ID or makes one, echoes it,
// and puts it in the request context that every service call receives.
func (s *server) requestID(c *fiber.Ctx) error {
	id := c.Get(HeaderRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Locals(keyRequestID, id)
	c.Set(HeaderRequestID, id)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.SetUserContext(context.WithValue(c.UserContext(), keyRequestID, id))
	return c.Next()
}

// observe writes any error in the error shape, then logs the request and
// records its metrics.
func (s *server) observe(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		s.writeError(c, err)
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
	if p, ok := c.Locals(keyPrincipal).(principal); ok {
		attrs = append(attrs, slog.Int64("user_id", p.ID))
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

// authenticate requires a valid bearer access token and records its
// principal.
func (s *server) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="marksmith"`)
		return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Authentication required: send an access token as Authorization: Bearer <token>.")
	}
	claims, err := s.jwt.Verify(strings.TrimSpace(token))
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="marksmith", error="invalid_token"`)
		return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Invalid or expired access token.")
	}
	id, err := claims.UserID()
	if err != nil {
		return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Invalid or expired access token.")
	}
	c.Locals(keyPrincipal, principal{ID: id, Role: claims.Role})
	return c.Next()
}

// authorize lets through callers with one of roles.
func (s *server) authorize(roles []marksmith.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, ok := c.Locals(keyPrincipal).(principal)
		if !ok {
			return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Authentication required.")
		}
		if !slices.Contains(roles, p.Role) {
			return marksmith.Errorf(marksmith.EFORBIDDEN, "Your role (%s) may not do this.", p.Role)
		}
		return c.Next()
	}
}

// caller returns the authenticated principal of a request that passed
// authenticate.
func caller(c *fiber.Ctx) (principal, error) {
	p, ok := c.Locals(keyPrincipal).(principal)
	if !ok {
		return principal{}, marksmith.Errorf(marksmith.EUNAUTHORIZED, "Authentication required.")
	}
	return p, nil
}
