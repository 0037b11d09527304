package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// Paging bounds for list routes.
const (
	defaultLimit = 50
	maxLimit     = 200
	maxOffset    = 1 << 30
)

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

// decodeOptional is decode for a body that may be left out: an empty body
// leaves v as it is.
func decodeOptional(c *fiber.Ctx, v any) error {
	if len(bytes.TrimSpace(c.Body())) == 0 {
		return nil
	}
	return decode(c, v)
}

// maxNumberProblems bounds the numbers out of range one body's error
// lists (each costs a decoding of the body).
const maxNumberProblems = 20

// decodeBytes reads a JSON body into v. A body that cannot be read as the
// route's input is malformed (EINVALID): not UTF-8, not JSON, more than
// one value, an unknown field, a value of the wrong JSON type. A number
// the field cannot hold (past its type's range, a fraction or an exponent
// where a whole number goes, past a float64) is well formed but invalid
// (EUNPROCESSABLE, naming every such field), as a number the field can
// hold but the service refuses is; so that the answer does not depend on
// the order of the fields, a malformed body is 400 whatever numbers it
// also holds.
func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return marksmith.Errorf(marksmith.EINVALID, "Request body is empty; a JSON body is required.")
	}
	if !utf8.Valid(body) {
		// JSON text is UTF-8, and Go would read invalid bytes as U+FFFD:
		// refuse the body as malformed rather than store something else
		// than was sent.
		return &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid JSON body: not valid UTF-8.",
			Details: []marksmith.FieldError{{Field: "body", Message: "is not valid UTF-8"}}}
	}
	var problems marksmith.Problems
	for {
		err := decodeOnce(body, v)
		if err == nil {
			break
		}
		var typ *json.UnmarshalTypeError
		msg, ok := "", errors.As(err, &typ)
		if ok {
			msg, ok = numberProblem(typ)
		}
		if !ok {
			return marksmith.Errorf(marksmith.EINVALID, "Invalid JSON body: %s.", describeJSONError(body, err))
		}
		problems.Add(fieldOf(body, typ), "%s", msg)
		if len(problems) == maxNumberProblems {
			break
		}
		// Read on with a zero in its place, for any other problem: the
		// decoder reports only the first.
		if body, ok = zeroNumber(body, typ); !ok {
			break
		}
	}
	return problems.Err("JSON body")
}

// errMoreThanOne is a body of several JSON values.
var errMoreThanOne = errors.New("more than one value")

// decodeOnce decodes body into v: one value, no unknown fields.
func decodeOnce(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errMoreThanOne
	}
	return nil
}

// numberProblem says what is wrong with a JSON number its field cannot
// hold; ok is false if the error is not about such a number (a string
// where a number goes, a number where a string goes).
func numberProblem(typ *json.UnmarshalTypeError) (msg string, ok bool) {
	lit, ok := strings.CutPrefix(typ.Value, "number ")
	if !ok || typ.Type == nil {
		return "", false
	}
	whole := plainInteger.MatchString(lit)
	switch t := typ.Type; t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if whole {
			shift := 64 - t.Bits()
			return fmt.Sprintf("must be a whole number from %d to %d", int64(math.MinInt64)>>shift, int64(math.MaxInt64)>>shift), true
		}
		return "must be a whole number, written without a fraction or an exponent", true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if whole {
			return fmt.Sprintf("must be a whole number from 0 to %d", uint64(math.MaxUint64)>>(64-t.Bits())), true
		}
		return "must be a whole number, written without a fraction or an exponent", true
	case reflect.Float32, reflect.Float64:
		return "is too large a number", true
	}
	return "", false
}

// plainInteger is a JSON number written as a whole number.
var plainInteger = regexp.MustCompile(`^-?[0-9]+$`)

// zeroNumber returns body with the number typ reports replaced by 0, or
// false if typ does not say where it is (the error of an UnmarshalJSON
// method).
func zeroNumber(body []byte, typ *json.UnmarshalTypeError) ([]byte, bool) {
	lit := strings.TrimPrefix(typ.Value, "number ")
	end := int(typ.Offset)
	start := end - len(lit)
	if start < 0 || end > len(body) || string(body[start:end]) != lit {
		return nil, false
	}
	out := make([]byte, 0, len(body))
	out = append(append(append(out, body[:start]...), '0'), body[end:]...)
	return out, true
}

// fieldOf names the field of body an UnmarshalTypeError is about as the
// services name fields, with the index of each array ("questions[0].marks",
// where encoding/json says "questions.marks").
func fieldOf(body []byte, typ *json.UnmarshalTypeError) string {
	if p := jsonPath(body, typ.Offset); p != "" {
		return p
	}
	return typ.Field
}

// jsonPath returns the path ("questions[0].marks") of the scalar value of
// body that ends at byte offset, or "" if none does.
func jsonPath(body []byte, offset int64) string {
	type frame struct {
		key   string // in an object: the current key
		index int    // in an array: the current index; -1 in an object
		value bool   // in an object: the next token is a value
	}
	var stack []*frame
	done := func() { // a value of the innermost container was read
		if len(stack) == 0 {
			return
		}
		if f := stack[len(stack)-1]; f.index >= 0 {
			f.index++
		} else {
			f.value = false
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{index: -1})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			done()
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].index < 0 && !stack[n-1].value {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].value = true
			continue
		}
		if dec.InputOffset() == offset {
			var b strings.Builder
			for _, f := range stack {
				if f.index >= 0 {
					fmt.Fprintf(&b, "[%d]", f.index)
					continue
				}
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
			return b.String()
		}
		done()
	}
}

// describeJSONError says what is wrong with a JSON body without Go type
// names.
func describeJSONError(body []byte, err error) string {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if field := fieldOf(body, typ); field != "" {
			return fmt.Sprintf("field %q must be %s, not %s", field, expectedJSON(typ.Type), typ.Value)
		}
		return fmt.Sprintf("expected %s, not %s", expectedJSON(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	case errors.Is(err, errMoreThanOne):
		return err.Error()
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "not valid JSON"
}

// expectedJSON names the JSON a Go type is read from.
func expectedJSON(t reflect.Type) string {
	if t == reflect.TypeFor[marksmith.Seed]() {
		return "a string of decimal digits (or a whole number)"
	}
	return jsonKind(t.Kind().String())
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
	var problems marksmith.Problems
	if s := c.Query("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > maxOffset {
			problems.Add("offset", "must be a whole number from 0 to %d", maxOffset)
		}
		p.Offset = n
	}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			problems.Add("limit", "must be a whole number from 1 to %d", maxLimit)
		}
		p.Limit = n
	}
	if len(problems) > 0 {
		return p, &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.", Details: []marksmith.FieldError(problems)}
	}
	return p, nil
}
