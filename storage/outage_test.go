package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/marksmith/marksmith"
)

// sqliteErr is a SQLite error with a result code, as the driver gives.
type sqliteErr struct {
	code int
	msg  string
}

func (e sqliteErr) Error() string { return e.msg }
func (e sqliteErr) Code() int     { return e.code }

// TestTranslateOutagesAndData checks the codes of the errors a database
// gives when it is down, will not serve now, or cannot hold a value.
func TestTranslateOutagesAndData(t *testing.T) {
	pg := func(code, msg string) error {
		return fmt.Errorf("query: %w", &pgconn.PgError{Severity: "FATAL", Code: code, Message: msg, Detail: "Key (x)=(secret) is bad."})
	}
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"admin shutdown", pg("57P01", "terminating connection due to administrator command"), marksmith.EUNAVAILABLE},
		{"crash shutdown", pg("57P02", "terminating connection because of crash of another server process"), marksmith.EUNAVAILABLE},
		{"cannot connect now", pg("57P03", "the database system is starting up"), marksmith.EUNAVAILABLE},
		{"too many connections", pg("53300", "sorry, too many clients already"), marksmith.EUNAVAILABLE},
		{"read-only transaction", pg("25006", "cannot execute INSERT in a read-only transaction"), marksmith.EUNAVAILABLE},
		{"connection failure", pg("08006", "connection failure"), marksmith.EUNAVAILABLE},
		{"connection does not exist", pg("08003", "connection does not exist"), marksmith.EUNAVAILABLE},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, marksmith.EUNAVAILABLE},
		{"bad connection", fmt.Errorf("exec: %w", driver.ErrBadConn), marksmith.EUNAVAILABLE},
		{"connection cut mid-reply", fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), marksmith.EUNAVAILABLE},
		{"SQLite busy past the timeout", sqliteErr{5, "database is locked (5) (SQLITE_BUSY)"}, marksmith.EUNAVAILABLE},
		{"SQLite busy snapshot", sqliteErr{517, "database is locked"}, marksmith.EUNAVAILABLE},
		{"NUL byte", pg("22021", `invalid byte sequence for encoding "UTF8": 0x00`), marksmith.EINVALID},
		{"number out of range", pg("22003", "integer out of range"), marksmith.EINVALID},
		{"not a number", pg("22P02", `invalid input syntax for type integer: "secret"`), marksmith.EINVALID},
		{"date out of range", pg("22008", "date/time field value out of range"), marksmith.EINVALID},
		{"wrong password", pg("28P01", "password authentication failed"), marksmith.EINTERNAL},
		{"missing database", pg("3D000", `database "x" does not exist`), marksmith.EINTERNAL},
		{"serialization failure", pg("40001", "could not serialize access"), marksmith.EINTERNAL},
		{"SQLite constraint", sqliteErr{1555, "constraint failed: UNIQUE constraint failed: users.email (1555)"}, marksmith.ECONFLICT},
		{"SQLite syntax", sqliteErr{1, "SQL logic error: no such table: x (1)"}, marksmith.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translate(tt.err, "thing 1")
			if code := marksmith.ErrorCode(got); code != tt.code {
				t.Fatalf("translate(%v) = %v (code %q), want code %q", tt.err, got, code, tt.code)
			}
			switch tt.code {
			case marksmith.EUNAVAILABLE:
				if !errors.Is(got, tt.err) || !strings.Contains(got.Error(), tt.err.Error()) {
					t.Errorf("translate(%v) = %v: the cause is lost to the operator's log", tt.err, got)
				}
			case marksmith.EINVALID:
				if msg := marksmith.ErrorMessage(got); strings.Contains(msg, "secret") || strings.Contains(msg, "SQLSTATE") {
					t.Errorf("the user's message %q shows the database's", msg)
				}
			}
		})
	}
}

// proxy forwards TCP connections to a database until it is taken down,
// when it closes every connection and its port: the database seen from
// the proxy's clients goes away, while the server itself runs on.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
	wg     sync.WaitGroup
}

// startProxy listens on addr (":0" for any port) and forwards to target.
func startProxy(t *testing.T, addr, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.takeDown)
	return p
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { io.Copy(s, c); s.Close() }()
		go func() { io.Copy(c, s); c.Close() }()
	}
}

// takeDown closes the port and every connection through it.
func (p *proxy) takeDown() {
	p.mu.Lock()
	p.down = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}

// viaProxy returns dsn with its host and port replaced by addr.
func viaProxy(t *testing.T, dsn, addr string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// pgHostPort returns the host:port of a Postgres DSN.
func pgHostPort(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return u.Hostname() + ":5432"
	}
	return u.Host
}

// TestEveryMethodUnavailable opens Postgres through a proxy, stores an
// exam with a student's attempt, takes the proxy down, and calls every
// storage method: each must answer EUNAVAILABLE (503), none internal.
func TestEveryMethodUnavailable(t *testing.T) {
	dsn := testPostgresSchema(t)
	p := startProxy(t, "127.0.0.1:0", pgHostPort(t, dsn))
	db, err := Open(t.Context(), viaProxy(t, dsn, p.ln.Addr().String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	f := newExamFixture(t, db)
	users, tokens, templates, exams := NewUserStore(db), NewTokenStore(db), NewTemplateStore(db), f.s
	throttle, store, jobs := NewThrottleStore(db), NewStore(db), NewPrintJobStore(db)
	student := f.students[0].ID
	if err := exams.SetRoster(t.Context(), f.exam.ID, []int64{student}); err != nil {
		t.Fatal(err)
	}
	p.takeDown()

	ctx := t.Context()
	now := testClock
	e := *f.exam
	calls := map[string]func() error{
		"Ping":            func() error { return db.Ping(ctx) },
		"CheckSchema":     func() error { return db.CheckSchema(ctx) },
		"FindUserByID":    func() error { _, err := users.FindUserByID(ctx, 1); return err },
		"FindUserByEmail": func() error { _, err := users.FindUserByEmail(ctx, "a@x.org"); return err },
		"FindUsers":       func() error { _, _, err := users.FindUsers(ctx, marksmith.UserFilter{}); return err },
		"CreateUser": func() error {
			return users.CreateUser(ctx, &marksmith.User{Email: "n@x.org", Role: marksmith.RoleStudent})
		},
		"UpdateUser": func() error {
			_, err := users.UpdateUser(ctx, student, marksmith.UserUpdate{Name: ptr("N")})
			return err
		},
		"CountUsers": func() error { _, err := users.CountUsers(ctx); return err },
		"CreateRefreshToken": func() error {
			return tokens.CreateRefreshToken(ctx, &marksmith.RefreshToken{UserID: student, Family: "f", Hash: "h", ExpiresAt: now})
		},
		"FindRefreshTokenByHash": func() error { _, err := tokens.FindRefreshTokenByHash(ctx, "h"); return err },
		"RotateRefreshToken": func() error {
			return tokens.RotateRefreshToken(ctx, 1, &marksmith.RefreshToken{UserID: student, Family: "f", Hash: "h2", ExpiresAt: now}, now)
		},
		"RevokeTokenFamily":          func() error { return tokens.RevokeTokenFamily(ctx, "f", now) },
		"RevokeUserTokens":           func() error { return tokens.RevokeUserTokens(ctx, student, now) },
		"DeleteExpiredRefreshTokens": func() error { _, err := tokens.DeleteExpiredRefreshTokens(ctx, now); return err },
		"FindTemplates":              func() error { _, _, err := templates.FindTemplates(ctx, marksmith.TemplateFilter{}); return err },
		"FindTemplateVersions":       func() error { _, err := templates.FindTemplateVersions(ctx, "a/b"); return err },
		"FindTemplateVersion":        func() error { _, err := templates.FindTemplateVersion(ctx, "a/b", 0); return err },
		"CreateTemplateVersion": func() error {
			return templates.CreateTemplateVersion(ctx, &marksmith.TemplateVersion{TemplateID: "a/b", Title: "T", Marks: 1, Format: "yaml", Source: "x", CreatedAt: now})
		},
		"CreateExam":       func() error { c := e; c.ID = 0; return exams.CreateExam(ctx, &c) },
		"FindExamByID":     func() error { _, err := exams.FindExamByID(ctx, e.ID); return err },
		"FindExams":        func() error { _, _, err := exams.FindExams(ctx, marksmith.ExamFilter{}); return err },
		"UpdateExam":       func() error { c := e; return exams.UpdateExam(ctx, &c) },
		"DeleteExam":       func() error { return exams.DeleteExam(ctx, e.ID) },
		"SetRoster":        func() error { return exams.SetRoster(ctx, e.ID, []int64{student}) },
		"FindRoster":       func() error { _, err := exams.FindRoster(ctx, e.ID); return err },
		"FindRosterEntry":  func() error { _, err := exams.FindRosterEntry(ctx, e.ID, student); return err },
		"AddToRoster":      func() error { return exams.AddToRoster(ctx, e.ID, []int64{student}) },
		"RemoveFromRoster": func() error { return exams.RemoveFromRoster(ctx, e.ID, student) },
		"SetAccommodation": func() error {
			return exams.SetAccommodation(ctx, e.ID, student, marksmith.Accommodation{ExtraSeconds: 60})
		},
		"MarkDraft":        func() error { return exams.MarkDraft(ctx, e.ID, now) },
		"EndExam":          func() error { return exams.EndExam(ctx, e.ID, now) },
		"FindAttemptPaper": func() error { _, err := exams.FindAttemptPaper(ctx, 1, student, 1); return err },
		"LockAttempt":      func() error { _, err := exams.LockAttempt(ctx, 1); return err },
		"UpdateAttempt": func() error {
			return exams.UpdateAttempt(ctx, &marksmith.Attempt{ID: 1, Status: marksmith.AttemptOpen, StartedAt: now, DeadlineAt: now})
		},
		"LastSaves":      func() error { _, err := exams.LastSaves(ctx, e.ID); return err },
		"DeleteGrades":   func() error { return exams.DeleteGrades(ctx, 1) },
		"LockPartGrades": func() error { _, err := exams.LockPartGrades(ctx, e.ID, 1, "a"); return err },
		"Hit":            func() error { _, _, err := throttle.Hit(ctx, "k", time.Minute, now); return err },
		"Peek":           func() error { _, _, err := throttle.Peek(ctx, "k", now); return err },
		"Clear":          func() error { return throttle.Clear(ctx, "k") },
		"PruneThrottle":  func() error { _, err := throttle.PruneThrottle(ctx, now); return err },
		"WithTx": func() error {
			return store.WithTx(ctx, func(marksmith.Store) error { return nil })
		},
		"Exclusive": func() error {
			_, err := store.Exclusive(ctx, "x", func(context.Context) error { return nil })
			return err
		},
		"SavePapers": func() error {
			return exams.SavePapers(ctx, []*marksmith.Paper{{ExamID: e.ID, UserID: student, Position: 1, Order: 1, TemplateID: "dasc7606/q1", Version: 1, Variant: []byte("{}")}})
		},
		"MarkPublished":   func() error { return exams.MarkPublished(ctx, e.ID, now) },
		"DeletePapers":    func() error { return exams.DeletePapers(ctx, e.ID, 0) },
		"FindPapers":      func() error { _, err := exams.FindPapers(ctx, e.ID, student); return err },
		"FindExamPapers":  func() error { _, err := exams.FindExamPapers(ctx, e.ID, 1); return err },
		"SetGradeVersion": func() error { return exams.SetGradeVersion(ctx, e.ID, 1, 2) },
		"CreateAttempt": func() error {
			return exams.CreateAttempt(ctx, &marksmith.Attempt{ExamID: e.ID, UserID: student, Status: marksmith.AttemptOpen, StartedAt: now, DeadlineAt: now.Add(time.Hour)})
		},
		"FindAttemptByID": func() error { _, err := exams.FindAttemptByID(ctx, 1); return err },
		"FindAttempt":     func() error { _, err := exams.FindAttempt(ctx, e.ID, student); return err },
		"FindAttempts":    func() error { _, err := exams.FindAttempts(ctx, e.ID); return err },
		"SaveAnswer": func() error {
			_, err := exams.SaveAnswer(ctx, &marksmith.Answer{AttemptID: 1, Position: 1, Part: "a", Raw: "1", Seq: 1}, student)
			return err
		},
		"FindAnswers":     func() error { _, err := exams.FindAnswers(ctx, 1); return err },
		"FindExamAnswers": func() error { _, err := exams.FindExamAnswers(ctx, e.ID); return err },
		"CloseAttempt": func() error {
			return exams.CloseAttempt(ctx, &marksmith.Attempt{ID: 1, Status: marksmith.AttemptSubmitted}, nil)
		},
		"FindGrades":     func() error { _, err := exams.FindGrades(ctx, 1); return err },
		"FindExamGrades": func() error { _, err := exams.FindExamGrades(ctx, e.ID); return err },
		"UpdateGrades": func() error {
			return exams.UpdateGrades(ctx, []*marksmith.Grade{{AttemptID: 1, Position: 1, Part: "a", GradedAt: now}}, nil)
		},
		"Release": func() error { return exams.Release(ctx, e.ID, now, nil) },
		"AddAudit": func() error {
			return exams.AddAudit(ctx, &marksmith.AuditEntry{ExamID: e.ID, Actor: student, Action: "x", Target: "y"})
		},
		"FindAudit": func() error { _, err := exams.FindAudit(ctx, e.ID); return err },
		"CreatePrintJob": func() error {
			return jobs.CreatePrintJob(ctx, &marksmith.PrintJob{ExamID: e.ID, RequestedBy: student, Format: "pdf", Status: marksmith.JobQueued})
		},
		"FindPrintJob": func() error { _, err := jobs.FindPrintJob(ctx, e.ID, 1); return err },
		"FindActivePrintJob": func() error {
			_, err := jobs.FindActivePrintJob(ctx, e.ID, marksmith.PrintJobInput{Format: "pdf"})
			return err
		},
		"QueuedPrintJobs": func() error { _, err := jobs.QueuedPrintJobs(ctx, 0); return err },
		"ClaimPrintJob":   func() error { _, err := jobs.ClaimPrintJob(ctx, now); return err },
		"UpdatePrintJob":  func() error { return jobs.UpdatePrintJob(ctx, &marksmith.PrintJob{ID: 1}) },
		"FinishPrintJob": func() error {
			return jobs.FinishPrintJob(ctx, &marksmith.PrintJob{ID: 1, Status: marksmith.JobDone}, strings.NewReader("%PDF-"))
		},
		"OpenPrintJobFile": func() error { _, err := jobs.OpenPrintJobFile(ctx, 1); return err },
		"FailStalePrintJobs": func() error {
			_, err := jobs.FailStalePrintJobs(ctx, now, now, now, "a", "b")
			return err
		},
		"DeletePrintJobs": func() error { _, err := jobs.DeletePrintJobs(ctx, now); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			wantCode(t, name, call(), marksmith.EUNAVAILABLE)
		})
	}
}

// TestTerminatedConnection ends the server process of a transaction's
// connection (pg_terminate_backend, as a restart or an operator does) and
// checks that the transaction's next query answers EUNAVAILABLE, and that
// the pool serves the next request on a new connection.
func TestTerminatedConnection(t *testing.T) {
	db := openTestDB(t, DialectPostgres)
	admin := openTestDB(t, DialectPostgres)
	ctx := t.Context()
	err := db.transaction(ctx, func(tx *gorm.DB) error {
		var pid int
		if err := tx.Raw("SELECT pg_backend_pid()").Scan(&pid).Error; err != nil {
			return fmt.Errorf("backend pid: %w", err)
		}
		var ok bool
		if err := admin.gorm.WithContext(ctx).Raw("SELECT pg_terminate_backend(?)", pid).Scan(&ok).Error; err != nil || !ok {
			t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
		}
		var one int
		return tx.Raw("SELECT 1").Scan(&one).Error
	})
	wantCode(t, "query on a terminated connection", translate(err, "query"), marksmith.EUNAVAILABLE)
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping after the termination: %v", err)
	}
}

// TestOpenWait opens a database that is down: on a closed port it logs a
// retry line per try, with the back-off doubling, until its context ends;
// when the database comes up during the wait it opens it; a database
// that does not exist fails at once.
func TestOpenWait(t *testing.T) {
	dsn := testPostgresSchema(t)
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}

	t.Run("down until the context ends", func(t *testing.T) {
		var logs syncBuffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		ctx, cancel := context.WithTimeout(t.Context(), 1800*time.Millisecond)
		defer cancel()
		start := time.Now()
		db, err := OpenWait(ctx, viaProxy(t, dsn, free()), logger)
		if db != nil {
			db.Close()
			t.Fatal("opened a database on a closed port")
		}
		wantCode(t, "OpenWait", err, marksmith.EUNAVAILABLE)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v does not say the wait ended", err)
		}
		if took := time.Since(start); took < 1700*time.Millisecond || took > 5*time.Second {
			t.Errorf("OpenWait returned after %s, want about 1.8s", took)
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if len(lines) < 2 || len(lines) > 3 {
			t.Fatalf("%d log lines, want 2 or 3 (tries at 0, 0.5 and 1.5 s):\n%s", len(lines), logs.String())
		}
		for i, want := range []string{"retrying in 500ms", "retrying in 1s", "retrying in 2s"}[:len(lines)] {
			if !strings.Contains(lines[i], "level=WARN") || !strings.Contains(lines[i], "database unavailable, "+want) || !strings.Contains(lines[i], "refused") {
				t.Errorf("log line %d = %s, want a warning %q with the reason", i, lines[i], want)
			}
		}
	})

	t.Run("comes up during the wait", func(t *testing.T) {
		addr := free()
		go func() {
			time.Sleep(700 * time.Millisecond)
			startProxy(t, addr, pgHostPort(t, dsn))
		}()
		var logs syncBuffer
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		db, err := OpenWait(ctx, viaProxy(t, dsn, addr), slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("OpenWait: %v", err)
		}
		defer db.Close()
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(logs.String(), "database unavailable"); n < 1 || n > 2 {
			t.Errorf("%d retry lines, want 1 or 2:\n%s", n, logs.String())
		}
	})

	t.Run("a database that does not exist fails at once", func(t *testing.T) {
		u, _ := url.Parse(dsn)
		u.Path = "/no_such_database_marksmith"
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		var logs syncBuffer
		start := time.Now()
		db, err := OpenWait(ctx, u.String(), slog.New(slog.NewTextHandler(&logs, nil)))
		if db != nil {
			db.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "3D000") || time.Since(start) > 2*time.Second || logs.String() != "" {
			t.Fatalf("OpenWait = %v after %s, logging %q; want the missing database at once, without a retry", err, time.Since(start), logs.String())
		}
	})
}
