package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/internal/view"
	"github.com/marksmith/marksmith/paper"
	"github.com/marksmith/marksmith/web"
)

const paperUsage = `usage: marksmith paper --exam ID [--student KEY] [--key] --out FILE.pdf|.zip|.html [--server URL]
       marksmith paper --template ID[,ID...] [--seed S] [--count N] [--key] --out FILE.pdf|.zip|.html

With --exam, prints a published exam's stored papers (or, with --key, the markers'
keys) from a running server: every student's, or one student's (student number or
email). The whole class's PDF or zip is printed as a print job on the server, which
the command waits for (the progress bar counts the students printed) and then
downloads. The server is --server or MARKSMITH_SERVER (default http://localhost:8080);
the access token of its instructor or an admin is MARKSMITH_TOKEN.

With --template, prints N papers of templates of the built-in bank (or template
files, or templates in the folder given with --bank DIR) without a server: paper i is
drawn as student i of an exam with seed S, and has paper code E1-S0000i-…

The format is the extension of --out: one PDF, a zip of one PDF per student, or one
HTML page. PDFs are printed with headless Chromium (--chromium, default: found on the
PATH).`

// runPaper is the paper command.
func runPaper(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	fl := flag.NewFlagSet("paper", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprintln(stderr, paperUsage+"\n\nflags:"); fl.PrintDefaults() }
	exam := fl.Int64("exam", 0, "exam id, printed from a server")
	student := fl.String("student", "", "with --exam: one student, by student number or email")
	server := fl.String("server", "", "with --exam: the server's URL (default MARKSMITH_SERVER, or http://localhost:8080)")
	tmpl := fl.String("template", "", "template ids, comma-separated, printed without a server")
	seed := fl.Uint64("seed", 1, "with --template: the exam seed the papers are drawn from")
	count := fl.Int("count", 1, "with --template: how many papers, 1 to 5000")
	key := fl.Bool("key", false, "print the markers' keys and marking schemes instead")
	out := fl.String("out", "", "file to write: .pdf, .zip or .html (required)")
	extra := fl.String("bank", "", "with --template: folder of extra templates")
	chromium := fl.String("chromium", "", "the browser to print with")
	quiet := fl.Bool("quiet", false, "no progress bar")
	if err := fl.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return &exitError{code: 2, err: err}
	}
	usageErr := func(format string, a ...any) error {
		return &exitError{code: 2, err: fmt.Errorf("paper: "+format, a...)}
	}
	if fl.NArg() > 0 {
		return usageErr("takes no arguments, got %q", fl.Args())
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(*out)), ".")
	switch {
	case *out == "":
		return usageErr("--out FILE is required (.pdf, .zip or .html)")
	case format != "pdf" && format != "zip" && format != "html":
		return usageErr("--out %s: the file must end in .pdf, .zip or .html", *out)
	case (*exam == 0) == (*tmpl == ""):
		return usageErr("give --exam ID (from a server) or --template ID (from the bank), not both")
	case *exam < 0:
		return usageErr("--exam must be a positive exam id")
	case *tmpl != "" && (*count < 1 || *count > 5000):
		return usageErr("--count must be from 1 to 5000")
	case *exam != 0 && (*count != 1 || *extra != ""):
		return usageErr("--count and --bank go with --template, not --exam")
	case *tmpl != "" && (*student != "" || *server != ""):
		return usageErr("--student and --server go with --exam, not --template")
	}
	bar := func(max int64, desc string) *progressbar.ProgressBar {
		if f, ok := stderr.(*os.File); !ok || *quiet || !term.IsTerminal(int(f.Fd())) {
			return nil
		}
		return progressbar.NewOptions64(max, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
	}
	return writeAtomic(*out, func(w io.Writer) (string, error) {
		if *exam != 0 {
			base := *server
			if base == "" {
				base = getenv("MARKSMITH_SERVER")
			}
			if base == "" {
				base = "http://localhost:8080"
			}
			return fetchPapers(ctx, w, base, getenv("MARKSMITH_TOKEN"), *exam, *student, *key, format, bar, stderr)
		}
		doc, err := bankDocument(*tmpl, *extra, *seed, *count, *key)
		if err != nil {
			return "", &exitError{code: 2, err: fmt.Errorf("paper: %w", err)}
		}
		return printDocument(ctx, w, doc, format, *chromium, bar)
	}, stdout)
}

// writeAtomic writes a file through a temporary file beside it, renamed
// into place once complete, so that a failed print never leaves half a
// file where a good one was; it reports what was written.
func writeAtomic(name string, write func(w io.Writer) (string, error), stdout io.Writer) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".marksmith-paper-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	what, err := write(tmp)
	if err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A temporary file is private; the papers are a file like any other.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s\n", name, what)
	return nil
}

// bankDocument draws count papers of the templates as the students of an
// exam with the seed (paper i as student i, distinct where the templates
// allow), in the templates' order.
func bankDocument(ids, extra string, seed uint64, count int, key bool) (paper.Document, error) {
	set, err := loadSet(extra)
	if err != nil {
		return paper.Document{}, err
	}
	students := make([]paper.Student, count)
	keys := make([]string, count)
	for i := range students {
		num := fmt.Sprintf("S%05d", i+1)
		students[i] = paper.Student{UserID: int64(i + 1), Name: "Student " + strconv.Itoa(i+1), Number: num}
		keys[i] = num
	}
	pos := 0
	for _, id := range strings.Split(ids, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		t, err := set.find(id)
		if err != nil {
			return paper.Document{}, err
		}
		pos++
		cohort, err := t.Generator().DrawCohort(seed, t.ID, keys, 8)
		if err != nil {
			return paper.Document{}, fmt.Errorf("%s: %w", id, err)
		}
		for i := range students {
			v, err := t.Variant(cohort.Seeds[i])
			if err != nil {
				return paper.Document{}, fmt.Errorf("%s: paper %d: %w", id, i+1, err)
			}
			students[i].Questions = append(students[i].Questions, bankQuestion(v, pos, key))
		}
	}
	if pos == 0 {
		return paper.Document{}, errors.New("--template names no template")
	}
	return paper.Document{Exam: paper.Exam{ID: 1, Title: "Marksmith papers", Subtitle: fmt.Sprintf("seed %d", seed)},
		Students: students, Key: key, Summary: key}, nil
}

func bankQuestion(v *bank.Variant, position int, key bool) marksmith.Question {
	q := view.Question(v, view.Options{Key: key})
	q.Position, q.Order, q.Marks = position, position, v.Marks
	return q
}

// printDocument writes the document as HTML, one PDF or a zip of PDFs,
// with a progress bar of students printed.
func printDocument(ctx context.Context, w io.Writer, doc paper.Document, format, chromium string, bar func(int64, string) *progressbar.ProgressBar) (string, error) {
	if format == "html" {
		if err := paper.Render(w, doc, paper.Options{}); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d papers as HTML", len(doc.Students)), nil
	}
	p, err := paper.NewPrinter(ctx, paper.PrinterOptions{Chromium: chromium, KaTeX: web.KaTeX()})
	if err != nil {
		return "", err
	}
	defer p.Close()
	b := bar(int64(len(doc.Students)), "printing")
	progress := func(done, total int) {
		if b != nil {
			_ = b.Set(done)
		}
	}
	printTo := p.PDF
	if format == "zip" {
		printTo = p.Zip
	}
	rep, err := printTo(ctx, w, doc, progress)
	if b != nil {
		_ = b.Finish()
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d papers, %d pages in %s (%.1f pages/s; Chromium loading %s, printing %s, summed over tabs)",
		rep.Students, rep.Pages, rep.Wall.Round(time.Millisecond), rep.PagesPerSecond(),
		rep.Load.Round(time.Millisecond), rep.Print.Round(time.Millisecond)), nil
}

// fetchPapers downloads an exam's papers from a server: the whole class
// as PDF or zip through a print job (POST /api/v1/exams/{id}/papers/jobs,
// polled until done), which no request limit stops; one student, or
// HTML, from GET /api/v1/exams/{id}/papers at once. A progress bar shows
// the students printed, then the bytes received.
func fetchPapers(ctx context.Context, w io.Writer, base, token string, exam int64, student string, key bool, format string,
	bar func(int64, string) *progressbar.ProgressBar, stderr io.Writer) (string, error) {
	if token == "" {
		return "", &exitError{code: 2, err: errors.New("paper: MARKSMITH_TOKEN is empty: set it to an access token of the exam's instructor or an admin")}
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &exitError{code: 2, err: fmt.Errorf("paper: --server %q is not an http(s) URL", base)}
	}
	srv := &paperServer{base: u, token: token}
	papers := []string{"api", "v1", "exams", strconv.FormatInt(exam, 10), "papers"}
	q := url.Values{"format": {format}}
	if key {
		q.Set("key", "true")
	}
	if student == "" && format != "html" {
		return srv.printJob(ctx, w, exam, append(papers, "jobs"), q, bar, stderr)
	}
	if student != "" {
		q.Set("student", student)
	}
	n, err := srv.download(ctx, w, papers, q, bar)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("exam %d, %d bytes", exam, n), nil
}

// paperServer is a Marksmith server the paper command prints from.
type paperServer struct {
	base  *url.URL
	token string
}

// send sends a request with the token and returns the response of a 2xx;
// any other status is an error with the API's message.
func (s *paperServer) send(ctx context.Context, method string, path []string, q url.Values) (*http.Response, error) {
	u := s.base.JoinPath(path...)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("paper: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, fmt.Errorf("paper: %s: %s", resp.Status, serverMessage(resp.Body))
	}
	return resp, nil
}

// job sends a request whose answer is a print job.
func (s *paperServer) job(ctx context.Context, method string, path []string, q url.Values) (*marksmith.PrintJob, error) {
	resp, err := s.send(ctx, method, path, q)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var j marksmith.PrintJob
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&j); err != nil || j.ID < 1 {
		return nil, fmt.Errorf("paper: %s %s: not a print job: %v", method, resp.Request.URL.Path, err)
	}
	return &j, nil
}

// printJob queues a print job, waits for it with a progress bar of the
// students printed, and downloads its file.
func (s *paperServer) printJob(ctx context.Context, w io.Writer, exam int64, jobs []string, q url.Values,
	bar func(int64, string) *progressbar.ProgressBar, stderr io.Writer) (string, error) {
	job, err := s.job(ctx, http.MethodPost, jobs, q)
	if err != nil {
		return "", err
	}
	path := slices.Concat(jobs, []string{strconv.FormatInt(job.ID, 10)})
	where := "/" + strings.Join(path, "/")
	fmt.Fprintf(stderr, "print job %d of exam %d: %d students, %s\n", job.ID, exam, job.Total, job.Status)
	b := bar(int64(job.Total), "printing")
	for job.Status == marksmith.JobQueued || job.Status == marksmith.JobRunning {
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("paper: stopped waiting; the job goes on: GET %s", where)
		case <-time.After(pollInterval):
		}
		if job, err = s.job(ctx, http.MethodGet, path, nil); err != nil {
			return "", err
		}
		if b != nil {
			_ = b.Set(job.Done)
		}
	}
	if b != nil {
		_ = b.Finish()
	}
	if job.Status != marksmith.JobDone {
		return "", fmt.Errorf("paper: print job %d %s: %s", job.ID, job.Status, job.Error)
	}
	n, err := s.download(ctx, w, slices.Concat(path, []string{"file"}), nil, bar)
	if err != nil {
		return "", err
	}
	if n != job.Bytes {
		return "", fmt.Errorf("paper: received %d bytes of print job %d's %d", n, job.ID, job.Bytes)
	}
	return fmt.Sprintf("exam %d, print job %d: %d students, %d pages, %d bytes", exam, job.ID, job.Done, job.Pages, n), nil
}

// download writes what a GET answers to w, with a progress bar of bytes.
func (s *paperServer) download(ctx context.Context, w io.Writer, path []string, q url.Values, bar func(int64, string) *progressbar.ProgressBar) (int64, error) {
	resp, err := s.send(ctx, http.MethodGet, path, q)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	if b := bar(resp.ContentLength, "receiving"); b != nil {
		defer b.Finish()
		r := progressbar.NewReader(resp.Body, b)
		body = &r
	}
	n, err := io.Copy(w, body)
	if err != nil {
		return n, fmt.Errorf("paper: receiving: %w", err)
	}
	return n, nil
}

// serverMessage is the message of an error response of the API, or its
// first bytes.
func serverMessage(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 4096))
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	return strings.TrimSpace(string(b))
}
