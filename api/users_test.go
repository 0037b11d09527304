package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
)

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name       string
		by         string // admin or instructor
		body       string
		want       int
		wantFields []string // fields named in a 422
		generated  bool
	}{
		{"student with password", "instructor", `{"email":"Ada@Example.edu","name":"Ada","password":"s3cret-pass"}`, 201, nil, false},
		{"student, generated password", "instructor", `{"email":"bob@example.edu","name":"Bob","student_key":"3035000001"}`, 201, nil, true},
		{"instructor by admin", "admin", `{"email":"prof@example.edu","name":"Prof","role":"instructor"}`, 201, nil, true},
		{"admin by admin", "admin", `{"email":"root@example.edu","name":"Root","role":"admin"}`, 201, nil, true},
		{"instructor by instructor", "instructor", `{"email":"prof@example.edu","name":"Prof","role":"instructor"}`, 403, nil, false},
		{"admin by instructor", "instructor", `{"email":"root@example.edu","name":"Root","role":"admin"}`, 403, nil, false},
		{"taken email", "admin", `{"email":"student@example.edu","name":"Dup"}`, 409, nil, false},
		{"taken email, other case", "admin", `{"email":"STUDENT@example.edu","name":"Dup"}`, 409, nil, false},
		{"bad fields", "admin", `{"email":"not-an-email","name":"","role":"king","password":"short"}`, 422, []string{"email", "name", "role", "password"}, false},
		{"missing email", "admin", `{"name":"X"}`, 422, []string{"email"}, false},
		{"unknown field", "admin", `{"email":"x@example.edu","name":"X","is_admin":true}`, 400, nil, false},
		{"wrong type", "admin", `{"email":"x@example.edu","name":42}`, 400, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			by := h.admin
			if tt.by == "instructor" {
				by = h.instructor
			}
			resp := h.do(request{method: "POST", path: "/api/v1/users", token: h.tokenFor(by), body: []byte(tt.body)})
			if resp.status != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.status, tt.want, resp.body)
			}
			if tt.want == 422 {
				if got := resp.fields(t); strings.Join(got, ",") != strings.Join(tt.wantFields, ",") {
					t.Errorf("fields %v, want %v", got, tt.wantFields)
				}
			}
			if tt.want != 201 {
				return
			}
			var cr marksmith.NewAccount
			resp.decode(t, &cr)
			if tt.generated != (cr.Password != "") || cr.User == nil || cr.User.MustChangePassword != tt.generated {
				t.Fatalf("account %+v, password %q: want generated=%v and must_change_password with it", cr.User, cr.Password, tt.generated)
			}
			if resp.header.Get("Cache-Control") != "no-store" {
				t.Errorf("a response with a password: Cache-Control %q", resp.header.Get("Cache-Control"))
			}
			stored, err := h.store.FindUserByID(t.Context(), cr.User.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Email != strings.ToLower(stored.Email) || stored.Email != cr.User.Email {
				t.Errorf("stored email %q, response %q", stored.Email, cr.User.Email)
			}
			if stored.Role == marksmith.RoleStudent && stored.StudentKey == "" {
				t.Error("student without a student key")
			}
			pw := cr.Password
			if !tt.generated {
				var req marksmith.NewUser
				_ = json.Unmarshal([]byte(tt.body), &req)
				pw = req.Password
			}
			if ok, err := auth.CheckPassword(pw, stored.PasswordHash); !ok || err != nil {
				t.Errorf("the password does not match the stored hash (%v)", err)
			}
			if sess := h.login(stored.Email, pw); sess.MustChangePassword != tt.generated {
				t.Errorf("login: must_change_password %v, want %v", sess.MustChangePassword, tt.generated)
			}
		})
	}
}

func TestListUsers(t *testing.T) {
	h := newHarness(t)
	for _, e := range []string{"ann@example.edu", "ben@example.edu", "cat@example.edu"} {
		h.seedUser(e, marksmith.RoleStudent, testPassword)
	}
	tests := []struct {
		query      string
		want       int
		wantEmails []string
		wantTotal  int
	}{
		{"", 200, []string{"admin@example.edu", "instructor@example.edu", "student@example.edu", "ann@example.edu", "ben@example.edu", "cat@example.edu"}, 6},
		{"?role=student&limit=2", 200, []string{"student@example.edu", "ann@example.edu"}, 4},
		{"?role=student&limit=2&offset=2", 200, []string{"ben@example.edu", "cat@example.edu"}, 4},
		{"?q=BEN", 200, []string{"ben@example.edu"}, 1},
		{"?role=instructor", 200, []string{"instructor@example.edu"}, 1},
		{"?q=nobody", 200, []string{}, 0},
		{"?role=king", 400, nil, 0},
		{"?limit=0", 400, nil, 0},
		{"?limit=1000", 400, nil, 0},
		{"?offset=-1", 400, nil, 0},
	}
	for _, tt := range tests {
		resp := h.do(request{method: "GET", path: "/api/v1/users" + tt.query, token: h.tokenFor(h.instructor)})
		if resp.status != tt.want {
			t.Errorf("%q: status %d, want %d: %s", tt.query, resp.status, tt.want, resp.body)
			continue
		}
		if tt.want != 200 {
			continue
		}
		var lr listUsersResponse
		resp.decode(t, &lr)
		got := []string{}
		for _, u := range lr.Users {
			got = append(got, u.Email)
		}
		if strings.Join(got, " ") != strings.Join(tt.wantEmails, " ") || lr.Total != tt.wantTotal {
			t.Errorf("%q: %v total %d, want %v total %d", tt.query, got, lr.Total, tt.wantEmails, tt.wantTotal)
		}
	}
}

// TestImportCSV imports a roster with good and bad rows: the good ones are
// created, the bad ones reported with their line and field.
func TestImportCSV(t *testing.T) {
	h := newHarness(t)
	roster := "\xef\xbb\xbfEmail,Name,role,student_key,password\n" +
		"ann@example.edu,Ann Lee,,3035000001,\n" + // line 2: created, generated password
		"not-an-email,Bad Email,student,,\n" + // line 3: email
		"ben@example.edu,\"Ben, Jr.\",student,3035000002,ben-password\n" + // line 4: created with its password
		"fay@example.edu,\"Fay\nMultiline\",student,,\n" + // lines 5-6: a roster's fields hold no line breaks
		"student@example.edu,Already There,,,\n" + // line 7: exists
		"prof@example.edu,Prof,instructor,,\n" + // line 8: instructors import only students
		"cat@example.edu,,student,,\n" + // line 9: name missing
		"dan@example.edu,Dan,student\n" + // line 10: too few fields
		"ann@example.edu,Ann Again,,,\n" + // line 11: exists (created above)
		"eve@example.edu,Eve,student,,short\n" // line 12: password too short
	resp := h.do(request{method: "POST", path: "/api/v1/users/import", token: h.tokenFor(h.instructor), contentType: "text/csv", body: []byte(roster)})
	if resp.status != 200 {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var ir marksmith.ImportReport
	resp.decode(t, &ir)
	type want struct {
		line   int
		status string
		field  string
	}
	wants := []want{
		{2, marksmith.ImportCreated, ""},
		{3, marksmith.ImportError, "email"},
		{4, marksmith.ImportCreated, ""},
		{5, marksmith.ImportError, ""},
		{6, marksmith.ImportError, ""},
		{7, marksmith.ImportExists, ""},
		{8, marksmith.ImportError, "role"},
		{9, marksmith.ImportError, "name"},
		{10, marksmith.ImportError, ""},
		{11, marksmith.ImportExists, ""},
		{12, marksmith.ImportError, "password"},
	}
	if len(ir.Rows) != len(wants) {
		t.Fatalf("%d rows, want %d: %s", len(ir.Rows), len(wants), resp.body)
	}
	for i, w := range wants {
		r := ir.Rows[i]
		if r.Line != w.line || r.Status != w.status {
			t.Errorf("row %d: line %d status %s, want line %d status %s (%+v)", i, r.Line, r.Status, w.line, w.status, r)
		}
		if w.status == marksmith.ImportError && (len(r.Errors) == 0 || r.Errors[0].Field != w.field || r.Errors[0].Message == "") {
			t.Errorf("line %d: errors %+v, want field %q", r.Line, r.Errors, w.field)
		}
	}
	if ir.Created != 2 || ir.Existing != 2 || ir.Failed != 7 {
		t.Errorf("created %d existing %d failed %d, want 2 2 7", ir.Created, ir.Existing, ir.Failed)
	}
	if ir.Rows[0].Password == "" || ir.Rows[2].Password != "" {
		t.Errorf("passwords: generated %q, given %q; want only the generated one returned", ir.Rows[0].Password, ir.Rows[2].Password)
	}
	if resp.header.Get("Cache-Control") != "no-store" {
		t.Errorf("import with one-time passwords: Cache-Control %q", resp.header.Get("Cache-Control"))
	}
	if ir.Rows[5].UserID != h.student.ID {
		t.Errorf("existing row user id %d, want %d", ir.Rows[3].UserID, h.student.ID)
	}
	// The created users can log in with what the roster or the response
	// says; the generated password must be changed first.
	if sess := h.login("ann@example.edu", ir.Rows[0].Password); !sess.MustChangePassword {
		t.Errorf("ann's session with a generated password: %+v", sess)
	}
	h.login("ben@example.edu", "ben-password")
	ben, err := h.store.FindUserByEmail(t.Context(), "ben@example.edu")
	if err != nil {
		t.Fatal(err)
	}
	if ben.Name != "Ben, Jr." || ben.StudentKey != "3035000002" || ben.Role != marksmith.RoleStudent {
		t.Errorf("ben stored as %+v", ben)
	}
	for _, e := range []string{"prof@example.edu", "fay@example.edu"} {
		if _, err := h.store.FindUserByEmail(t.Context(), e); err == nil {
			t.Errorf("the import created %s", e)
		}
	}
}

func TestImportJSONAndAdminRoles(t *testing.T) {
	h := newHarness(t)
	body := `[{"email":"prof@example.edu","name":"Prof","role":"instructor"},{"email":"x","name":"X"},{"email":"s1@example.edu","name":"S1"}]`
	resp := h.do(request{method: "POST", path: "/api/v1/users/import", token: h.tokenFor(h.admin), body: []byte(body)})
	if resp.status != 200 {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var ir marksmith.ImportReport
	resp.decode(t, &ir)
	got := []string{}
	for _, r := range ir.Rows {
		got = append(got, r.Status)
	}
	if strings.Join(got, ",") != "created,error,created" || ir.Rows[1].Line != 2 {
		t.Fatalf("rows %+v", ir.Rows)
	}
	prof, err := h.store.FindUserByEmail(t.Context(), "prof@example.edu")
	if err != nil || prof.Role != marksmith.RoleInstructor {
		t.Errorf("prof = %+v, %v", prof, err)
	}
}

func TestImportRejectsWholeBody(t *testing.T) {
	h := newHarness(t, func(c *harnessConfig) { c.users.ImportMaxRows = 3 })
	tests := []struct {
		name, contentType, body string
		want                    int
		code                    string
	}{
		{"unknown column", "text/csv", "email,name,shoe_size\na@example.edu,A,42\n", 422, marksmith.EUNPROCESSABLE},
		{"no name column", "text/csv", "email\na@example.edu\n", 422, marksmith.EUNPROCESSABLE},
		{"duplicate column", "text/csv", "email,name,email\na@example.edu,A,b@example.edu\n", 422, marksmith.EUNPROCESSABLE},
		{"header only", "text/csv", "email,name\n", 422, marksmith.EUNPROCESSABLE},
		{"empty", "text/csv", " ", 422, marksmith.EUNPROCESSABLE},
		{"too many rows", "text/csv", "email,name\na@x.io,A\nb@x.io,B\nc@x.io,C\nd@x.io,D\n", 413, marksmith.ETOOLARGE},
		{"JSON not an array", "application/json", `{"email":"a@x.io"}`, 400, marksmith.EINVALID},
		{"wrong content type", "application/xml", "<users/>", 400, marksmith.EINVALID},
	}
	for _, tt := range tests {
		resp := h.do(request{method: "POST", path: "/api/v1/users/import", token: h.tokenFor(h.admin), contentType: tt.contentType, body: []byte(tt.body)})
		if resp.status != tt.want || resp.err(t).Code != tt.code {
			t.Errorf("%s: status %d, want %d %s: %s", tt.name, resp.status, tt.want, tt.code, resp.body)
		}
	}
	if n, _ := h.store.CountUsers(t.Context()); n != 3 {
		t.Errorf("%d users after rejected imports, want the 3 seeded", n)
	}
}

// TestOneTimePassword follows an account created with a generated
// one-time password: it logs in, is refused every route but the three it
// needs, changes its password (which ends its sessions), and logs in with
// the new one.
func TestOneTimePassword(t *testing.T) {
	h := newHarness(t)
	var acc marksmith.NewAccount
	h.call("POST", "/api/v1/users", h.tokenFor(h.instructor), map[string]any{"email": "new@example.edu", "name": "New"}, 201, &acc)
	if acc.Password == "" || !acc.User.MustChangePassword {
		t.Fatalf("created %+v with password %q", acc.User, acc.Password)
	}
	sess := h.login("new@example.edu", acc.Password)
	if !sess.MustChangePassword || !sess.User.MustChangePassword {
		t.Fatalf("session %+v: want must_change_password", sess)
	}
	tok := sess.AccessToken
	// Every route but the three is refused, before anything happens.
	for _, r := range []request{
		{method: "GET", path: "/api/v1/me/exams"},
		{method: "GET", path: "/api/v1/attempts/1"},
		{method: "POST", path: "/api/v1/exams/1/attempts"},
	} {
		r.token = tok
		resp := h.do(r)
		if resp.status != 403 || resp.err(t).Code != marksmith.EFORBIDDEN || !strings.Contains(resp.err(t).Message, "/api/v1/users/me/password") {
			t.Errorf("%s %s with a one-time password: %d %s, want 403 saying how to change it", r.method, r.path, resp.status, resp.body)
		}
	}
	var me marksmith.User
	h.call("GET", "/api/v1/users/me", tok, nil, 200, &me)
	if !me.MustChangePassword {
		t.Errorf("me: %+v", me)
	}
	change := func(current, next string, want int) response {
		return h.call("PUT", "/api/v1/users/me/password", tok, map[string]string{"current_password": current, "new_password": next}, want, nil)
	}
	// Wrong current password, a short one, the same one: 422 naming the field.
	for _, tt := range []struct {
		current, next, field string
	}{
		{"not the password", "a long new passphrase", "current_password"},
		{acc.Password, "short", "new_password"},
		{acc.Password, acc.Password, "new_password"},
		{"", "a long new passphrase", "current_password"},
	} {
		if f := change(tt.current, tt.next, 422).fields(t); strings.Join(f, ",") != tt.field {
			t.Errorf("change %q to %q: fields %v, want %s", tt.current, tt.next, f, tt.field)
		}
	}
	h.call("PUT", "/api/v1/users/me/password", tok, map[string]string{"current": acc.Password, "new": "x"}, 400, nil)
	if resp := h.loginStatus("new@example.edu", "a long new passphrase"); resp.status != 401 {
		t.Fatalf("the refused changes changed the password: login %d", resp.status)
	}
	change(acc.Password, "a long new passphrase", 204)
	// The session of the one-time password is over.
	if resp := h.refresh(sess.RefreshToken); resp.status != 401 {
		t.Errorf("refresh token of the old password: %d, want 401", resp.status)
	}
	if resp := h.loginStatus("new@example.edu", acc.Password); resp.status != 401 {
		t.Errorf("login with the one-time password: %d, want 401", resp.status)
	}
	next := h.login("new@example.edu", "a long new passphrase")
	if next.MustChangePassword {
		t.Errorf("session after the change: %+v", next)
	}
	var mine myExamsResponse
	h.call("GET", "/api/v1/me/exams", next.AccessToken, nil, 200, &mine)
	// The access token issued before the change reaches the routes too now:
	// the account no longer must change its password.
	h.call("GET", "/api/v1/me/exams", tok, nil, 200, nil)
}

// TestDisableUser disables an account: its access token is refused on the
// next request, its refresh token and logins fail; enabling it again lets
// it log in.
func TestDisableUser(t *testing.T) {
	h := newHarness(t)
	sess := h.login("student@example.edu", testPassword)
	h.call("GET", "/api/v1/users/me", sess.AccessToken, nil, 200, nil)
	admin := h.tokenFor(h.admin)
	path := fmt.Sprintf("/api/v1/users/%d", h.student.ID)
	var u marksmith.User
	h.call("PATCH", path, admin, map[string]any{"disabled": true}, 200, &u)
	if !u.Disabled || u.ID != h.student.ID {
		t.Fatalf("disabled user %+v", u)
	}
	for _, p := range []string{"/api/v1/users/me", "/api/v1/me/exams"} {
		if resp := h.call("GET", p, sess.AccessToken, nil, 403, nil); resp.err(t).Code != marksmith.EFORBIDDEN {
			t.Errorf("%s with a disabled account's token: %s", p, resp.body)
		}
	}
	h.call("POST", "/api/v1/auth/logout-all", sess.AccessToken, nil, 403, nil)
	if resp := h.refresh(sess.RefreshToken); resp.status != 401 {
		t.Errorf("refresh of a disabled account: %d, want 401", resp.status)
	}
	if resp := h.loginStatus("student@example.edu", testPassword); resp.status != 403 {
		t.Errorf("login of a disabled account: %d, want 403", resp.status)
	}
	// Invalid updates.
	for _, tt := range []struct {
		path string
		body any
		want int
	}{
		{path, map[string]any{}, 422},
		{path, map[string]any{"disabled": "yes"}, 400},
		{path, map[string]any{"disabled": true, "role": "admin"}, 400},
		{"/api/v1/users/0", map[string]any{"disabled": true}, 400},
		{"/api/v1/users/abc", map[string]any{"disabled": true}, 400},
		{fmt.Sprintf("/api/v1/users/%d", h.admin.ID), map[string]any{"disabled": true}, 409}, // not oneself
	} {
		h.call("PATCH", tt.path, admin, tt.body, tt.want, nil)
	}
	var enabled marksmith.User
	h.call("PATCH", path, admin, map[string]any{"disabled": false}, 200, &enabled)
	if enabled.Disabled || enabled.ID != h.student.ID {
		t.Errorf("enabled user %+v", enabled)
	}
	h.login("student@example.edu", testPassword)
}

// TestResetPassword gives an account a new one-time password: the old
// password and sessions stop working, the new one must be changed first.
func TestResetPassword(t *testing.T) {
	h := newHarness(t)
	old := h.login("instructor@example.edu", testPassword)
	var acc marksmith.NewAccount
	resp := h.call("POST", fmt.Sprintf("/api/v1/users/%d/password-reset", h.instructor.ID), h.tokenFor(h.admin), nil, 200, &acc)
	if acc.Password == "" || acc.User == nil || acc.User.ID != h.instructor.ID || !acc.User.MustChangePassword {
		t.Fatalf("reset: %s", resp.body)
	}
	if resp.header.Get("Cache-Control") != "no-store" {
		t.Errorf("reset Cache-Control %q", resp.header.Get("Cache-Control"))
	}
	if r := h.refresh(old.RefreshToken); r.status != 401 {
		t.Errorf("refresh after a reset: %d, want 401", r.status)
	}
	if r := h.loginStatus("instructor@example.edu", testPassword); r.status != 401 {
		t.Errorf("login with the old password: %d, want 401", r.status)
	}
	sess := h.login("instructor@example.edu", acc.Password)
	if !sess.MustChangePassword {
		t.Errorf("login with the reset password: %+v", sess)
	}
	h.call("GET", "/api/v1/users", sess.AccessToken, nil, 403, nil)
	// The access token issued before the reset is held to the change too.
	h.call("GET", "/api/v1/users", old.AccessToken, nil, 403, nil)
	h.call("PUT", "/api/v1/users/me/password", sess.AccessToken, map[string]string{"current_password": acc.Password, "new_password": "instructor's own passphrase"}, 204, nil)
	h.call("GET", "/api/v1/users", h.login("instructor@example.edu", "instructor's own passphrase").AccessToken, nil, 200, nil)
}
