package storage

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// tokenFixture stores two users and returns the token service and their IDs.
func tokenFixture(t *testing.T, db *DB) (*TokenStore, int64, int64) {
	t.Helper()
	us := mustCreateUsers(t, NewUserStore(db),
		marksmith.User{Email: "a@uni.edu", Role: marksmith.RoleStudent},
		marksmith.User{Email: "b@uni.edu", Role: marksmith.RoleStudent})
	return NewTokenStore(db), us[0].ID, us[1].ID
}

func newToken(userID int64, family, hash string) *marksmith.RefreshToken {
	return &marksmith.RefreshToken{UserID: userID, Family: family, Hash: hash, ExpiresAt: testClock.Add(30 * 24 * time.Hour)}
}

func TestCreateRefreshToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s, alice, _ := tokenFixture(t, db)
		for _, tc := range []struct {
			name  string
			token *marksmith.RefreshToken
			code  string
		}{
			{"first", newToken(alice, "f1", "h1"), ""},
			{"same family", newToken(alice, "f1", "h2"), ""},
			{"hash taken", newToken(alice, "f2", "h1"), marksmith.ECONFLICT},
			{"unknown user", newToken(alice+99, "f3", "h3"), marksmith.EINVALID},
			{"no hash", newToken(alice, "f4", ""), marksmith.EINVALID},
			{"no family", newToken(alice, "", "h5"), marksmith.EINVALID},
			{"no expiry", &marksmith.RefreshToken{UserID: alice, Family: "f6", Hash: "h6"}, marksmith.EINVALID},
		} {
			err := s.CreateRefreshToken(t.Context(), tc.token)
			wantCode(t, tc.name, err, tc.code)
			if tc.code != "" {
				continue
			}
			want := &marksmith.RefreshToken{ID: tc.token.ID, UserID: alice, Family: tc.token.Family, Hash: tc.token.Hash,
				ExpiresAt: testClock.Add(30 * 24 * time.Hour), CreatedAt: testClock}
			got, err := s.FindRefreshTokenByHash(t.Context(), tc.token.Hash)
			if err != nil || tc.token.ID == 0 || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: stored %+v, %v\nwant %+v", tc.name, got, err, want)
			}
		}
		_, err := s.FindRefreshTokenByHash(t.Context(), "nope")
		wantCode(t, "find missing hash", err, marksmith.ENOTFOUND)
	})
}

func TestRotateRefreshToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s, alice, bob := tokenFixture(t, db)
		ctx := t.Context()
		old := newToken(alice, "fam", "h0")
		if err := s.CreateRefreshToken(ctx, old); err != nil {
			t.Fatal(err)
		}
		at := testClock.Add(time.Hour)
		// Family and user come from the old token, whatever next says.
		next := newToken(bob, "other", "h1")
		if err := s.RotateRefreshToken(ctx, old.ID, next, at); err != nil {
			t.Fatalf("rotate: %v", err)
		}
		wantNext := &marksmith.RefreshToken{ID: next.ID, UserID: alice, Family: "fam", Hash: "h1",
			ExpiresAt: testClock.Add(30 * 24 * time.Hour), CreatedAt: at}
		if !reflect.DeepEqual(next, wantNext) {
			t.Fatalf("next = %+v\nwant %+v", next, wantNext)
		}
		gotOld, err := s.FindRefreshTokenByHash(ctx, "h0")
		if err != nil || gotOld.UsedAt == nil || !gotOld.UsedAt.Equal(at) || gotOld.ReplacedBy == nil || *gotOld.ReplacedBy != next.ID || gotOld.RevokedAt != nil {
			t.Fatalf("old after rotation = %+v, %v", gotOld, err)
		}
		for _, tc := range []struct {
			name  string
			oldID int64
			next  *marksmith.RefreshToken
			code  string
		}{
			{"used token", old.ID, newToken(alice, "fam", "h2"), marksmith.ECONFLICT},
			{"missing token", next.ID + 100, newToken(alice, "fam", "h3"), marksmith.ENOTFOUND},
			{"hash taken", next.ID, newToken(alice, "fam", "h0"), marksmith.ECONFLICT},
			{"no hash", next.ID, newToken(alice, "fam", ""), marksmith.EINVALID},
		} {
			err := s.RotateRefreshToken(ctx, tc.oldID, tc.next, at)
			wantCode(t, tc.name, err, tc.code)
			if _, err := s.FindRefreshTokenByHash(ctx, tc.next.Hash); tc.next.Hash != "h0" && marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
				t.Errorf("%s: failed rotation stored %q (%v)", tc.name, tc.next.Hash, err)
			}
		}
		// The failed rotations left next usable.
		if err := s.RotateRefreshToken(ctx, next.ID, newToken(alice, "", "h4"), at); err != nil {
			t.Fatalf("rotate next: %v", err)
		}
		// A revoked token cannot be rotated.
		if err := s.RevokeTokenFamily(ctx, "fam", at); err != nil {
			t.Fatal(err)
		}
		last, _ := s.FindRefreshTokenByHash(ctx, "h4")
		err = s.RotateRefreshToken(ctx, last.ID, newToken(alice, "", "h5"), at)
		wantCode(t, "revoked token", err, marksmith.ECONFLICT)
	})
}

// TestRotateRefreshTokenRace rotates one token from many goroutines at
// once: exactly one may win, and the family must have exactly one
// successor.
func TestRotateRefreshTokenRace(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s, alice, _ := tokenFixture(t, db)
		ctx := t.Context()
		for round := range 5 {
			old := newToken(alice, fmt.Sprintf("race%d", round), fmt.Sprintf("r%d-old", round))
			if err := s.CreateRefreshToken(ctx, old); err != nil {
				t.Fatal(err)
			}
			const n = 4
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					errs[i] = s.RotateRefreshToken(ctx, old.ID, newToken(alice, "", fmt.Sprintf("r%d-%d", round, i)), testClock)
				})
			}
			close(start)
			wg.Wait()
			wins := 0
			for i, err := range errs {
				switch marksmith.ErrorCode(err) {
				case "":
					wins++
				case marksmith.ECONFLICT:
				default:
					t.Fatalf("round %d rotation %d: %v", round, i, err)
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d rotations succeeded, want exactly 1 (%v)", round, wins, errs)
			}
			var stored int64
			if err := db.gorm.Model(&refreshTokenRow{}).Where("family = ?", old.Family).Count(&stored).Error; err != nil || stored != 2 {
				t.Fatalf("round %d: family has %d tokens (%v), want 2", round, stored, err)
			}
		}
	})
}

func TestRevokeTokens(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s, alice, bob := tokenFixture(t, db)
		ctx := t.Context()
		tokens := map[string]*marksmith.RefreshToken{
			"a1": newToken(alice, "fa", "a1"), "a2": newToken(alice, "fa", "a2"),
			"a3": newToken(alice, "fb", "a3"), "b1": newToken(bob, "fc", "b1"),
		}
		for _, tok := range tokens {
			if err := s.CreateRefreshToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		t1, t2 := testClock.Add(time.Minute), testClock.Add(2*time.Minute)
		steps := []struct {
			name    string
			revoke  func() error
			revoked map[string]time.Time // hash -> revoked at, after the step
		}{
			{"family fa", func() error { return s.RevokeTokenFamily(ctx, "fa", t1) },
				map[string]time.Time{"a1": t1, "a2": t1}},
			{"unknown family", func() error { return s.RevokeTokenFamily(ctx, "nope", t1) },
				map[string]time.Time{"a1": t1, "a2": t1}},
			// Already revoked tokens keep their first revocation time.
			{"user alice", func() error { return s.RevokeUserTokens(ctx, alice, t2) },
				map[string]time.Time{"a1": t1, "a2": t1, "a3": t2}},
		}
		for _, step := range steps {
			if err := step.revoke(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			for hash := range tokens {
				got, err := s.FindRefreshTokenByHash(ctx, hash)
				if err != nil {
					t.Fatal(err)
				}
				want, revoked := step.revoked[hash]
				if revoked != (got.RevokedAt != nil) || revoked && !got.RevokedAt.Equal(want) {
					t.Errorf("after %s: %s revoked at %v, want %v (revoked %v)", step.name, hash, got.RevokedAt, want, revoked)
				}
			}
		}
		// Expired tokens are deleted; the rest stay.
		expired := newToken(bob, "fd", "old")
		expired.ExpiresAt = testClock.Add(-time.Hour)
		if err := s.CreateRefreshToken(ctx, expired); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteExpiredRefreshTokens(ctx, testClock)
		if err != nil || n != 1 {
			t.Fatalf("DeleteExpiredRefreshTokens = %d, %v; want 1", n, err)
		}
		_, err = s.FindRefreshTokenByHash(ctx, "old")
		wantCode(t, "expired token", err, marksmith.ENOTFOUND)
		if _, err := s.FindRefreshTokenByHash(ctx, "b1"); err != nil {
			t.Fatalf("live token: %v", err)
		}
	})
}
