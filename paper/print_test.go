package paper

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith/internal/testenv"
	"github.com/marksmith/marksmith/papercode"
)

// The printing tests need Debian's chromium and poppler-utils (pdftotext,
// pdfinfo), and KaTeX's distribution: from MARKSMITH_KATEX_DIR, the web
// package's vendored copy, or the npm registry (katex@0.19.1, unpacked
// once into the user's cache). Under CI=true a missing one fails the
// test; elsewhere the test is skipped, saying why.

const katexVersion = "0.19.1"

func need(t testing.TB, format string, args ...any) {
	t.Helper()
	testenv.Need(t, format, args...)
}

func requireTools(t testing.TB) {
	t.Helper()
	if _, err := findChromium(""); err != nil {
		need(t, "%v: apt-get install chromium", err)
	}
	for _, tool := range []string{"pdftotext", "pdfinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			need(t, "no %s: apt-get install poppler-utils", tool)
		}
	}
}

var katexOnce struct {
	sync.Once
	dir string
	err string
}

// katexFS returns KaTeX's distribution folder.
func katexFS(t testing.TB) fs.FS {
	t.Helper()
	katexOnce.Do(func() { katexOnce.dir, katexOnce.err = findKaTeX() })
	if katexOnce.dir == "" {
		need(t, "no KaTeX: %s", katexOnce.err)
	}
	return os.DirFS(katexOnce.dir)
}

func findKaTeX() (string, string) {
	has := func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, "katex.min.js"))
		return err == nil
	}
	if dir := os.Getenv("MARKSMITH_KATEX_DIR"); dir != "" {
		if has(dir) {
			return dir, ""
		}
		return "", "MARKSMITH_KATEX_DIR has no katex.min.js"
	}
	if has("../web/static/vendor/katex") {
		return "../web/static/vendor/katex", ""
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "marksmith-test", "katex-"+katexVersion)
	if has(dir) {
		return dir, ""
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", "no npm to fetch katex@" + katexVersion + " with (or set MARKSMITH_KATEX_DIR)"
	}
	tmp, err := os.MkdirTemp("", "katex-")
	if err != nil {
		return "", err.Error()
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "pack", "katex@"+katexVersion, "--pack-destination", tmp, "--silent")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "npm pack katex@" + katexVersion + ": " + err.Error() + ": " + string(out)
	}
	if err := untarDist(filepath.Join(tmp, "katex-"+katexVersion+".tgz"), dir); err != nil {
		return "", err.Error()
	}
	return dir, ""
}

// untarDist unpacks the dist folder of an npm package's tarball into dir.
func untarDist(tgz, dir string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tmp := dir + ".part"
	os.RemoveAll(tmp)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name, ok := strings.CutPrefix(h.Name, "package/dist/")
		if !ok || h.Typeflag != tar.TypeReg || strings.Contains(name, "..") {
			continue
		}
		path := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		out, err := os.Create(path)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
	return os.Rename(tmp, dir)
}

func newPrinter(t testing.TB, katex bool) *Printer {
	t.Helper()
	requireTools(t)
	opt := PrinterOptions{Tabs: 2, Batch: 2}
	if katex {
		opt.KaTeX = katexFS(t)
	}
	p, err := NewPrinter(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func pdftotext(t testing.TB, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func pdfinfoPages(t testing.TB, pdf []byte) int {
	t.Helper()
	path := filepath.Join(t.TempDir(), "info.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdfinfo", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v: %s", err, out)
	}
	if strings.Contains(string(out), "Syntax Error") || strings.Contains(string(out), "Syntax Warning") {
		t.Errorf("pdfinfo finds the PDF malformed:\n%s", out)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("pdfinfo gave no page count:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

var rePaperCode = regexp.MustCompile(`E\d+-S\d{5,}-\d`)

// TestPrintPDF prints three students' papers as one PDF and reads each
// paper code and name back from its text.
func TestPrintPDF(t *testing.T) {
	p := newPrinter(t, true)
	students := class(t, 3, false)
	var b bytes.Buffer
	var calls []int
	rep, err := p.PDF(context.Background(), &b, Document{Exam: dasc, Students: students}, func(done, total int) {
		if total != 3 {
			t.Errorf("progress total %d, want 3", total)
		}
		calls = append(calls, done)
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(calls) != "[2 3]" {
		t.Errorf("progress calls %v, want [2 3] (batches of 2)", calls)
	}
	pages := pdfinfoPages(t, b.Bytes())
	if pages != rep.Pages || rep.Bytes != int64(b.Len()) {
		t.Errorf("pdfinfo: %d pages of %d bytes; the report says %d pages of %d bytes", pages, b.Len(), rep.Pages, rep.Bytes)
	}
	// A cover and the eight questions: between 5 and 20 pages each.
	if pages < 3*5 || pages > 3*20 {
		t.Errorf("%d pages for 3 students", pages)
	}
	if rep.MathErrors != 0 {
		t.Errorf("%d math errors", rep.MathErrors)
	}
	text := pdftotext(t, b.Bytes())
	pagesText := strings.Split(text, "\f")
	codes := map[string]bool{}
	for _, m := range rePaperCode.FindAllString(text, -1) {
		c, err := papercode.Parse(m)
		if err != nil {
			t.Errorf("paper code %s read back from the PDF: %v", m, err)
			continue
		}
		codes[c.String()] = true
	}
	for _, s := range students {
		code, _ := papercode.New(dasc.ID, s.UserID)
		if !codes[code.String()] {
			t.Errorf("paper code %s of %s not found in the PDF's text", code, s.Name)
		}
		if !strings.Contains(text, s.Name) || !strings.Contains(text, s.Number) {
			t.Errorf("%s (%s) not found in the PDF's text", s.Name, s.Number)
		}
	}
	// Every page carries its student's code; each student's pages are
	// numbered 1 to y of y.
	perStudent := map[string][]string{}
	for i, pg := range pagesText {
		if strings.TrimSpace(pg) == "" {
			continue
		}
		cs := rePaperCode.FindAllString(pg, -1)
		if len(cs) == 0 {
			t.Errorf("page %d has no paper code", i+1)
			continue
		}
		m := regexp.MustCompile(`page (\d+) of (\d+)`).FindStringSubmatch(pg)
		if m == nil {
			t.Errorf("page %d has no page x of y", i+1)
			continue
		}
		perStudent[cs[0]] = append(perStudent[cs[0]], m[1]+"/"+m[2])
	}
	total := 0
	for code, nums := range perStudent {
		for i, n := range nums {
			if n != strconv.Itoa(i+1)+"/"+strconv.Itoa(len(nums)) {
				t.Errorf("%s: page %d is numbered %s", code, i+1, n)
			}
		}
		total += len(nums)
	}
	if total != pages {
		t.Errorf("%d pages numbered, of %d", total, pages)
	}
	// KaTeX typeset the math: no TeX source is left in the text.
	for _, tex := range []string{`\frac`, `\times`, `$`} {
		if strings.Contains(text, tex) {
			t.Errorf("TeX %q left in the PDF's text", tex)
		}
	}
	t.Logf("%d pages, %d bytes; render %v, load %v (math %v), print %v, join %v, wall %v",
		rep.Pages, rep.Bytes, rep.Render, rep.Load, rep.Math, rep.Print, rep.Join, rep.Wall)
	if os.Getenv("MARKSMITH_KEEP_PDF") != "" {
		_ = os.WriteFile(os.Getenv("MARKSMITH_KEEP_PDF"), b.Bytes(), 0o644)
	}
}

// TestPrintZip prints two students' keys and the summary, one PDF each,
// into a zip.
func TestPrintZip(t *testing.T) {
	p := newPrinter(t, true)
	students := class(t, 2, true)
	var b bytes.Buffer
	rep, err := p.Zip(context.Background(), &b, Document{Exam: dasc, Students: students, Key: true, Summary: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	pages := 0
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, _ := f.Open()
		pdf, _ := io.ReadAll(rc)
		rc.Close()
		pages += pdfinfoPages(t, pdf)
		text := pdftotext(t, pdf)
		if f.Name == "summary.pdf" {
			if !strings.Contains(text, "Summary of keys") || !strings.Contains(text, "173,408,256") {
				t.Errorf("summary.pdf lacks the summary:\n%s", text)
			}
			continue
		}
		if !strings.Contains(text, "Answer key and marking scheme") {
			t.Errorf("%s is not a key", f.Name)
		}
	}
	c0, _ := papercode.New(dasc.ID, students[0].UserID)
	c1, _ := papercode.New(dasc.ID, students[1].UserID)
	want := []string{"key-" + c0.String() + "_" + students[0].Number + ".pdf", "key-" + c1.String() + "_" + students[1].Number + ".pdf", "summary.pdf"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("zip holds %v, want %v", names, want)
	}
	if pages != rep.Pages || rep.Documents != 2 { // a batch of two, and the summary
		t.Errorf("%d pages in the zip, report says %d pages of %d documents", pages, rep.Pages, rep.Documents)
	}
}

// TestPrintCancel stops a print when its context ends.
func TestPrintCancel(t *testing.T) {
	p := newPrinter(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	students := class(t, 6, false)
	_, err := p.PDF(ctx, io.Discard, Document{Exam: dasc, Students: students}, func(done, total int) {
		if done == 2 {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("a cancelled print succeeded")
	}
	// The printer still works after.
	if _, err := p.PDF(context.Background(), io.Discard, Document{Exam: dasc, Students: students[:1]}, nil); err != nil {
		t.Fatalf("after a cancelled print: %v", err)
	}
}

func TestNoChromium(t *testing.T) {
	_, err := NewPrinter(context.Background(), PrinterOptions{Chromium: "no-such-browser-here"})
	if err == nil || !strings.Contains(err.Error(), "no Chromium found") {
		t.Fatalf("error %v, want ErrNoChromium", err)
	}
}
