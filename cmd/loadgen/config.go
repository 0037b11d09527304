package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Bounds on a run, so that a mistyped flag cannot start an unbounded one.
const (
	maxStudents = 300 // the server's per-address login limit is 300 per 5 minutes
	maxDuration = 10 * time.Minute
	maxRequests = 10_000_000
)

// config is a run's settings.
type config struct {
	URL           string
	AdminEmail    string
	AdminPassword string
	// AdminPasswordFile is where the password came from, if a file: a
	// one-time password replaced at login is written back to it.
	AdminPasswordFile string
	Students          int
	Duration          time.Duration
	Requests          int // most saves in all; 0: only the duration bounds the run
	Templates         []string
	Prefix            string // email local-part prefix of the students this run creates
	Timeout           time.Duration
	Acked             string        // file to write the acknowledged saves to; "" for none
	ErrorPause        time.Duration // how long a student waits after a failed save
}

// parseConfig reads flags (and LOADGEN_ADMIN_PASSWORD) and checks them.
func parseConfig(args []string, stderr io.Writer, getenv func(string) string) (*config, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	var templates, passwordFile string
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "server base URL; must be a loopback address")
	fs.StringVar(&cfg.AdminEmail, "admin-email", "admin@localhost", "email of an admin account")
	fs.StringVar(&passwordFile, "admin-password-file", "", "file holding the admin password (else $LOADGEN_ADMIN_PASSWORD)")
	fs.IntVar(&cfg.Students, "students", 50, fmt.Sprintf("students saving at once (1 to %d); each has one connection", maxStudents))
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, fmt.Sprintf("how long to save for (at most %s)", maxDuration))
	fs.IntVar(&cfg.Requests, "requests", 0, "stop after this many saves in all (0: when the duration ends)")
	fs.StringVar(&templates, "templates", "dasc7606/q6,dasc7606/q7", "comma-separated template ids of the exam's questions")
	fs.StringVar(&cfg.Prefix, "prefix", "", "prefix of the student emails (default: load-<unix time>)")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.StringVar(&cfg.Acked, "acked", "", "write every acknowledged save (200, stored) to this file, one \"attempt question part seq\" a line")
	fs.DurationVar(&cfg.ErrorPause, "error-pause", 0, "how long a student waits after a failed save before the next (0: not at all)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.AdminPassword = getenv("LOADGEN_ADMIN_PASSWORD")
	if passwordFile != "" {
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, fmt.Errorf("admin password file: %w", err)
		}
		cfg.AdminPassword = strings.TrimSpace(string(b))
		cfg.AdminPasswordFile = passwordFile
	}
	for _, t := range strings.Split(templates, ",") {
		if t = strings.TrimSpace(t); t != "" {
			cfg.Templates = append(cfg.Templates, t)
		}
	}
	if cfg.Prefix == "" {
		cfg.Prefix = fmt.Sprintf("load-%d", time.Now().Unix())
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// check reports what is wrong with cfg.
func (cfg *config) check() error {
	var errs []error
	if err := loopbackOnly(cfg.URL); err != nil {
		errs = append(errs, err)
	}
	if cfg.AdminPassword == "" {
		errs = append(errs, errors.New("no admin password: set -admin-password-file or LOADGEN_ADMIN_PASSWORD"))
	}
	if cfg.Students < 1 || cfg.Students > maxStudents {
		errs = append(errs, fmt.Errorf("-students %d is not from 1 to %d", cfg.Students, maxStudents))
	}
	if cfg.Duration <= 0 || cfg.Duration > maxDuration {
		errs = append(errs, fmt.Errorf("-duration %s is not above 0 and at most %s", cfg.Duration, maxDuration))
	}
	if cfg.Requests < 0 || cfg.Requests > maxRequests {
		errs = append(errs, fmt.Errorf("-requests %d is not from 0 to %d", cfg.Requests, maxRequests))
	}
	if len(cfg.Templates) == 0 {
		errs = append(errs, errors.New("-templates names no template"))
	}
	if cfg.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("-timeout %s is not above 0", cfg.Timeout))
	}
	if cfg.ErrorPause < 0 || cfg.ErrorPause > time.Minute {
		errs = append(errs, fmt.Errorf("-error-pause %s is not from 0 to 1m", cfg.ErrorPause))
	}
	return errors.Join(errs...)
}

// loopbackOnly accepts an http URL whose host is a loopback address or
// "localhost", and nothing else: the load is for a server on this machine.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("-url %q: scheme must be http or https", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-url %q: host must be a loopback address (127.0.0.1, ::1 or localhost)", raw)
	}
	return nil
}
