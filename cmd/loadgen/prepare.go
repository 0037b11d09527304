package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// part is one answerable part of a student's paper.
type part struct {
	Question int
	ID       string
	Type     string
}

// student is a logged-in student with a started attempt.
type student struct {
	Email   string
	Token   string
	Attempt int64
	Parts   []part
}

// importChunk is how many students one roster import sends: each costs
// the server an argon2id hash, so a chunk stays well inside -timeout.
const importChunk = 25

// prepare creates the students and a published exam for them, then logs
// each in and starts their attempt.
func prepare(ctx context.Context, c *client, cfg *config, stdout io.Writer) ([]*student, error) {
	admin, err := adminLogin(ctx, c, cfg, stdout)
	if err != nil {
		return nil, err
	}
	pw := make([]byte, 12)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	password := hex.EncodeToString(pw)
	type row struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	rows := make([]row, cfg.Students)
	emails := make([]string, cfg.Students)
	for i := range rows {
		emails[i] = fmt.Sprintf("%s-%03d@loadgen.invalid", cfg.Prefix, i+1)
		rows[i] = row{Email: emails[i], Name: fmt.Sprintf("Load Student %d", i+1), Password: password}
	}
	d, err := timed(func() error {
		for lo := 0; lo < len(rows); lo += importChunk {
			var res struct {
				Created, Existing, Failed int
			}
			if _, err := c.call(ctx, http.MethodPost, "/api/v1/users/import", admin, rows[lo:min(lo+importChunk, len(rows))], &res); err != nil {
				return fmt.Errorf("import students: %w", err)
			}
			if res.Failed > 0 || res.Existing > 0 {
				return fmt.Errorf("import students: %d failed, %d already existed (use a fresh -prefix)", res.Failed, res.Existing)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "loadgen: imported %d students in %s\n", len(rows), d.Round(time.Millisecond))

	type question struct {
		Template string `json:"template"`
	}
	qs := make([]question, len(cfg.Templates))
	for i, t := range cfg.Templates {
		qs[i] = question{Template: t}
	}
	now := time.Now().UTC()
	exam := map[string]any{
		"title":     "Autosave load " + cfg.Prefix,
		"questions": qs,
		"opens_at":  now.Add(-time.Minute),
		"closes_at": now.Add(maxDuration + time.Hour),
		"feedback":  map[string]string{"after_submit": "none", "after_release": "score"},
	}
	var created struct {
		ID int64 `json:"id"`
	}
	if _, err := c.call(ctx, http.MethodPost, "/api/v1/exams", admin, exam, &created); err != nil {
		return nil, fmt.Errorf("create exam: %w", err)
	}
	examPath := fmt.Sprintf("/api/v1/exams/%d", created.ID)
	if _, err := c.call(ctx, http.MethodPut, examPath+"/roster", admin, map[string]any{"students": emails}, nil); err != nil {
		return nil, fmt.Errorf("set roster: %w", err)
	}
	d, err = timed(func() error {
		_, err := c.call(ctx, http.MethodPost, examPath+"/publish", admin, nil, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	fmt.Fprintf(stdout, "loadgen: exam %d published for %d students in %s\n", created.ID, len(emails), d.Round(time.Millisecond))

	students := make([]*student, len(emails))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
		next  = make(chan int)
		start = time.Now()
	)
	for range 4 { // logins are CPU-bound on the server (argon2id): a few at a time
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				st, err := startStudent(ctx, c, created.ID, emails[i], password)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				students[i] = st
				mu.Unlock()
			}
		}()
	}
	for i := range emails {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "loadgen: %d logins and attempt starts in %s\n", len(students), time.Since(start).Round(time.Millisecond))
	return students, nil
}

// startStudent logs a student in and starts their attempt.
func startStudent(ctx context.Context, c *client, examID int64, email, password string) (*student, error) {
	tok, _, err := c.login(ctx, email, password)
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", email, err)
	}
	var view struct {
		Attempt struct {
			ID int64 `json:"id"`
		} `json:"attempt"`
		Questions []struct {
			Question int `json:"question"`
			Parts    []struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			} `json:"parts"`
		} `json:"questions"`
	}
	if _, err := c.call(ctx, http.MethodPost, fmt.Sprintf("/api/v1/exams/%d/attempts", examID), tok, nil, &view); err != nil {
		return nil, fmt.Errorf("start attempt of %s: %w", email, err)
	}
	st := &student{Email: email, Token: tok, Attempt: view.Attempt.ID}
	for _, q := range view.Questions {
		for _, p := range q.Parts {
			st.Parts = append(st.Parts, part{Question: q.Question, ID: p.ID, Type: p.Type})
		}
	}
	if len(st.Parts) == 0 {
		return nil, fmt.Errorf("attempt %d of %s has no parts", st.Attempt, email)
	}
	return st, nil
}

// adminLogin logs the admin in. A server's first admin has a one-time
// password that must be replaced before anything else: loadgen chooses a
// new one and writes it to -admin-password-file, so that the next run
// logs in with it.
func adminLogin(ctx context.Context, c *client, cfg *config, stdout io.Writer) (string, error) {
	tok, must, err := c.login(ctx, cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return "", fmt.Errorf("admin login: %w", err)
	}
	if !must {
		return tok, nil
	}
	if cfg.AdminPasswordFile == "" {
		return "", errors.New("admin login: the admin's password is one-time; give it with -admin-password-file, where loadgen writes the new password it chooses")
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	next := hex.EncodeToString(b)
	if _, err := c.call(ctx, http.MethodPut, "/api/v1/users/me/password", tok,
		map[string]string{"current_password": cfg.AdminPassword, "new_password": next}, nil); err != nil {
		return "", fmt.Errorf("admin login: replace the one-time password: %w", err)
	}
	if err := os.WriteFile(cfg.AdminPasswordFile, []byte(next+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("admin login: the new password was set but not saved (it is %s): %w", next, err)
	}
	fmt.Fprintf(stdout, "loadgen: replaced the admin's one-time password; the new one is in %s\n", cfg.AdminPasswordFile)
	cfg.AdminPassword = next
	if tok, _, err = c.login(ctx, cfg.AdminEmail, next); err != nil {
		return "", fmt.Errorf("admin login with the new password: %w", err)
	}
	return tok, nil
}
