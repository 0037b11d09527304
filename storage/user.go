package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/marksmith/marksmith"
)

// userRow is a row of users.
type userRow struct {
	ID           int64 `gorm:"primaryKey"`
	Email        string
	Name         string
	Role         string
	StudentKey   string
	PasswordHash string
	Disabled     bool
	MustChange   bool      `gorm:"column:must_change_password"`
	CreatedAt    time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt    time.Time `gorm:"autoUpdateTime:false"`
}

func (userRow) TableName() string { return "users" }

func (r *userRow) toDomain() *marksmith.User {
	return &marksmith.User{
		ID:                 r.ID,
		Email:              r.Email,
		Name:               r.Name,
		Role:               marksmith.Role(r.Role),
		StudentKey:         r.StudentKey,
		PasswordHash:       r.PasswordHash,
		Disabled:           r.Disabled,
		CreatedAt:          r.CreatedAt.UTC(),
		MustChangePassword: r.MustChange,
		UpdatedAt:          r.UpdatedAt.UTC(),
	}
}

func userFromDomain(u *marksmith.User) *userRow {
	return &userRow{
		ID:           u.ID,
		Email:        u.Email,
		Name:         u.Name,
		Role:         string(u.Role),
		StudentKey:   u.StudentKey,
		PasswordHash: u.PasswordHash,
		Disabled:     u.Disabled,
		MustChange:   u.MustChangePassword,
		CreatedAt:    dbTime(u.CreatedAt),
		UpdatedAt:    dbTime(u.UpdatedAt),
	}
}

// NormalizeEmail returns the form an email is stored and looked up in:
// trimmed and lower-cased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// UserStore stores users. It implements marksmith.UserStore.
type UserStore struct{ db *DB }

var _ marksmith.UserStore = (*UserStore)(nil)

// NewUserStore returns the user service of db.
func NewUserStore(db *DB) *UserStore { return &UserStore{db: db} }

// FindUserByID returns the user with the ID, or ENOTFOUND.
func (s *UserStore) FindUserByID(ctx context.Context, id int64) (*marksmith.User, error) {
	var r userRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("user %d", id))
	}
	return r.toDomain(), nil
}

// FindUserByEmail returns the user with the email, ignoring case, or
// ENOTFOUND.
func (s *UserStore) FindUserByEmail(ctx context.Context, email string) (*marksmith.User, error) {
	var r userRow
	err := s.db.gorm.WithContext(ctx).Where("lower(email) = ?", NormalizeEmail(email)).Take(&r).Error
	if err != nil {
		return nil, translate(err, fmt.Sprintf("user %q", email))
	}
	return r.toDomain(), nil
}

// FindUsers returns the users matching filter, ordered by ID, and how many
// match in all (ignoring Offset and Limit). Limit 0 means no limit. Query
// matches a substring of the email or name, ignoring ASCII case.
func (s *UserStore) FindUsers(ctx context.Context, filter marksmith.UserFilter) ([]*marksmith.User, int, error) {
	where := func(tx *gorm.DB) *gorm.DB {
		q := tx.Model(&userRow{})
		if filter.ID != nil {
			q = q.Where("id = ?", *filter.ID)
		}
		if filter.Email != nil {
			q = q.Where("lower(email) = ?", NormalizeEmail(*filter.Email))
		}
		if filter.Role != nil {
			q = q.Where("role = ?", string(*filter.Role))
		}
		if filter.Query != "" {
			p := likePattern(filter.Query)
			q = q.Where(`(lower(email) LIKE ? ESCAPE '\' OR lower(name) LIKE ? ESCAPE '\')`, p, p)
		}
		return q
	}
	var (
		rows  []userRow
		total int64
	)
	db := s.db.gorm.WithContext(ctx)
	err := where(db).Count(&total).Error
	if err == nil {
		err = page(where(db), filter.Offset, filter.Limit).Order("id").Find(&rows).Error
	}
	if err != nil {
		return nil, 0, translate(err, "find users")
	}
	out := make([]*marksmith.User, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, int(total), nil
}

// CreateUser stores u and sets its ID. The email is stored trimmed and
// lower-cased, StudentKey defaults to the email, and zero CreatedAt and
// UpdatedAt default to the DB's clock. A taken email is ECONFLICT; a
// missing email or unknown role is EINVALID.
func (s *UserStore) CreateUser(ctx context.Context, u *marksmith.User) error {
	u.Email = NormalizeEmail(u.Email)
	if err := validateUser(u.Email, u.Role); err != nil {
		return err
	}
	if u.StudentKey == "" {
		u.StudentKey = u.Email
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.db.now()
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	r := userFromDomain(u)
	r.ID = 0
	if err := s.db.gorm.WithContext(ctx).Create(r).Error; err != nil {
		return translate(err, fmt.Sprintf("user with email %q", u.Email))
	}
	*u = *r.toDomain()
	return nil
}

// UpdateUser applies upd to the user with the ID, sets UpdatedAt to the
// DB's clock, and returns the updated user; ENOTFOUND if there is none.
func (s *UserStore) UpdateUser(ctx context.Context, id int64, upd marksmith.UserUpdate) (*marksmith.User, error) {
	if upd.Role != nil && !upd.Role.Valid() {
		return nil, marksmith.Errorf(marksmith.EINVALID, "unknown role %q (want admin, instructor or student)", *upd.Role)
	}
	what := fmt.Sprintf("user %d", id)
	var r userRow
	err := s.db.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return err
		}
		changes := map[string]any{"updated_at": s.db.now()}
		if upd.Name != nil {
			changes["name"] = *upd.Name
		}
		if upd.Role != nil {
			changes["role"] = string(*upd.Role)
		}
		if upd.PasswordHash != nil {
			changes["password_hash"] = *upd.PasswordHash
		}
		if upd.MustChangePassword != nil {
			changes["must_change_password"] = *upd.MustChangePassword
		}
		if upd.Disabled != nil {
			changes["disabled"] = *upd.Disabled
		}
		if err := tx.Model(&userRow{}).Where("id = ?", id).Updates(changes).Error; err != nil {
			return err
		}
		return tx.Where("id = ?", id).Take(&r).Error
	})
	if err != nil {
		return nil, translate(err, what)
	}
	return r.toDomain(), nil
}

// CountUsers returns how many users there are.
func (s *UserStore) CountUsers(ctx context.Context) (int, error) {
	var n int64
	if err := s.db.gorm.WithContext(ctx).Model(&userRow{}).Count(&n).Error; err != nil {
		return 0, translate(err, "count users")
	}
	return int(n), nil
}

func validateUser(email string, role marksmith.Role) error {
	if email == "" || !strings.Contains(email, "@") {
		return marksmith.Errorf(marksmith.EINVALID, "email %q is not an address", email)
	}
	if !role.Valid() {
		return marksmith.Errorf(marksmith.EINVALID, "unknown role %q (want admin, instructor or student)", role)
	}
	return nil
}

// likePattern returns a LIKE pattern (escape character \) matching s,
// lower-cased, anywhere in a string.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// page applies an offset and a limit; zero or negative values do not limit.
func page(q *gorm.DB, offset, limit int) *gorm.DB {
	if offset > 0 {
		q = q.Offset(offset)
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	return q
}
