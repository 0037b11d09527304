package marksmith

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
)

// Seed is a 64-bit seed (an exam's, a variant's). Seeds use the whole
// 64-bit range, past the 2^53 a JavaScript number holds exactly, so in JSON
// a Seed is always written as a string of decimal digits; it is read from
// such a string or, for clients that send numbers, from a JSON integer.
type Seed uint64

// String returns the seed in decimal.
func (s Seed) String() string { return strconv.FormatUint(uint64(s), 10) }

// MarshalJSON writes the seed as a JSON string.
func (s Seed) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 22)
	b = append(b, '"')
	b = strconv.AppendUint(b, uint64(s), 10)
	return append(b, '"'), nil
}

// UnmarshalJSON reads a seed from a JSON string of decimal digits or a
// JSON integer, from 0 to 18446744073709551615. Its errors are
// json.UnmarshalTypeErrors, so that a decoder names the field: a number
// (or a string of digits) out of that range is reported as the "number"
// it is, anything else as the kind of JSON value it is.
func (s *Seed) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	text, quoted := b, len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"'
	if quoted {
		text = b[1 : len(b)-1]
	}
	v, err := strconv.ParseUint(string(text), 10, 64)
	if err == nil {
		*s = Seed(v)
		return nil
	}
	kind := "number"
	switch {
	case quoted && !digits(text):
		kind = "string"
	case len(b) == 0:
		kind = "nothing"
	case b[0] == 't' || b[0] == 'f':
		kind = "bool"
	case b[0] == 'n':
		kind = "null"
	case b[0] == '[':
		kind = "array"
	case b[0] == '{':
		kind = "object"
	}
	if kind == "number" {
		kind += " " + string(text)
	}
	return &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeFor[Seed]()}
}

// digits reports whether b is one or more decimal digits.
func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}
