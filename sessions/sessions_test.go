package sessions

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/storage"
)

var cheap = &auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// newPair returns two services over one database, as two server instances
// would be, a user with password "right password", and the clock.
func newPair(t *testing.T) (*Service, *Service, *marksmith.User, *clock, *storage.Store) {
	t.Helper()
	db, err := storage.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 5, 19, 9, 0, 0, 0, time.UTC)}
	db.Now = c.now
	store := storage.NewStore(db)
	hash, _ := auth.HashPasswordParams("right password", cheap)
	u := &marksmith.User{Email: "ada@uni.edu", Name: "Ada", Role: marksmith.RoleStudent, PasswordHash: hash}
	if err := store.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	mk := func() *Service {
		jwt, err := auth.NewHS256([]byte("0123456789abcdef0123456789abcdef"), auth.TokenConfig{Issuer: "i", Audience: "a", TTL: time.Minute, Now: c.now})
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(store, jwt, Config{Limits: Limits{AccountFailures: 3, AddressAttempts: 10}}, cheap, c.now, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return mk(), mk(), u, c, store
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := marksmith.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want %q", what, err, got, code)
	}
}

// TestLoginLimitsAcrossInstances fails logins on one instance and finds
// the account locked on the other: the counts live in the database.
func TestLoginLimitsAcrossInstances(t *testing.T) {
	a, b, _, c, _ := newPair(t)
	ctx := t.Context()
	for i, s := range []*Service{a, b, a} {
		_, err := s.Login(ctx, marksmith.LoginInput{Email: "ada@uni.edu", Password: "wrong", Client: "10.0.0.1"})
		wantCode(t, "wrong password "+string(rune('1'+i)), err, marksmith.EUNAUTHORIZED)
	}
	_, err := b.Login(ctx, marksmith.LoginInput{Email: "ADA@uni.edu", Password: "right password", Client: "10.0.0.2"})
	wantCode(t, "the right password once locked", err, marksmith.ERATELIMIT)
	if e := err.(*marksmith.Error); e.RetryAfter <= 0 || e.RetryAfter > DefaultAccountWindow {
		t.Fatalf("retry after %v", e.RetryAfter)
	}
	c.add(DefaultAccountWindow + time.Second)
	sess, err := a.Login(ctx, marksmith.LoginInput{Email: "ada@uni.edu", Password: "right password", Client: "10.0.0.2"})
	if err != nil || sess.AccessToken == "" || sess.RefreshToken == "" {
		t.Fatalf("login after the window = %+v, %v", sess, err)
	}
	// An address is limited on all attempts, on every instance.
	for i := range 10 {
		s := []*Service{a, b}[i%2]
		_, err := s.Login(ctx, marksmith.LoginInput{Email: fmt.Sprintf("other%d@uni.edu", i), Password: "x", Client: "10.9.9.9"})
		wantCode(t, "attempt within the address limit", err, marksmith.EUNAUTHORIZED)
	}
	_, err = b.Login(ctx, marksmith.LoginInput{Email: "ada@uni.edu", Password: "right password", Client: "10.9.9.9"})
	wantCode(t, "attempt past the address limit", err, marksmith.ERATELIMIT)
}

func TestRefreshLogoutAndActor(t *testing.T) {
	a, b, u, c, store := newPair(t)
	ctx := t.Context()
	sess, err := a.Login(ctx, marksmith.LoginInput{Email: "ada@uni.edu", Password: "right password", Client: "x"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Verify(sess.AccessToken)
	if err != nil || p.UserID != u.ID || p.Role != marksmith.RoleStudent {
		t.Fatalf("Verify on the other instance = %+v, %v", p, err)
	}
	if actor, err := b.Actor(ctx, p); err != nil || actor.Email != u.Email {
		t.Fatalf("Actor = %+v, %v", actor, err)
	}
	next, err := b.Refresh(ctx, sess.RefreshToken)
	if err != nil || next.RefreshToken == sess.RefreshToken {
		t.Fatalf("Refresh = %+v, %v", next, err)
	}
	// The rotated token used again: the family is revoked.
	_, err = a.Refresh(ctx, sess.RefreshToken)
	wantCode(t, "reuse of a rotated token", err, marksmith.EUNAUTHORIZED)
	_, err = a.Refresh(ctx, next.RefreshToken)
	wantCode(t, "the family after reuse", err, marksmith.EUNAUTHORIZED)
	// Logout revokes; LogoutAll revokes every family.
	s1, _ := a.Login(ctx, marksmith.LoginInput{Email: "ada@uni.edu", Password: "right password", Client: "x"})
	s2, _ := a.Login(ctx, marksmith.LoginInput{Email: "ada@uni.edu", Password: "right password", Client: "x"})
	if err := a.Logout(ctx, s1.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(ctx, "unknown"); err != nil {
		t.Fatalf("logout of an unknown token: %v", err)
	}
	_, err = a.Refresh(ctx, s1.RefreshToken)
	wantCode(t, "refresh after logout", err, marksmith.EUNAUTHORIZED)
	if err := b.LogoutAll(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, err = a.Refresh(ctx, s2.RefreshToken)
	wantCode(t, "refresh after signing out everywhere", err, marksmith.EUNAUTHORIZED)
	// Disabled: Actor refuses at once; a role change asks for a new login.
	yes := true
	if _, err := store.UpdateUser(ctx, u.ID, marksmith.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	_, err = a.Actor(ctx, p)
	wantCode(t, "a disabled account", err, marksmith.EFORBIDDEN)
	_, err = a.Login(ctx, marksmith.LoginInput{Email: "ada@uni.edu", Password: "right password", Client: "x"})
	wantCode(t, "login of a disabled account", err, marksmith.EFORBIDDEN)
	_, err = a.Actor(ctx, marksmith.Principal{UserID: u.ID, Role: marksmith.RoleAdmin})
	wantCode(t, "a token of another role", err, marksmith.EFORBIDDEN) // disabled is checked first
	_, err = a.Actor(ctx, marksmith.Principal{UserID: 999, Role: marksmith.RoleStudent})
	wantCode(t, "a token of no account", err, marksmith.EUNAUTHORIZED)
	// Expired access tokens fail Verify.
	c.add(2 * time.Minute)
	_, err = a.Verify(sess.AccessToken)
	wantCode(t, "an expired token", err, marksmith.EUNAUTHORIZED)
	for _, bad := range []marksmith.LoginInput{{Password: "x"}, {Email: "a@b.c"}, {Email: "a\x00@b.c", Password: "x"}} {
		_, err := a.Login(ctx, bad)
		wantCode(t, "bad login input", err, marksmith.EUNPROCESSABLE)
	}
}
