package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/storage"
	"github.com/marksmith/marksmith/users"
)

const userUsage = `usage: marksmith user COMMAND [flags]

commands:
  create --email E --name N --role admin|instructor|student [--student-key K]
                         create an account and print its generated one-time password
  list [--role R] [--query Q] [--limit N]
                         list accounts (limit 0: all)
  password --email E     give an account a new generated password, printed once,
                         and sign it out everywhere

The database is MARKSMITH_DATABASE_URL or --database-url (default: the
SQLite file ./marksmith.db).`

// runUser is the user command.
func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, userUsage)
		return nil
	}
	switch args[0] {
	case "create":
		return userCreate(ctx, args[1:], stdout, stderr, getenv)
	case "list":
		return userList(ctx, args[1:], stdout, stderr, getenv)
	case "password":
		return userPassword(ctx, args[1:], stdout, stderr, getenv)
	}
	fmt.Fprintln(stderr, userUsage)
	return &exitError{code: 2, err: fmt.Errorf("unknown user command %q", args[0])}
}

// userService loads the configuration with the command's flags, opens
// the database with a current schema and returns the account service over
// it. done is true after -h.
func userService(ctx context.Context, name string, args []string, stderr io.Writer, getenv env, flags func(fs *flag.FlagSet)) (svc *users.Service, db *storage.DB, done bool, err error) {
	cfg, rest, err := loadConfig("user "+name, userUsage+"\n\nflags:", args, getenv, stderr, false, flags)
	if errors.Is(err, flag.ErrHelp) {
		return nil, nil, true, nil
	} else if err != nil {
		return nil, nil, false, err
	}
	if len(rest) > 0 {
		return nil, nil, false, &exitError{code: 2, err: fmt.Errorf("user %s takes no arguments, got %q", name, rest)}
	}
	logger := cfg.newLogger(stderr)
	if db, err = openDatabase(ctx, cfg, logger, false); err != nil {
		return nil, nil, false, err
	}
	return users.New(storage.NewStore(db), users.Config{}, nil, logger), db, false, nil
}

func userCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	var email, name, role, key string
	svc, db, done, err := userService(ctx, "create", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address (required)")
		fs.StringVar(&name, "name", "", "display name")
		fs.StringVar(&role, "role", "", "admin, instructor or student (required)")
		fs.StringVar(&key, "student-key", "", "student number variants are seeded from (default: the email)")
	})
	if done || err != nil {
		return err
	}
	defer db.Close()
	if email == "" || !marksmith.Role(role).Valid() {
		return &exitError{code: 2, err: errors.New("user create needs --email and --role admin|instructor|student")}
	}
	if name == "" {
		name = email
	}
	acc, err := svc.Create(ctx, marksmith.NewUser{Email: email, Name: name, Role: marksmith.Role(role), StudentKey: key})
	if err != nil {
		return userError(err)
	}
	u := acc.User
	fmt.Fprintf(stdout, "Created %s %s (id %d).\nOne-time password, shown only now (it must be changed at first login): %s\n", u.Role, u.Email, u.ID, acc.Password)
	return nil
}

func userList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	var role, query string
	var limit int
	svc, db, done, err := userService(ctx, "list", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "only this role")
		fs.StringVar(&query, "query", "", "only emails or names containing this")
		fs.IntVar(&limit, "limit", 0, "at most this many (0: all)")
	})
	if done || err != nil {
		return err
	}
	defer db.Close()
	filter := marksmith.UserFilter{Query: query, Limit: limit}
	if role != "" {
		r := marksmith.Role(role)
		if !r.Valid() {
			return &exitError{code: 2, err: fmt.Errorf("unknown role %q (want admin, instructor or student)", role)}
		}
		filter.Role = &r
	}
	list, total, err := svc.List(ctx, filter)
	if err != nil {
		return userError(err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tSTUDENT KEY\tSTATUS\tCREATED")
	for _, u := range list {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Role, u.StudentKey, status, u.CreatedAt.Format(time.DateOnly))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d of %d users\n", len(list), total)
	return nil
}

func userPassword(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	var email string
	svc, db, done, err := userService(ctx, "password", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email address of the account (required)")
	})
	if done || err != nil {
		return err
	}
	defer db.Close()
	if email == "" {
		return &exitError{code: 2, err: errors.New("user password needs --email")}
	}
	acc, err := svc.ResetByEmail(ctx, email)
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(stdout, "New one-time password for %s, shown only now (it must be changed at first login): %s\nEvery session of the account was signed out.\n", acc.User.Email, acc.Password)
	return nil
}

// userError keeps a *marksmith.Error's message and wraps anything else.
func userError(err error) error {
	if code := marksmith.ErrorCode(err); code != marksmith.EINTERNAL {
		return errors.New(marksmith.ErrorMessage(err))
	}
	return err
}
