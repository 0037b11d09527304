package paper

import (
	"bytes"
	"html"
	"html/template"
	"regexp"
	"strconv"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Texts (titles, stems, prompts, options) are Markdown with LaTeX math
// between $…$ or $$…$$, written by instructors. markdown renders them to
// HTML: the math is taken out before Markdown sees it (so that its
// backslashes, underscores and bars survive, even inside a table), the
// Markdown is rendered without raw HTML and sanitised, and the math is put
// back, escaped, in <span class="math"> with its delimiters, for KaTeX to
// typeset in the browser (and to read as written where it cannot).

// Placeholders for math spans: private-use characters that no text keeps
// (they are removed from the input first).
const (
	phOpen  = '\uE000'
	phClose = '\uE001'
)

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
	text, maths := extractMath(src)
	var b bytes.Buffer
	if err := m.md.Convert([]byte(text), &b); err != nil {
		// goldmark fails only on a failing writer; fall back to the text.
		return template.HTML("<p>" + html.EscapeString(src) + "</p>")
	}
	return template.HTML(restoreMath(m.policy.SanitizeBytes(b.Bytes()), maths))
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

// mathSpan is one math span taken out of a text: its TeX with delimiters.
type mathSpan struct {
	tex     string
	display bool
}

// extractMath replaces each math span of src by a placeholder and returns
// the spans. $$…$$ is display math. $…$ is inline math when the opening $
// is followed by a non-space, the closing $ follows a non-space and is not
// followed by a digit, and no blank line comes between (so "$5 and $10"
// stays text); \$ is a dollar sign. Nothing inside `code` is math.
func extractMath(src string) (string, []mathSpan) {
	src = strings.Map(func(r rune) rune {
		if r == phOpen || r == phClose {
			return -1
		}
		return r
	}, src)
	if !strings.ContainsRune(src, '$') {
		return src, nil
	}
	var b strings.Builder
	var maths []mathSpan
	put := func(tex string, display bool) {
		b.WriteRune(phOpen)
		b.WriteString(strconv.Itoa(len(maths)))
		b.WriteRune(phClose)
		maths = append(maths, mathSpan{tex: tex, display: display})
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src):
			b.WriteString(src[i : i+2])
			i += 2
			continue
		case c == '`':
			n := run(src, i, '`')
			end := strings.Index(src[i+n:], strings.Repeat("`", n))
			if end < 0 {
				b.WriteString(src[i : i+n])
				i += n
				continue
			}
			b.WriteString(src[i : i+n+end+n])
			i += n + end + n
			continue
		case c == '$' && strings.HasPrefix(src[i:], "$$"):
			end := strings.Index(src[i+2:], "$$")
			if end >= 0 && strings.TrimSpace(src[i+2:i+2+end]) != "" {
				put(src[i:i+2+end+2], true)
				i += 2 + end + 2
				continue
			}
		case c == '$':
			if end := closingDollar(src, i); end > 0 {
				put(src[i:end+1], false)
				i = end + 1
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), maths
}

// run returns how many times c repeats from src[i].
func run(src string, i int, c byte) int {
	n := 0
	for i+n < len(src) && src[i+n] == c {
		n++
	}
	return n
}

// closingDollar returns the index of the $ closing the inline math that
// opens at src[open], or -1.
func closingDollar(src string, open int) int {
	if open+1 >= len(src) || isSpace(src[open+1]) {
		return -1
	}
	for j := open + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '\n':
			if rest := strings.TrimLeft(src[j+1:], " \t\r"); strings.HasPrefix(rest, "\n") {
				return -1 // a blank line: the paragraph ended
			}
		case '$':
			if isSpace(src[j-1]) {
				continue
			}
			if j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9' {
				continue
			}
			return j
		}
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// restoreMath puts the math spans back into rendered HTML, escaped.
func restoreMath(h []byte, maths []mathSpan) string {
	if len(maths) == 0 {
		return string(h)
	}
	s := string(h)
	var b strings.Builder
	for {
		i := strings.IndexRune(s, phOpen)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexRune(s[i:], phClose)
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		n, err := strconv.Atoi(s[i+len(string(phOpen)) : i+j])
		if err != nil || n < 0 || n >= len(maths) {
			s = s[i+j+len(string(phClose)):]
			continue
		}
		m := maths[n]
		if m.display {
			b.WriteString(`<span class="math display">`)
		} else {
			b.WriteString(`<span class="math">`)
		}
		b.WriteString(html.EscapeString(m.tex))
		b.WriteString(`</span>`)
		s = s[i+j+len(string(phClose)):]
	}
}
