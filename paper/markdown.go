package paper

import (
	"bytes"
	"html"
	"html/template"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/marksmith/marksmith/internal/mathtext"
)

// Texts (titles, stems, prompts, options) are Markdown with LaTeX math
// between $…$ or $$…$$, written by instructors. markdown renders them to
// HTML: the math is taken out before Markdown sees it (so that its
// backslashes, underscores and bars survive, even inside a table), the
// Markdown is rendered without raw HTML and sanitised, and the math is put
// back, escaped, in <span class="math"> with its delimiters, for KaTeX to
// typeset in the browser (and to read as written where it cannot).

// markdown is the renderer of texts: one Markdown engine and one
// sanitising policy, both safe for concurrent use.
type markdown struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

func newMarkdown() *markdown {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "em", "strong", "del", "code", "pre", "blockquote", "hr",
		"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
		"table", "thead", "tbody", "tr", "th", "td", "sub", "sup")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]+$`)).OnElements("ol")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|right|center)$`)).OnElements("th", "td")
	p.AllowStyles("text-align").MatchingEnum("left", "right", "center").OnElements("th", "td")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	// Images only as data: URLs: a printed paper fetches nothing.
	p.AllowAttrs("src").Matching(regexp.MustCompile(`^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$`)).OnElements("img")
	p.AllowAttrs("alt").OnElements("img")
	p.AllowDataURIImages()
	return &markdown{
		md:     goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough)),
		policy: p,
	}
}

// block renders a text as blocks (paragraphs, lists, tables).
func (m *markdown) block(src string) template.HTML {
	if strings.TrimSpace(src) == "" {
		return ""
	}
	text, maths := mathtext.Extract(src)
	var b bytes.Buffer
	if err := m.md.Convert([]byte(text), &b); err != nil {
		// goldmark fails only on a failing writer; fall back to the text.
		return template.HTML("<p>" + html.EscapeString(src) + "</p>")
	}
	return template.HTML(mathtext.Restore(string(m.policy.SanitizeBytes(b.Bytes())), maths, writeMath))
}

// inline renders a short text (an option, a label) without the paragraph
// around it.
func (m *markdown) inline(src string) template.HTML {
	out := strings.TrimSpace(string(m.block(src)))
	if strings.HasPrefix(out, "<p>") && strings.HasSuffix(out, "</p>") && strings.Count(out, "<p>") == 1 {
		out = out[3 : len(out)-4]
	}
	return template.HTML(out)
}

// writeMath writes a formula, escaped and with its delimiters, for KaTeX
// to typeset.
func writeMath(b *strings.Builder, sp mathtext.Span) {
	if sp.Display {
		b.WriteString(`<span class="math display">$$`)
		b.WriteString(html.EscapeString(sp.TeX))
		b.WriteString(`$$</span>`)
		return
	}
	b.WriteString(`<span class="math">$`)
	b.WriteString(html.EscapeString(sp.TeX))
	b.WriteString(`$</span>`)
}
