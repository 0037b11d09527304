package marksmith

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// FieldError names a field of an input and what is wrong with it. A list
// of them is the Details of an EUNPROCESSABLE error.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problems collects the field errors of one input. Services validate each
// input in one place and return Problems.Err: one status (422) for every
// field that fails validation.
type Problems []FieldError

// Add records a problem with field.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil without problems, or an EUNPROCESSABLE error naming what
// was invalid and listing the problems.
func (p Problems) Err(what string) error {
	if len(p) == 0 {
		return nil
	}
	msg := fmt.Sprintf("Invalid %s.", what)
	if len(p) == 1 {
		if p[0].Field == "" {
			msg = fmt.Sprintf("Invalid %s: %s.", what, p[0].Message)
		} else {
			msg = fmt.Sprintf("Invalid %s: %s: %s.", what, p[0].Field, p[0].Message)
		}
	}
	return &Error{Code: EUNPROCESSABLE, Message: msg, Details: []FieldError(p)}
}

// CheckText records a problem when s, the value of field, is longer than
// max characters or holds what no text should: invalid UTF-8 or a NUL.
// Both databases then store exactly what the other would.
func (p *Problems) CheckText(field, s string, max int) {
	switch {
	case !utf8.ValidString(s):
		p.Add(field, "is not valid UTF-8 text")
	case strings.IndexByte(s, 0) >= 0:
		p.Add(field, "contains a NUL character")
	case max > 0 && utf8.RuneCountInString(s) > max:
		p.Add(field, "is longer than %d characters", max)
	}
}
