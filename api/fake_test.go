package api

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/marksmith/marksmith"
)

// The fakes below keep the three services in memory with the semantics the
// storage contract promises (copies in and out, ENOTFOUND, ECONFLICT), so
// that the API tests are fast and independent of a database.

type fakeUsers struct {
	mu     sync.Mutex
	nextID int64
	byID   map[int64]marksmith.User
	now    func() time.Time
}

func newFakeUsers(now func() time.Time) *fakeUsers {
	return &fakeUsers{byID: map[int64]marksmith.User{}, now: now}
}

func (f *fakeUsers) FindUserByID(_ context.Context, id int64) (*marksmith.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.byID[id]
	if !ok {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "User not found.")
	}
	return &u, nil
}

func (f *fakeUsers) FindUserByEmail(_ context.Context, email string) (*marksmith.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.byID {
		if u.Email == email {
			return &u, nil
		}
	}
	return nil, marksmith.Errorf(marksmith.ENOTFOUND, "User not found.")
}

func (f *fakeUsers) FindUsers(_ context.Context, filter marksmith.UserFilter) ([]*marksmith.User, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []*marksmith.User
	for _, u := range f.byID {
		switch {
		case filter.ID != nil && u.ID != *filter.ID:
		case filter.Email != nil && u.Email != *filter.Email:
		case filter.Role != nil && u.Role != *filter.Role:
		case filter.Query != "" && !strings.Contains(strings.ToLower(u.Email+" "+u.Name), strings.ToLower(filter.Query)):
		default:
			all = append(all, &u)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	total := len(all)
	lo := min(filter.Offset, total)
	hi := total
	if filter.Limit > 0 {
		hi = min(lo+filter.Limit, total)
	}
	return all[lo:hi], total, nil
}

func (f *fakeUsers) CreateUser(_ context.Context, u *marksmith.User) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, x := range f.byID {
		if x.Email == u.Email {
			return marksmith.Errorf(marksmith.ECONFLICT, "Email already taken.")
		}
	}
	f.nextID++
	u.ID = f.nextID
	u.CreatedAt = f.now().UTC()
	u.UpdatedAt = u.CreatedAt
	f.byID[u.ID] = *u
	return nil
}

func (f *fakeUsers) UpdateUser(_ context.Context, id int64, upd marksmith.UserUpdate) (*marksmith.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.byID[id]
	if !ok {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "User not found.")
	}
	if upd.Name != nil {
		u.Name = *upd.Name
	}
	if upd.Role != nil {
		u.Role = *upd.Role
	}
	if upd.PasswordHash != nil {
		u.PasswordHash = *upd.PasswordHash
	}
	if upd.Disabled != nil {
		u.Disabled = *upd.Disabled
	}
	u.UpdatedAt = f.now().UTC()
	f.byID[id] = u
	return &u, nil
}

func (f *fakeUsers) CountUsers(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byID), nil
}

type fakeTokens struct {
	mu     sync.Mutex
	nextID int64
	byID   map[int64]marksmith.RefreshToken
}

func newFakeTokens() *fakeTokens { return &fakeTokens{byID: map[int64]marksmith.RefreshToken{}} }

func (f *fakeTokens) CreateRefreshToken(_ context.Context, t *marksmith.RefreshToken) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.create(t)
}

func (f *fakeTokens) create(t *marksmith.RefreshToken) error {
	for _, x := range f.byID {
		if x.Hash == t.Hash {
			return marksmith.Errorf(marksmith.ECONFLICT, "Token hash taken.")
		}
	}
	f.nextID++
	t.ID = f.nextID
	f.byID[t.ID] = *t
	return nil
}

func (f *fakeTokens) FindRefreshTokenByHash(_ context.Context, hash string) (*marksmith.RefreshToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.byID {
		if t.Hash == hash {
			return &t, nil
		}
	}
	return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Token not found.")
}

func (f *fakeTokens) RotateRefreshToken(_ context.Context, oldID int64, next *marksmith.RefreshToken, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	old, ok := f.byID[oldID]
	if !ok {
		return marksmith.Errorf(marksmith.ENOTFOUND, "Token not found.")
	}
	if old.UsedAt != nil || old.RevokedAt != nil {
		return marksmith.Errorf(marksmith.ECONFLICT, "Token already used or revoked.")
	}
	if err := f.create(next); err != nil {
		return err
	}
	old.UsedAt = &now
	old.ReplacedBy = &next.ID
	f.byID[oldID] = old
	return nil
}

func (f *fakeTokens) RevokeTokenFamily(_ context.Context, family string, now time.Time) error {
	f.revokeWhere(func(t marksmith.RefreshToken) bool { return t.Family == family }, now)
	return nil
}

func (f *fakeTokens) RevokeUserTokens(_ context.Context, userID int64, now time.Time) error {
	f.revokeWhere(func(t marksmith.RefreshToken) bool { return t.UserID == userID }, now)
	return nil
}

// revokeWhere revokes every live token match picks.
func (f *fakeTokens) revokeWhere(match func(marksmith.RefreshToken) bool, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, t := range f.byID {
		if match(t) && t.RevokedAt == nil {
			t.RevokedAt = &now
			f.byID[id] = t
		}
	}
}

// family returns the tokens of a family, oldest first.
func (f *fakeTokens) family(family string) []marksmith.RefreshToken {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []marksmith.RefreshToken
	for _, t := range f.byID {
		if t.Family == family {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

type fakeTemplates struct {
	mu       sync.Mutex
	versions map[string][]marksmith.TemplateVersion // oldest first
}

func newFakeTemplates() *fakeTemplates {
	return &fakeTemplates{versions: map[string][]marksmith.TemplateVersion{}}
}

func cloneVersion(t marksmith.TemplateVersion) *marksmith.TemplateVersion {
	t.Tags = slices.Clone(t.Tags)
	return &t
}

func (f *fakeTemplates) FindTemplates(_ context.Context, filter marksmith.TemplateFilter) ([]*marksmith.TemplateVersion, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []*marksmith.TemplateVersion
	for id, vs := range f.versions {
		latest := vs[len(vs)-1]
		q := strings.ToLower(filter.Query)
		if q != "" && !strings.Contains(strings.ToLower(id), q) && !strings.Contains(strings.ToLower(latest.Title), q) {
			continue
		}
		if filter.Tag != "" && !slices.Contains(latest.Tags, filter.Tag) {
			continue
		}
		all = append(all, cloneVersion(latest))
	}
	sort.Slice(all, func(i, j int) bool { return all[i].TemplateID < all[j].TemplateID })
	total := len(all)
	lo := min(filter.Offset, total)
	hi := total
	if filter.Limit > 0 {
		hi = min(lo+filter.Limit, total)
	}
	return all[lo:hi], total, nil
}

func (f *fakeTemplates) FindTemplateVersions(_ context.Context, id string) ([]*marksmith.TemplateVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs, ok := f.versions[id]
	if !ok {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Template not found.")
	}
	out := make([]*marksmith.TemplateVersion, len(vs))
	for i, v := range vs {
		out[i] = cloneVersion(v)
	}
	return out, nil
}

func (f *fakeTemplates) FindTemplateVersion(_ context.Context, id string, version int) (*marksmith.TemplateVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.versions[id]
	if len(vs) == 0 {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Template not found.")
	}
	if version == 0 {
		return cloneVersion(vs[len(vs)-1]), nil
	}
	for _, v := range vs {
		if v.Version == version {
			return cloneVersion(v), nil
		}
	}
	return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Template version not found.")
}

func (f *fakeTemplates) CreateTemplateVersion(_ context.Context, t *marksmith.TemplateVersion) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.versions[t.TemplateID]
	if t.Version == 0 {
		t.Version = len(vs) + 1
	}
	for _, v := range vs {
		if v.Version == t.Version {
			return marksmith.Errorf(marksmith.ECONFLICT, "Version exists.")
		}
	}
	f.versions[t.TemplateID] = append(vs, *cloneVersion(*t))
	return nil
}
