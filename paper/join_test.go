package paper

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// minimalPDF writes a PDF of n pages the way Skia lays one out: an
// information dictionary, a catalog, a two-level page tree, pages with
// content streams and, on the pages in marks, a student's mark. Its
// title, a page's string and its streams hold text that looks like
// references and like endobj, which a join must leave alone.
func minimalPDF(n int, label string, marks map[int]int) []byte {
	var objs []string
	add := func(o string) int { objs = append(objs, o); return len(objs) }
	add("<</Title (a 1 0 R title) /Producer (test)>>")
	add("<</Type /Catalog /Pages 3 0 R>>")
	add("") // 3: the root of the page tree, written last
	add("") // 4: its one child node
	var kids []string
	for i := 0; i < n; i++ {
		content := fmt.Sprintf("BT /F1 12 Tf 72 720 Td (%s page %d 9 0 R endobj) Tj ET", label, i+1)
		c := add(fmt.Sprintf("<</Length %d>> stream\n%s\nendstream", len(content), content))
		annots := ""
		if s, ok := marks[i]; ok {
			a := add(fmt.Sprintf("<</Type /Annot /Subtype /Link /F 4 /Rect [0 0 1 1] /A <</Type /Action /S /URI /URI (%s%d)>>>>", markURL, s))
			annots = fmt.Sprintf(" /Annots [%d 0 R]", a)
		}
		pg := add(fmt.Sprintf("<</Type /Page /Parent 4 0 R /Resources <</Font <</F1 <</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>>>>> /MediaBox [0 0 595 842] /Contents %d 0 R%s /X (see \\) 3 0 R)>>", c, annots))
		kids = append(kids, fmt.Sprintf("%d 0 R", pg))
	}
	objs[2] = "<</Type /Pages /Count " + fmt.Sprint(n) + " /Kids [4 0 R]>>"
	objs[3] = "<</Type /Pages /Count " + fmt.Sprint(n) + " /Kids [" + strings.Join(kids, " ") + "] /Parent 3 0 R>>"
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xd3\xeb\xe9\xe1\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d /Root 2 0 R /Info 1 0 R>>\nstartxref\n%d\n%%%%EOF", len(objs)+1, xref)
	return b.Bytes()
}

func TestJoin(t *testing.T) {
	a, b := minimalPDF(2, "alpha", nil), minimalPDF(3, "beta", map[int]int{0: 5, 2: 6})
	pa, err := readPages(a)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := readPages(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(pa.ranges()); got != "[{-1 0 2}]" {
		t.Errorf("ranges of a = %s", got)
	}
	if got := fmt.Sprint(pb.ranges()); got != "[{5 0 2} {6 2 3}]" {
		t.Errorf("ranges of b = %s", got)
	}
	var out bytes.Buffer
	j := newJoiner(&out)
	for _, r := range []struct {
		p        *pdfPages
		from, to int
	}{{pa, 0, 2}, {pb, 0, 2}, {pb, 2, 3}} {
		if err := j.addPages(r.p, r.from, r.to, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	joined := out.Bytes()
	pj, err := readPages(joined)
	if err != nil {
		t.Fatal(err)
	}
	if len(pj.pages) != 5 {
		t.Fatalf("joined: %d pages, want 5", len(pj.pages))
	}
	stamps := []string{"page 1 of 2", "page 2 of 2", "page 1 of 2", "page 2 of 2", "page 1 of 1"}
	texts := []string{"alpha page 1", "alpha page 2", "beta page 1", "beta page 2", "beta page 3"}
	for i, pg := range pj.pages {
		d := string(dictOf(pj.objs[pg]))
		if !strings.Contains(d, fmt.Sprintf("/Parent %d 0 R", joinedPages)) {
			t.Errorf("page %d is not under the joined tree: %s", i+1, d)
		}
		if !strings.Contains(d, "/Font << /MsPg 3 0 R /F1") {
			t.Errorf("page %d lacks the stamp's font: %s", i+1, d)
		}
		m := regexp.MustCompile(`/Contents \[4 0 R (\d+) 0 R (\d+) 0 R\]`).FindStringSubmatch(d)
		if m == nil {
			t.Errorf("page %d's contents are not wrapped and stamped: %s", i+1, d)
			continue
		}
		var own, stamp int
		fmt.Sscan(m[1], &own)
		fmt.Sscan(m[2], &stamp)
		if !strings.Contains(string(pj.objs[own]), texts[i]) {
			t.Errorf("page %d shows %q, want %q", i+1, pj.objs[own], texts[i])
		}
		if !strings.Contains(string(pj.objs[stamp]), "("+stamps[i]+") Tj") {
			t.Errorf("page %d is stamped %q, want %q", i+1, pj.objs[stamp], stamps[i])
		}
		if !strings.Contains(d, `(see \) 3 0 R)`) {
			t.Errorf("a string was renumbered: %s", d)
		}
		if strings.Contains(d, "/Annots") {
			t.Errorf("page %d keeps its mark: %s", i+1, d)
		}
	}
	for _, s := range []string{"a 1 0 R title", "paper.invalid"} {
		if bytes.Contains(joined, []byte(s)) {
			t.Errorf("the joined PDF holds %q", s)
		}
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		text := pdftotext(t, joined)
		if n := pdfinfoPages(t, joined); n != 5 {
			t.Errorf("pdfinfo counts %d pages", n)
		}
		for _, s := range append(stamps, texts...) {
			if !strings.Contains(text, s) {
				t.Errorf("pdftotext finds no %q in\n%s", s, text)
			}
		}
	}
}

func TestJoinRefuses(t *testing.T) {
	for name, data := range map[string][]byte{
		"not a PDF":        []byte("hello"),
		"no startxref":     []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"),
		"object streams":   append(minimalPDF(1, "x", nil), []byte("\n% /Type /ObjStm")...),
		"a truncated file": minimalPDF(1, "x", nil)[:200],
	} {
		if _, err := readPages(data); err == nil {
			t.Errorf("%s: read", name)
		}
	}
	p, _ := readPages(minimalPDF(2, "x", nil))
	if err := newJoiner(&bytes.Buffer{}).addPages(p, 1, 3, false); err == nil {
		t.Error("joined pages past the end")
	}
	if err := newJoiner(&bytes.Buffer{}).close(); err == nil {
		t.Error("joined nothing")
	}
}

func TestRenumber(t *testing.T) {
	for in, want := range map[string]string{
		"<</A 1 0 R /B [2 0 R 3 1 R] /C (4 0 R) /D <0A0B> /E 12 /F 5.5>>": "<</A 11 0 R /B [12 0 R 13 1 R] /C (4 0 R) /D <0A0B> /E 12 /F 5.5>>",
		"<</Length 3>> stream\n1 0 R\nendstream":                          "<</Length 3>> stream\n1 0 R\nendstream",
		"<</N /F1 0 R>>":                                                  "<</N /F1 0 R>>",
		"[1 0 R%c 2 0 R\n3 0 R]":                                          "[11 0 R%c 2 0 R\n13 0 R]",
	} {
		if got := string(renumber([]byte(in), 10)); got != want {
			t.Errorf("renumber(%q) = %q, want %q", in, got, want)
		}
	}
}
