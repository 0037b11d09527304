// Command marksmith is the one binary of the exam engine: the server, its
// migrations, the question bank tools, offline grading and user admin.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "marksmith:", err)
		os.Exit(exitCode(err))
	}
}

// env looks up an environment variable; tests pass their own.
type env func(string) string

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error
}

// exitError carries an exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return 1
}

// commands lists every subcommand; each lives in a file of its own.
func commands() map[string]command {
	return map[string]command{
		"bank":    {"validate, preview, key and test question templates", runBank},
		"export":  {"write templates' variants for another system (Moodle XML)", runExport},
		"grade":   {"grade a CSV of answers offline", runGrade},
		"migrate": {"apply, roll back or list database migrations", runMigrate},
		"paper":   {"print papers and keys: an exam's from a server, or the bank's", runPaper},
		"serve":   {"serve the JSON API", runServe},
		"user":    {"create and list accounts, reset a password", runUser},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return &exitError{code: 2, err: fmt.Errorf("unknown command %q", args[0])}
	}
	return c.run(ctx, args[1:], stdin, stdout, stderr, getenv)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: marksmith COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
}
