package api

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// retryAfterUnavailable is the Retry-After, in seconds, of a 503 that
// gives none of its own (the database is down, the schema stale).
const retryAfterUnavailable = 5

// EMETHOD is the code for a route that exists with other methods only. It
// is the API's own: the domain never produces it.
const EMETHOD = "method_not_allowed"

// errorStatus is the HTTP status of an error code: the domain's table,
// and the API's own code.
func errorStatus(code string) int {
	if code == EMETHOD {
		return http.StatusMethodNotAllowed
	}
	return marksmith.HTTPStatus(code)
}

// fiberErrorCode maps the errors Fiber itself raises (no route, body too
// large, a malformed request) to a code and a fixed message.
func fiberErrorCode(status int) (code, message string) {
	switch status {
	case http.StatusNotFound:
		return marksmith.ENOTFOUND, "No such route."
	case http.StatusMethodNotAllowed:
		return EMETHOD, "Method not allowed on this route."
	case http.StatusRequestEntityTooLarge:
		return marksmith.ETOOLARGE, "Request body too large."
	case http.StatusRequestTimeout:
		return marksmith.EINVALID, "Request timed out."
	case http.StatusRequestHeaderFieldsTooLarge:
		return marksmith.ETOOLARGE, "Request headers too large."
	}
	if status >= 400 && status < 500 {
		return marksmith.EINVALID, "Malformed request."
	}
	return marksmith.EINTERNAL, "Internal error."
}

// errorResponse is the one error shape: {"error": {"code", "message", "details"}}.
type errorResponse struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

// writeError writes err in the error shape with the status of its code.
// Internal errors are logged with the request id and shown only as a
// generic message.
func (s *server) writeError(c *fiber.Ctx, err error) {
	var (
		body errorBody
		fe   *fiber.Error
		me   *marksmith.Error
	)
	switch {
	case errors.As(err, &me):
		body = errorBody{Code: me.Code, Message: me.Message, Details: me.Details}
		if me.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(me.RetryAfter.Seconds()))))
		}
	case errors.As(err, &fe):
		body.Code, body.Message = fiberErrorCode(fe.Code)
	default:
		body.Code, body.Message = marksmith.EINTERNAL, marksmith.ErrorMessage(err)
	}
	status := errorStatus(body.Code)
	if body.Code == marksmith.EUNAVAILABLE && c.GetRespHeader(fiber.HeaderRetryAfter) == "" {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfterUnavailable))
	}
	if body.Code == marksmith.EINTERNAL {
		body = errorBody{Code: marksmith.EINTERNAL, Message: "Internal error."}
		s.log.LogAttrs(c.UserContext(), slog.LevelError, "internal error",
			slog.String("request_id", requestIDOf(c)),
			slog.String("method", c.Method()),
			slog.String("path", c.Path()),
			slog.String("error", err.Error()))
	}
	c.Status(status)
	if jerr := c.JSON(errorResponse{Error: body}); jerr != nil {
		c.Status(http.StatusInternalServerError)
		c.Response().SetBodyString(`{"error":{"code":"internal","message":"Internal error."}}`)
		c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	}
}

// handleError is Fiber's error handler: it sees the errors raised outside
// the middleware chain, while the request is read (a body over the limit,
// headers over the limit, a malformed request). Only a body over the limit
// comes after the request line and headers were read; for any other the
// path is not known (Fiber reports "/", the home page's), so the answer is
// the API's, in the error shape with the API's headers, whatever the
// client asked for.
func (s *server) handleError(c *fiber.Ctx, err error) error {
	if requestIDOf(c) == "" {
		id := s.ids.next()
		c.Locals(keyRequestID, id)
		c.Set(HeaderRequestID, id)
	}
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code == fiber.StatusRequestEntityTooLarge {
		s.fail(c, err)
		return nil
	}
	apiHeaders(&c.Response().Header)
	s.writeError(c, err)
	return nil
}
