// Package paper prints paper exams: each student's own paper (a cover
// with their name, student number and paper code, as text and as a QR
// code, then every question of their variant in their order, with answer
// spaces sized for each answer type) and, for markers, each student's
// answer key and marking scheme, with a summary table of every student's
// keys. Render writes the papers as one HTML document with a print
// stylesheet; a Printer prints them to PDF with headless Chromium.
//
// The input is the domain's views: a student's []marksmith.Question, with
// Key set on every part for a key document. Texts are Markdown with LaTeX
// math, typeset by KaTeX when the document is given its files.
package paper

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/papercode"
)

// Document is what Render prints: the papers of some or all of the
// students of one exam, or their keys.
type Document struct {
	Exam     Exam
	Students []Student
	// Key prints each student's answer key and marking scheme, for
	// markers, instead of their question paper; every part needs its Key.
	Key bool
	// Summary, with Key, ends the document with a table of every
	// student's key answers, for quick marking.
	Summary bool
}

// Exam is what a paper says of its exam.
type Exam struct {
	ID       int64  // in the paper codes
	Title    string // Markdown
	Subtitle string // Markdown: a course, a date, the time allowed
	// Instructions are the cover's instructions, Markdown;
	// DefaultInstructions when empty.
	Instructions string
}

// Student is one student's paper: who they are and their questions in the
// order they see them (marksmith.Question.Order), each numbered in the
// exam by its Position.
type Student struct {
	UserID    int64  // in the paper code
	Name      string // as printed on the cover
	Number    string // the student number (marksmith.User.StudentKey)
	Questions []marksmith.Question
}

// Code returns the paper code of a student's paper of an exam.
func Code(examID, userID int64) (papercode.Code, error) {
	return papercode.New(examID, userID)
}

// DefaultInstructions are the cover's instructions when the exam gives
// none.
const DefaultInstructions = `- Write your answers in the spaces provided: a box, a grid, numbered slots, lines, or a chart.
- Write numbers in full (173,408,256) or in scientific notation (1.734 × 10^8), with the unit asked for.
- For a choice, circle one letter; where several options may apply, tick every box that applies.
- To place points on a chart, mark each point with a cross and write its label beside it.
- Do not write on the QR code or the paper code, and keep every page: they tie your answers to you.`

// Options say how a document is rendered.
type Options struct {
	// KaTeX is the URL of a folder serving KaTeX's distribution
	// (katex.min.js, katex.min.css and fonts/), ending in a slash, such as
	// "/static/vendor/katex/". Empty: math is printed as written.
	KaTeX string
	// PageSize is "A4" (the default) or "Letter".
	PageSize string
}

// Render writes the document as one HTML page that prints itself: each
// student's paper (or key) starts on a new page, with the exam's title,
// the paper code and the page number in the margins. A document of one
// student numbers its pages "page x of y"; a class's, printed by a
// browser as one, numbers them through ("page x"). The page sets
// data-paper-ready on its root element once the math is typeset and the
// fonts are loaded, so that a printer knows when to print.
func Render(w io.Writer, doc Document, opt Options) error {
	r, err := newRenderer(doc, opt)
	if err != nil {
		return err
	}
	all := make([]int, len(doc.Students))
	for i := range all {
		all[i] = i
	}
	return r.write(w, all, doc.Key && doc.Summary, false)
}

// renderer renders one document, a student or the summary at a time.
type renderer struct {
	doc      Document
	opt      Options
	md       *markdown
	students []studentView
	summary  *summaryView
}

func newRenderer(doc Document, opt Options) (*renderer, error) {
	if err := check(doc, opt); err != nil {
		return nil, err
	}
	r := &renderer{doc: doc, opt: opt, md: newMarkdown()}
	r.students = make([]studentView, len(doc.Students))
	for i := range doc.Students {
		sv, err := r.student(i)
		if err != nil {
			return nil, err
		}
		r.students[i] = sv
	}
	if doc.Key && doc.Summary {
		r.summary = r.summaryView()
	}
	return r, nil
}

// check refuses a document that cannot be printed, saying why.
func check(doc Document, opt Options) error {
	if len(doc.Students) == 0 {
		return errors.New("paper: no students to print")
	}
	if opt.PageSize != "" && opt.PageSize != "A4" && opt.PageSize != "Letter" {
		return fmt.Errorf("paper: page size %q: A4 or Letter", opt.PageSize)
	}
	if opt.KaTeX != "" && !strings.HasSuffix(opt.KaTeX, "/") {
		return fmt.Errorf("paper: the KaTeX URL %q must end in a slash", opt.KaTeX)
	}
	if strings.ContainsAny(opt.KaTeX, "\"'<> ") {
		return fmt.Errorf("paper: the KaTeX URL %q has characters a URL may not", opt.KaTeX)
	}
	if doc.Summary && !doc.Key {
		return errors.New("paper: a summary of keys is printed with the keys (Key)")
	}
	if _, err := papercode.New(doc.Exam.ID, 0); err != nil {
		return err
	}
	for _, s := range doc.Students {
		if _, err := papercode.New(doc.Exam.ID, s.UserID); err != nil {
			return err
		}
		if len(s.Questions) == 0 {
			return fmt.Errorf("paper: student %s (%d) has no questions", s.Number, s.UserID)
		}
		for _, q := range s.Questions {
			for _, p := range q.Parts {
				if doc.Key && p.Key == nil {
					return fmt.Errorf("paper: question %d part %s of student %s has no key: a key document needs every part's key", q.Position, p.ID, s.Number)
				}
			}
		}
	}
	return nil
}

// The views the template reads.

type studentView struct {
	Index     int    // in the document
	Page      string // the named page of the student's pages
	Name      string
	Number    string
	Code      string
	QR        template.HTML
	Marks     string
	Questions []questionView
}

type questionView struct {
	Number   int // the order the student sees it in
	Position int // the question's number in the exam: the first half of an answer column
	Title    template.HTML
	Marks    string
	Stem     template.HTML
	Parts    []partView
}

type partView struct {
	ID      string
	Label   string // as people read it: "b", "b, why"
	Column  string // the upload's column, QUESTION.PART
	Marks   string
	Prompt  template.HTML
	Type    string
	Hint    string
	Unit    string
	Options []optionView
	Grid    *gridView
	Slots   []int // sequence: 1…n
	Lines   []int // text and essay: one per ruled line
	Charts  []template.HTML
	Labels  string // points: the labels to place
	Key     *keyView
}

type optionView struct {
	Label string
	Text  template.HTML
	Right bool // in a key: a right option
}

type gridView struct {
	Columns []template.HTML // header labels; nil for none
	Rows    []template.HTML // row labels; nil for none
	Width   int
	Wide    bool       // one wide cell a row: the row's values, separated by commas
	Cells   [][]string // per row: the key's cells, or blanks
}

type keyView struct {
	Answer     string
	Tolerance  string
	Scheme     string
	Accept     []string
	Patterns   []string
	Rubric     []criterionView
	Reference  template.HTML
	FollowNote string
	Follow     string
}

type criterionView struct {
	Text    string
	Marks   string
	Phrases string
}

type summaryView struct {
	Tables []summaryTable
}

type summaryTable struct {
	Columns []string // QUESTION.PART
	Rows    []summaryRow
}

type summaryRow struct {
	Name   string
	Number string
	Code   string
	Cells  []string
}

func (r *renderer) student(i int) (studentView, error) {
	s := r.doc.Students[i]
	code, _ := papercode.New(r.doc.Exam.ID, s.UserID)
	qr, err := qrSVG(code.String(), "paper code "+code.String())
	if err != nil {
		return studentView{}, err
	}
	sv := studentView{Index: i, Page: "s" + strconv.Itoa(i), Name: s.Name, Number: s.Number, Code: code.String(), QR: qr}
	total := 0.0
	for _, q := range s.Questions {
		qv := questionView{Number: q.Order, Position: q.Position, Title: r.md.inline(q.Title), Marks: marks(q.Marks), Stem: r.md.block(q.Stem)}
		if qv.Number == 0 {
			qv.Number = q.Position
		}
		total += q.Marks
		for _, p := range q.Parts {
			qv.Parts = append(qv.Parts, r.part(q, p))
		}
		sv.Questions = append(sv.Questions, qv)
	}
	sv.Marks = marks(total)
	return sv, nil
}

func (r *renderer) part(q marksmith.Question, p marksmith.Part) partView {
	pv := partView{ID: p.ID, Label: marksmith.PartLabel(p.ID), Column: strconv.Itoa(q.Position) + "." + p.ID, Marks: marks(p.Marks), Prompt: r.md.block(p.Prompt),
		Type: p.Type, Unit: p.Unit}
	// On paper the answer space shows how to answer; a hint says what
	// else a number may be written as.
	if p.Type == marksmith.TypeNumber || p.Type == marksmith.TypeInteger {
		pv.Hint = p.Hint
	}
	var right map[string]bool
	if p.Key != nil {
		right = map[string]bool{}
		for _, l := range splitLabels(p.Key.Answer) {
			right[strings.ToUpper(l)] = true
		}
	}
	for _, o := range p.Options {
		pv.Options = append(pv.Options, optionView{Label: o.Label, Text: r.md.inline(o.Text), Right: right[strings.ToUpper(o.Label)]})
	}
	switch p.Type {
	case marksmith.TypeTable:
		pv.Grid = r.grid(p)
		if pv.Grid == nil {
			pv.Lines = make([]int, max(2, len(p.Rows)+1))
		}
	case marksmith.TypeSequence:
		n := p.Length
		if n == 0 && p.Key != nil {
			n = len(strings.Fields(p.Key.Answer))
		}
		for i := 1; i <= n; i++ {
			pv.Slots = append(pv.Slots, i)
		}
		if n == 0 {
			pv.Lines = make([]int, 2)
		}
	case marksmith.TypeText:
		pv.Lines = make([]int, 2)
	case marksmith.TypeEssay:
		pv.Lines = make([]int, essayLines(p.Marks))
	case marksmith.TypePoints:
		var pts []marksmith.Point
		if p.Key != nil {
			pts = p.Key.Points
		}
		for _, ch := range p.Charts {
			pv.Charts = append(pv.Charts, chartSVG(ch, pts))
		}
		pv.Labels = strings.Join(p.Labels, ", ")
	}
	if k := p.Key; k != nil {
		answer := k.Answer
		if p.Type == marksmith.TypeNumber || p.Type == marksmith.TypeInteger {
			answer = keyNumber(answer)
		}
		kv := &keyView{Answer: answer, Tolerance: k.Tolerance, Accept: k.Accept, Patterns: k.Patterns,
			Reference: r.md.block(k.Reference), FollowNote: k.FollowNote, Follow: k.Follow}
		if p.Type == marksmith.TypeMulti && p.Scheme != "" {
			kv.Scheme = p.Scheme
		}
		for _, c := range k.Rubric {
			kv.Rubric = append(kv.Rubric, criterionView{Text: c.Text, Marks: marks(c.Marks), Phrases: strings.Join(c.Phrases, "; ")})
		}
		pv.Key = kv
	}
	return pv
}

// grid returns a table part's answer grid, or nil when its shape is not
// known: the part's shape, else its labels', else its key's.
func (r *renderer) grid(p marksmith.Part) *gridView {
	var keyRows [][]string
	if p.Key != nil && strings.TrimSpace(p.Key.Answer) != "" {
		for _, row := range strings.Split(p.Key.Answer, ";") {
			var cells []string
			for _, c := range strings.Split(row, ",") {
				cells = append(cells, strings.TrimSpace(c))
			}
			keyRows = append(keyRows, cells)
		}
	}
	width := p.Width
	if width == 0 {
		width = len(p.Columns)
	}
	if width == 0 && len(keyRows) > 0 {
		width = len(keyRows[0])
	}
	wide := false
	if width == 0 && len(p.Rows) > 0 {
		// Rows without a known number of columns: one wide cell a row,
		// for the row's values.
		width, wide = 1, true
	}
	if width == 0 {
		return nil
	}
	rows := p.Height
	if rows == 0 {
		rows = len(p.Rows)
	}
	if rows == 0 {
		rows = max(1, len(keyRows))
	}
	g := &gridView{Width: width, Wide: wide}
	for _, c := range p.Columns {
		g.Columns = append(g.Columns, r.md.inline(c))
	}
	for _, l := range p.Rows {
		g.Rows = append(g.Rows, r.md.inline(l))
	}
	for i := 0; i < rows; i++ {
		cells := make([]string, width)
		if i < len(keyRows) {
			copy(cells, keyRows[i])
		}
		g.Cells = append(g.Cells, cells)
	}
	return g
}

// essayLines is how many ruled lines an essay of so many marks gets:
// two and a half a mark and three more, from 5 to 24.
func essayLines(m float64) int {
	n := int(math.Round(m*2.5)) + 3
	return min(24, max(5, n))
}

// splitLabels splits a choice key ("B" or "A,C") into labels.
func splitLabels(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
}

// marks writes a number of marks.
func marks(m float64) string {
	return strconv.FormatFloat(math.Round(m*1000)/1000, 'f', -1, 64)
}

// summaryView tabulates every student's key answers, columns in exam
// order, a dozen columns a table.
func (r *renderer) summaryView() *summaryView {
	type col struct {
		pos  int
		part string
		idx  int
	}
	seen := map[string]bool{}
	var cols []col
	for _, s := range r.doc.Students {
		for _, q := range s.Questions {
			for i, p := range q.Parts {
				name := strconv.Itoa(q.Position) + "." + p.ID
				if !seen[name] {
					seen[name] = true
					cols = append(cols, col{q.Position, p.ID, i})
				}
			}
		}
	}
	sort.SliceStable(cols, func(i, j int) bool {
		if cols[i].pos != cols[j].pos {
			return cols[i].pos < cols[j].pos
		}
		return cols[i].idx < cols[j].idx
	})
	const perTable = 12
	sv := &summaryView{}
	for start := 0; start < len(cols); start += perTable {
		chunk := cols[start:min(len(cols), start+perTable)]
		t := summaryTable{}
		for _, c := range chunk {
			t.Columns = append(t.Columns, strconv.Itoa(c.pos)+"."+c.part)
		}
		for si, s := range r.doc.Students {
			row := summaryRow{Name: s.Name, Number: s.Number, Code: r.students[si].Code}
			for _, c := range chunk {
				row.Cells = append(row.Cells, summaryCell(s, c.pos, c.part))
			}
			t.Rows = append(t.Rows, row)
		}
		sv.Tables = append(sv.Tables, t)
	}
	return sv
}

// summaryCell is one student's key of one part, short.
func summaryCell(s Student, pos int, part string) string {
	for _, q := range s.Questions {
		if q.Position != pos {
			continue
		}
		for _, p := range q.Parts {
			if p.ID != part || p.Key == nil {
				continue
			}
			switch p.Type {
			case marksmith.TypeEssay:
				return "(rubric)"
			case marksmith.TypeText:
				if len(p.Key.Accept) > 0 {
					return clip(p.Key.Accept[0], 24)
				}
			}
			if p.Type == marksmith.TypeNumber || p.Type == marksmith.TypeInteger {
				return keyNumber(p.Key.Answer)
			}
			return clip(p.Key.Answer, 40)
		}
	}
	return "—"
}

// keyNumber writes a numeric key as a marker reads it: 173,408,256
// rather than 1.73408256e+08, in a form the grader accepts too.
func keyNumber(s string) string {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return s
	}
	a := math.Abs(f)
	switch {
	case f == math.Trunc(f) && a < 1e15:
		digits := strconv.FormatFloat(a, 'f', 0, 64)
		var b strings.Builder
		if f < 0 {
			b.WriteByte('-')
		}
		for i, c := range digits {
			if i > 0 && (len(digits)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	case a >= 1e-4 && a < 1e15:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

//go:embed templates
var files embed.FS

// pageTemplate is the parsed template of a document; read only.
var pageTemplate = template.Must(template.New("").Funcs(template.FuncMap{
	"keyData": func(d pageData, s studentView) any {
		return struct {
			Exam    examView
			Student studentView
			Mark    string
		}{d.Exam, s, mark(d.Marks, s.Index)}
	},
	"summaryData": func(d pageData, s *summaryView) any {
		return struct {
			Exam    examView
			Summary *summaryView
		}{d.Exam, s}
	},
}).ParseFS(files, "templates/*.html"))

//go:embed templates/paper.css
var stylesheet string

//go:embed templates/paper.js
var script string

// mark returns the URL of the mark of student i's first page, or "".
func mark(on bool, i int) string {
	if !on {
		return ""
	}
	return markURL + strconv.Itoa(i)
}

// pageData is what the document template reads.
type pageData struct {
	Title    string
	Key      bool
	Marks    bool // mark each student's first page for the printer
	KaTeX    string
	CSP      string
	Style    template.CSS
	Script   template.JS
	Exam     examView
	Students []studentView
	Summary  *summaryView
}

type examView struct {
	Title        template.HTML
	TitleText    string
	Subtitle     template.HTML
	Instructions template.HTML
}

// write writes a document of the given students and, with summary, the
// summary of keys. For a printer, each student's first page carries an
// invisible link to their mark, and the pages are not numbered: the
// printer numbers each student's pages itself.
func (r *renderer) write(w io.Writer, students []int, summary, printer bool) error {
	d := pageData{Key: r.doc.Key, Marks: printer, KaTeX: r.opt.KaTeX, Script: template.JS(script)}
	d.Exam = examView{Title: r.md.inline(r.doc.Exam.Title), TitleText: plain(r.doc.Exam.Title), Subtitle: r.md.inline(r.doc.Exam.Subtitle)}
	instr := r.doc.Exam.Instructions
	if strings.TrimSpace(instr) == "" {
		instr = DefaultInstructions
	}
	d.Exam.Instructions = r.md.block(instr)
	for _, i := range students {
		d.Students = append(d.Students, r.students[i])
	}
	if summary {
		d.Summary = r.summary
	}
	d.Title = d.Exam.TitleText
	switch {
	case len(d.Students) == 1 && r.doc.Key:
		d.Title += " — key, " + d.Students[0].Code
	case len(d.Students) == 1:
		d.Title += " — " + d.Students[0].Code
	case r.doc.Key:
		d.Title += " — keys"
	}
	d.Style = template.CSS(r.css(d.Students, d.Summary != nil, printer))
	sum := sha256.Sum256([]byte(script))
	self := "'self'"
	if u, err := url.Parse(r.opt.KaTeX); err == nil && u.Scheme != "" && u.Host != "" {
		self += " " + u.Scheme + "://" + u.Host // KaTeX served from another origin
	}
	d.CSP = "default-src 'none'; script-src " + self + " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; style-src " + self + " 'unsafe-inline'; font-src " + self + " data:; img-src 'self' data:"
	var b bytes.Buffer
	if err := pageTemplate.ExecuteTemplate(&b, "document", d); err != nil {
		return fmt.Errorf("paper: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// css returns the stylesheet with the page rules of these students: each
// student's pages carry their paper code in the margin.
func (r *renderer) css(students []studentView, summary, printer bool) string {
	var b strings.Builder
	size := "A4"
	if r.opt.PageSize == "Letter" {
		size = "letter"
	}
	b.WriteString(strings.ReplaceAll(stylesheet, "__SIZE__", size))
	pages := `"page " counter(page) " of " counter(pages)`
	switch {
	case printer:
		pages = `""`
	case len(students) > 1 || summary:
		pages = `"page " counter(page)`
	}
	left := cssString(plain(r.doc.Exam.Title))
	if r.doc.Key {
		left = cssString("ANSWER KEY — for markers — " + plain(r.doc.Exam.Title))
	}
	fmt.Fprintf(&b, "@page { @top-left { content: %s; } @bottom-center { content: %s; } }\n", left, pages)
	for _, s := range students {
		fmt.Fprintf(&b, "@page %s { @top-right { content: %s; } }\n", s.Page, cssString(s.Code+" · "+s.Number))
	}
	if summary {
		fmt.Fprintf(&b, "@page summary { size: %s landscape; @top-right { content: %s; } }\n", size, cssString("summary of keys"))
	}
	return b.String()
}

// cssString quotes s as a CSS string: every character but letters,
// digits and spaces is written as a hexadecimal escape, so that nothing
// in s can end the string or the style element.
func cssString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == ' ':
			b.WriteRune(c)
		case c < 0x20 || c == 0x7f:
			// control characters are dropped
		default:
			fmt.Fprintf(&b, "\\%x ", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// plain returns a Markdown title as plain text, for margins and titles:
// its emphasis marks and math delimiters removed.
func plain(s string) string {
	r := strings.NewReplacer("**", "", "__", "", "`", "", "$", "", "\n", " ")
	return strings.TrimSpace(r.Replace(s))
}
