package mathtext

import (
	"reflect"
	"strings"
	"testing"
)

// show renders formulas as [tex] and {tex} so that a test reads what was
// found where.
func show(src string) (string, []Span) {
	text, spans := Extract(src)
	return Restore(text, spans, func(b *strings.Builder, sp Span) {
		if sp.Display {
			b.WriteString("{" + sp.TeX + "}")
		} else {
			b.WriteString("[" + sp.TeX + "]")
		}
	}), spans
}

func TestExtract(t *testing.T) {
	tests := []struct {
		in, want string
		spans    int
	}{
		{"no math", "no math", 0},
		{"a $3 \\times 3$ filter", "a [3 \\times 3] filter", 1},
		{"$$x_1 * y_2$$ and $a|b$", "{x_1 * y_2} and [a|b]", 2},
		{"$$ E = mc^2 $$", "{ E = mc^2 }", 1},
		{"costs $5 and $10", "costs $5 and $10", 0}, // money
		{"$5$ apples", "[5] apples", 1},
		{"a \\$ sign and $x$", "a \\$ sign and [x]", 1},
		{"`$x$` in code, $y$ not", "`$x$` in code, [y] not", 1},
		{"``a ` $b$`` and $c$", "``a ` $b$`` and [c]", 1},
		{"$ x$ is not math", "$ x$ is not math", 0},
		{"$x\n\ny$", "$x\n\ny$", 0},             // a blank line ends the paragraph
		{"$x\n  \ny$", "$x\n  \ny$", 0},         // a line of spaces is blank too
		{"$x\ny$", "[x\ny]", 1},                 // one newline is not
		{"$$ $$ then $z$", "$$ $$ then [z]", 1}, // an empty display is not one
		{"forged \uE0000\uE001 placeholder", "forged 0 placeholder", 0},
	}
	for _, tc := range tests {
		got, spans := show(tc.in)
		if got != tc.want || len(spans) != tc.spans {
			t.Errorf("%q: got %q with %d formulas, want %q with %d", tc.in, got, len(spans), tc.want, tc.spans)
		}
	}
}

func TestExtractSpans(t *testing.T) {
	text, spans := Extract("Let $V$ be $$\\sum_i v_i$$.")
	want := []Span{{TeX: "V"}, {TeX: "\\sum_i v_i", Display: true}}
	if !reflect.DeepEqual(spans, want) {
		t.Fatalf("spans %+v, want %+v", spans, want)
	}
	if strings.Contains(text, "$") || strings.Contains(text, "sum") {
		t.Fatalf("text %q still holds a formula", text)
	}
}

func TestRestoreDropsUnknownPlaceholders(t *testing.T) {
	got := Restore("a \uE0009\uE001 b \uE000x\uE001 c", []Span{{TeX: "t"}}, func(b *strings.Builder, sp Span) { b.WriteString(sp.TeX) })
	if got != "a  b  c" {
		t.Fatalf("got %q", got)
	}
}
