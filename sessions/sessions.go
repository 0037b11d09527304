// Package sessions is the authentication service, marksmith.AuthService:
// logins checked against argon2id hashes and limited across every server
// instance (the counts live in the database), short-lived JWT access
// tokens with the algorithm pinned, and refresh tokens stored only as
// hashes, rotated on use, with reuse detection that revokes the whole
// family.
package sessions

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
)

// Defaults of Config.
const (
	DefaultRefreshTTL      = 7 * 24 * time.Hour
	DefaultAccountFailures = 5
	DefaultAccountWindow   = 15 * time.Minute
	DefaultAddressAttempts = 300
	DefaultAddressWindow   = 5 * time.Minute
	// MaxPasswordLength bounds the password a login hashes.
	MaxPasswordLength = 1024
	maxEmail          = 254
)

// Limits are the login limits. An address is limited on all attempts,
// loosely, so that a classroom behind one NAT can log in together; an
// account is limited on failures, tightly, to stop password guessing. A
// successful login clears the account's failures. The counts are kept in
// the database, so every instance of the server shares them.
type Limits struct {
	AccountFailures int           // failures per account per AccountWindow; default 5
	AccountWindow   time.Duration // default 15 minutes
	AddressAttempts int           // attempts per client address per AddressWindow; default 300
	AddressWindow   time.Duration // default 5 minutes
}

// Config configures the service; zero fields take their defaults.
type Config struct {
	RefreshTTL time.Duration
	Limits     Limits
}

func (c Config) withDefaults() Config {
	if c.RefreshTTL == 0 {
		c.RefreshTTL = DefaultRefreshTTL
	}
	if c.Limits.AccountFailures == 0 {
		c.Limits.AccountFailures = DefaultAccountFailures
	}
	if c.Limits.AccountWindow == 0 {
		c.Limits.AccountWindow = DefaultAccountWindow
	}
	if c.Limits.AddressAttempts == 0 {
		c.Limits.AddressAttempts = DefaultAddressAttempts
	}
	if c.Limits.AddressWindow == 0 {
		c.Limits.AddressWindow = DefaultAddressWindow
	}
	return c
}

// Service is the authentication service. Create it with New.
type Service struct {
	store     marksmith.Store
	jwt       *auth.Tokens
	cfg       Config
	now       func() time.Time
	log       *slog.Logger
	dummyHash string // checked when a login names no user, so timing tells nothing
}

var _ marksmith.AuthService = (*Service)(nil)

// New returns the service. jwt issues and verifies access tokens; params
// are the argon2id parameters of the dummy hash a login for an unknown
// email is checked against (nil: auth.DefaultParams()); now is the clock.
func New(store marksmith.Store, jwt *auth.Tokens, cfg Config, params *auth.Params, now func() time.Time, logger *slog.Logger) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if params == nil {
		params = auth.DefaultParams()
	}
	dummy, err := auth.HashPasswordParams("marksmith-dummy-password", params)
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	return &Service{store: store, jwt: jwt, cfg: cfg.withDefaults(), now: now, log: logger, dummyHash: dummy}, nil
}

// NormalizeEmail is the one form of an email address that is stored and
// looked up: trimmed and lower-cased.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func invalidCredentials() error {
	return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Invalid email or password.")
}

func invalidRefresh() error {
	return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Invalid, expired or revoked refresh token; log in again.")
}

// rateLimited is the error of a limit that frees at reset.
func rateLimited(reset, now time.Time) error {
	wait := max(reset.Sub(now), time.Second)
	secs := int(math.Ceil(wait.Seconds()))
	return &marksmith.Error{Code: marksmith.ERATELIMIT, RetryAfter: time.Duration(secs) * time.Second,
		Message: fmt.Sprintf("Too many login attempts; try again in %d seconds.", secs)}
}

// Login checks an email and password and starts a session: an access
// token and a refresh token of a new family. An unknown email costs as
// much time as a wrong password.
func (s *Service) Login(ctx context.Context, in marksmith.LoginInput) (*marksmith.Session, error) {
	email := NormalizeEmail(in.Email)
	var p marksmith.Problems
	switch {
	case email == "":
		p.Add("email", "is required")
	case len(email) > maxEmail:
		p.Add("email", "is longer than %d characters", maxEmail)
	default:
		p.CheckText("email", email, 0)
	}
	switch {
	case in.Password == "":
		p.Add("password", "is required")
	case len(in.Password) > MaxPasswordLength:
		p.Add("password", "is longer than %d bytes", MaxPasswordLength)
	}
	if err := p.Err("login"); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	lim := s.cfg.Limits
	if n, reset, err := s.store.Hit(ctx, "login-address:"+in.Client, lim.AddressWindow, now); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	} else if n > lim.AddressAttempts {
		return nil, rateLimited(reset, now)
	}
	account := "login-account:" + email
	if n, reset, err := s.store.Peek(ctx, account, now); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	} else if n >= lim.AccountFailures {
		return nil, rateLimited(reset, now)
	}
	fail := func() error {
		if _, _, err := s.store.Hit(ctx, account, lim.AccountWindow, now); err != nil {
			return fmt.Errorf("login: %w", err)
		}
		return invalidCredentials()
	}
	u, err := s.store.FindUserByEmail(ctx, email)
	if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
		// Spend the time a real check takes, so that timing does not tell
		// which emails have accounts.
		_, _ = auth.CheckPassword(in.Password, s.dummyHash)
		return nil, fail()
	} else if err != nil {
		return nil, fmt.Errorf("login: find user: %w", err)
	}
	ok, err := auth.CheckPassword(in.Password, u.PasswordHash)
	if err != nil {
		return nil, fmt.Errorf("login: user %d: %w", u.ID, err)
	}
	if !ok {
		return nil, fail()
	}
	if u.Disabled {
		return nil, marksmith.Errorf(marksmith.EFORBIDDEN, "This account is disabled.")
	}
	if err := s.store.Clear(ctx, account); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	family, err := auth.NewID()
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	sess, err := s.start(ctx, u, family, 0, now)
	if err != nil {
		return nil, fmt.Errorf("login: user %d: %w", u.ID, err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "login", slog.Int64("user_id", u.ID))
	return sess, nil
}

// start issues an access token and a refresh token in family. With
// rotateFrom > 0 the refresh token replaces that one (atomically, failing
// with ECONFLICT if it was used meanwhile); otherwise it starts the family.
func (s *Service) start(ctx context.Context, u *marksmith.User, family string, rotateFrom int64, now time.Time) (*marksmith.Session, error) {
	access, _, err := s.jwt.Issue(u.ID, u.Role)
	if err != nil {
		return nil, err
	}
	refresh, err := auth.NewRefreshToken()
	if err != nil {
		return nil, err
	}
	rt := &marksmith.RefreshToken{UserID: u.ID, Family: family, Hash: auth.HashToken(refresh),
		ExpiresAt: now.Add(s.cfg.RefreshTTL), CreatedAt: now}
	if rotateFrom > 0 {
		err = s.store.RotateRefreshToken(ctx, rotateFrom, rt, now)
	} else {
		err = s.store.CreateRefreshToken(ctx, rt)
	}
	if err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &marksmith.Session{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.jwt.TTL() / time.Second), AccessTTL: s.jwt.TTL(),
		RefreshToken: refresh, RefreshExpiresAt: rt.ExpiresAt.UTC(), User: u, MustChangePassword: u.MustChangePassword}, nil
}

// maxRefreshToken bounds a presented refresh token.
const maxRefreshToken = 256

// Refresh exchanges a refresh token for a new session (rotation).
// Presenting a token that was already rotated means it was stolen or
// replayed: the whole family is revoked.
func (s *Service) Refresh(ctx context.Context, token string) (*marksmith.Session, error) {
	if token == "" || len(token) > maxRefreshToken {
		return nil, (marksmith.Problems{{Field: "refresh_token", Message: "is required"}}).Err("refresh request")
	}
	now := s.now().UTC()
	old, err := s.store.FindRefreshTokenByHash(ctx, auth.HashToken(token))
	if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
		return nil, invalidRefresh()
	} else if err != nil {
		return nil, fmt.Errorf("refresh: find token: %w", err)
	}
	switch {
	case old.RevokedAt != nil:
		return nil, invalidRefresh()
	case old.UsedAt != nil:
		s.log.LogAttrs(ctx, slog.LevelWarn, "refresh token reused; family revoked",
			slog.Int64("user_id", old.UserID), slog.String("family", old.Family))
		if err := s.store.RevokeTokenFamily(ctx, old.Family, now); err != nil {
			return nil, fmt.Errorf("refresh: revoke family after reuse: %w", err)
		}
		return nil, invalidRefresh()
	case !now.Before(old.ExpiresAt):
		return nil, invalidRefresh()
	}
	u, err := s.store.FindUserByID(ctx, old.UserID)
	if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
		return nil, invalidRefresh()
	} else if err != nil {
		return nil, fmt.Errorf("refresh: find user %d: %w", old.UserID, err)
	}
	if u.Disabled {
		if err := s.store.RevokeTokenFamily(ctx, old.Family, now); err != nil {
			return nil, fmt.Errorf("refresh: revoke family of disabled user: %w", err)
		}
		return nil, invalidRefresh()
	}
	sess, err := s.start(ctx, u, old.Family, old.ID, now)
	if marksmith.ErrorCode(err) == marksmith.ECONFLICT {
		// Another request rotated this token first: a replay race.
		if rerr := s.store.RevokeTokenFamily(ctx, old.Family, now); rerr != nil {
			return nil, fmt.Errorf("refresh: revoke family after concurrent reuse: %w", rerr)
		}
		return nil, invalidRefresh()
	} else if err != nil {
		return nil, fmt.Errorf("refresh: user %d: %w", u.ID, err)
	}
	return sess, nil
}

// Logout revokes the refresh token's family: that session ends on every
// device it was refreshed on. Access tokens already issued stay valid
// until they expire (minutes). An unknown token is not an error, so a
// logout tells nothing about tokens.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" || len(token) > maxRefreshToken {
		return (marksmith.Problems{{Field: "refresh_token", Message: "is required"}}).Err("logout request")
	}
	old, err := s.store.FindRefreshTokenByHash(ctx, auth.HashToken(token))
	switch {
	case marksmith.ErrorCode(err) == marksmith.ENOTFOUND:
		return nil
	case err != nil:
		return fmt.Errorf("logout: find token: %w", err)
	}
	if err := s.store.RevokeTokenFamily(ctx, old.Family, s.now().UTC()); err != nil {
		return fmt.Errorf("logout: revoke family: %w", err)
	}
	return nil
}

// LogoutAll revokes every refresh token of the actor: sign out everywhere.
func (s *Service) LogoutAll(ctx context.Context, actor *marksmith.User) error {
	if actor == nil || actor.ID == 0 {
		return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Sign in first.")
	}
	if err := s.store.RevokeUserTokens(ctx, actor.ID, s.now().UTC()); err != nil {
		return fmt.Errorf("logout everywhere: user %d: %w", actor.ID, err)
	}
	return nil
}

// Verify checks an access token (signature with the one algorithm
// configured, issuer, audience, expiry, not-before) without storage.
func (s *Service) Verify(token string) (marksmith.Principal, error) {
	claims, err := s.jwt.Verify(token)
	if err != nil {
		return marksmith.Principal{}, marksmith.Errorf(marksmith.EUNAUTHORIZED, "Invalid or expired access token.")
	}
	id, err := claims.UserID()
	if err != nil || !claims.Role.Valid() {
		return marksmith.Principal{}, marksmith.Errorf(marksmith.EUNAUTHORIZED, "Invalid or expired access token.")
	}
	return marksmith.Principal{UserID: id, Role: claims.Role}, nil
}

// Actor loads the account of a verified token: EUNAUTHORIZED when it no
// longer exists or its role changed since the token was issued (a fresh
// login is needed), EFORBIDDEN when it is disabled.
func (s *Service) Actor(ctx context.Context, p marksmith.Principal) (*marksmith.User, error) {
	u, err := s.store.FindUserByID(ctx, p.UserID)
	if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
		return nil, marksmith.Errorf(marksmith.EUNAUTHORIZED, "The account of this token no longer exists.")
	} else if err != nil {
		return nil, fmt.Errorf("find user %d: %w", p.UserID, err)
	}
	if u.Disabled {
		return nil, marksmith.Errorf(marksmith.EFORBIDDEN, "This account is disabled.")
	}
	if u.Role != p.Role {
		return nil, marksmith.Errorf(marksmith.EUNAUTHORIZED, "Your role changed; log in again.")
	}
	return u, nil
}
