package paper

import (
	"bytes"
	"flag"
	stdhtml "html"
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/papercode"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var dasc = Exam{ID: 12, Title: "DASC7606 Deep Learning", Subtitle: "Final examination, 2 hours"}

func render(t *testing.T, doc Document, opt Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, doc, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// sections splits a rendered document into its students' sections.
func sections(html, class string) []string {
	parts := strings.Split(html, `<section class="`+class+`"`)
	return parts[1:]
}

func TestRenderPapers(t *testing.T) {
	students := class(t, 3, false)
	html := render(t, Document{Exam: dasc, Students: students}, Options{KaTeX: "/katex/"})
	secs := sections(html, "paper")
	if len(secs) != 3 {
		t.Fatalf("%d paper sections, want 3", len(secs))
	}
	for i, s := range students {
		sec := secs[i]
		code, _ := papercode.New(12, s.UserID)
		for _, want := range []string{s.Name, s.Number, code.String(), `class="qr"`, "Instructions", "worth 100 marks in all"} {
			if !strings.Contains(sec, want) {
				t.Errorf("student %d: no %q", i, want)
			}
		}
		if !strings.Contains(html, "@page s"+strconv.Itoa(i)+" { @top-right { content: ") {
			t.Errorf("student %d: no page rule", i)
		}
		// Every part, in the student's order, with its answer space.
		var cols []string
		for _, m := range regexp.MustCompile(`<div class="part type-(\w+)" data-column="([0-9]+\.[a-z_]+)"`).FindAllStringSubmatch(sec, -1) {
			cols = append(cols, m[2]+":"+m[1])
		}
		var want []string
		for _, q := range s.Questions {
			for _, p := range q.Parts {
				want = append(want, strconv.Itoa(q.Position)+"."+p.ID+":"+p.Type)
			}
		}
		if strings.Join(cols, " ") != strings.Join(want, " ") {
			t.Errorf("student %d: parts\n%v\nwant\n%v", i, cols, want)
		}
		nums := regexp.MustCompile(`<span class="qnum">Question (\d+)</span>`).FindAllStringSubmatch(sec, -1)
		for j, m := range nums {
			if m[1] != strconv.Itoa(j+1) {
				t.Errorf("student %d: question %d is numbered %s", i, j+1, m[1])
			}
		}
	}
	// Answer spaces by type, in the canonical paper (student 0).
	sec := secs[0]
	for _, tt := range []struct {
		what  string
		count int
	}{
		{`<div class="numbox"><span class="box"></span>`, 5}, // q4 a b, q6 d e f; q8 a–d are numbers too
		{`<span class="bubble">`, 5},                         // q2 c (5 options)? counted below
		{`<ol class="slots">`, 2},                            // q3 a, q5 a
		{`<table class="grid">`, 3},                          // q3 c (8 unlabelled columns), q6 b, q6 c
		{`<svg class="chart"`, 2},                            // q5 b: d12 and d34
		{`<span class="math">`, 1},                           // at least
	} {
		n := strings.Count(sec, tt.what)
		if tt.what == `<span class="math">` || tt.what == `<span class="bubble">` || tt.what == `<div class="numbox"><span class="box"></span>` {
			if n < tt.count {
				t.Errorf("%d of %s, want at least %d", n, tt.what, tt.count)
			}
			continue
		}
		if n != tt.count {
			t.Errorf("%d of %s, want %d", n, tt.what, tt.count)
		}
	}
	// q5 a has 7 numbered slots; q3 a has 2.
	if n := strings.Count(sec, `<li><span class="n">`); n != 9 {
		t.Errorf("%d sequence slots, want 9", n)
	}
	// q3 c: rows labelled, 8 columns without labels: a cell each.
	if c := sec[strings.Index(sec, `data-column="3.c"`):]; !strings.Contains(c[:strings.Index(c, `data-column="3.d"`)], "<th>0000–0111</th>"+strings.Repeat("<td></td>", 8)+"</tr><tr><th>1000–1111</th>") {
		t.Error("3.c has no row of 8 cells")
	}
	if n := strings.Count(sec, `<p class="hint">`); n != 9 { // 4.a 4.b 6.d 6.e 6.f 8.a–d
		t.Errorf("%d hints, want one per number and integer part, 9", n)
	}
	if strings.Contains(html, "data-paper-ready") != true {
		t.Error("no ready flag in the script")
	}
	if !strings.Contains(html, `<script src="/katex/katex.min.js"></script>`) || !strings.Contains(html, `href="/katex/katex.min.css"`) {
		t.Error("KaTeX not linked")
	}
	if !strings.Contains(html, `"page " counter(page)`) || strings.Contains(html, `counter(pages)`) {
		t.Error("a class's document should number its pages through, without a total")
	}
}

func TestRenderCSP(t *testing.T) {
	for katex, want := range map[string]string{
		"":                               "script-src 'self' 'sha256-",
		"/static/vendor/katex/":          "script-src 'self' 'sha256-",
		"https://cdn.example.org/katex/": "script-src 'self' https://cdn.example.org 'sha256-",
	} {
		html := render(t, Document{Exam: dasc, Students: class(t, 1, false)}, Options{KaTeX: katex})
		html = strings.ReplaceAll(html, "&#39;", "'")
		if !strings.Contains(html, want) {
			t.Errorf("KaTeX at %q: no %q in the page's policy", katex, want)
		}
		if !strings.Contains(html, "default-src 'none'") {
			t.Errorf("KaTeX at %q: the policy does not deny by default", katex)
		}
	}
}

func TestRenderOneStudent(t *testing.T) {
	html := render(t, Document{Exam: dasc, Students: class(t, 1, false)}, Options{})
	if !strings.Contains(html, `"page " counter(page) " of " counter(pages)`) {
		t.Error("one student's document should say page x of y")
	}
	if strings.Contains(html, "katex.min.js") {
		t.Error("KaTeX linked without a URL")
	}
	if !strings.Contains(html, "size: A4;") {
		t.Error("not A4")
	}
	if html := render(t, Document{Exam: dasc, Students: class(t, 1, false)}, Options{PageSize: "Letter"}); !strings.Contains(html, "size: letter;") {
		t.Error("not letter")
	}
}

func TestRenderKeys(t *testing.T) {
	students := class(t, 2, true)
	html := render(t, Document{Exam: dasc, Students: students, Key: true, Summary: true}, Options{})
	secs := sections(html, "keypaper")
	if len(secs) != 2 {
		t.Fatalf("%d key sections, want 2", len(secs))
	}
	for i, s := range students {
		for _, q := range s.Questions {
			for _, p := range q.Parts {
				answer := p.Key.Answer
				if p.Type == marksmith.TypeNumber || p.Type == marksmith.TypeInteger {
					answer = keyNumber(answer)
				}
				esc := template.HTMLEscapeString(answer)
				if p.Type != marksmith.TypeEssay && !strings.Contains(secs[i], `<td class="keyanswer">`+esc+`</td>`) {
					t.Errorf("student %d: no key %q of %d.%s", i, p.Key.Answer, q.Position, p.ID)
				}
				for _, c := range p.Key.Rubric {
					if !strings.Contains(stdhtml.UnescapeString(secs[i]), c.Text) {
						t.Errorf("student %d: no rubric criterion %q of %d.%s", i, c.Text, q.Position, p.ID)
					}
				}
			}
		}
	}
	for _, want := range []string{"Tolerance", "Error carried forward", "Model answer", "Accept", `<circle`, "ANSWER KEY"} {
		if !strings.Contains(html, want) {
			t.Errorf("no %q in the keys", want)
		}
	}
	// The summary: columns in exam order, whatever each student's order.
	sum := html[strings.Index(html, `<section class="summary"`):]
	heads := regexp.MustCompile(`<th>(\d+\.[a-z_]+)</th>`).FindAllStringSubmatch(sum, -1)
	var got []string
	for _, h := range heads {
		got = append(got, h[1])
	}
	var want []string
	for _, q := range students[0].Questions {
		for _, p := range q.Parts {
			want = append(want, strconv.Itoa(q.Position)+"."+p.ID)
		}
	}
	// students[0] sees the questions in exam order
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("summary columns\n%v\nwant\n%v", got, want)
	}
	if n := strings.Count(sum, `<table class="sumtable">`); n != (len(want)+11)/12 {
		t.Errorf("%d summary tables for %d columns", n, len(want))
	}
	if !strings.Contains(sum, "173,408,256") { // the canonical 6.d
		t.Error("the canonical key of 6.d is not in the summary")
	}
	if !strings.Contains(html, "@page summary { size: A4 landscape;") {
		t.Error("the summary is not landscape")
	}
}

func TestRenderRefuses(t *testing.T) {
	paper := class(t, 1, false)
	tests := []struct {
		name string
		doc  Document
		opt  Options
		want string
	}{
		{"no students", Document{Exam: dasc}, Options{}, "no students"},
		{"a key without keys", Document{Exam: dasc, Students: paper, Key: true}, Options{}, "has no key"},
		{"a summary without keys", Document{Exam: dasc, Students: paper, Summary: true}, Options{}, "printed with the keys"},
		{"a page size", Document{Exam: dasc, Students: paper}, Options{PageSize: "A3"}, "A4 or Letter"},
		{"a KaTeX URL without a slash", Document{Exam: dasc, Students: paper}, Options{KaTeX: "/katex"}, "end in a slash"},
		{"a KaTeX URL with a quote", Document{Exam: dasc, Students: paper}, Options{KaTeX: `/k"x/`}, "characters"},
		{"no questions", Document{Exam: dasc, Students: []Student{{UserID: 1}}}, Options{}, "no questions"},
		{"a negative user", Document{Exam: dasc, Students: []Student{{UserID: -1, Questions: paper[0].Questions}}}, Options{}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Render(&bytes.Buffer{}, tt.doc, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestRenderEscapes(t *testing.T) {
	q := marksmith.Question{Position: 1, Order: 1, Marks: 1, Title: `T <script>x</script>`, Stem: "</style><script>alert(1)</script>",
		Parts: []marksmith.Part{{ID: "a", Marks: 1, Type: marksmith.TypeNumber, Prompt: "p", Unit: `<b>GB</b>`}}}
	html := render(t, Document{Exam: Exam{ID: 1, Title: `Exam "quoted" </style>`}, Students: []Student{{UserID: 1, Name: `<img src=x onerror=alert(1)>`, Number: "1", Questions: []marksmith.Question{q}}}}, Options{})
	if strings.Count(html, "<script") != 1 { // the page's own
		t.Errorf("%d scripts", strings.Count(html, "<script"))
	}
	if strings.Contains(html, "onerror=alert") && !strings.Contains(html, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Error("the name is not escaped")
	}
	if strings.Count(html, "</style>") != 1 {
		t.Error("the title ended the style element")
	}
}

func TestKeyNumber(t *testing.T) {
	for in, want := range map[string]string{
		"1.73408256e+08": "173,408,256", "-1234": "-1,234", "12": "12", "0.5": "0.5", "1.5e-07": "1.5e-07",
		"2.5e+20": "2.5e+20", "1.25e+06": "1,250,000", "123456.5": "123456.5", "x": "x",
	} {
		if got := keyNumber(in); got != want {
			t.Errorf("keyNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSSString(t *testing.T) {
	for in, want := range map[string]string{
		"E12-S00345-2 · 3035": `"E12\2d S00345\2d 2 \b7  3035"`,
		`a"b\c</style>`:       `"a\22 b\5c c\3c \2f style\3e "`,
		"tab\there":           `"tabhere"`,
	} {
		if got := cssString(in); got != want {
			t.Errorf("cssString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestQRSVG(t *testing.T) {
	for _, text := range []string{"E12-S00345-2", "E999999999-S123456789012-7"} {
		svg, err := qrSVG(text, "x")
		if err != nil {
			t.Fatal(err)
		}
		q, _ := qrcode.New(text, qrcode.Medium)
		want := q.Bitmap()
		n := len(want)
		got := make([][]bool, n)
		for i := range got {
			got[i] = make([]bool, n)
		}
		for _, m := range regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`).FindAllStringSubmatch(string(svg), -1) {
			x, _ := strconv.Atoi(m[1])
			y, _ := strconv.Atoi(m[2])
			w, _ := strconv.Atoi(m[3])
			for i := 0; i < w; i++ {
				got[y][x+i] = true
			}
		}
		for y := range want {
			for x := range want[y] {
				if got[y][x] != want[y][x] {
					t.Fatalf("%s: module (%d, %d) is %v, want %v", text, x, y, got[y][x], want[y][x])
				}
			}
		}
		if !strings.Contains(string(svg), `viewBox="0 0 `+strconv.Itoa(n)+" "+strconv.Itoa(n)+`"`) {
			t.Errorf("%s: viewBox is not %d", text, n)
		}
	}
}

func TestChartScale(t *testing.T) {
	for _, tt := range []struct {
		raw, want float64
	}{{0.1, 0.1}, {0.13, 0.2}, {0.3, 0.5}, {0.7, 1}, {1, 1}, {4, 5}, {20, 20}, {0, 1}} {
		if got := niceStep(tt.raw); got != tt.want {
			t.Errorf("niceStep(%g) = %g, want %g", tt.raw, got, tt.want)
		}
	}
	if got := ticks(-5, 5, 1); len(got) != 11 || got[0] != -5 || got[10] != 5 {
		t.Errorf("ticks(-5, 5, 1) = %v", got)
	}
	if got := tick(0.5, 0.5); got != "0.5" {
		t.Errorf("tick = %s", got)
	}
	svg := string(chartSVG(marksmith.Chart{ID: "d12", Title: "Dim 1 and Dim 2", XLabel: "Dim 1", YLabel: "Dim 2", XMin: -5, XMax: 5, YMin: -5, YMax: 5},
		[]marksmith.Point{{Chart: "d12", Label: "dog", X: -2, Y: 0.5}, {Chart: "d34", Label: "cat", X: 1, Y: 1}}))
	for _, want := range []string{"Dim 1 and Dim 2", ">Dim 1<", ">Dim 2<", "dog (-2, 0.5)", ">-5<", ">5<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart: no %q", want)
		}
	}
	if strings.Contains(svg, "cat") {
		t.Error("a point of another chart was drawn")
	}
}

// TestGolden keeps the canonical paper's and key's HTML in testdata: a
// change to the printed paper shows in review. go test -update rewrites it.
func TestGolden(t *testing.T) {
	for _, tt := range []struct {
		file string
		key  bool
	}{{"canonical-paper.html", false}, {"canonical-key.html", true}} {
		doc := Document{Exam: dasc, Students: class(t, 1, tt.key), Key: tt.key, Summary: tt.key}
		got := render(t, doc, Options{KaTeX: "katex/"})
		path := filepath.Join("testdata", tt.file)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to write it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from the rendered document (go test -update rewrites it)", path)
		}
	}
}
