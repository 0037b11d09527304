// Command startload measures an exam's first minute: a whole class
// starting its attempt at the same instant. Against a running
// `marksmith serve` on loopback and its Postgres database it creates N
// students (straight into the database, with one shared password hash, so
// that preparing thousands takes seconds), has the admin create and publish
// an exam of the built-in paper to them, gives every student an access
// token signed with the server's JWT secret (as a login would), and then
// releases all N start requests at once, each on its own connection. It
// reports how long each student waited for their paper, as percentiles,
// and every error; a response counts only if it carries the student's
// whole paper.
//
//	startload -url http://127.0.0.1:18081 -database-url postgres://... -jwt-secret-file secret \
//	          -admin-password-file pw -students 3000
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "startload:", err)
		os.Exit(1)
	}
}

// maxStudents bounds a run.
const maxStudents = 20000

type config struct {
	url, dsn, secretFile, adminEmail, adminPassword, issuer, audience, prefix string
	students                                                                  int
	templates                                                                 []string
	timeout                                                                   time.Duration
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("startload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	var pwFile, templates string
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	fs.StringVar(&c.dsn, "database-url", "", "the server's Postgres database (loopback only)")
	fs.StringVar(&c.secretFile, "jwt-secret-file", "", "the server's HS256 secret file")
	fs.StringVar(&c.issuer, "jwt-issuer", "marksmith", "iss of the server's access tokens")
	fs.StringVar(&c.audience, "jwt-audience", "marksmith-api", "aud of the server's access tokens")
	fs.StringVar(&c.adminEmail, "admin-email", "admin@localhost", "an admin account")
	fs.StringVar(&pwFile, "admin-password-file", "", "file holding the admin's password")
	fs.IntVar(&c.students, "students", 3000, fmt.Sprintf("students starting at once (1 to %d)", maxStudents))
	fs.StringVar(&templates, "templates", "dasc7606/q1,dasc7606/q2,dasc7606/q3,dasc7606/q4,dasc7606/q5,dasc7606/q6,dasc7606/q7,dasc7606/q8", "the exam's questions")
	fs.StringVar(&c.prefix, "prefix", fmt.Sprintf("start-%d", time.Now().Unix()), "prefix of the student emails")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "timeout of one request")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, t := range strings.Split(templates, ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.templates = append(c.templates, t)
		}
	}
	b, err := os.ReadFile(pwFile)
	if err != nil {
		return nil, fmt.Errorf("admin password file: %w", err)
	}
	c.adminPassword = strings.TrimSpace(string(b))
	var errs []error
	for _, raw := range []string{c.url, c.dsn} {
		u, err := url.Parse(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			errs = append(errs, fmt.Errorf("%q is not a loopback address", raw))
		}
	}
	if c.students < 1 || c.students > maxStudents {
		errs = append(errs, fmt.Errorf("-students %d is not from 1 to %d", c.students, maxStudents))
	}
	if len(c.templates) == 0 {
		errs = append(errs, errors.New("-templates names none"))
	}
	return c, errors.Join(errs...)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parse(args, stderr)
	if err != nil {
		return err
	}
	secret, err := os.ReadFile(cfg.secretFile)
	if err != nil {
		return fmt.Errorf("JWT secret: %w", err)
	}
	jwt, err := auth.NewHS256([]byte(strings.TrimSpace(string(secret))), auth.TokenConfig{Issuer: cfg.issuer, Audience: cfg.audience, TTL: time.Hour})
	if err != nil {
		return err
	}
	db, err := sql.Open("pgx", cfg.dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy, tr.MaxIdleConnsPerHost, tr.MaxIdleConns = nil, cfg.students+8, cfg.students+8
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: cfg.timeout}

	t0 := time.Now()
	ids, err := createStudents(ctx, db, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "startload: %d students created in %s\n", len(ids), time.Since(t0).Round(time.Millisecond))
	var sess marksmith.Session
	if err := call(ctx, hc, cfg.url, "POST", "/api/v1/auth/login", "", map[string]string{"email": cfg.adminEmail, "password": cfg.adminPassword}, &sess); err != nil {
		return err
	}
	admin := sess.AccessToken
	var qs []map[string]string
	for _, t := range cfg.templates {
		qs = append(qs, map[string]string{"template": t})
	}
	now := time.Now().UTC()
	var exam marksmith.Exam
	if err := call(ctx, hc, cfg.url, "POST", "/api/v1/exams", admin, map[string]any{
		"title": "start " + cfg.prefix, "questions": qs, "shuffle_questions": true, "shuffle_options": true,
		"opens_at": now.Add(-time.Minute), "closes_at": now.Add(3 * time.Hour), "time_limit_seconds": 7200,
	}, &exam); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO exam_roster (exam_id, user_id) SELECT $1, unnest($2::bigint[])`, exam.ID, ids); err != nil {
		return fmt.Errorf("roster: %w", err)
	}
	t0 = time.Now()
	var pub marksmith.PublishReport
	if err := call(ctx, hc, cfg.url, "POST", fmt.Sprintf("/api/v1/exams/%d/publish", exam.ID), admin, nil, &pub); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "startload: exam %d published to %d students (%d papers) in %s\n", exam.ID, pub.Students, pub.Papers, time.Since(t0).Round(time.Millisecond))
	tokens := make([]string, len(ids))
	for i, id := range ids {
		if tokens[i], _, err = jwt.Issue(id, marksmith.RoleStudent); err != nil {
			return err
		}
	}
	// Every student's connection is open before the instant they all start.
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	waits := make([]time.Duration, len(ids))
	errs := make([]error, len(ids))
	path := fmt.Sprintf("/api/v1/exams/%d/attempts", exam.ID)
	for i := range ids {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := hc.Get(cfg.url + "/healthz") // opens the connection
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			ready.Done()
			if err != nil {
				errs[i] = err
				return
			}
			<-start
			t := time.Now()
			var v marksmith.AttemptView
			errs[i] = call(ctx, hc, cfg.url, "POST", path, tokens[i], nil, &v)
			waits[i] = time.Since(t)
			if errs[i] == nil && (len(v.Questions) != len(cfg.templates) || len(v.Questions[0].Parts) == 0) {
				errs[i] = fmt.Errorf("paper of %d questions, want %d", len(v.Questions), len(cfg.templates))
			}
		}()
	}
	ready.Wait()
	t0 = time.Now()
	close(start)
	wg.Wait()
	total := time.Since(t0)
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	slices.Sort(waits)
	pct := func(p float64) time.Duration {
		return waits[min(len(waits)-1, int(p*float64(len(waits))))].Round(time.Millisecond)
	}
	fmt.Fprintf(stdout, "startload: %d students started at once: all served in %s; wait p50 %s p90 %s p99 %s max %s; errors %d\n",
		len(ids), total.Round(time.Millisecond), pct(0.5), pct(0.9), pct(0.99), waits[len(waits)-1].Round(time.Millisecond), failed)
	if first != nil {
		return fmt.Errorf("%d of %d starts failed; the first: %w", failed, len(ids), first)
	}
	return nil
}

// createStudents inserts the students in one statement, every one with the
// same password hash (the load needs accounts, not distinct passwords).
func createStudents(ctx context.Context, db *sql.DB, cfg *config) ([]int64, error) {
	hash, err := auth.HashPasswordParams("start load student", &auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `INSERT INTO users (email, name, role, student_key, password_hash, created_at, updated_at)
		SELECT format('%s-%s@load.test', $1::text, n), format('Student %s', n), 'student', format('%s%s', $1::text, n), $2, now(), now()
		FROM generate_series(1, $3::int) n RETURNING id`, cfg.prefix, hash, cfg.students)
	if err != nil {
		return nil, fmt.Errorf("create students: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// call sends a JSON request and decodes the JSON answer into out.
func call(ctx context.Context, hc *http.Client, base, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: status %d: %.300s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
