package paper

import (
	"strings"
	"testing"
)

func TestMarkdown(t *testing.T) {
	md := newMarkdown()
	tests := []struct {
		name, in string
		want     []string // substrings of the output
		not      []string // must not appear
	}{
		{"inline math keeps backslashes and underscores", `the cost $W_\ast x_t \times 3$ here`,
			[]string{`<span class="math">$W_\ast x_t \times 3$</span>`}, []string{"<em>"}},
		{"display math", "before\n\n$$\\begin{bmatrix} 1 & 0 \\\\ 0 & 1 \\end{bmatrix}$$\n\nafter",
			[]string{`<span class="math display">$$\begin{bmatrix} 1 &amp; 0 \\ 0 &amp; 1 \end{bmatrix}$$</span>`}, nil},
		{"math in a table cell with a bar", "| a | b |\n|---|---|\n| $|x|$ | 2 |",
			[]string{"<table>", `<td><span class="math">$|x|$</span></td>`}, nil},
		{"dollars that are money", "costs $5 and $10 today", []string{"costs $5 and $10 today"}, []string{"math"}},
		{"a space after the opening dollar", "a $ b$ c", []string{"a $ b$ c"}, []string{"math"}},
		{"an escaped dollar", `price \$3, and $x$`, []string{"price $3, and", `<span class="math">$x$</span>`}, nil},
		{"code is not math", "run `echo $HOME$` now", []string{"<code>echo $HOME$</code>"}, []string{"math"}},
		{"no math across a blank line", "a $x\n\ny$ b", []string{"a $x", "y$ b"}, []string{"math"}},
		{"markdown around math", "**Sigmoid**: $g(s) = \\frac{1}{1 + e^{-s}}$",
			[]string{"<strong>Sigmoid</strong>", `$g(s) = \frac{1}{1 + e^{-s}}$`}, nil},
		{"math that looks like HTML is escaped", "$a<b>c$", []string{`<span class="math">$a&lt;b&gt;c$</span>`}, []string{"<b>"}},
		{"raw HTML is dropped", "hi <script>alert(1)</script><b onclick=x>b</b>", []string{"hi"}, []string{"<script", "alert(1)</script", "onclick"}},
		{"javascript links lose their target", "[x](javascript:alert(1))", nil, []string{"javascript:"}},
		{"remote images lose their source", "![cat](http://example.com/cat.png)", nil, []string{"example.com", "src="}},
		{"forged placeholders are removed", "a \uE0000\uE001 b $x$", []string{`a 0 b <span class="math">$x$</span>`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(md.block(tt.in))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("block(%q) = %q\nwant it to contain %q", tt.in, got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("block(%q) = %q\nwant no %q", tt.in, got, n)
				}
			}
		})
	}
}

func TestInline(t *testing.T) {
	md := newMarkdown()
	for in, want := range map[string]string{
		"Tanh":              "Tanh",
		"*zero*-centred":    "<em>zero</em>-centred",
		"$\\sigma(x)$":      `<span class="math">$\sigma(x)$</span>`,
		"two\n\nparagraphs": "<p>two</p>\n<p>paragraphs</p>",
		"":                  "",
	} {
		if got := string(md.inline(in)); got != want {
			t.Errorf("inline(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzMarkdown(f *testing.F) {
	f.Add("a $x$ b $$y$$ `c $d$` \\$ <i>e</i> | $|f|$ |")
	md := newMarkdown()
	f.Fuzz(func(t *testing.T, s string) {
		out := string(md.block(s))
		if strings.ContainsAny(out, "\uE000\uE001") {
			t.Fatalf("a placeholder survived in %q", out)
		}
		low := strings.ToLower(out)
		for _, bad := range []string{"<script", "javascript:", "onerror=", "onclick=", "<iframe", "<style"} {
			if strings.Contains(low, bad) {
				t.Fatalf("block(%q) = %q holds %s", s, out, bad)
			}
		}
	})
}
