package storage

import (
	"reflect"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// mustCreateUsers stores users and returns them with their IDs.
func mustCreateUsers(t *testing.T, s *UserStore, users ...marksmith.User) []*marksmith.User {
	t.Helper()
	out := make([]*marksmith.User, len(users))
	for i := range users {
		u := users[i]
		if err := s.CreateUser(t.Context(), &u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Email, err)
		}
		out[i] = &u
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := marksmith.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

func TestCreateUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s := NewUserStore(db)
		ctx := t.Context()
		first := &marksmith.User{Email: "  Ada@Example.org ", Name: "Ada", Role: marksmith.RoleInstructor, PasswordHash: "h1"}
		if err := s.CreateUser(ctx, first); err != nil {
			t.Fatal(err)
		}
		want := &marksmith.User{
			ID: first.ID, Email: "ada@example.org", Name: "Ada", Role: marksmith.RoleInstructor,
			StudentKey: "ada@example.org", PasswordHash: "h1", CreatedAt: testClock, UpdatedAt: testClock,
		}
		if first.ID == 0 || !reflect.DeepEqual(first, want) {
			t.Fatalf("created %+v\nwant %+v", first, want)
		}
		got, err := s.FindUserByID(ctx, first.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("FindUserByID = %+v, %v\nwant %+v", got, err, want)
		}
		for _, tc := range []struct {
			name string
			user marksmith.User
			code string
		}{
			{"student with key", marksmith.User{Email: "s1@example.org", Role: marksmith.RoleStudent, StudentKey: "3035123456"}, ""},
			{"email taken in other case", marksmith.User{Email: "ADA@example.org", Role: marksmith.RoleStudent}, marksmith.ECONFLICT},
			{"no email", marksmith.User{Email: " ", Role: marksmith.RoleStudent}, marksmith.EINVALID},
			{"not an address", marksmith.User{Email: "ada", Role: marksmith.RoleStudent}, marksmith.EINVALID},
			{"unknown role", marksmith.User{Email: "x@example.org", Role: "root"}, marksmith.EINVALID},
			{"no role", marksmith.User{Email: "y@example.org"}, marksmith.EINVALID},
		} {
			u := tc.user
			err := s.CreateUser(ctx, &u)
			wantCode(t, tc.name, err, tc.code)
			if tc.code == "" && (u.ID <= first.ID || u.StudentKey != tc.user.StudentKey) {
				t.Errorf("%s: stored %+v", tc.name, u)
			}
		}
		if n, err := s.CountUsers(ctx); err != nil || n != 2 {
			t.Fatalf("CountUsers = %d, %v; want 2", n, err)
		}
	})
}

func TestFindUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s := NewUserStore(db)
		u := mustCreateUsers(t, s, marksmith.User{Email: "grace@example.org", Name: "Grace", Role: marksmith.RoleAdmin})[0]
		for _, tc := range []struct {
			name string
			find func() (*marksmith.User, error)
			code string
		}{
			{"by id", func() (*marksmith.User, error) { return s.FindUserByID(t.Context(), u.ID) }, ""},
			{"by missing id", func() (*marksmith.User, error) { return s.FindUserByID(t.Context(), u.ID+100) }, marksmith.ENOTFOUND},
			{"by email", func() (*marksmith.User, error) { return s.FindUserByEmail(t.Context(), "grace@example.org") }, ""},
			{"by email in other case", func() (*marksmith.User, error) { return s.FindUserByEmail(t.Context(), " GRACE@Example.ORG") }, ""},
			{"by missing email", func() (*marksmith.User, error) { return s.FindUserByEmail(t.Context(), "grace@example.com") }, marksmith.ENOTFOUND},
		} {
			got, err := tc.find()
			wantCode(t, tc.name, err, tc.code)
			if tc.code == "" && !reflect.DeepEqual(got, u) {
				t.Errorf("%s: got %+v, want %+v", tc.name, got, u)
			}
		}
	})
}

func TestFindUsers(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s := NewUserStore(db)
		us := mustCreateUsers(t, s,
			marksmith.User{Email: "admin@localhost", Name: "Admin", Role: marksmith.RoleAdmin},
			marksmith.User{Email: "alice@uni.edu", Name: "Alice Chan", Role: marksmith.RoleStudent},
			marksmith.User{Email: "bob@uni.edu", Name: "Bob 100%", Role: marksmith.RoleStudent},
			marksmith.User{Email: "carol@uni.edu", Name: "Carol_Lee", Role: marksmith.RoleInstructor},
			marksmith.User{Email: "dave@uni.edu", Name: "Dave", Role: marksmith.RoleStudent},
		)
		ids := func(users []*marksmith.User) []int64 {
			out := []int64{}
			for _, u := range users {
				out = append(out, u.ID)
			}
			return out
		}
		student := marksmith.RoleStudent
		for _, tc := range []struct {
			name   string
			filter marksmith.UserFilter
			want   []*marksmith.User
			total  int
		}{
			{"all", marksmith.UserFilter{}, us, 5},
			{"by id", marksmith.UserFilter{ID: &us[2].ID}, us[2:3], 1},
			{"by email", marksmith.UserFilter{Email: ptr("Carol@Uni.edu")}, us[3:4], 1},
			{"by role", marksmith.UserFilter{Role: &student}, []*marksmith.User{us[1], us[2], us[4]}, 3},
			{"query in email", marksmith.UserFilter{Query: "UNI.EDU"}, us[1:], 4},
			{"query in name", marksmith.UserFilter{Query: "chan"}, us[1:2], 1},
			{"percent is literal", marksmith.UserFilter{Query: "0%"}, us[2:3], 1},
			{"underscore is literal", marksmith.UserFilter{Query: "l_l"}, us[3:4], 1},
			{"role and query", marksmith.UserFilter{Role: &student, Query: "a"}, []*marksmith.User{us[1], us[4]}, 2},
			{"first page", marksmith.UserFilter{Limit: 2}, us[:2], 5},
			{"second page", marksmith.UserFilter{Offset: 2, Limit: 2}, us[2:4], 5},
			{"past the end", marksmith.UserFilter{Offset: 10, Limit: 2}, nil, 5},
			{"no match", marksmith.UserFilter{Query: "zed"}, nil, 0},
		} {
			got, total, err := s.FindUsers(t.Context(), tc.filter)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if total != tc.total || !reflect.DeepEqual(ids(got), ids(tc.want)) {
				t.Errorf("%s: got ids %v total %d, want %v total %d", tc.name, ids(got), total, ids(tc.want), tc.total)
			}
			for i := range got {
				if i < len(tc.want) && !reflect.DeepEqual(got[i], tc.want[i]) {
					t.Errorf("%s: got %+v, want %+v", tc.name, got[i], tc.want[i])
				}
			}
		}
	})
}

func TestUpdateUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		s := NewUserStore(db)
		u := mustCreateUsers(t, s, marksmith.User{Email: "eve@uni.edu", Name: "Eve", Role: marksmith.RoleStudent, PasswordHash: "old"})[0]
		later := testClock.Add(90 * time.Minute)
		db.Now = func() time.Time { return later }
		instructor, bogus := marksmith.RoleInstructor, marksmith.Role("dean")
		for _, tc := range []struct {
			name   string
			id     int64
			upd    marksmith.UserUpdate
			code   string
			change func(u *marksmith.User)
		}{
			{"nothing", u.ID, marksmith.UserUpdate{}, "", func(u *marksmith.User) {}},
			{"name", u.ID, marksmith.UserUpdate{Name: ptr("Eve Adams")}, "", func(u *marksmith.User) { u.Name = "Eve Adams" }},
			{"role and password", u.ID, marksmith.UserUpdate{Role: &instructor, PasswordHash: ptr("new")}, "",
				func(u *marksmith.User) { u.Role, u.PasswordHash = instructor, "new" }},
			{"disable", u.ID, marksmith.UserUpdate{Disabled: ptr(true)}, "", func(u *marksmith.User) { u.Disabled = true }},
			{"enable", u.ID, marksmith.UserUpdate{Disabled: ptr(false)}, "", func(u *marksmith.User) { u.Disabled = false }},
			{"unknown role", u.ID, marksmith.UserUpdate{Role: &bogus}, marksmith.EINVALID, nil},
			{"missing user", u.ID + 1, marksmith.UserUpdate{Name: ptr("x")}, marksmith.ENOTFOUND, nil},
		} {
			got, err := s.UpdateUser(t.Context(), tc.id, tc.upd)
			wantCode(t, tc.name, err, tc.code)
			if tc.change == nil {
				continue
			}
			want := *u
			tc.change(&want)
			want.UpdatedAt = later
			if !reflect.DeepEqual(got, &want) {
				t.Fatalf("%s: got %+v\nwant %+v", tc.name, got, &want)
			}
			stored, err := s.FindUserByID(t.Context(), u.ID)
			if err != nil || !reflect.DeepEqual(stored, &want) {
				t.Fatalf("%s: stored %+v, %v\nwant %+v", tc.name, stored, err, &want)
			}
			u = stored
		}
	})
}
