package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/marksmith/marksmith"
)

// refreshTokenRow is a row of refresh_tokens.
type refreshTokenRow struct {
	ID         int64 `gorm:"primaryKey"`
	UserID     int64
	Family     string
	Hash       string
	ExpiresAt  time.Time
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	UsedAt     *time.Time
	RevokedAt  *time.Time
	ReplacedBy *int64
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

func (r *refreshTokenRow) toDomain() *marksmith.RefreshToken {
	return &marksmith.RefreshToken{
		ID:         r.ID,
		UserID:     r.UserID,
		Family:     r.Family,
		Hash:       r.Hash,
		ExpiresAt:  r.ExpiresAt.UTC(),
		CreatedAt:  r.CreatedAt.UTC(),
		UsedAt:     utcPtr(r.UsedAt),
		RevokedAt:  utcPtr(r.RevokedAt),
		ReplacedBy: r.ReplacedBy,
	}
}

func tokenFromDomain(t *marksmith.RefreshToken) *refreshTokenRow {
	return &refreshTokenRow{
		ID:         t.ID,
		UserID:     t.UserID,
		Family:     t.Family,
		Hash:       t.Hash,
		ExpiresAt:  dbTime(t.ExpiresAt),
		CreatedAt:  dbTime(t.CreatedAt),
		UsedAt:     dbTimePtr(t.UsedAt),
		RevokedAt:  dbTimePtr(t.RevokedAt),
		ReplacedBy: t.ReplacedBy,
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// TokenStore stores refresh tokens. It implements marksmith.TokenStore.
// It keeps only what it is given: callers hash tokens before storing or
// looking them up, and check expiry themselves.
type TokenStore struct{ db *DB }

var _ marksmith.TokenStore = (*TokenStore)(nil)

// NewTokenStore returns the refresh token service of db.
func NewTokenStore(db *DB) *TokenStore { return &TokenStore{db: db} }

// CreateRefreshToken stores t and sets its ID; a zero CreatedAt defaults to
// the DB's clock. A hash already stored is ECONFLICT; an unknown user is
// EINVALID.
func (s *TokenStore) CreateRefreshToken(ctx context.Context, t *marksmith.RefreshToken) error {
	if err := validateToken(t); err != nil {
		return err
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.db.now()
	}
	r := tokenFromDomain(t)
	r.ID = 0
	if err := s.db.gorm.WithContext(ctx).Create(r).Error; err != nil {
		return translate(err, fmt.Sprintf("refresh token for user %d", t.UserID))
	}
	*t = *r.toDomain()
	return nil
}

// FindRefreshTokenByHash returns the token with the hash, or ENOTFOUND.
func (s *TokenStore) FindRefreshTokenByHash(ctx context.Context, hash string) (*marksmith.RefreshToken, error) {
	var r refreshTokenRow
	if err := s.db.gorm.WithContext(ctx).Where("hash = ?", hash).Take(&r).Error; err != nil {
		return nil, translate(err, "refresh token")
	}
	return r.toDomain(), nil
}

// RotateRefreshToken stores next in old's family (for old's user), and
// marks old used at now and replaced by next, in one transaction; it sets
// next's ID, Family and UserID. If old was already used or revoked it
// fails with ECONFLICT and stores nothing: of two concurrent rotations of
// one token exactly one succeeds. An unknown old token is ENOTFOUND.
func (s *TokenStore) RotateRefreshToken(ctx context.Context, oldID int64, next *marksmith.RefreshToken, now time.Time) error {
	now = dbTime(now)
	var stored *refreshTokenRow
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		var old refreshTokenRow
		if err := tx.Where("id = ?", oldID).Take(&old).Error; err != nil {
			return translate(err, fmt.Sprintf("refresh token %d", oldID))
		}
		if old.UsedAt != nil || old.RevokedAt != nil {
			return marksmith.Errorf(marksmith.ECONFLICT, "refresh token %d was already used or revoked", oldID)
		}
		t := *next
		t.Family, t.UserID = old.Family, old.UserID
		if t.CreatedAt.IsZero() {
			t.CreatedAt = now
		}
		if err := validateToken(&t); err != nil {
			return err
		}
		r := tokenFromDomain(&t)
		r.ID = 0
		if err := tx.Create(r).Error; err != nil {
			return translate(err, fmt.Sprintf("refresh token for user %d", t.UserID))
		}
		// The guard on used_at and revoked_at makes the race safe: a
		// concurrent rotation that committed first leaves nothing to update.
		res := tx.Model(&refreshTokenRow{}).
			Where("id = ? AND used_at IS NULL AND revoked_at IS NULL", oldID).
			Updates(map[string]any{"used_at": now, "replaced_by": r.ID})
		if res.Error != nil {
			return translate(res.Error, fmt.Sprintf("refresh token %d", oldID))
		}
		if res.RowsAffected != 1 {
			return marksmith.Errorf(marksmith.ECONFLICT, "refresh token %d was already used or revoked", oldID)
		}
		stored = r
		return nil
	})
	if err != nil {
		return translate(err, fmt.Sprintf("rotate refresh token %d", oldID))
	}
	*next = *stored.toDomain()
	return nil
}

// RevokeTokenFamily marks every unrevoked token of the family revoked at
// now. An unknown family is not an error.
func (s *TokenStore) RevokeTokenFamily(ctx context.Context, family string, now time.Time) error {
	err := s.db.gorm.WithContext(ctx).Model(&refreshTokenRow{}).
		Where("family = ? AND revoked_at IS NULL", family).
		Update("revoked_at", dbTime(now)).Error
	return translate(err, "revoke refresh token family")
}

// RevokeUserTokens marks every unrevoked token of the user revoked at now.
func (s *TokenStore) RevokeUserTokens(ctx context.Context, userID int64, now time.Time) error {
	err := s.db.gorm.WithContext(ctx).Model(&refreshTokenRow{}).
		Where("user_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", dbTime(now)).Error
	return translate(err, fmt.Sprintf("revoke refresh tokens of user %d", userID))
}

// DeleteExpiredRefreshTokens deletes tokens that expired before the time
// and returns how many it deleted. Tokens still referenced as a
// replacement lose the reference (ON DELETE SET NULL).
func (s *TokenStore) DeleteExpiredRefreshTokens(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.gorm.WithContext(ctx).Where("expires_at < ?", dbTime(before)).Delete(&refreshTokenRow{})
	if res.Error != nil {
		return 0, translate(res.Error, "delete expired refresh tokens")
	}
	return res.RowsAffected, nil
}

func validateToken(t *marksmith.RefreshToken) error {
	switch {
	case t.Hash == "":
		return marksmith.Errorf(marksmith.EINVALID, "refresh token has no hash")
	case t.Family == "":
		return marksmith.Errorf(marksmith.EINVALID, "refresh token has no family")
	case t.UserID == 0:
		return marksmith.Errorf(marksmith.EINVALID, "refresh token has no user")
	case t.ExpiresAt.IsZero():
		return marksmith.Errorf(marksmith.EINVALID, "refresh token has no expiry")
	}
	return nil
}
