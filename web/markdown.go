package web

import (
	"bytes"
	"html"
	"html/template"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/marksmith/marksmith/internal/mathtext"
)

// markdown renders the Markdown of stems, prompts and options to safe
// HTML. Templates are written by instructors, so their text is untrusted:
// goldmark drops raw HTML and dangerous links, and bluemonday then keeps
// only the elements of ordinary prose and tables.
//
// Math ($…$ inline, $$…$$ displayed) is taken out before the Markdown is
// read, so that neither underscores nor backslashes nor table bars inside
// a formula are read as Markdown, and put back afterwards as
// <span class="math">TeX</span>, which the page's script typesets with
// KaTeX (and which reads as TeX without it).
type markdown struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy

	mu    sync.Mutex
	cache map[string]template.HTML // rendered texts: pages show the same ones again and again
}

// emptyHead matches a table header row of empty cells.
var emptyHead = regexp.MustCompile(`<thead>\s*<tr>\s*(?:<th(?: align="\w+")?>\s*</th>\s*)+</tr>\s*</thead>\s*`)

// markdownCacheSize bounds the cache; when it is full it starts again.
const markdownCacheSize = 4096

func newMarkdown() *markdown {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|right|center)$`)).OnElements("th", "td")
	return &markdown{
		md: goldmark.New(goldmark.WithExtensions(
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.Strikethrough,
		)),
		policy: p,
		cache:  map[string]template.HTML{},
	}
}

// block renders Markdown as block HTML (paragraphs, lists, tables).
func (m *markdown) block(src string) template.HTML { return m.render(src, false) }

// inline renders a short text (an option) without its paragraph.
func (m *markdown) inline(src string) template.HTML { return m.render(src, true) }

func (m *markdown) render(src string, inline bool) template.HTML {
	key := src
	if inline {
		key = "\x00" + src
	}
	m.mu.Lock()
	h, ok := m.cache[key]
	m.mu.Unlock()
	if ok {
		return h
	}
	h = m.convert(src, inline)
	m.mu.Lock()
	if len(m.cache) >= markdownCacheSize {
		clear(m.cache)
	}
	m.cache[key] = h
	m.mu.Unlock()
	return h
}

func (m *markdown) convert(src string, inline bool) template.HTML {
	text, spans := mathtext.Extract(src)
	var buf bytes.Buffer
	if err := m.md.Convert([]byte(text), &buf); err != nil {
		return template.HTML("<p>" + html.EscapeString(src) + "</p>")
	}
	out := m.policy.SanitizeBytes(buf.Bytes())
	s := strings.TrimSpace(string(out))
	// A table whose header row is empty (a Markdown table needs one) has
	// no header: empty header cells are noise to a screen reader.
	s = emptyHead.ReplaceAllString(s, "")
	if inline && strings.HasPrefix(s, "<p>") && strings.HasSuffix(s, "</p>") && strings.Count(s, "<p>") == 1 {
		s = s[3 : len(s)-4]
	}
	return template.HTML(mathtext.Restore(s, spans, writeMath))
}

// writeMath writes a formula for the page's script to typeset.
func writeMath(b *strings.Builder, sp mathtext.Span) {
	if sp.Display {
		b.WriteString(`<span class="math math-display">`)
		b.WriteString(html.EscapeString(strings.TrimSpace(sp.TeX)))
	} else {
		b.WriteString(`<span class="math">`)
		b.WriteString(html.EscapeString(sp.TeX))
	}
	b.WriteString(`</span>`)
}
