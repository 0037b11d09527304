package bank

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestLoadRefusesControlCharacters checks that every string of a template,
// wherever it is and however it is escaped, is refused with its line and
// path when it holds a NUL or another control character; and that tab,
// line feed, carriage return and other characters are text.
func TestLoadRefusesControlCharacters(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           []string // "line field", in order
	}{
		{"NUL in the title, YAML escape", "title: Cost", `title: "A\0B"`, []string{"2 title"}},
		{"NUL in the title, JSON escape", "title: Cost", `title: "A\u0000B"`, []string{"2 title"}},
		{"U+0001 in the title", "title: Cost", `title: "A\x01B"`, []string{"2 title"}},
		{"U+007F in the title", "title: Cost", `title: "A\x7fB"`, []string{"2 title"}},
		{"U+0085 in the title", "title: Cost", `title: "A\NB"`, []string{"2 title"}},
		{"NUL in a tag", "marks: 5", "marks: 5\ntags: [ok, \"b\\0d\"]", []string{"4 tags[1]"}},
		{"NUL in the id", "id: test/cost", `id: "test/a\0b"`, []string{"1 id"}},
		{"NUL in a prompt", `prompt: "Cost for`, `prompt: "\0Cost for`, []string{"16 parts.a.prompt"}},
		{"NUL in an option's text", `text: "Yes"`, `text: "Y\0es"`, []string{"23 parts.b.answer.options[0].text"}},
		{"NUL in a choice of a parameter", "choice: [14, 28]", `choice: [14, 28, "x\0"]`, []string{"5 params.hw.choice[2]"}},
		{"NUL in a constraint's reason", "reason: big enough", `reason: "big\0"`, []string{"12 constraints[0].reason"}},
		{"NUL in an unknown key", "title: Cost", "title: Cost\n\"co\\0lour\": red", []string{`3 "co\x00lour"`}},
		{"NUL in a part without a valid id", "- id: b", `- id: "b\0"`, []string{"18 parts[1].id"}},
		{"every one named", "title: Cost", "title: \"\\0\"\norigin: \"\\x02\"", []string{"2 title", "3 origin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(goodTemplate, tt.old) {
				t.Fatalf("the template has no %q", tt.old)
			}
			ps := problemsOf(t, strings.Replace(goodTemplate, tt.old, tt.new, 1))
			var got []string
			for _, p := range ps {
				if strings.Contains(p.Message, "control character") || strings.Contains(p.Message, "NUL") {
					got = append(got, fmt.Sprintf("%d %s", p.Line, p.Field))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems about characters %q, want %q; all: %v", got, tt.want, ps)
			}
		})
	}
	// Aliases share their anchor's node: one problem, however often used.
	src := strings.Replace(goodTemplate, "title: Cost", "title: &t \"A\\0\"\norigin: *t", 1)
	if ps := problemsOf(t, src); len(ps) != 1 || ps[0].Field != "title" {
		t.Errorf("an aliased NUL: %v", ps)
	}
	for _, ok := range []string{"title: \"A\\tB\"", "title: \"A\\r\\nB\"", "title: \"Ünïcödé — ∑ 😀\"", "title: \"A\\u00a0B\""} {
		if ps := problemsOf(t, strings.Replace(goodTemplate, "title: Cost", ok, 1)); len(ps) > 0 {
			t.Errorf("%s: %v", ok, ps)
		}
	}
}

// TestLoadIDLength checks the id's length limit, in characters.
func TestLoadIDLength(t *testing.T) {
	id := "test/" + strings.Repeat("i", MaxIDLength-5)
	if ps := problemsOf(t, strings.Replace(goodTemplate, "id: test/cost", "id: "+id, 1)); len(ps) > 0 {
		t.Errorf("an id of %d characters: %v", MaxIDLength, ps)
	}
	ps := problemsOf(t, strings.Replace(goodTemplate, "id: test/cost", "id: "+id+"i", 1))
	if len(ps) != 1 || ps[0].Field != "id" || ps[0].Line != 1 || ps[0].Message != "is 201 characters long; an id is at most 200" {
		t.Errorf("an id of %d characters: %v", MaxIDLength+1, ps)
	}
}

// TestLoadPartIDLength checks the part id's length limit.
func TestLoadPartIDLength(t *testing.T) {
	id := strings.Repeat("b", MaxPartIDLength)
	if ps := problemsOf(t, strings.Replace(goodTemplate, "- id: b", "- id: "+id, 1)); len(ps) > 0 {
		t.Errorf("a part id of %d characters: %v", MaxPartIDLength, ps)
	}
	ps := problemsOf(t, strings.Replace(goodTemplate, "- id: b", "- id: "+id+"b", 1))
	if len(ps) != 1 || ps[0].Field != "parts[1].id" || ps[0].Message != "is 65 characters long; a part id is at most 64" {
		t.Errorf("a part id of %d characters: %v", MaxPartIDLength+1, ps)
	}
}
