package app

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/storage"
)

// TestSweepTokens checks that the sweep deletes tokens expired more than
// a refresh lifetime ago, keeps the rest, and stops with its context.
func TestSweepTokens(t *testing.T) {
	db, err := storage.Open(t.Context(), filepath.Join(t.TempDir(), "sweep.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	u := &marksmith.User{Email: "s@uni.edu", Role: marksmith.RoleStudent}
	if err := storage.NewUserStore(db).CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	tokens := storage.NewTokenStore(db)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ttl := 7 * 24 * time.Hour
	for hash, expires := range map[string]time.Time{
		"long-gone": now.Add(-ttl - time.Minute), "recently-expired": now.Add(-time.Hour), "live": now.Add(time.Hour),
	} {
		if err := tokens.CreateRefreshToken(t.Context(), &marksmith.RefreshToken{UserID: u.ID, Family: "f", Hash: hash, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := New(Config{JWTSecret: []byte("0123456789abcdef0123456789abcdef"), RefreshTTL: ttl, TokenSweepInterval: 5 * time.Millisecond},
		Deps{DB: db, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		every(ctx, a.cfg.TokenSweepInterval, a.sweepTokens)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := tokens.FindRefreshTokenByHash(t.Context(), "long-gone")
		if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the long-expired token was not swept: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("sweep did not stop with its context")
	}
	for _, hash := range []string{"recently-expired", "live"} {
		if _, err := tokens.FindRefreshTokenByHash(t.Context(), hash); err != nil {
			t.Errorf("%s was swept: %v", hash, err)
		}
	}
}
