package api

import (
	"slices"
	"testing"

	"github.com/marksmith/marksmith"
)

// TestDecodeBytesNumbers checks the line between 400 and 422 for numbers:
// a number its field cannot hold is 422 naming every such field, whatever
// its notation; a value of the wrong JSON type, or a malformed body, is 400
// whatever numbers it also holds.
func TestDecodeBytesNumbers(t *testing.T) {
	type inner struct {
		Marks float64 `json:"marks"`
	}
	type input struct {
		Limit  int             `json:"limit"`
		Small  int32           `json:"small"`
		Count  uint8           `json:"count"`
		Score  float64         `json:"score"`
		IDs    []int64         `json:"ids"`
		Seed   *marksmith.Seed `json:"seed"`
		Name   string          `json:"name"`
		Nested []inner         `json:"nested"`
	}
	tests := []struct {
		body   string
		code   string   // "" for no error
		fields []string // the fields a 422 names, in order
		msg    string   // a message of the first detail (422) or the error (400)
	}{
		{`{"limit": 10000000000}`, "", nil, ""},
		{`{"limit": 1e10}`, marksmith.EUNPROCESSABLE, []string{"limit"}, "must be a whole number, written without a fraction or an exponent"},
		{`{"limit": 1.5}`, marksmith.EUNPROCESSABLE, []string{"limit"}, "must be a whole number, written without a fraction or an exponent"},
		{`{"limit": 1.0}`, marksmith.EUNPROCESSABLE, []string{"limit"}, ""},
		{`{"limit": 99999999999999999999}`, marksmith.EUNPROCESSABLE, []string{"limit"}, "must be a whole number from -9223372036854775808 to 9223372036854775807"},
		{`{"small": 2147483648}`, marksmith.EUNPROCESSABLE, []string{"small"}, "must be a whole number from -2147483648 to 2147483647"},
		{`{"count": -1}`, marksmith.EUNPROCESSABLE, []string{"count"}, "must be a whole number from 0 to 255"},
		{`{"score": 1e308}`, "", nil, ""},
		{`{"score": 1e400}`, marksmith.EUNPROCESSABLE, []string{"score"}, "is too large a number"},
		{`{"ids": [1, 99999999999999999999]}`, marksmith.EUNPROCESSABLE, []string{"ids[1]"}, ""},
		{`{"nested": [{"marks": 1}, {"marks": -1e999}]}`, marksmith.EUNPROCESSABLE, []string{"nested[1].marks"}, ""},
		{`{"nested": [{"marks": 1e999}], "ids": [0, 1e100, 3, 2.5]}`, marksmith.EUNPROCESSABLE, []string{"nested[0].marks", "ids[1]", "ids[3]"}, ""},
		// Every number the fields cannot hold is named, in body order.
		{`{"limit": 1e10, "score": 1e400, "small": 1e3}`, marksmith.EUNPROCESSABLE, []string{"limit", "score", "small"}, ""},
		{"\n\t {\"limit\": 2e0}", marksmith.EUNPROCESSABLE, []string{"limit"}, ""},
		// Seeds: a number or a string of digits out of range is 422; any
		// other value is not a seed at all.
		{`{"seed": "18446744073709551615"}`, "", nil, ""},
		{`{"seed": 18446744073709551615}`, "", nil, ""},
		{`{"seed": -1}`, marksmith.EUNPROCESSABLE, []string{"seed"}, "must be a whole number from 0 to 18446744073709551615"},
		{`{"seed": 1.5}`, marksmith.EUNPROCESSABLE, []string{"seed"}, ""},
		{`{"seed": "18446744073709551616"}`, marksmith.EUNPROCESSABLE, []string{"seed"}, ""},
		{`{"seed": "abc"}`, marksmith.EINVALID, nil, `Invalid JSON body: field "seed" must be a string of decimal digits (or a whole number), not string.`},
		{`{"seed": " 1"}`, marksmith.EINVALID, nil, ""},
		{`{"seed": true}`, marksmith.EINVALID, nil, ""},
		{`{"seed": [1]}`, marksmith.EINVALID, nil, ""},
		// Malformed is 400 whatever numbers come before or after.
		{`{"limit": "10"}`, marksmith.EINVALID, nil, `Invalid JSON body: field "limit" must be a number, not string.`},
		{`{"name": 5}`, marksmith.EINVALID, nil, `Invalid JSON body: field "name" must be a string, not number.`},
		{`{"nested": [{}, {"marks": "x"}]}`, marksmith.EINVALID, nil, `Invalid JSON body: field "nested[1].marks" must be a number, not string.`},
		{`{"limit": 1e10, "bogus": 1}`, marksmith.EINVALID, nil, `Invalid JSON body: unknown field "bogus".`},
		{`{"bogus": 1, "limit": 1e10}`, marksmith.EINVALID, nil, `Invalid JSON body: unknown field "bogus".`},
		{`{"limit": 1e10, "name": 5}`, marksmith.EINVALID, nil, ""},
		{`{"limit": 1e10} {}`, marksmith.EINVALID, nil, "Invalid JSON body: more than one value."},
		{`{"limit": 1e10`, marksmith.EINVALID, nil, ""},
	}
	for _, tt := range tests {
		var in input
		err := decodeBytes([]byte(tt.body), &in)
		if got := marksmith.ErrorCode(err); tt.code == "" && err != nil || tt.code != "" && got != tt.code {
			t.Errorf("%s: %v, want code %q", tt.body, err, tt.code)
			continue
		}
		if err == nil {
			continue
		}
		me := err.(*marksmith.Error)
		if tt.code == marksmith.EINVALID {
			if tt.msg != "" && me.Message != tt.msg {
				t.Errorf("%s: message %q, want %q", tt.body, me.Message, tt.msg)
			}
			continue
		}
		details, _ := me.Details.([]marksmith.FieldError)
		var fields []string
		for _, d := range details {
			fields = append(fields, d.Field)
		}
		if !slices.Equal(fields, tt.fields) {
			t.Errorf("%s: fields %v, want %v", tt.body, fields, tt.fields)
		}
		if tt.msg != "" && (len(details) == 0 || details[0].Message != tt.msg) {
			t.Errorf("%s: details %+v, want the message %q", tt.body, details, tt.msg)
		}
	}
}
