package moodle

import (
	"bytes"
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/marksmith/marksmith/internal/mathtext"
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
	text, maths := mathtext.Extract(src)
	var b bytes.Buffer
	if err := markdown.Convert([]byte(text), &b); err != nil {
		// goldmark writes to a bytes.Buffer, which does not fail; keep the
		// text readable if it ever did.
		return "<p>" + html.EscapeString(src) + "</p>"
	}
	// Moodle's themes draw no lines around a bare table.
	out := strings.ReplaceAll(strings.TrimSpace(b.String()), "<table>", `<table border="1" cellpadding="4">`)
	return mathtext.Restore(out, maths, writeMath)
}

// writeMath writes a formula delimited for Moodle's MathJax filter.
func writeMath(b *strings.Builder, sp mathtext.Span) {
	if sp.Display {
		b.WriteString(`\[` + html.EscapeString(sp.TeX) + `\]`)
	} else {
		b.WriteString(`\(` + html.EscapeString(sp.TeX) + `\)`)
	}
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
