package moodle

import (
	"bytes"
	"html"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// markdown renders Marksmith's Markdown (GitHub tables, lists, emphasis);
// raw HTML in a template is not passed through.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table))

// toHTML converts a Marksmith text, Markdown with LaTeX between $…$ or
// $$…$$, into the HTML of a Moodle question: math becomes \( … \) and
// \[ … \] for Moodle's MathJax filter, tables become HTML tables. Math is
// set aside before the Markdown is rendered, so that neither its
// underscores and stars nor a | inside it are read as Markdown.
func toHTML(src string) string {
	text, maths := protectMath(src)
	var b bytes.Buffer
	if err := markdown.Convert([]byte(text), &b); err != nil {
		// goldmark writes to a bytes.Buffer, which does not fail; keep the
		// text readable if it ever did.
		return "<p>" + html.EscapeString(src) + "</p>"
	}
	// Moodle's themes draw no lines around a bare table.
	out := strings.ReplaceAll(strings.TrimSpace(b.String()), "<table>", `<table border="1" cellpadding="4">`)
	for i := len(maths) - 1; i >= 0; i-- {
		out = strings.ReplaceAll(out, mathToken(i), maths[i])
	}
	return out
}

// mathToken is the stand-in for the i-th math span: letters only, so that
// Markdown leaves it alone.
func mathToken(i int) string {
	return "MSMATH" + strings.Map(func(r rune) rune { return 'a' + (r - '0') }, strconv.Itoa(i)) + "Q"
}

// protectMath replaces every $…$ and $$…$$ span of s with a token and
// returns the text and the spans as HTML, delimited for MathJax.
func protectMath(s string) (string, []string) {
	var b strings.Builder
	var maths []string
	for i := 0; i < len(s); {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteString("\\$") // an escaped dollar stays a dollar
			i += 2
			continue
		}
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		display := strings.HasPrefix(s[i:], "$$")
		open, closeTok := "$", "$"
		if display {
			open, closeTok = "$$", "$$"
		}
		end := strings.Index(s[i+len(open):], closeTok)
		if end < 0 {
			b.WriteByte(s[i]) // an unmatched $ is a dollar
			i++
			continue
		}
		tex := s[i+len(open) : i+len(open)+end]
		if display {
			maths = append(maths, `\[`+html.EscapeString(tex)+`\]`)
		} else {
			maths = append(maths, `\(`+html.EscapeString(tex)+`\)`)
		}
		b.WriteString(mathToken(len(maths) - 1))
		i += len(open) + end + len(closeTok)
	}
	return b.String(), maths
}

// inlineHTML is toHTML for a short text that must not become a paragraph
// (an option, a label): the <p> goldmark wraps it in is removed.
func inlineHTML(src string) string {
	h := toHTML(src)
	if strings.HasPrefix(h, "<p>") && strings.HasSuffix(h, "</p>") && strings.Count(h, "<p>") == 1 {
		h = h[len("<p>") : len(h)-len("</p>")]
	}
	return h
}
