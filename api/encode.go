package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// Paging bounds for list routes.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// fieldError is one validation problem with a request field.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// validationErrors collects field errors.
type validationErrors []fieldError

func (v *validationErrors) add(field, format string, args ...any) {
	*v = append(*v, fieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns nil without problems, or an EUNPROCESSABLE error whose
// details are the problems.
func (v validationErrors) err(what string) error {
	if len(v) == 0 {
		return nil
	}
	return &marksmith.Error{Code: marksmith.EUNPROCESSABLE, Message: fmt.Sprintf("Invalid %s.", what), Details: []fieldError(v)}
}

// encode writes v as JSON with the status.
func encode(c *fiber.Ctx, status int, v any) error {
	return c.Status(status).JSON(v)
}

// mediaType returns the request's media type, lower case, without
// parameters.
func mediaType(c *fiber.Ctx) string {
	ct := c.Get(fiber.HeaderContentType)
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	return mt
}

// decode reads a JSON request body into v: it must be application/json,
// one value, with no unknown fields.
func decode(c *fiber.Ctx, v any) error {
	if mt := mediaType(c); mt != fiber.MIMEApplicationJSON {
		return marksmith.Errorf(marksmith.EINVALID, "Content-Type must be application/json, not %q.", mt)
	}
	return decodeBytes(c.Body(), v)
}

func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return marksmith.Errorf(marksmith.EINVALID, "Request body is empty; a JSON body is required.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return marksmith.Errorf(marksmith.EINVALID, "Invalid JSON body: %s.", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return marksmith.Errorf(marksmith.EINVALID, "Invalid JSON body: more than one value.")
	}
	return nil
}

// describeJSONError says what is wrong with a JSON body without Go type
// names.
func describeJSONError(err error) string {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return fmt.Sprintf("expected %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "not valid JSON"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "a number"
}

// page is the offset and limit of a list request.
type page struct {
	Offset int
	Limit  int
}

// parsePage reads offset and limit query parameters.
func parsePage(c *fiber.Ctx) (page, error) {
	p := page{Offset: 0, Limit: defaultLimit}
	var problems validationErrors
	if s := c.Query("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			problems.add("offset", "must be a whole number, 0 or more")
		}
		p.Offset = n
	}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			problems.add("limit", "must be a whole number from 1 to %d", maxLimit)
		}
		p.Limit = n
	}
	if len(problems) > 0 {
		return p, &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.", Details: []fieldError(problems)}
	}
	return p, nil
}
