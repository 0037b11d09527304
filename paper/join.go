package paper

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Chromium prints a batch of students' papers at a time (its cost per
// print is high); each student's cover carries an invisible link to
// https://paper.invalid/s/N, the mark of student N. joiner then writes
// PDFs of page ranges of the printed PDFs, as Chromium (Skia) writes them:
// a classic cross-reference table, no object streams, every page carrying
// its own resources and media box. It copies the objects a range's pages
// use, renumbered, leaves out the marks, hangs the pages under one page
// tree, and stamps each page "page x of y" of its range, so that a class's
// PDF and each student's PDF number every paper's pages on their own. It
// writes as it goes; only the offsets of objects stay in memory.

// pdfFile is a parsed PDF: where each object is, and its trailer's
// references.
type pdfFile struct {
	data    []byte
	offsets map[int]int // object number -> offset of "N G obj"
	size    int         // the trailer's /Size
	root    int         // the catalog
	info    int         // the information dictionary, 0 when none
	xref    int         // offset of the cross-reference table
}

var (
	reStartXref = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	reRef       = func(key string) *regexp.Regexp { return regexp.MustCompile(`/` + key + `\s+(\d+)\s+(\d+)\s+R`) }
	reRoot      = reRef("Root")
	reInfo      = reRef("Info")
	rePages     = reRef("Pages")
	reSize      = regexp.MustCompile(`/Size\s+(\d+)`)
	reCount     = regexp.MustCompile(`/Count\s+(\d+)`)
	reObjStream = regexp.MustCompile(`/Type\s*/(ObjStm|XRef)\b`)
)

// parsePDF reads a PDF's cross-reference table and trailer.
func parsePDF(data []byte) (*pdfFile, error) {
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return nil, errors.New("not a PDF")
	}
	m := reStartXref.FindSubmatch(data)
	if m == nil {
		return nil, errors.New("no startxref at the end")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if xref <= 0 || xref >= len(data) || !bytes.HasPrefix(data[xref:], []byte("xref")) {
		return nil, errors.New("no cross-reference table where startxref points: compressed cross-references are not supported")
	}
	f := &pdfFile{data: data, offsets: map[int]int{}, xref: xref}
	rest := data[xref+len("xref"):]
	tr := bytes.Index(rest, []byte("trailer"))
	if tr < 0 {
		return nil, errors.New("no trailer")
	}
	fields := bytes.Fields(rest[:tr])
	for i := 0; i+1 < len(fields); {
		first, err1 := strconv.Atoi(string(fields[i]))
		count, err2 := strconv.Atoi(string(fields[i+1]))
		if err1 != nil || err2 != nil || i+2+3*count > len(fields) {
			return nil, errors.New("a malformed cross-reference table")
		}
		i += 2
		for k := 0; k < count; k++ {
			off, err := strconv.Atoi(string(fields[i]))
			if err != nil {
				return nil, errors.New("a malformed cross-reference entry")
			}
			if string(fields[i+2]) == "n" {
				f.offsets[first+k] = off
			}
			i += 3
		}
	}
	trailer := rest[tr:]
	if m := reRoot.FindSubmatch(trailer); m != nil {
		f.root, _ = strconv.Atoi(string(m[1]))
	} else {
		return nil, errors.New("the trailer has no /Root")
	}
	if m := reInfo.FindSubmatch(trailer); m != nil {
		f.info, _ = strconv.Atoi(string(m[1]))
	}
	if m := reSize.FindSubmatch(trailer); m != nil {
		f.size, _ = strconv.Atoi(string(m[1]))
	}
	for n, off := range f.offsets {
		if off <= 0 || off >= xref || n <= 0 || n >= f.size {
			return nil, fmt.Errorf("object %d is out of place", n)
		}
	}
	return f, nil
}

// objects returns the body of every object, between "N G obj" and
// "endobj", by number. An object ends where the next begins (or the
// cross-reference table), so that a stream holding the bytes "endobj"
// cannot cut it short.
func (f *pdfFile) objects() (map[int][]byte, error) {
	type at struct{ n, off int }
	var list []at
	for n, off := range f.offsets {
		list = append(list, at{n, off})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].off < list[j].off })
	out := make(map[int][]byte, len(list))
	for i, o := range list {
		end := f.xref
		if i+1 < len(list) {
			end = list[i+1].off
		}
		chunk := f.data[o.off:end]
		head := fmt.Sprintf("%d 0 obj", o.n)
		if !bytes.HasPrefix(chunk, []byte(head)) {
			return nil, fmt.Errorf("object %d: expected %q at offset %d", o.n, head, o.off)
		}
		stop := bytes.LastIndex(chunk, []byte("endobj"))
		if stop < 0 {
			return nil, fmt.Errorf("object %d has no endobj", o.n)
		}
		out[o.n] = bytes.TrimSpace(chunk[len(head):stop])
	}
	return out, nil
}

// markURL is the start of the mark of a student's first page.
const markURL = "https://paper.invalid/s/"

var (
	reMark      = regexp.MustCompile(`/URI\s*\(` + regexp.QuoteMeta(markURL) + `(\d+)\)`)
	reAnnots    = regexp.MustCompile(`/Annots\s*\[([^\]]*)\]`)
	reParent    = regexp.MustCompile(`/Parent\s+\d+\s+\d+\s+R`)
	reKids      = regexp.MustCompile(`/Kids\s*\[([^\]]*)\]`)
	reMediaBox  = regexp.MustCompile(`/MediaBox\s*\[\s*([-0-9.]+)\s+([-0-9.]+)\s+([-0-9.]+)\s+([-0-9.]+)\s*\]`)
	reContents  = regexp.MustCompile(`/Contents\s+(\d+\s+\d+\s+R|\[[^\]]*\])`)
	reFontDict  = regexp.MustCompile(`/Font\s*<<`)
	reResources = regexp.MustCompile(`/Resources\s*<<`)
	reInherit   = regexp.MustCompile(`/(Resources|MediaBox|CropBox|Rotate)\b`)
	reAnyRef    = regexp.MustCompile(`(\d+)\s+(\d+)\s+R`)
)

// pdfPages is a parsed PDF: its objects and its pages in order, with the
// marks they carry.
type pdfPages struct {
	f      *pdfFile
	objs   map[int][]byte
	pages  []int        // page objects, in order
	tree   map[int]bool // page tree nodes
	marks  map[int]int  // page index -> the student whose mark it carries
	markAn map[int]bool // annotations that are marks
}

// readPages parses a PDF and walks its page tree.
func readPages(data []byte) (*pdfPages, error) {
	if reObjStream.Match(data) {
		return nil, errors.New("compressed object streams are not supported")
	}
	f, err := parsePDF(data)
	if err != nil {
		return nil, err
	}
	objs, err := f.objects()
	if err != nil {
		return nil, err
	}
	p := &pdfPages{f: f, objs: objs, tree: map[int]bool{}, marks: map[int]int{}, markAn: map[int]bool{}}
	m := rePages.FindSubmatch(dictOf(objs[f.root]))
	if m == nil {
		return nil, errors.New("the catalog has no /Pages")
	}
	root, _ := strconv.Atoi(string(m[1]))
	if err := p.walk(root, 0); err != nil {
		return nil, err
	}
	for i, pg := range p.pages {
		a := reAnnots.FindSubmatch(dictOf(objs[pg]))
		if a == nil {
			continue
		}
		for _, r := range reAnyRef.FindAllSubmatch(a[1], -1) {
			n, _ := strconv.Atoi(string(r[1]))
			if mk := reMark.FindSubmatch(objs[n]); mk != nil {
				s, _ := strconv.Atoi(string(mk[1]))
				p.marks[i] = s
				p.markAn[n] = true
			}
		}
	}
	return p, nil
}

// walk adds the pages under a page tree node, in order.
func (p *pdfPages) walk(n, depth int) error {
	body, ok := p.objs[n]
	if !ok || depth > 32 || p.tree[n] {
		return fmt.Errorf("a broken page tree at object %d", n)
	}
	d := dictOf(body)
	switch {
	case bytes.Contains(d, []byte("/Type /Pages")) || bytes.Contains(d, []byte("/Type/Pages")):
		p.tree[n] = true
		if reInherit.Match(d) {
			return errors.New("a page tree node with attributes its pages inherit is not supported")
		}
		k := reKids.FindSubmatch(d)
		if k == nil {
			return fmt.Errorf("page tree node %d has no /Kids", n)
		}
		for _, r := range reAnyRef.FindAllSubmatch(k[1], -1) {
			kid, _ := strconv.Atoi(string(r[1]))
			if err := p.walk(kid, depth+1); err != nil {
				return err
			}
		}
	default:
		p.pages = append(p.pages, n)
	}
	return nil
}

// pageRange is a run of pages: a student's paper (Mark >= 0, from the
// page with their mark to the next mark) or, before any mark, pages
// without one (Mark -1).
type pageRange struct {
	Mark     int
	From, To int
}

// ranges splits the pages at the marks.
func (p *pdfPages) ranges() []pageRange {
	var out []pageRange
	for i := range p.pages {
		mark, ok := p.marks[i]
		if i == 0 || ok {
			if !ok {
				mark = -1
			}
			if len(out) > 0 {
				out[len(out)-1].To = i
			}
			out = append(out, pageRange{Mark: mark, From: i})
		}
	}
	if len(out) > 0 {
		out[len(out)-1].To = len(p.pages)
	}
	return out
}

// countPages returns how many pages a PDF has.
func countPages(data []byte) (int, error) {
	p, err := readPages(data)
	if err != nil {
		return 0, err
	}
	return len(p.pages), nil
}

// dictOf returns the part of an object's body before its stream, if any.
func dictOf(body []byte) []byte {
	if i := streamStart(body); i >= 0 {
		return body[:i]
	}
	return body
}

// joiner writes one PDF of the page ranges added to it, in order.
type joiner struct {
	w       io.Writer
	n       int64         // bytes written
	offsets map[int]int64 // object number -> offset
	next    int           // the next free object number
	kids    []int         // the pages
	err     error
}

// The joined document's own objects.
const (
	joinedPages   = 1 // the page tree
	joinedCatalog = 2
	joinedFont    = 3 // Helvetica, for the page numbers
	joinedSave    = 4 // a content stream "q", before each page's own
	joinedNull    = 5 // null, for a reference to an object left out
)

func newJoiner(w io.Writer) *joiner {
	j := &joiner{w: w, offsets: map[int]int64{}, next: 6}
	j.write([]byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"))
	j.object(joinedFont, []byte("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"))
	j.object(joinedSave, []byte("<< /Length 2 >>\nstream\nq\n\nendstream"))
	j.object(joinedNull, []byte("null"))
	return j
}

func (j *joiner) write(b []byte) {
	if j.err != nil {
		return
	}
	k, err := j.w.Write(b)
	j.n += int64(k)
	j.err = err
}

func (j *joiner) object(n int, body []byte) {
	j.offsets[n] = j.n
	j.write([]byte(strconv.Itoa(n) + " 0 obj\n"))
	j.write(body)
	j.write([]byte("\nendobj\n"))
}

// addPages appends pages [from, to) of p; with stamp, each is numbered
// "page x of y" of the range at the foot of the page.
func (j *joiner) addPages(p *pdfPages, from, to int, stamp bool) error {
	if j.err != nil {
		return j.err
	}
	if from < 0 || to > len(p.pages) || from >= to {
		return fmt.Errorf("join: pages %d to %d of %d", from, to, len(p.pages))
	}
	// The pages' dictionaries without their parent and marks.
	pageBody := map[int][]byte{}
	for _, pg := range p.pages[from:to] {
		body := reParent.ReplaceAll(p.objs[pg], nil)
		body = reAnnots.ReplaceAllFunc(body, func(m []byte) []byte {
			var keep []string
			for _, r := range reAnyRef.FindAllSubmatch(reAnnots.FindSubmatch(m)[1], -1) {
				n, _ := strconv.Atoi(string(r[1]))
				if !p.markAn[n] {
					keep = append(keep, string(r[0]))
				}
			}
			if len(keep) == 0 {
				return nil
			}
			return []byte("/Annots [" + strings.Join(keep, " ") + "]")
		})
		pageBody[pg] = body
	}
	// Every object the pages use, but other pages and the page tree.
	use := map[int]bool{}
	queue := append([]int(nil), p.pages[from:to]...)
	for _, pg := range queue {
		use[pg] = true
	}
	isPage := map[int]bool{}
	for _, pg := range p.pages {
		isPage[pg] = true
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		body, ok := pageBody[n]
		if !ok {
			body = p.objs[n]
		}
		rewriteRefs(body, func(r int) int {
			if _, exists := p.objs[r]; exists && !use[r] && !isPage[r] && !p.tree[r] && !p.markAn[r] {
				use[r] = true
				queue = append(queue, r)
			}
			return r
		})
	}
	nums := make([]int, 0, len(use))
	for n := range use {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	renum := make(map[int]int, len(nums))
	for _, n := range nums {
		renum[n] = j.next
		j.next++
	}
	mapRef := func(r int) int {
		if m, ok := renum[r]; ok {
			return m
		}
		return joinedNull
	}
	for _, n := range nums {
		body, page := pageBody[n]
		if !page {
			j.object(renum[n], rewriteRefs(p.objs[n], mapRef))
			continue
		}
		body = rewriteRefs(body, mapRef)
		i := bytes.Index(body, []byte("<<"))
		if i < 0 {
			return fmt.Errorf("join: page %d is not a dictionary", n)
		}
		body = append(append(append([]byte{}, body[:i+2]...), []byte(fmt.Sprintf(" /Parent %d 0 R", joinedPages))...), body[i+2:]...)
		if stamp {
			at := indexOf(p.pages, n) - from
			var err error
			if body, err = j.stamp(body, at+1, to-from); err != nil {
				return fmt.Errorf("join: page %d: %w", n, err)
			}
		}
		j.object(renum[n], body)
	}
	for _, pg := range p.pages[from:to] {
		j.kids = append(j.kids, renum[pg])
	}
	return j.err
}

func indexOf(list []int, n int) int {
	for i, x := range list {
		if x == n {
			return i
		}
	}
	return -1
}

// helvetica holds the widths, in thousandths of the size, of the
// characters of a page number in Helvetica.
func helveticaWidth(s string) float64 {
	w := 0
	for _, c := range s {
		switch c {
		case ' ', 'f':
			w += 278
		default:
			w += 556
		}
	}
	return float64(w) / 1000
}

// stamp adds "page x of y" at the foot of a page, centred, in a content
// stream of its own after the page's (which is wrapped in q … Q), with
// Helvetica added to the page's fonts.
func (j *joiner) stamp(page []byte, x, y int) ([]byte, error) {
	w, h := 594.96, 841.92
	if m := reMediaBox.FindSubmatch(page); m != nil {
		x0, _ := strconv.ParseFloat(string(m[1]), 64)
		x1, _ := strconv.ParseFloat(string(m[3]), 64)
		w = x1 - x0
		_ = h
	}
	text := fmt.Sprintf("page %d of %d", x, y)
	size := 8.0
	tx := w/2 - helveticaWidth(text)*size/2
	content := fmt.Sprintf("Q\nBT /MsPg %g Tf 0.27 g 1 0 0 1 %.2f %.2f Tm (%s) Tj ET\n", size, tx, 24.0, text)
	n := j.next
	j.next++
	j.object(n, []byte(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content)+1, content)))
	switch {
	case reFontDict.Match(page):
		page = reFontDict.ReplaceAll(page, []byte(fmt.Sprintf("/Font << /MsPg %d 0 R ", joinedFont)))
	case reResources.Match(page):
		page = reResources.ReplaceAll(page, []byte(fmt.Sprintf("/Resources << /Font << /MsPg %d 0 R >> ", joinedFont)))
	default:
		return nil, errors.New("the page's resources are not a dictionary of its own")
	}
	m := reContents.FindSubmatchIndex(page)
	if m == nil {
		return nil, errors.New("the page has no /Contents")
	}
	inner := string(page[m[2]:m[3]])
	inner = strings.TrimSuffix(strings.TrimPrefix(inner, "["), "]")
	contents := fmt.Sprintf("/Contents [%d 0 R %s %d 0 R]", joinedSave, inner, n)
	return append(append(append([]byte{}, page[:m[0]]...), contents...), page[m[1]:]...), nil
}

// close writes the page tree, the catalog, the cross-reference table and
// the trailer.
func (j *joiner) close() error {
	if j.err != nil {
		return j.err
	}
	if len(j.kids) == 0 {
		return errors.New("join: no pages")
	}
	var kids bytes.Buffer
	for i, k := range j.kids {
		if i > 0 {
			kids.WriteByte(' ')
		}
		fmt.Fprintf(&kids, "%d 0 R", k)
	}
	j.object(joinedPages, []byte(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids.String(), len(j.kids))))
	j.object(joinedCatalog, []byte(fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", joinedPages)))
	xref := j.n
	var b bytes.Buffer
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", j.next)
	for n := 1; n < j.next; n++ {
		if off, ok := j.offsets[n]; ok {
			fmt.Fprintf(&b, "%010d 00000 n \n", off)
		} else {
			b.WriteString("0000000000 00000 f \n")
		}
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", j.next, joinedCatalog, xref)
	j.write(b.Bytes())
	return j.err
}

// pages returns how many pages have been added.
func (j *joiner) pages() int { return len(j.kids) }

// renumber returns an object's body with every indirect reference
// shifted by base.
func renumber(body []byte, base int) []byte {
	return rewriteRefs(body, func(n int) int { return n + base })
}

// rewriteRefs returns an object's body with every indirect reference "N G
// R" in its dictionaries and arrays renumbered by f; strings, comments and
// stream data are copied as they are.
func rewriteRefs(body []byte, f func(n int) int) []byte {
	out := make([]byte, 0, len(body)+16)
	end := streamStart(body)
	if end < 0 {
		end = len(body)
	}
	for i := 0; i < end; {
		c := body[i]
		switch {
		case c == '(':
			k := literalEnd(body, i)
			out = append(out, body[i:k]...)
			i = k
		case c == '<' && i+1 < end && body[i+1] == '<':
			out = append(out, "<<"...)
			i += 2
		case c == '<':
			k := bytes.IndexByte(body[i:end], '>')
			if k < 0 {
				k = end - i - 1
			}
			out = append(out, body[i:i+k+1]...)
			i += k + 1
		case c == '%':
			k := bytes.IndexAny(body[i:end], "\r\n")
			if k < 0 {
				k = end - i
			}
			out = append(out, body[i:i+k]...)
			i += k
		case c >= '0' && c <= '9' && (i == 0 || isDelim(body[i-1])):
			if n, gen, k, ok := reference(body[:end], i); ok {
				out = append(out, strconv.Itoa(f(n))...)
				out = append(out, ' ')
				out = append(out, strconv.Itoa(gen)...)
				out = append(out, " R"...)
				i = k
				continue
			}
			k := i
			for k < end && (body[k] >= '0' && body[k] <= '9' || body[k] == '.') {
				k++
			}
			out = append(out, body[i:k]...)
			i = k
		default:
			out = append(out, c)
			i++
		}
	}
	return append(out, body[end:]...)
}

// reference reads "N G R" at b[i]: the numbers, where it ends, and
// whether it is one.
func reference(b []byte, i int) (n, gen, end int, ok bool) {
	num := func(i int) (int, int) {
		k := i
		for k < len(b) && b[k] >= '0' && b[k] <= '9' {
			k++
		}
		if k == i || k-i > 9 {
			return -1, i
		}
		v, _ := strconv.Atoi(string(b[i:k]))
		return v, k
	}
	space := func(i int) int {
		for i < len(b) && isWhite(b[i]) {
			i++
		}
		return i
	}
	n, k := num(i)
	if n < 0 || k >= len(b) || !isWhite(b[k]) {
		return 0, 0, 0, false
	}
	gen, k2 := num(space(k))
	if gen < 0 || k2 >= len(b) || !isWhite(b[k2]) {
		return 0, 0, 0, false
	}
	k3 := space(k2)
	if k3 >= len(b) || b[k3] != 'R' || (k3+1 < len(b) && !isDelim(b[k3+1])) {
		return 0, 0, 0, false
	}
	return n, gen, k3 + 1, true
}

// literalEnd returns the index after the literal string opening at b[i].
func literalEnd(b []byte, i int) int {
	depth := 0
	for k := i; k < len(b); k++ {
		switch b[k] {
		case '\\':
			k++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return k + 1
			}
		}
	}
	return len(b)
}

// streamStart returns where an object's stream keyword is (after its
// dictionary, outside strings), or -1.
func streamStart(body []byte) int {
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '(':
			i = literalEnd(body, i) - 1
		case 's':
			if bytes.HasPrefix(body[i:], []byte("stream")) && (i == 0 || isDelim(body[i-1])) {
				k := i + len("stream")
				if k < len(body) && (body[k] == '\r' || body[k] == '\n') {
					return i
				}
			}
		}
	}
	return -1
}

func isWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	return isWhite(c) || bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}
