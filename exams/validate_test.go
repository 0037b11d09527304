package exams

import (
	"strings"
	"testing"

	"github.com/marksmith/marksmith"
)

// TestValidSave checks that a save naming a question or a part no exam
// holds is refused by the service itself (every front end calls it), with
// the field named and the value not echoed.
func TestValidSave(t *testing.T) {
	good := marksmith.SaveInput{AttemptID: 1, Question: 1, Part: "b", Answer: "x", Seq: 1}
	tests := []struct {
		name  string
		edit  func(*marksmith.SaveInput)
		field string // "" when valid
	}{
		{"valid", func(*marksmith.SaveInput) {}, ""},
		{"the last question", func(in *marksmith.SaveInput) { in.Question = marksmith.MaxQuestions }, ""},
		{"question 0", func(in *marksmith.SaveInput) { in.Question = 0 }, "question"},
		{"question past the last", func(in *marksmith.SaveInput) { in.Question = marksmith.MaxQuestions + 1 }, "question"},
		{"question past int32", func(in *marksmith.SaveInput) { in.Question = 99999999999 }, "question"},
		{"part of 64 characters", func(in *marksmith.SaveInput) { in.Part = strings.Repeat("é", marksmith.MaxPartID) }, ""},
		{"part of 65 characters", func(in *marksmith.SaveInput) { in.Part = strings.Repeat("b", marksmith.MaxPartID+1) }, "part"},
		{"no part", func(in *marksmith.SaveInput) { in.Part = "" }, "part"},
		{"NUL part", func(in *marksmith.SaveInput) { in.Part = "\x00" }, "part"},
		{"part not UTF-8", func(in *marksmith.SaveInput) { in.Part = "\xff" }, "part"},
		{"NUL answer", func(in *marksmith.SaveInput) { in.Answer = "a\x00" }, "answer"},
	}
	for _, tt := range tests {
		in := good
		tt.edit(&in)
		err := validSave(&in)
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		me, ok := err.(*marksmith.Error)
		if !ok || me.Code != marksmith.EUNPROCESSABLE {
			t.Errorf("%s: %v, want 422", tt.name, err)
			continue
		}
		ps, _ := me.Details.([]marksmith.FieldError)
		if len(ps) != 1 || ps[0].Field != tt.field || strings.ContainsAny(me.Message, "\x00\xff") {
			t.Errorf("%s: %+v, want one problem naming %s", tt.name, me, tt.field)
		}
	}
}
