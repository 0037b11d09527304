package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/marksmith/marksmith/storage"
)

const migrateUsage = `usage: marksmith migrate up|down|status [flags]

  up      apply every pending migration
  down    roll back the most recent migration (data in what it created is lost)
  status  list the migrations and whether each is applied

The database is MARKSMITH_DATABASE_URL or --database-url (default: the
SQLite file ./marksmith.db).

flags:`

// runMigrate is the migrate command.
func runMigrate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, migrateUsage)
		return nil
	}
	action := args[0]
	if action != "up" && action != "down" && action != "status" {
		fmt.Fprintln(stderr, migrateUsage)
		return &exitError{code: 2, err: fmt.Errorf("unknown migrate command %q (want up, down or status)", action)}
	}
	cfg, rest, err := loadConfig("migrate "+action, migrateUsage, args[1:], getenv, stderr, false)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if len(rest) > 0 {
		return &exitError{code: 2, err: fmt.Errorf("migrate %s takes no arguments, got %q", action, rest)}
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, cfg.newLogger(stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	switch action {
	case "up":
		applied, err := db.MigrateUp(ctx)
		for _, v := range applied {
			fmt.Fprintf(stdout, "applied %05d\n", v)
		}
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "nothing to apply")
		}
	case "down":
		v, err := db.MigrateDown(ctx)
		if err != nil {
			return err
		}
		if v == 0 {
			fmt.Fprintln(stdout, "nothing to roll back")
		} else {
			fmt.Fprintf(stdout, "rolled back %05d\n", v)
		}
	case "status":
		return migrateStatus(ctx, db, stdout)
	}
	current, latest, err := db.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s schema at version %d of %d\n", db.Dialect(), current, latest)
	return nil
}

func migrateStatus(ctx context.Context, db *storage.DB, stdout io.Writer) error {
	states, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tMIGRATION\tSTATE\tAPPLIED AT")
	for _, s := range states {
		state, at := "pending", ""
		if s.Applied {
			state, at = "applied", s.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%05d\t%s\t%s\t%s\n", s.Version, s.Name, state, at)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	current, latest, err := db.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	verdict := "current"
	switch {
	case current < latest:
		verdict = "stale: run marksmith migrate up"
	case current > latest:
		verdict = "newer than this release"
	}
	fmt.Fprintf(stdout, "%s schema at version %d of %d (%s)\n", db.Dialect(), current, latest, verdict)
	return nil
}
