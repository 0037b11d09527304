// Command loadgen measures autosave under concurrent load against a running
// Marksmith server on loopback. As an admin it creates a roster of students,
// an exam on the built-in bank and publishes it; then it logs each student
// in, starts their attempt and has every student save answers as fast as
// the server answers, for a fixed time or number of saves, and reports
// requests per second, latency percentiles and errors.
//
// It talks only to loopback addresses and stops by itself: -duration and
// -requests bound the run, and -students bounds the accounts it creates.
// For fault injection (bench/faults.sh), -acked records every save the
// server acknowledged, so that they can be looked for in the database
// afterwards, and -error-pause keeps an outage from becoming a tight loop
// of failed requests.
//
//	loadgen -url http://127.0.0.1:8080 -admin-email admin@localhost -admin-password-file pw.txt \
//	        -students 50 -duration 20s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// run parses the flags, prepares the exam and runs the load.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := parseConfig(args, stderr, getenv)
	if err != nil {
		return err
	}
	c, err := newClient(cfg)
	if err != nil {
		return err
	}
	// Connections the transport dialled but never used would otherwise hold
	// the server's graceful shutdown until its read timeout.
	defer c.http.CloseIdleConnections()
	fmt.Fprintf(stdout, "loadgen: preparing %d students and a published exam on %s\n", cfg.Students, cfg.URL)
	students, err := prepare(ctx, c, cfg, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loadgen: %d students logged in with attempts started; saving for up to %s or %d saves\n",
		len(students), cfg.Duration, cfg.Requests)
	rep := load(ctx, c, cfg, students)
	rep.write(stdout)
	if cfg.Acked != "" {
		if err := writeAcked(cfg.Acked, rep.Acked); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "loadgen: %d acknowledged saves written to %s\n", len(rep.Acked), cfg.Acked)
	}
	if rep.Requests == 0 {
		return errors.New("no save was sent")
	}
	return nil
}
