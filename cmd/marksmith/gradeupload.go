package main

import (
	"bufio"
	"bytes"
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
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/marksmith/marksmith"
)

const gradeUploadUsage = `usage: marksmith grade --exam ID --server URL --answers FILE [--replace] [--dry-run] [--results FILE.csv]

Uploads a cohort's answers to a published exam on a Marksmith server and grades them there
against each student's stored paper: CSV, JSON or JSON lines (by the file's extension, else
sniffed), as docs/paper-exams.md describes. The access token is read from MARKSMITH_TOKEN;
the server from --server or MARKSMITH_SERVER. It waits for the job with a progress bar, then
prints the receipt (the upload's SHA-256 and the rows read, graded, unchanged and rejected)
and each rejected row's line and error, and with --results writes the results file. It exits
1 when a row was rejected or the job failed.`

// pollInterval is how often grade polls an upload job.
var pollInterval = 500 * time.Millisecond

// runGradeUpload is grade's online mode.
func runGradeUpload(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fl := flag.NewFlagSet("grade", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprintln(stderr, gradeUploadUsage) }
	exam := fl.Int64("exam", 0, "the exam's id")
	server := fl.String("server", getenv("MARKSMITH_SERVER"), "the server's URL, e.g. https://marksmith.example.edu")
	answers := fl.String("answers", "", "the file of answers")
	replace := fl.Bool("replace", false, "replace the answers of students who have some (audited)")
	dry := fl.Bool("dry-run", false, "grade and report without storing")
	results := fl.String("results", "", "write the results file here (- for standard output)")
	quiet := fl.Bool("quiet", false, "no progress bar")
	if err := fl.Parse(args); err != nil {
		return &exitError{code: 2, err: err}
	}
	token := getenv("MARKSMITH_TOKEN")
	switch {
	case *exam < 1 || *server == "" || *answers == "":
		fl.Usage()
		return &exitError{code: 2, err: errors.New("grade: --exam, --server (or MARKSMITH_SERVER) and --answers are required")}
	case token == "":
		return &exitError{code: 2, err: errors.New("grade: set MARKSMITH_TOKEN to an access token of the exam's instructor or an admin")}
	}
	base, err := url.Parse(strings.TrimSuffix(*server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return &exitError{code: 2, err: fmt.Errorf("grade: --server %q is not an http(s) URL", *server)}
	}
	f, err := os.Open(*answers)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rows, err := countRows(f)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	c := &client{base: base.String(), token: token, http: &http.Client{Timeout: 10 * time.Minute}}
	q := url.Values{}
	if *replace {
		q.Set("replace", "true")
	}
	if *dry {
		q.Set("dry_run", "true")
	}
	path := fmt.Sprintf("/api/v1/exams/%d/submissions", *exam)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var job marksmith.SubmissionJob
	if err := c.do(ctx, http.MethodPost, path, contentType(*answers), f, st.Size(), &job); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "upload %d of exam %d accepted; grading\n", job.ID, *exam)
	var bar *progressbar.ProgressBar
	if tf, ok := stderr.(*os.File); ok && !*quiet && term.IsTerminal(int(tf.Fd())) {
		bar = progressbar.NewOptions(rows, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("grading"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	}
	jobPath := fmt.Sprintf("/api/v1/exams/%d/submissions/%d", *exam, job.ID)
	for job.Status == marksmith.JobRunning {
		select {
		case <-ctx.Done():
			return fmt.Errorf("grade: stopped waiting; the job goes on: GET %s", jobPath)
		case <-time.After(pollInterval):
		}
		if err := c.do(ctx, http.MethodGet, jobPath, "", nil, 0, &job); err != nil {
			return err
		}
		if bar != nil {
			_ = bar.Set(job.RowsRead)
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	printReceipt(stdout, &job)
	if *results != "" && job.Status == marksmith.JobDone {
		if err := c.results(ctx, jobPath+"/results.csv", *results, stdout); err != nil {
			return err
		}
	}
	switch {
	case job.Status == marksmith.JobFailed:
		return &exitError{code: 1, err: fmt.Errorf("upload %d failed: %s", job.ID, job.Error)}
	case job.Rejected > 0:
		return &exitError{code: 1, err: fmt.Errorf("%d rows were rejected", job.Rejected)}
	}
	return nil
}

// printReceipt writes a job's receipt and its rejected rows.
func printReceipt(w io.Writer, j *marksmith.SubmissionJob) {
	fmt.Fprintf(w, "upload %d: %s\n", j.ID, j.Status)
	fmt.Fprintf(w, "sha256     %s\nbytes      %d\nrows read  %d\n%-10s %d\nunchanged  %d\nrejected   %d\n",
		j.SHA256, j.Bytes, j.RowsRead, "graded", j.Graded, j.Unchanged, j.Rejected)
	if j.DryRun {
		fmt.Fprintln(w, "dry run: nothing was stored")
	}
	for _, e := range j.Errors {
		where := fmt.Sprintf("line %d", e.Line)
		if e.Column > 0 {
			where += fmt.Sprintf(", column %d", e.Column)
		}
		if e.Field != "" {
			where += " (" + e.Field + ")"
		}
		fmt.Fprintf(w, "%s: %s\n", where, e.Message)
	}
	if j.Error != "" {
		fmt.Fprintf(w, "error: %s\n", j.Error)
	}
}

// countRows estimates an upload's rows for the progress bar: its lines,
// less the header of a CSV file; -1 (a spinner) for a JSON array.
func countRows(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := br.Peek(1)
	if err == io.EOF {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	n := 0
	buf := make([]byte, 64<<10)
	for {
		k, err := br.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			break
		} else if err != nil {
			return 0, err
		}
	}
	switch first[0] {
	case '[':
		return -1, nil
	case '{':
		return n, nil
	}
	return max(n-1, 0), nil
}

// contentType is the media type a file's extension names.
func contentType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".tsv", ".txt":
		return "text/csv"
	case ".json":
		return "application/json"
	case ".jsonl", ".ndjson":
		return "application/x-ndjson"
	}
	return "application/octet-stream"
}

// client calls the Marksmith API with a bearer token.
type client struct {
	base, token string
	http        *http.Client
}

// do sends a request and decodes a JSON answer into out; an error answer
// is returned as its message and details.
func (c *client) do(ctx context.Context, method, path, ctype string, body io.Reader, size int64, out any) error {
	req, err := c.request(ctx, method, path, ctype, body, size)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return apiError(method, path, resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	return nil
}

func (c *client) request(ctx context.Context, method, path, ctype string, body io.Reader, size int64) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// results writes a job's results file to name (- for w).
func (c *client) results(ctx context.Context, path, name string, w io.Writer) error {
	req, err := c.request(ctx, http.MethodGet, path, "", nil, 0)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/csv")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return apiError(http.MethodGet, path, resp)
	}
	if name == "-" {
		_, err = io.Copy(w, resp.Body)
		return err
	}
	out, err := os.Create(name)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// apiError reads the API's error shape.
func apiError(method, path string, resp *http.Response) error {
	var e struct {
		Error struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	msg := fmt.Sprintf("%s %s: %s (%s)", method, path, e.Error.Message, resp.Status)
	var details []marksmith.RowError
	if json.Unmarshal(e.Error.Details, &details) == nil {
		for _, d := range details {
			if d.Line > 0 {
				msg += fmt.Sprintf("\n  line %d: %s", d.Line, d.Message)
			} else if d.Field != "" {
				msg += fmt.Sprintf("\n  %s: %s", d.Field, d.Message)
			}
		}
	}
	return errors.New(msg)
}
