package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMarkdown renders prompts: math left whole for KaTeX (inline, shown,
// in table cells, with underscores and backslashes), Markdown around it,
// and nothing of an instructor's HTML that could run.
func TestMarkdown(t *testing.T) {
	m := newMarkdown()
	cases := []struct {
		name, src, want string
		inline          bool
	}{
		{"inline math", `Where $g(-s) = -g(s)$?`, `<p>Where <span class="math">g(-s) = -g(s)</span>?</p>`, false},
		{"display math", "Swish:\n\n$$\\text{swish}_\\beta(x) = \\frac{x}{1 + e^{-\\beta x}}$$\n\nwhere",
			"<p>Swish:</p>\n<p><span class=\"math math-display\">\\text{swish}_\\beta(x) = \\frac{x}{1 + e^{-\\beta x}}</span></p>\n<p>where</p>", false},
		{"underscores in math are not emphasis", `$a_1 + b_2$ and $c_3$`, `<p><span class="math">a_1 + b_2</span> and <span class="math">c_3</span></p>`, false},
		{"math in a table", "| $V = 5$ | tokens |\n|---|---|\n| $L$ | layers |",
			"<table>\n<thead>\n<tr>\n<th><span class=\"math\">V = 5</span></th>\n<th>tokens</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td><span class=\"math\">L</span></td>\n<td>layers</td>\n</tr>\n</tbody>\n</table>", false},
		{"an empty header row is dropped", "| | |\n|---|---|\n| a | b |", "<table>\n<tbody>\n<tr>\n<td>a</td>\n<td>b</td>\n</tr>\n</tbody>\n</table>", false},
		{"money is not math", `It costs $5 and $10.`, `<p>It costs $5 and $10.</p>`, false},
		{"an escaped dollar", `A \$ sign and $x$`, `<p>A $ sign and <span class="math">x</span></p>`, false},
		{"math in code stays code", "`$x$` and $y$", `<p><code>$x$</code> and <span class="math">y</span></p>`, false},
		{"TeX is escaped", `$a < b \& c > d$`, `<p><span class="math">a &lt; b \&amp; c &gt; d</span></p>`, false},
		{"raw HTML is dropped", `Hi <script>alert(1)</script><img src=x onerror=alert(1)> **there**`, `<p>Hi alert(1) <strong>there</strong></p>`, false},
		{"javascript links are dropped", `[click](javascript:alert(1))`, `<p>click</p>`, false},
		{"inline option", `$\tanh$ (zero-centred)`, `<span class="math">\tanh</span> (zero-centred)`, true},
		{"a forged placeholder is dropped", "\uE0000\uE001 $x$", `<p>0 <span class="math">x</span></p>`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			if tc.inline {
				got = string(m.inline(tc.src))
			} else {
				got = string(m.block(tc.src))
			}
			if got != tc.want {
				t.Errorf("render %q:\n got %q\nwant %q", tc.src, got, tc.want)
			}
		})
	}
}

// TestStatic serves the assets under their version with a year's cache,
// compressed for clients that accept gzip, and under another version
// without caching.
func TestStatic(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.anon()
	url := h.web.static.url("vendor/katex/katex.min.js")
	res := b.do(http.MethodGet, url, nil, map[string]string{"Accept-Encoding": "gzip"})
	if res.Code != 200 || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || res.Header.Get("Content-Encoding") != "gzip" ||
		res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("GET %s: %d %v", url, res.Code, res.Header)
	}
	zr, err := gzip.NewReader(strings.NewReader(res.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if want, _ := staticFS.ReadFile("static/vendor/katex/katex.min.js"); string(plain) != string(want) {
		t.Errorf("gzipped body differs from the file")
	}
	res = b.get(strings.Replace(url, h.web.static.version, "0123456789ab", 1))
	if res.Code != 200 || res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("another version: %d %v", res.Code, res.Header)
	}
	// KaTeX's fonts resolve under the same version.
	if res := b.get("/static/" + h.web.static.version + "/vendor/katex/fonts/KaTeX_Main-Regular.woff2"); res.Code != 200 || res.Header.Get("Content-Type") != "font/woff2" {
		t.Errorf("font: %d %v", res.Code, res.Header)
	}
	for _, p := range []string{"/static/" + h.web.static.version + "/vendor/axe-core/axe.min.js", "/static/" + h.web.static.version + "/../web.go"} {
		if res := b.get(p); res.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, res.Code)
		}
	}
}
