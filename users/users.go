// Package users is the account service, marksmith.UserService: creating
// accounts one by one or from a roster, listing them, passwords (argon2id,
// one-time passwords that must be changed at first login, changes and
// resets) and disabling accounts. The JSON API, the web pages and the
// command line all create users through it.
package users

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
)

// Field limits of an account.
const (
	MaxEmailLength      = 254
	MaxNameLength       = 200
	MaxStudentKeyLength = 100
	MinPasswordLength   = 8
	MaxPasswordLength   = 1024
	// DefaultImportMaxRows bounds a roster import: each new account costs
	// one argon2id hash (about 0.1 s with the default parameters).
	DefaultImportMaxRows = 1000
)

// Config configures the service; zero fields take their defaults.
type Config struct {
	// PasswordParams are the argon2id parameters of new hashes; nil means
	// auth.DefaultParams().
	PasswordParams *auth.Params
	// ImportMaxRows is the most rows one roster import may have.
	ImportMaxRows int
}

// Service is the account service. Create it with New.
type Service struct {
	store marksmith.Store
	cfg   Config
	now   func() time.Time
	log   *slog.Logger
}

var _ marksmith.UserService = (*Service)(nil)

// New returns the service over store.
func New(store marksmith.Store, cfg Config, now func() time.Time, logger *slog.Logger) *Service {
	if cfg.PasswordParams == nil {
		cfg.PasswordParams = auth.DefaultParams()
	}
	if cfg.ImportMaxRows == 0 {
		cfg.ImportMaxRows = DefaultImportMaxRows
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, cfg: cfg, now: now, log: logger}
}

// NormalizeEmail is the one form of an email address that is stored and
// looked up: trimmed and lower-cased.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail is a deliberately loose check: one @, something either side,
// a dot in the domain (or the domain localhost, for the first admin of a
// machine of one's own), no spaces or control characters.
func ValidEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") ||
		(!strings.Contains(domain, ".") && domain != "localhost") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return false
	}
	for _, r := range e {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// normalize trims a new user and sets defaults: role student, and for
// students a student key equal to the email.
func normalize(r *marksmith.NewUser) {
	r.Email = NormalizeEmail(r.Email)
	r.Name = strings.TrimSpace(r.Name)
	r.Role = marksmith.Role(strings.ToLower(strings.TrimSpace(string(r.Role))))
	r.StudentKey = strings.TrimSpace(r.StudentKey)
	if r.Role == "" {
		r.Role = marksmith.RoleStudent
	}
	if r.Role == marksmith.RoleStudent && r.StudentKey == "" {
		r.StudentKey = r.Email
	}
}

// validate checks a normalised new user created by a caller of role by.
func validate(r *marksmith.NewUser, by marksmith.Role) marksmith.Problems {
	var p marksmith.Problems
	switch {
	case r.Email == "":
		p.Add("email", "is required")
	case len(r.Email) > MaxEmailLength:
		p.Add("email", "is longer than %d characters", MaxEmailLength)
	case !utf8.ValidString(r.Email) || strings.IndexByte(r.Email, 0) >= 0 || !ValidEmail(r.Email):
		p.Add("email", "%q is not an email address", strings.ToValidUTF8(strings.ReplaceAll(r.Email, "\x00", ""), "?"))
	}
	if r.Name == "" {
		p.Add("name", "is required")
	} else {
		p.CheckText("name", r.Name, MaxNameLength)
	}
	switch {
	case !r.Role.Valid():
		p.Add("role", "%q is not one of admin, instructor, student", strings.ToValidUTF8(string(r.Role), "?"))
	case by != marksmith.RoleAdmin && r.Role != marksmith.RoleStudent:
		p.Add("role", "an instructor may create only students, not %s", r.Role)
	}
	p.CheckText("student_key", r.StudentKey, MaxStudentKeyLength)
	checkPassword(&p, "password", r.Password, true)
	return p
}

// checkPassword records what is wrong with a password (empty allowed when
// optional: a one-time password is generated).
func checkPassword(p *marksmith.Problems, field, pw string, optional bool) {
	switch {
	case pw == "" && optional:
	case len(pw) < MinPasswordLength:
		p.Add(field, "is shorter than %d characters", MinPasswordLength)
	case len(pw) > MaxPasswordLength:
		p.Add(field, "is longer than %d bytes", MaxPasswordLength)
	case !utf8.ValidString(pw) || strings.IndexByte(pw, 0) >= 0:
		p.Add(field, "must be text without NUL characters")
	}
}

// requireStaff refuses anyone but instructors and admins.
func requireStaff(actor *marksmith.User) error {
	if actor == nil || actor.ID == 0 {
		return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Sign in first.")
	}
	if actor.Role != marksmith.RoleAdmin && actor.Role != marksmith.RoleInstructor {
		return marksmith.Errorf(marksmith.EFORBIDDEN, "Only instructors and admins may do this.")
	}
	return nil
}

// requireAdmin refuses anyone but admins.
func requireAdmin(actor *marksmith.User) error {
	if actor == nil || actor.ID == 0 {
		return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Sign in first.")
	}
	if actor.Role != marksmith.RoleAdmin {
		return marksmith.Errorf(marksmith.EFORBIDDEN, "Only admins may do this.")
	}
	return nil
}

// Me returns the actor's own account.
func (s *Service) Me(ctx context.Context, actor *marksmith.User) (*marksmith.User, error) {
	if actor == nil || actor.ID == 0 {
		return nil, marksmith.Errorf(marksmith.EUNAUTHORIZED, "Sign in first.")
	}
	u, err := s.store.FindUserByID(ctx, actor.ID)
	if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
		return nil, marksmith.Errorf(marksmith.EUNAUTHORIZED, "The account of this token no longer exists.")
	} else if err != nil {
		return nil, fmt.Errorf("find user %d: %w", actor.ID, err)
	}
	return u, nil
}

// FindUsers lists accounts (instructors and admins), filtered by role and
// a search string, paginated.
func (s *Service) FindUsers(ctx context.Context, actor *marksmith.User, f marksmith.UserFilter) ([]*marksmith.User, int, error) {
	if err := requireStaff(actor); err != nil {
		return nil, 0, err
	}
	return s.List(ctx, f)
}

// List lists accounts on the operator's authority (the command line).
func (s *Service) List(ctx context.Context, f marksmith.UserFilter) ([]*marksmith.User, int, error) {
	var p marksmith.Problems
	p.CheckText("q", f.Query, 200)
	if f.Role != nil && !f.Role.Valid() {
		p.Add("role", "%q is not one of admin, instructor, student", strings.ToValidUTF8(string(*f.Role), "?"))
	}
	if f.Offset < 0 || f.Limit < 0 {
		p.Add("offset", "offset and limit must not be negative")
	}
	if err := p.Err("query"); err != nil {
		return nil, 0, err
	}
	users, total, err := s.store.FindUsers(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	if users == nil {
		users = []*marksmith.User{}
	}
	return users, total, nil
}

// CreateUser creates one account. Admins create any role, instructors only
// students. Without a password a one-time password is generated, returned
// once, and must be changed at first login.
func (s *Service) CreateUser(ctx context.Context, actor *marksmith.User, in marksmith.NewUser) (*marksmith.NewAccount, error) {
	if err := requireStaff(actor); err != nil {
		return nil, err
	}
	normalize(&in)
	if actor.Role != marksmith.RoleAdmin && in.Role.Valid() && in.Role != marksmith.RoleStudent {
		return nil, marksmith.Errorf(marksmith.EFORBIDDEN, "An instructor may create only students, not %s.", in.Role)
	}
	return s.createChecked(ctx, in, actor.Role)
}

// Create creates an account of any role on the operator's authority (the
// command line), as CreateUser does for an admin.
func (s *Service) Create(ctx context.Context, in marksmith.NewUser) (*marksmith.NewAccount, error) {
	normalize(&in)
	return s.createChecked(ctx, in, marksmith.RoleAdmin)
}

// createChecked validates a normalised new user for a creator of role by
// and creates it.
func (s *Service) createChecked(ctx context.Context, in marksmith.NewUser, by marksmith.Role) (*marksmith.NewAccount, error) {
	if err := validate(&in, by).Err("user"); err != nil {
		return nil, err
	}
	acc, err := s.create(ctx, in)
	if marksmith.ErrorCode(err) == marksmith.ECONFLICT {
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "A user with email %s already exists.", in.Email)
	} else if err != nil {
		return nil, fmt.Errorf("create user %s: %w", in.Email, err)
	}
	return acc, nil
}

// Bootstrap creates the first admin when there is no account at all, with
// a generated one-time password returned once; it returns nil when
// accounts exist.
func (s *Service) Bootstrap(ctx context.Context, email string) (*marksmith.NewAccount, error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	return s.Create(ctx, marksmith.NewUser{Email: email, Name: "Administrator", Role: marksmith.RoleAdmin})
}

// create stores a normalised, valid new user, generating a one-time
// password when none is given.
func (s *Service) create(ctx context.Context, in marksmith.NewUser) (*marksmith.NewAccount, error) {
	pw, generated := in.Password, ""
	if pw == "" {
		var err error
		if pw, err = auth.NewPassword(); err != nil {
			return nil, err
		}
		generated = pw
	}
	hash, err := auth.HashPasswordParams(pw, s.cfg.PasswordParams)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	u := &marksmith.User{Email: in.Email, Name: in.Name, Role: in.Role, StudentKey: in.StudentKey, PasswordHash: hash,
		MustChangePassword: generated != "", CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return &marksmith.NewAccount{User: u, Password: generated}, nil
}

// ChangePassword changes the actor's own password, given the current one.
// It clears the one-time flag and revokes every refresh token of the
// account: other sessions end, and the caller logs in again.
func (s *Service) ChangePassword(ctx context.Context, actor *marksmith.User, in marksmith.PasswordChange) error {
	if actor == nil || actor.ID == 0 {
		return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Sign in first.")
	}
	var p marksmith.Problems
	if in.Current == "" {
		p.Add("current_password", "is required")
	} else if len(in.Current) > MaxPasswordLength {
		p.Add("current_password", "is longer than %d bytes", MaxPasswordLength)
	}
	checkPassword(&p, "new_password", in.New, false)
	if len(p) == 0 && in.New == in.Current {
		p.Add("new_password", "must differ from the current password")
	}
	if err := p.Err("password change"); err != nil {
		return err
	}
	u, err := s.store.FindUserByID(ctx, actor.ID)
	if err != nil {
		return fmt.Errorf("change password of user %d: %w", actor.ID, err)
	}
	ok, err := auth.CheckPassword(in.Current, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("change password of user %d: %w", actor.ID, err)
	}
	if !ok {
		return (marksmith.Problems{{Field: "current_password", Message: "is not your current password"}}).Err("password change")
	}
	hash, err := auth.HashPasswordParams(in.New, s.cfg.PasswordParams)
	if err != nil {
		return fmt.Errorf("change password of user %d: %w", actor.ID, err)
	}
	f := false
	now := s.now().UTC()
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		if _, err := tx.UpdateUser(ctx, u.ID, marksmith.UserUpdate{PasswordHash: &hash, MustChangePassword: &f}); err != nil {
			return err
		}
		return tx.RevokeUserTokens(ctx, u.ID, now)
	})
	if err != nil {
		return fmt.Errorf("change password of user %d: %w", actor.ID, err)
	}
	s.log.InfoContext(ctx, "password changed", "user_id", u.ID)
	return nil
}

// ResetPassword gives an account a new one-time password, returned once,
// and ends its sessions (admins only).
func (s *Service) ResetPassword(ctx context.Context, actor *marksmith.User, userID int64) (*marksmith.NewAccount, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	return s.reset(ctx, userID)
}

// ResetByEmail is ResetPassword on the operator's authority (the command
// line), for the account with email.
func (s *Service) ResetByEmail(ctx context.Context, email string) (*marksmith.NewAccount, error) {
	u, err := s.store.FindUserByEmail(ctx, NormalizeEmail(email))
	if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "No account has the email %s.", NormalizeEmail(email))
	} else if err != nil {
		return nil, fmt.Errorf("reset password of %s: %w", email, err)
	}
	return s.reset(ctx, u.ID)
}

// reset gives an account a new one-time password and ends its sessions.
func (s *Service) reset(ctx context.Context, userID int64) (*marksmith.NewAccount, error) {
	pw, err := auth.NewPassword()
	if err != nil {
		return nil, err
	}
	hash, err := auth.HashPasswordParams(pw, s.cfg.PasswordParams)
	if err != nil {
		return nil, err
	}
	t := true
	var u *marksmith.User
	err = s.store.WithTx(ctx, func(tx marksmith.Store) error {
		var err error
		if u, err = tx.UpdateUser(ctx, userID, marksmith.UserUpdate{PasswordHash: &hash, MustChangePassword: &t}); err != nil {
			return err
		}
		return tx.RevokeUserTokens(ctx, userID, s.now().UTC())
	})
	if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "User %d not found.", userID)
	} else if err != nil {
		return nil, fmt.Errorf("reset password of user %d: %w", userID, err)
	}
	return &marksmith.NewAccount{User: u, Password: pw}, nil
}

// SetDisabled disables or enables an account (admins only; not their
// own). Disabling revokes every refresh token of the account, and every
// route refuses it at once.
func (s *Service) SetDisabled(ctx context.Context, actor *marksmith.User, userID int64, disabled bool) (*marksmith.User, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if userID == actor.ID && disabled {
		return nil, marksmith.Errorf(marksmith.ECONFLICT, "You cannot disable your own account.")
	}
	var u *marksmith.User
	err := s.store.WithTx(ctx, func(tx marksmith.Store) error {
		var err error
		if u, err = tx.UpdateUser(ctx, userID, marksmith.UserUpdate{Disabled: &disabled}); err != nil {
			return err
		}
		if disabled {
			return tx.RevokeUserTokens(ctx, userID, s.now().UTC())
		}
		return nil
	})
	if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "User %d not found.", userID)
	} else if err != nil {
		return nil, fmt.Errorf("set user %d disabled=%v: %w", userID, disabled, err)
	}
	return u, nil
}
