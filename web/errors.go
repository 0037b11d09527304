package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// contentSecurityPolicy allows scripts, styles, fonts and requests from
// this server only, and no inline script or style at all: the pages'
// behaviour is the files under static/js. SVG charts are drawn with
// presentation attributes, and KaTeX sets its sizes through the DOM, which
// the policy does not restrict.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// pageHeaders sets the security headers of every page and JSON response.
// Pages hold private data (answers, scores, one-time passwords): nothing
// stores them.
func (w *Web) pageHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set(fiber.HeaderPermissionsPolicy, "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	c.Set(fiber.HeaderCacheControl, "no-store")
	if w.cfg.Secure {
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
	}
}

// staticHeaders sets the headers of static files.
func (w *Web) staticHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	c.Set("Cross-Origin-Resource-Policy", "same-origin")
	return c.Next()
}

// statusOf is the HTTP status of an error code, as in the API.
func statusOf(code string) int {
	switch code {
	case eMethod:
		return http.StatusMethodNotAllowed
	case ECSRF:
		return http.StatusForbidden
	}
	return marksmith.HTTPStatus(code)
}

// errorPage is what the error page shows.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

// fail answers a request that ended in err: a sign-in redirect for a
// signed-out page request, JSON on a JSON route, the error page
// otherwise. Internal errors are logged with their details and shown as a
// generic message.
func (w *Web) fail(c *fiber.Ctx, err error) error {
	code := marksmith.ErrorCode(err)
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code = fiberCode(fe.Code)
		msg := fe.Message
		if code == eMethod {
			msg = "This address does not take that kind of request: follow a link or a button to it instead."
		}
		err = &marksmith.Error{Code: code, Message: msg}
	}
	json, _ := c.Locals(keyJSON).(bool)
	if !json {
		switch {
		case isSignedOut(err):
			return w.toLogin(c)
		case errors.Is(err, errMustChange) && c.Method() == fiber.MethodGet:
			return w.redirect(c, "/password")
		}
	}
	status := statusOf(code)
	msg := marksmith.ErrorMessage(err)
	if status >= 500 {
		w.log.LogAttrs(c.UserContext(), slog.LevelError, "web request failed",
			slog.String("method", c.Method()), slog.String("path", c.Path()), slog.String("error", err.Error()))
		if code == marksmith.EINTERNAL {
			msg = "Something went wrong on our side. Please try again; if it keeps happening, tell your instructor."
		}
	}
	var re *marksmith.Error
	if code == marksmith.ERATELIMIT && errors.As(err, &re) {
		if d, ok := re.Details.(interface{ Seconds() float64 }); ok {
			c.Set(fiber.HeaderRetryAfter, itoa(int(d.Seconds())+1))
		}
	}
	if json {
		body := fiber.Map{"code": code, "message": msg}
		if errors.As(err, &re) && re.Details != nil && code != marksmith.EINTERNAL {
			body["details"] = re.Details
		}
		return c.Status(status).JSON(fiber.Map{"error": body})
	}
	c.Status(status)
	return w.render(c, "error", "Error", errorPage{Status: status, Heading: heading(status), Message: msg})
}

func heading(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusConflict:
		return "Not now"
	case http.StatusGone:
		return "Too late"
	case http.StatusTooManyRequests:
		return "Too many attempts"
	case http.StatusServiceUnavailable:
		return "Not available"
	}
	if status >= 500 {
		return "Something went wrong"
	}
	return "That did not work"
}

// fiberCode maps the errors Fiber raises to a code.
// eMethod is the code of a request whose method a page does not take.
const eMethod = "method_not_allowed"

func fiberCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return marksmith.ENOTFOUND
	case http.StatusMethodNotAllowed:
		return eMethod
	case http.StatusRequestEntityTooLarge, http.StatusRequestHeaderFieldsTooLarge:
		return marksmith.ETOOLARGE
	}
	if status >= 400 && status < 500 {
		return marksmith.EINVALID
	}
	return marksmith.EINTERNAL
}

// toLogin sends a signed-out request to the sign-in page, which brings
// the reader back here afterwards.
func (w *Web) toLogin(c *fiber.Ctx) error {
	target := "/login"
	if c.Method() == fiber.MethodGet && c.Path() != "/" {
		target += "?next=" + url.QueryEscape(string(c.Request().URI().RequestURI()))
	}
	if s := sessionOf(c); s.ended != "" {
		if c.Method() == fiber.MethodGet && c.Path() != "/" {
			target += "&ended=" + s.ended
		} else {
			target += "?ended=" + s.ended
		}
	}
	return w.redirect(c, target)
}

// redirect sends the browser to target with a GET (303). An htmx request
// is told to load the page instead of swapping it in.
func (w *Web) redirect(c *fiber.Ctx, target string) error {
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", target)
		return c.SendStatus(http.StatusNoContent)
	}
	return c.Redirect(target, http.StatusSeeOther)
}

// safeNext returns next when it is a path on this site, "" otherwise, so
// that the sign-in page sends nobody elsewhere.
func safeNext(next string) string {
	if len(next) < 1 || next[0] != '/' || len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return ""
	}
	return next
}
