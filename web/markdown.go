package web

import (
	"bytes"
	"html"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
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

// mathToken marks where a formula was taken out; it cannot occur in the
// text, which is checked.
const mathToken = "MSMATHSPAN"

func (m *markdown) convert(src string, inline bool) template.HTML {
	text, spans := src, []mathSpan(nil)
	if !strings.Contains(src, mathToken) {
		text, spans = extractMath(src)
	}
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
	if len(spans) > 0 {
		s = restoreMath(s, spans)
	}
	return template.HTML(s)
}

// mathSpan is one formula taken out of a text.
type mathSpan struct {
	tex     string
	display bool
}

// extractMath replaces each formula of src with a token and returns the
// formulas. A formula is $$…$$, or $…$ whose first character after the
// opening $ and last before the closing $ are not spaces and whose closing
// $ is not followed by a digit (so "$5 and $10" is money, not math). \$
// is a dollar sign; code spans are left alone.
func extractMath(src string) (string, []mathSpan) {
	if !strings.Contains(src, "$") {
		return src, nil
	}
	var b strings.Builder
	var spans []mathSpan
	add := func(tex string, display bool) {
		b.WriteString(mathToken)
		b.WriteString(strconv.Itoa(len(spans)))
		b.WriteString("X")
		spans = append(spans, mathSpan{tex: tex, display: display})
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src):
			b.WriteString(src[i : i+2])
			i += 2
			continue
		case c == '`':
			n := 0
			for i+n < len(src) && src[i+n] == '`' {
				n++
			}
			fence := src[i : i+n]
			if end := closingFence(src[i+n:], fence); end >= 0 {
				b.WriteString(src[i : i+n+end+n])
				i += n + end + n
			} else {
				b.WriteString(fence)
				i += n
			}
			continue
		case c == '$' && strings.HasPrefix(src[i:], "$$"):
			if end := strings.Index(src[i+2:], "$$"); end > 0 {
				add(strings.TrimSpace(src[i+2:i+2+end]), true)
				i += 2 + end + 2
				continue
			}
		case c == '$':
			if end := inlineMathEnd(src, i); end > 0 {
				add(src[i+1:end], false)
				i = end + 1
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), spans
}

// closingFence finds the next run of exactly len(fence) backticks in s.
func closingFence(s, fence string) int {
	for j := 0; j < len(s); {
		k := strings.Index(s[j:], fence)
		if k < 0 {
			return -1
		}
		k += j
		end := k + len(fence)
		if (k == 0 || s[k-1] != '`') && (end >= len(s) || s[end] != '`') {
			return k
		}
		for end < len(s) && s[end] == '`' {
			end++
		}
		j = end
	}
	return -1
}

// inlineMathEnd returns the index of the $ closing the inline formula
// opened at src[open], or -1.
func inlineMathEnd(src string, open int) int {
	if open+1 >= len(src) || isSpace(src[open+1]) || src[open+1] == '$' {
		return -1
	}
	for j := open + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '\n':
			if j+1 < len(src) && src[j+1] == '\n' {
				return -1 // a formula does not cross a paragraph
			}
		case '$':
			if isSpace(src[j-1]) || j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9' {
				continue
			}
			return j
		}
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// restoreMath puts the formulas back where their tokens are.
func restoreMath(s string, spans []mathSpan) string {
	var b strings.Builder
	for {
		i := strings.Index(s, mathToken)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i+len(mathToken):]
		j := strings.IndexByte(s, 'X')
		n, err := strconv.Atoi(s[:max(j, 0)])
		if j < 0 || err != nil || n >= len(spans) {
			b.WriteString(mathToken)
			continue
		}
		s = s[j+1:]
		sp := spans[n]
		if sp.display {
			b.WriteString(`<span class="math math-display">`)
		} else {
			b.WriteString(`<span class="math">`)
		}
		b.WriteString(html.EscapeString(sp.tex))
		b.WriteString(`</span>`)
	}
}
