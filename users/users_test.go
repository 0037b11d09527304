package users

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/storage"
)

var cheap = &auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

type fixture struct {
	svc                        *Service
	store                      *storage.Store
	admin, instructor, student *marksmith.User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := storage.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "u.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: storage.NewStore(db)}
	f.svc = New(f.store, Config{PasswordParams: cheap, ImportMaxRows: 10}, nil, nil)
	mk := func(email string, role marksmith.Role) *marksmith.User {
		acc, err := f.svc.Create(t.Context(), marksmith.NewUser{Email: email, Name: "N", Role: role, Password: "a fine password"})
		if err != nil {
			t.Fatal(err)
		}
		return acc.User
	}
	f.admin, f.instructor, f.student = mk("admin@uni.edu", marksmith.RoleAdmin), mk("teacher@uni.edu", marksmith.RoleInstructor), mk("s@uni.edu", marksmith.RoleStudent)
	return f
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := marksmith.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want %q", what, err, got, code)
	}
}

func TestCreateUser(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	acc, err := f.svc.CreateUser(ctx, f.instructor, marksmith.NewUser{Email: " New@Uni.EDU ", Name: " New "})
	if err != nil {
		t.Fatal(err)
	}
	u := acc.User
	if u.Email != "new@uni.edu" || u.Name != "New" || u.Role != marksmith.RoleStudent || u.StudentKey != "new@uni.edu" ||
		!u.MustChangePassword || len(acc.Password) < 20 {
		t.Fatalf("created %+v with password %q", u, acc.Password)
	}
	if ok, _ := auth.CheckPassword(acc.Password, u.PasswordHash); !ok {
		t.Fatal("the one-time password does not match the stored hash")
	}
	// A password given is not one-time.
	acc, err = f.svc.CreateUser(ctx, f.admin, marksmith.NewUser{Email: "t2@uni.edu", Name: "T", Role: marksmith.RoleInstructor, Password: "chosen password"})
	if err != nil || acc.Password != "" || acc.User.MustChangePassword {
		t.Fatalf("created with a password: %+v, %v", acc, err)
	}
	for _, tc := range []struct {
		name  string
		actor *marksmith.User
		in    marksmith.NewUser
		code  string
	}{
		{"instructor creates an instructor", f.instructor, marksmith.NewUser{Email: "x@uni.edu", Name: "X", Role: marksmith.RoleInstructor}, marksmith.EFORBIDDEN},
		{"student creates", f.student, marksmith.NewUser{Email: "x@uni.edu", Name: "X"}, marksmith.EFORBIDDEN},
		{"taken email", f.admin, marksmith.NewUser{Email: "S@uni.edu", Name: "X"}, marksmith.ECONFLICT},
		{"not an email", f.admin, marksmith.NewUser{Email: "nobody", Name: "X"}, marksmith.EUNPROCESSABLE},
		{"a NUL in the email", f.admin, marksmith.NewUser{Email: "a\x00b@uni.edu", Name: "X"}, marksmith.EUNPROCESSABLE},
		{"a NUL in the name", f.admin, marksmith.NewUser{Email: "x@uni.edu", Name: "A\x00"}, marksmith.EUNPROCESSABLE},
		{"invalid UTF-8 name", f.admin, marksmith.NewUser{Email: "x@uni.edu", Name: "\xff\xfe"}, marksmith.EUNPROCESSABLE},
		{"no name", f.admin, marksmith.NewUser{Email: "x@uni.edu"}, marksmith.EUNPROCESSABLE},
		{"short password", f.admin, marksmith.NewUser{Email: "x@uni.edu", Name: "X", Password: "short"}, marksmith.EUNPROCESSABLE},
		{"unknown role", f.admin, marksmith.NewUser{Email: "x@uni.edu", Name: "X", Role: "dean"}, marksmith.EUNPROCESSABLE},
		{"long name", f.admin, marksmith.NewUser{Email: "x@uni.edu", Name: strings.Repeat("n", MaxNameLength+1)}, marksmith.EUNPROCESSABLE},
	} {
		_, err := f.svc.CreateUser(ctx, tc.actor, tc.in)
		wantCode(t, tc.name, err, tc.code)
	}
}

func TestImportUsers(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	csv := "\ufeffEmail;Name\n" // a semicolon is not our delimiter: one unknown column
	_, err := f.svc.ImportUsers(ctx, f.instructor, marksmith.Roster{Format: "csv", Body: strings.NewReader(csv)})
	wantCode(t, "unknown header", err, marksmith.EUNPROCESSABLE)

	// Malformed lines (an unterminated quote, a bare quote in a field) are
	// reported with their line; the rows around them are created.
	csv = "\ufeffemail,name,student_key\n" +
		"a@uni.edu,Ann,3035000001\n" +
		"\"unterminated@b.c,N\n" +
		"b@uni.edu,B\"ob,2\n" +
		"\n" +
		"c@uni.edu,Cy\n" +
		"s@uni.edu,Existing,\n" +
		"bad,Bad,\n"
	rep, err := f.svc.ImportUsers(ctx, f.instructor, marksmith.Roster{Format: "csv", Body: strings.NewReader(csv)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 1 || rep.Existing != 1 || rep.Failed != 4 || len(rep.Rows) != 6 {
		t.Fatalf("report %+v", rep)
	}
	for _, want := range []struct {
		line   int
		status string
		errs   string
	}{
		{2, marksmith.ImportCreated, ""}, {3, marksmith.ImportError, "not valid CSV"}, {4, marksmith.ImportError, "not valid CSV"},
		{6, marksmith.ImportError, "fields"}, {7, marksmith.ImportExists, ""}, {8, marksmith.ImportError, "not an email"},
	} {
		var row *marksmith.ImportRow
		for i := range rep.Rows {
			if rep.Rows[i].Line == want.line {
				row = &rep.Rows[i]
			}
		}
		if row == nil || row.Status != want.status {
			t.Fatalf("line %d: %+v; want %s", want.line, row, want.status)
		}
		msgs := ""
		for _, e := range row.Errors {
			msgs += e.Message + ";"
		}
		if (want.errs == "") != (msgs == "") || !strings.Contains(msgs, want.errs) {
			t.Fatalf("line %d errors %q; want %q", want.line, msgs, want.errs)
		}
	}
	if rep.Rows[0].Password == "" {
		t.Fatal("a created row has no one-time password")
	}
	// JSON, and the row limit.
	rep, err = f.svc.ImportUsers(ctx, f.admin, marksmith.Roster{Format: "json", Body: strings.NewReader(`[{"email":"j@uni.edu","name":"J"}]`)})
	if err != nil || rep.Created != 1 {
		t.Fatalf("JSON import = %+v, %v", rep, err)
	}
	_, err = f.svc.ImportUsers(ctx, f.admin, marksmith.Roster{Format: "json", Body: strings.NewReader(`[{"email":"j@uni.edu","nme":"J"}]`)})
	wantCode(t, "unknown JSON field", err, marksmith.EINVALID)
	// A malformed JSON roster creates nothing and says what and where,
	// without Go's type names; text that is not UTF-8 is malformed, not
	// read as U+FFFD.
	for _, tc := range []struct{ body, msg, field string }{
		{`[{"email":"k@uni.edu","name":"K"}, {"email":"l@uni.edu","name":"\xff"}]`, "Invalid JSON roster at item 2: not valid UTF-8.", "[1].name"},
		{"[{\"email\":\"k@uni.edu\",\"name\":\"\xff\"}]", "Invalid JSON roster at item 1: not valid UTF-8.", "[0].name"},
		{"[{\"email\":\"k@uni.edu\",\"n\xffme\":\"K\"}]", "Invalid JSON roster at item 1: not valid UTF-8.", "[0]"},
		{`[{"email":"k@uni.edu","name":7}]`, `Invalid JSON roster at item 1: field "name" must be a string, not number.`, ""},
		{`[{"email":"k@uni.edu","name":"K"}, "x"]`, `Invalid JSON roster at item 2: an item must be an object, not string.`, ""},
		{`[{"email":"k@uni.edu","nme":"K"}]`, `Invalid JSON roster at item 1: unknown field "nme".`, ""},
		{`[{"email":"k@uni.edu",`, `Invalid JSON roster at item 1: unexpected end of input.`, ""},
	} {
		body := strings.ReplaceAll(tc.body, `\xff`, "\xff")
		_, err = f.svc.ImportUsers(ctx, f.admin, marksmith.Roster{Format: "json", Body: strings.NewReader(body)})
		var me *marksmith.Error
		if !errors.As(err, &me) || me.Code != marksmith.EINVALID || me.Message != tc.msg {
			t.Errorf("%q: %v, want %q", tc.body, err, tc.msg)
			continue
		}
		if details, _ := me.Details.([]marksmith.FieldError); tc.field != "" && (len(details) != 1 || details[0].Field != tc.field) {
			t.Errorf("%q: details %v, want the field %s", tc.body, me.Details, tc.field)
		}
	}
	if _, err := f.store.FindUserByEmail(ctx, "k@uni.edu"); marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
		t.Errorf("a refused roster created k@uni.edu: %v", err)
	}
	many := "email,name\n" + strings.Repeat("x@uni.edu,X\n", 11)
	_, err = f.svc.ImportUsers(ctx, f.admin, marksmith.Roster{Format: "csv", Body: strings.NewReader(many)})
	wantCode(t, "more rows than allowed", err, marksmith.ETOOLARGE)
	_, err = f.svc.ImportUsers(ctx, f.student, marksmith.Roster{Format: "csv", Body: strings.NewReader("email,name\n")})
	wantCode(t, "student imports", err, marksmith.EFORBIDDEN)
}

func TestPasswords(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	acc, err := f.svc.CreateUser(ctx, f.instructor, marksmith.NewUser{Email: "new@uni.edu", Name: "New"})
	if err != nil {
		t.Fatal(err)
	}
	u := acc.User
	if err := f.store.CreateRefreshToken(ctx, &marksmith.RefreshToken{UserID: u.ID, Family: "f", Hash: "h", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   marksmith.PasswordChange
	}{
		{"wrong current password", marksmith.PasswordChange{Current: "nope", New: "my own password"}},
		{"too short", marksmith.PasswordChange{Current: acc.Password, New: "short"}},
		{"the same", marksmith.PasswordChange{Current: acc.Password, New: acc.Password}},
	} {
		wantCode(t, tc.name, f.svc.ChangePassword(ctx, u, tc.in), marksmith.EUNPROCESSABLE)
	}
	if err := f.svc.ChangePassword(ctx, u, marksmith.PasswordChange{Current: acc.Password, New: "my own password"}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.FindUserByID(ctx, u.ID)
	if ok, _ := auth.CheckPassword("my own password", got.PasswordHash); !ok || got.MustChangePassword {
		t.Fatalf("after the change: %+v", got)
	}
	if rt, _ := f.store.FindRefreshTokenByHash(ctx, "h"); rt.RevokedAt == nil {
		t.Fatal("other sessions were not signed out")
	}
	// An admin's reset gives a new one-time password.
	_, err = f.svc.ResetPassword(ctx, f.instructor, u.ID)
	wantCode(t, "instructor resets", err, marksmith.EFORBIDDEN)
	reset, err := f.svc.ResetPassword(ctx, f.admin, u.ID)
	if err != nil || !reset.User.MustChangePassword || reset.Password == "" {
		t.Fatalf("reset = %+v, %v", reset, err)
	}
	_, err = f.svc.ResetPassword(ctx, f.admin, 9999)
	wantCode(t, "reset nobody", err, marksmith.ENOTFOUND)
	// Disabling.
	_, err = f.svc.SetDisabled(ctx, f.admin, f.admin.ID, true)
	wantCode(t, "disable oneself", err, marksmith.ECONFLICT)
	d, err := f.svc.SetDisabled(ctx, f.admin, u.ID, true)
	if err != nil || !d.Disabled {
		t.Fatalf("disable = %+v, %v", d, err)
	}
	if e, err := f.svc.SetDisabled(ctx, f.admin, u.ID, false); err != nil || e.Disabled {
		t.Fatalf("enable = %+v, %v", e, err)
	}
}

func TestBootstrap(t *testing.T) {
	f := newFixture(t)
	if acc, err := f.svc.Bootstrap(t.Context(), "admin@localhost"); err != nil || acc != nil {
		t.Fatalf("bootstrap with users = %+v, %v; want nothing", acc, err)
	}
	db, _ := storage.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "empty.db"), nil)
	defer db.Close()
	db.Migrate(t.Context())
	svc := New(storage.NewStore(db), Config{PasswordParams: cheap}, nil, nil)
	acc, err := svc.Bootstrap(t.Context(), "admin@localhost")
	if err != nil || acc.User.Role != marksmith.RoleAdmin || !acc.User.MustChangePassword || acc.Password == "" {
		t.Fatalf("first admin = %+v, %v", acc, err)
	}
}
