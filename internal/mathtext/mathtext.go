// Package mathtext finds the formulas in the texts of templates (Markdown
// with LaTeX between $…$ or $$…$$) so that every place that renders a
// text — the web pages, the printed papers, the Moodle export — reads the
// same formulas from the same text. A renderer takes the formulas out
// before its Markdown engine sees the text (so that their backslashes,
// underscores and table bars survive), renders the rest, and puts each
// formula back in its own form.
package mathtext

import (
	"strconv"
	"strings"
)

// Span is one formula: its TeX as written between the delimiters.
type Span struct {
	TeX     string
	Display bool // $$…$$
}

// Placeholders for formulas: private-use characters, which Extract first
// removes from the text so that no text can forge one.
const (
	open  = '\uE000'
	close = '\uE001'
)

// Extract replaces each formula of src with a placeholder and returns the
// text and the formulas. $$…$$ (not blank inside) is a displayed formula.
// $…$ is an inline formula when the opening $ is followed by a non-space,
// the closing $ follows a non-space and is not followed by a digit, and no
// blank line comes between (so "$5 and $10" stays text). \$ is a dollar
// sign, and nothing inside a `code` span is a formula.
func Extract(src string) (string, []Span) {
	if strings.ContainsRune(src, open) || strings.ContainsRune(src, close) {
		src = strings.Map(func(r rune) rune {
			if r == open || r == close {
				return -1
			}
			return r
		}, src)
	}
	if !strings.Contains(src, "$") {
		return src, nil
	}
	var b strings.Builder
	var spans []Span
	put := func(tex string, display bool) {
		b.WriteRune(open)
		b.WriteString(strconv.Itoa(len(spans)))
		b.WriteRune(close)
		spans = append(spans, Span{TeX: tex, Display: display})
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
			if end := strings.Index(src[i+2:], "$$"); end >= 0 && strings.TrimSpace(src[i+2:i+2+end]) != "" {
				put(src[i+2:i+2+end], true)
				i += 2 + end + 2
				continue
			}
		case c == '$':
			if end := closingDollar(src, i); end > 0 {
				put(src[i+1:end], false)
				i = end + 1
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), spans
}

// Restore replaces each placeholder of s (text Extract returned, after
// rendering) with what write makes of its formula. A placeholder whose
// number is not one of spans is dropped.
func Restore(s string, spans []Span, write func(b *strings.Builder, sp Span)) string {
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexRune(s, open)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexRune(s[i:], close)
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		n, err := strconv.Atoi(s[i+len(string(open)) : i+j])
		if err == nil && n >= 0 && n < len(spans) {
			write(&b, spans[n])
		}
		s = s[i+j+len(string(close)):]
	}
}

// run returns how many times c repeats from src[i].
func run(src string, i int, c byte) int {
	n := 0
	for i+n < len(src) && src[i+n] == c {
		n++
	}
	return n
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
		j = k + run(s, k, '`')
	}
	return -1
}

// closingDollar returns the index of the $ closing the inline formula
// that opens at src[open], or -1.
func closingDollar(src string, at int) int {
	if at+1 >= len(src) || isSpace(src[at+1]) || src[at+1] == '$' {
		return -1
	}
	for j := at + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case '\n':
			if rest := strings.TrimLeft(src[j+1:], " \t\r"); strings.HasPrefix(rest, "\n") {
				return -1 // a blank line: the paragraph ended
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
