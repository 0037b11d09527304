package api

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
)

// maxPasswordLength bounds the password a login hashes.
const maxPasswordLength = 1024

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// tokenResponse is what a login or a refresh returns.
type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	ExpiresIn        int             `json:"expires_in"` // seconds
	RefreshToken     string          `json:"refresh_token"`
	RefreshExpiresAt time.Time       `json:"refresh_expires_at"`
	User             *marksmith.User `json:"user"`
}

// normalizeEmail is the one form of an email address the API stores and
// looks up.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func invalidCredentials() error {
	return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Invalid email or password.")
}

func invalidRefresh() error {
	return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Invalid, expired or revoked refresh token; log in again.")
}

// handleLogin checks an email and password and starts a session: an access
// token and a refresh token of a new family. Attempts are rate-limited per
// client address and failures per account; an unknown email costs as much
// time as a wrong password.
func (s *server) handleLogin() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		var req loginRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		email := normalizeEmail(req.Email)
		var problems validationErrors
		if email == "" {
			problems.add("email", "is required")
		}
		if req.Password == "" {
			problems.add("password", "is required")
		} else if len(req.Password) > maxPasswordLength {
			problems.add("password", "is longer than %d bytes", maxPasswordLength)
		}
		if err := problems.err("login"); err != nil {
			return err
		}
		now := s.now()
		if wait := s.limiter.attempt(s.clientAddr(c), email, now); wait > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			return marksmith.Errorf(marksmith.ERATELIMIT, "Too many login attempts; try again in %d seconds.", int(math.Ceil(wait.Seconds())))
		}
		u, err := s.users.FindUserByEmail(ctx, email)
		if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
			// Spend the time a real check takes, so that timing does not
			// tell which emails have accounts.
			_, _ = auth.CheckPassword(req.Password, s.dummyHash)
			s.limiter.failure(email, now)
			return invalidCredentials()
		} else if err != nil {
			return fmt.Errorf("login: find user: %w", err)
		}
		ok, err := auth.CheckPassword(req.Password, u.PasswordHash)
		if err != nil {
			return fmt.Errorf("login: user %d: %w", u.ID, err)
		}
		if !ok {
			s.limiter.failure(email, now)
			return invalidCredentials()
		}
		if u.Disabled {
			return marksmith.Errorf(marksmith.EFORBIDDEN, "This account is disabled.")
		}
		s.limiter.success(email)
		family, err := auth.NewID()
		if err != nil {
			return fmt.Errorf("login: %w", err)
		}
		resp, err := s.startSession(ctx, u, family, 0, now)
		if err != nil {
			return fmt.Errorf("login: user %d: %w", u.ID, err)
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "login", slog.String("request_id", requestIDOf(c)), slog.Int64("user_id", u.ID))
		return encodeTokens(c, resp)
	}
}

// startSession issues an access token and a refresh token in family. With
// rotateFrom > 0 the refresh token replaces that one (atomically, failing
// with ECONFLICT if it was used meanwhile); otherwise it starts the family.
func (s *server) startSession(ctx context.Context, u *marksmith.User, family string, rotateFrom int64, now time.Time) (*tokenResponse, error) {
	access, _, err := s.jwt.Issue(u.ID, u.Role)
	if err != nil {
		return nil, err
	}
	refresh, err := auth.NewRefreshToken()
	if err != nil {
		return nil, err
	}
	rt := &marksmith.RefreshToken{
		UserID:    u.ID,
		Family:    family,
		Hash:      auth.HashToken(refresh),
		ExpiresAt: now.Add(s.cfg.RefreshTTL),
		CreatedAt: now,
	}
	if rotateFrom > 0 {
		err = s.tokens.RotateRefreshToken(ctx, rotateFrom, rt, now)
	} else {
		err = s.tokens.CreateRefreshToken(ctx, rt)
	}
	if err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &tokenResponse{
		AccessToken:      access,
		TokenType:        "Bearer",
		ExpiresIn:        int(s.cfg.AccessTTL / time.Second),
		RefreshToken:     refresh,
		RefreshExpiresAt: rt.ExpiresAt.UTC(),
		User:             u,
	}, nil
}

// encodeTokens writes a token response, which no cache may keep (RFC 6749
// section 5.1).
func encodeTokens(c *fiber.Ctx, resp *tokenResponse) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderPragma, "no-cache")
	return encode(c, fiber.StatusOK, resp)
}

// handleRefresh exchanges a refresh token for a new access token and a new
// refresh token (rotation). Presenting a token that was already rotated
// means it was stolen or replayed: the whole family is revoked.
func (s *server) handleRefresh() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		var req refreshRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if req.RefreshToken == "" {
			return validationErrors{{Field: "refresh_token", Message: "is required"}}.err("refresh request")
		}
		now := s.now()
		old, err := s.tokens.FindRefreshTokenByHash(ctx, auth.HashToken(req.RefreshToken))
		if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
			return invalidRefresh()
		} else if err != nil {
			return fmt.Errorf("refresh: find token: %w", err)
		}
		switch {
		case old.RevokedAt != nil:
			return invalidRefresh()
		case old.UsedAt != nil:
			s.log.LogAttrs(ctx, slog.LevelWarn, "refresh token reused; family revoked",
				slog.String("request_id", requestIDOf(c)), slog.Int64("user_id", old.UserID), slog.String("family", old.Family))
			if err := s.tokens.RevokeTokenFamily(ctx, old.Family, now); err != nil {
				return fmt.Errorf("refresh: revoke family after reuse: %w", err)
			}
			return invalidRefresh()
		case !now.Before(old.ExpiresAt):
			return invalidRefresh()
		}
		u, err := s.users.FindUserByID(ctx, old.UserID)
		if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
			return invalidRefresh()
		} else if err != nil {
			return fmt.Errorf("refresh: find user %d: %w", old.UserID, err)
		}
		if u.Disabled {
			if err := s.tokens.RevokeTokenFamily(ctx, old.Family, now); err != nil {
				return fmt.Errorf("refresh: revoke family of disabled user: %w", err)
			}
			return invalidRefresh()
		}
		resp, err := s.startSession(ctx, u, old.Family, old.ID, now)
		if marksmith.ErrorCode(err) == marksmith.ECONFLICT {
			// Another request rotated this token first: a replay race.
			if rerr := s.tokens.RevokeTokenFamily(ctx, old.Family, now); rerr != nil {
				return fmt.Errorf("refresh: revoke family after concurrent reuse: %w", rerr)
			}
			return invalidRefresh()
		} else if err != nil {
			return fmt.Errorf("refresh: user %d: %w", u.ID, err)
		}
		return encodeTokens(c, resp)
	}
}

// handleLogout revokes the presented refresh token's family: that session
// ends on every device it was refreshed on. Access tokens already issued
// stay valid until they expire (minutes). It answers 204 whether or not the
// token was known, so it tells nothing about tokens.
func (s *server) handleLogout() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		var req refreshRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if req.RefreshToken == "" {
			return validationErrors{{Field: "refresh_token", Message: "is required"}}.err("logout request")
		}
		old, err := s.tokens.FindRefreshTokenByHash(ctx, auth.HashToken(req.RefreshToken))
		switch {
		case marksmith.ErrorCode(err) == marksmith.ENOTFOUND:
		case err != nil:
			return fmt.Errorf("logout: find token: %w", err)
		default:
			if err := s.tokens.RevokeTokenFamily(ctx, old.Family, s.now()); err != nil {
				return fmt.Errorf("logout: revoke family: %w", err)
			}
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}
