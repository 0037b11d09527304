package paper

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/marksmith/marksmith/papercode"
)

// ErrNoChromium is the error (wrapped) NewPrinter returns when it finds no
// Chromium to print with.
var ErrNoChromium = errors.New("no Chromium found: install Debian's chromium package, or name the browser")

// PrinterOptions configure a Printer.
type PrinterOptions struct {
	// Chromium is the browser to run; "" looks for chromium,
	// chromium-browser, google-chrome and headless-shell on the PATH.
	Chromium string
	// KaTeX is KaTeX's distribution folder (katex.min.js, katex.min.css
	// and fonts/), served to the browser to typeset math; nil prints math
	// as written.
	KaTeX fs.FS
	// Tabs is how many prints run at once; 0 means 2.
	Tabs int
	// Batch is how many students' papers one print takes (Chromium's
	// cost per print is high: a batch of ten prints about twice as fast
	// as ten prints); 0 means 10.
	Batch int
	// Timeout limits the printing of one paper; 0 means 20 seconds. A
	// batch has its papers' time.
	Timeout time.Duration
	// PageSize is "A4" (the default) or "Letter".
	PageSize string
}

// Printer prints documents to PDF with one headless Chromium, a few tabs
// at a time, reused from one document to the next. It serves the papers
// to the browser itself, on a loopback address, and Chromium fetches
// nothing else: the browser's background networking is off and each page
// allows only its own origin. A Printer is safe for concurrent use; Close
// ends the browser.
type Printer struct {
	opt     PrinterOptions
	dir     string // the browser's profile, removed at Close
	srv     *http.Server
	base    string // http://127.0.0.1:port
	tabs    chan context.Context
	closeFn []func()

	mu   sync.Mutex
	docs map[string]*job
}

// Report says what a print did and where its time went. Render, Load,
// Math and Print are summed over the tabs, so with several tabs they add
// up to more than Wall.
type Report struct {
	Students   int           `json:"students"`
	Documents  int           `json:"documents"` // prints: batches of students, and the summary
	Pages      int           `json:"pages"`
	Bytes      int64         `json:"bytes"`
	Wall       time.Duration `json:"wall"`
	Render     time.Duration `json:"render"` // writing the HTML (Go)
	Load       time.Duration `json:"load"`   // Chromium loading and laying out each paper, typesetting included
	Math       time.Duration `json:"math"`   // KaTeX typesetting, within Load
	Print      time.Duration `json:"print"`  // Chromium printing to PDF
	Join       time.Duration `json:"join"`   // joining the PDFs into one, and zipping
	MathErrors int           `json:"math_errors"`
}

// PagesPerSecond is the pages printed per second of wall time.
func (r *Report) PagesPerSecond() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.Pages) / r.Wall.Seconds()
}

// NewPrinter starts Chromium and the server it prints from.
func NewPrinter(ctx context.Context, opt PrinterOptions) (*Printer, error) {
	if opt.Tabs <= 0 {
		opt.Tabs = 2
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 20 * time.Second
	}
	if opt.Batch <= 0 {
		opt.Batch = 10
	}
	if opt.PageSize != "" && opt.PageSize != "A4" && opt.PageSize != "Letter" {
		return nil, fmt.Errorf("paper: page size %q: A4 or Letter", opt.PageSize)
	}
	path, err := findChromium(opt.Chromium)
	if err != nil {
		return nil, err
	}
	p := &Printer{opt: opt, docs: map[string]*job{}, tabs: make(chan context.Context, opt.Tabs)}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	if p.dir, err = os.MkdirTemp("", "marksmith-chromium-"); err != nil {
		return nil, fmt.Errorf("paper: a profile folder for Chromium: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("paper: listen on loopback: %w", err)
	}
	p.base = "http://" + ln.Addr().String()
	p.srv = &http.Server{Handler: p.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	p.closeFn = append(p.closeFn, func() { _ = p.srv.Close() })

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(p.dir),
	)
	p.closeFn = append(p.closeFn, cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	p.closeFn = append(p.closeFn, cancelBrowser)
	// The first call starts the browser; it lives as long as browser.
	if err := chromedp.Do(browser); err != nil {
		return nil, fmt.Errorf("paper: start %s: %w", path, err)
	}
	for i := 0; i < opt.Tabs; i++ {
		tab, cancel := chromedp.NewContext(browser)
		p.closeFn = append(p.closeFn, cancel)
		if err := chromedp.Do(tab); err != nil {
			return nil, fmt.Errorf("paper: open a tab: %w", err)
		}
		p.tabs <- tab
	}
	ok = true
	return p, nil
}

// Close ends the browser and the server, and removes the profile.
func (p *Printer) Close() error {
	for i := len(p.closeFn) - 1; i >= 0; i-- {
		p.closeFn[i]()
	}
	p.closeFn = nil
	if p.dir != "" {
		err := os.RemoveAll(p.dir)
		p.dir = ""
		return err
	}
	return nil
}

// findChromium returns the browser to run.
func findChromium(name string) (string, error) {
	names := []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}
	if name != "" {
		names = []string{name}
	}
	for _, n := range names {
		if path, err := exec.LookPath(n); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("paper: %w (looked for %s)", ErrNoChromium, strings.Join(names, ", "))
}

// A job is a document being printed: its renderer and its time spent
// writing HTML.
type job struct {
	r      *renderer
	render atomic.Int64
}

// unitSummary is the unit of a document's summary of keys; the others are
// students' indices.
const unitSummary = -1

var reDocPath = regexp.MustCompile(`^/d/([0-9a-f]{32})/(s|([0-9]+)-([0-9]+))\.html$`)

// handler serves the documents being printed and KaTeX's files.
func (p *Printer) handler() http.Handler {
	mux := http.NewServeMux()
	if p.opt.KaTeX != nil {
		mux.Handle("/katex/", http.StripPrefix("/katex/", http.FileServer(http.FS(p.opt.KaTeX))))
	}
	mux.HandleFunc("/d/", func(w http.ResponseWriter, r *http.Request) {
		m := reDocPath.FindStringSubmatch(r.URL.Path)
		if m == nil {
			http.NotFound(w, r)
			return
		}
		p.mu.Lock()
		j := p.docs[m[1]]
		p.mu.Unlock()
		if j == nil {
			http.NotFound(w, r)
			return
		}
		start := time.Now()
		var b bytes.Buffer
		var err error
		if m[2] == "s" {
			err = j.r.write(&b, nil, true, true)
		} else {
			from, _ := strconv.Atoi(m[3])
			to, _ := strconv.Atoi(m[4])
			if from >= to || to > len(j.r.students) {
				http.NotFound(w, r)
				return
			}
			students := make([]int, 0, to-from)
			for i := from; i < to; i++ {
				students = append(students, i)
			}
			err = j.r.write(&b, students, false, true)
		}
		j.render.Add(int64(time.Since(start)))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(b.Bytes())
	})
	return mux
}

// printed is one unit's PDF and its timings.
type printed struct {
	pdf        []byte
	load, math time.Duration
	print      time.Duration
	mathErrors int
}

// PDF prints the document as one PDF: each student's paper (or key),
// then, with Summary, the summary of keys, each paper's pages numbered
// "page x of y" of that paper. progress, when set, is called (never
// concurrently) with the students printed so far.
func (p *Printer) PDF(ctx context.Context, w io.Writer, doc Document, progress func(done, total int)) (*Report, error) {
	return p.pdf(ctx, w, doc, students(progress))
}

// Zip prints one PDF per student (and, with Summary, summary.pdf) into a
// zip archive, each named by its paper code and student number:
// E12-S00345-2_3035123456.pdf, or key-….pdf for keys.
func (p *Printer) Zip(ctx context.Context, w io.Writer, doc Document, progress func(done, total int)) (*Report, error) {
	return p.zip(ctx, w, doc, students(progress))
}

// students is a progress function of students printed, as one of
// students and pages.
func students(progress func(done, total int)) func(done, total, pages int) {
	if progress == nil {
		return nil
	}
	return func(done, total, _ int) { progress(done, total) }
}

// pdf is PDF, reporting the pages printed too.
func (p *Printer) pdf(ctx context.Context, w io.Writer, doc Document, progress func(done, total, pages int)) (*Report, error) {
	start := time.Now()
	jn := newJoiner(w)
	rep, err := p.run(ctx, doc, progress, func(u unit, pp *pdfPages, ranges []pageRange) error {
		for _, r := range ranges {
			if err := jn.addPages(pp, r.From, r.To, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := time.Now()
	if err := jn.close(); err != nil {
		return nil, err
	}
	rep.Join += time.Since(t)
	rep.Bytes = jn.n
	rep.Wall = time.Since(start)
	return rep, nil
}

// zip is Zip, reporting the pages printed too.
func (p *Printer) zip(ctx context.Context, w io.Writer, doc Document, progress func(done, total, pages int)) (*Report, error) {
	start := time.Now()
	cw := &countWriter{w: w}
	zw := zip.NewWriter(cw)
	names := map[string]int{}
	rep, err := p.run(ctx, doc, progress, func(u unit, pp *pdfPages, ranges []pageRange) error {
		for _, r := range ranges {
			name := "summary.pdf"
			if r.Mark >= 0 {
				s := doc.Students[r.Mark]
				code, _ := papercode.New(doc.Exam.ID, s.UserID)
				name = code.String()
				if n := fileSafe(s.Number); n != "" {
					name += "_" + n
				}
				if doc.Key {
					name = "key-" + name
				}
				names[name]++
				if names[name] > 1 {
					name += "-" + strconv.Itoa(names[name])
				}
				name += ".pdf"
			}
			var b bytes.Buffer
			jn := newJoiner(&b)
			if err := jn.addPages(pp, r.From, r.To, true); err != nil {
				return err
			}
			if err := jn.close(); err != nil {
				return err
			}
			f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: start})
			if err != nil {
				return err
			}
			if _, err := f.Write(b.Bytes()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	rep.Bytes = cw.n
	rep.Wall = time.Since(start)
	return rep, nil
}

// unit is one print: students [from, to), or the summary of keys.
type unit struct {
	from, to int
	summary  bool
}

func (u unit) path() string {
	if u.summary {
		return "s"
	}
	return strconv.Itoa(u.from) + "-" + strconv.Itoa(u.to)
}

// run prints every unit of a document, a tab each, and hands the printed
// PDFs, split into the students' page ranges, to emit in the document's
// order. progress is called after each unit of students is emitted, with
// the students and pages so far.
func (p *Printer) run(ctx context.Context, doc Document, progress func(done, total, pages int), emit func(u unit, pp *pdfPages, ranges []pageRange) error) (*Report, error) {
	opt := Options{PageSize: p.opt.PageSize}
	if p.opt.KaTeX != nil {
		opt.KaTeX = "/katex/"
	}
	r, err := newRenderer(doc, opt)
	if err != nil {
		return nil, err
	}
	j := &job{r: r}
	var key [16]byte
	_, _ = rand.Read(key[:])
	id := hex.EncodeToString(key[:])
	p.mu.Lock()
	p.docs[id] = j
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.docs, id)
		p.mu.Unlock()
	}()

	var units []unit
	for from := 0; from < len(doc.Students); from += p.opt.Batch {
		units = append(units, unit{from: from, to: min(len(doc.Students), from+p.opt.Batch)})
	}
	if doc.Key && doc.Summary {
		units = append(units, unit{summary: true})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Workers print units; results come back in any order and are emitted
	// in the document's order.
	type result struct {
		idx int
		out printed
		err error
	}
	next := make(chan int)
	results := make(chan result)
	var wg sync.WaitGroup
	for w := 0; w < cap(p.tabs); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tab context.Context
			select {
			case tab = <-p.tabs:
			case <-ctx.Done():
				return
			}
			dirty := false // a print in this tab failed or was cut short
			defer func() {
				if dirty {
					resetTab(tab)
				}
				p.tabs <- tab
			}()
			for idx := range next {
				u := units[idx]
				size := u.to - u.from
				if u.summary {
					size = 1 + len(doc.Students)/20
				}
				out, err := p.printOne(ctx, tab, p.base+"/d/"+id+"/"+u.path()+".html", time.Duration(size)*p.opt.Timeout)
				dirty = dirty || err != nil
				select {
				case results <- result{idx, out, err}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range units {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	rep := &Report{Students: len(doc.Students), Documents: len(units)}
	pending := map[int]printed{}
	emitted, done := 0, 0
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	for res := range results {
		if firstErr != nil {
			continue
		}
		if res.err != nil {
			fail(fmt.Errorf("paper: print %s: %w", unitName(doc, units[res.idx]), res.err))
			continue
		}
		pending[res.idx] = res.out
		for firstErr == nil {
			out, ok := pending[emitted]
			if !ok {
				break
			}
			delete(pending, emitted)
			u := units[emitted]
			t := time.Now()
			pp, err := readPages(out.pdf)
			var ranges []pageRange
			if err == nil {
				ranges, err = checkRanges(pp.ranges(), u)
			}
			if err == nil {
				err = emit(u, pp, ranges)
			}
			rep.Join += time.Since(t)
			if err != nil {
				fail(fmt.Errorf("paper: %s: %w", unitName(doc, u), err))
				break
			}
			rep.Pages += len(pp.pages)
			rep.Load += out.load
			rep.Math += out.math
			rep.Print += out.print
			rep.MathErrors += out.mathErrors
			emitted++
			if !u.summary {
				done += u.to - u.from
				if progress != nil {
					progress(done, len(doc.Students), rep.Pages)
				}
			}
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if emitted != len(units) {
		return nil, fmt.Errorf("paper: printed %d of %d documents", emitted, len(units))
	}
	rep.Render = time.Duration(j.render.Load())
	return rep, nil
}

// checkRanges checks that a printed unit's page ranges are its students',
// each marked, in order (or, for the summary, one range without a mark).
func checkRanges(ranges []pageRange, u unit) ([]pageRange, error) {
	if u.summary {
		if len(ranges) != 1 || ranges[0].Mark != -1 {
			return nil, errors.New("the summary's pages are not one run")
		}
		return ranges, nil
	}
	if len(ranges) != u.to-u.from {
		return nil, fmt.Errorf("found %d students' first pages, want %d", len(ranges), u.to-u.from)
	}
	for i, r := range ranges {
		if r.Mark != u.from+i {
			return nil, fmt.Errorf("the %d-th paper is marked as student %d, want %d", i+1, r.Mark, u.from+i)
		}
	}
	return ranges, nil
}

func unitName(doc Document, u unit) string {
	if u.summary {
		return "the summary of keys"
	}
	if u.to-u.from == 1 {
		s := doc.Students[u.from]
		return fmt.Sprintf("the paper of %s (%s)", s.Number, s.Name)
	}
	return fmt.Sprintf("the papers of students %d to %d", u.from+1, u.to)
}

// resetTab leaves a tab whose print was cut short on a blank page, so that
// a navigation still under way there cannot abort the next print's.
func resetTab(tab context.Context) {
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	_ = chromedp.Do(ctx, chromedp.Navigate("about:blank"))
}

// printOne loads one page in a tab, waits for it to be typeset, and prints
// it.
func (p *Printer) printOne(ctx context.Context, tab context.Context, url string, timeout time.Duration) (printed, error) {
	var out printed
	run, cancel := context.WithTimeout(tab, timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	t0 := time.Now()
	err := chromedp.Do(run,
		chromedp.Navigate(url),
		chromedp.WaitReady(chromedp.CSS(`html[data-paper-ready="1"]`)),
	)
	var attrs map[string]string
	if err == nil {
		attrs, err = chromedp.Run(run, chromedp.Attributes(chromedp.CSS("html")))
	}
	if err != nil {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		return out, fmt.Errorf("load %s: %w", url, err)
	}
	out.load = time.Since(t0)
	if ms, err := strconv.Atoi(attrs["data-math-ms"]); err == nil {
		out.math = time.Duration(ms) * time.Millisecond
	}
	out.mathErrors, _ = strconv.Atoi(attrs["data-math-errors"])
	t1 := time.Now()
	untagged := func(p *page.PrintToPDFParams) {
		no := false
		p.GenerateTaggedPDF = &no
		p.GenerateDocumentOutline = &no
	}
	out.pdf, err = chromedp.Run(run, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground(), untagged))
	if err != nil {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		return out, fmt.Errorf("print %s: %w", url, err)
	}
	out.print = time.Since(t1)
	return out, nil
}

// fileSafe keeps the letters, digits, dots, hyphens and underscores of s,
// for a file name.
func fileSafe(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteRune(c)
		}
	}
	return strings.Trim(b.String(), ".")
}

// countWriter counts what it writes.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
