package marksmith

import (
	"context"
	"time"
)

// Role is what a user may do.
type Role string

// The roles.
const (
	RoleAdmin      Role = "admin"
	RoleInstructor Role = "instructor"
	RoleStudent    Role = "student"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleInstructor || r == RoleStudent
}

// User is an account. StudentKey is the stable identifier a student's
// variants are seeded from (a university number); it defaults to the email.
type User struct {
	ID           int64  `json:"id"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	Role         Role   `json:"role"`
	StudentKey   string `json:"student_key,omitempty"`
	PasswordHash string `json:"-"`
	Disabled     bool   `json:"disabled,omitempty"`
	// MustChangePassword is set while the account has a one-time password
	// it was given: it must choose its own before anything else.
	MustChangePassword bool      `json:"must_change_password,omitempty"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// UserFilter selects users; nil fields do not filter.
type UserFilter struct {
	ID     *int64
	Email  *string
	Role   *Role
	Query  string // substring of email or name
	Offset int
	Limit  int
}

// UserUpdate changes a user; nil fields are left alone.
type UserUpdate struct {
	Name               *string
	Role               *Role
	PasswordHash       *string
	Disabled           *bool
	MustChangePassword *bool
}

// UserStore stores users.
type UserStore interface {
	FindUserByID(ctx context.Context, id int64) (*User, error)
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	FindUsers(ctx context.Context, filter UserFilter) ([]*User, int, error)
	CreateUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) (*User, error)
	CountUsers(ctx context.Context) (int, error)
}

// RefreshToken is a stored refresh token. Only the hash of the token is
// kept. Tokens issued from one login form a Family; presenting a token that
// was already rotated revokes the whole family (reuse detection).
type RefreshToken struct {
	ID         int64
	UserID     int64
	Family     string
	Hash       string
	ExpiresAt  time.Time
	CreatedAt  time.Time
	UsedAt     *time.Time // set when rotated
	RevokedAt  *time.Time
	ReplacedBy *int64
}

// TokenStore stores refresh tokens.
type TokenStore interface {
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	FindRefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error)
	// RotateRefreshToken marks old as used and stores next in its family, in
	// one transaction. It fails with ECONFLICT if old was already used or
	// revoked, so two concurrent refreshes cannot both succeed.
	RotateRefreshToken(ctx context.Context, oldID int64, next *RefreshToken, now time.Time) error
	RevokeTokenFamily(ctx context.Context, family string, now time.Time) error
	RevokeUserTokens(ctx context.Context, userID int64, now time.Time) error
}
