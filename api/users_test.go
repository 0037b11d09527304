package api

import (
	"encoding/json"
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
				var fields []fieldError
				if err := json.Unmarshal(resp.err(t).Details, &fields); err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, f := range fields {
					got = append(got, f.Field)
				}
				if strings.Join(got, ",") != strings.Join(tt.wantFields, ",") {
					t.Errorf("fields %v, want %v", got, tt.wantFields)
				}
			}
			if tt.want != 201 {
				return
			}
			var cr createUserResponse
			resp.decode(t, &cr)
			if tt.generated != (cr.Password != "") {
				t.Fatalf("generated password %q, want generated=%v", cr.Password, tt.generated)
			}
			stored, err := h.users.FindUserByID(t.Context(), cr.User.ID)
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
				var req userRequest
				_ = json.Unmarshal([]byte(tt.body), &req)
				pw = req.Password
			}
			if ok, err := auth.CheckPassword(pw, stored.PasswordHash); !ok || err != nil {
				t.Errorf("the password does not match the stored hash (%v)", err)
			}
			h.login(stored.Email, pw)
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
		"ben@example.edu,\"Ben\nMultiline\",student,3035000002,ben-password\n" + // lines 4-5: created with its password
		"student@example.edu,Already There,,,\n" + // line 6: exists
		"prof@example.edu,Prof,instructor,,\n" + // line 7: instructors import only students
		"cat@example.edu,,student,,\n" + // line 8: name missing
		"dan@example.edu,Dan,student\n" + // line 9: too few fields
		"ann@example.edu,Ann Again,,,\n" + // line 10: exists (created above)
		"eve@example.edu,Eve,student,,short\n" // line 11: password too short
	resp := h.do(request{method: "POST", path: "/api/v1/users/import", token: h.tokenFor(h.instructor), contentType: "text/csv", body: []byte(roster)})
	if resp.status != 200 {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var ir importResponse
	resp.decode(t, &ir)
	type want struct {
		line   int
		status string
		field  string
	}
	wants := []want{
		{2, importCreated, ""},
		{3, importError, "email"},
		{4, importCreated, ""},
		{6, importExists, ""},
		{7, importError, "role"},
		{8, importError, "name"},
		{9, importError, ""},
		{10, importExists, ""},
		{11, importError, "password"},
	}
	if len(ir.Rows) != len(wants) {
		t.Fatalf("%d rows, want %d: %s", len(ir.Rows), len(wants), resp.body)
	}
	for i, w := range wants {
		r := ir.Rows[i]
		if r.Line != w.line || r.Status != w.status {
			t.Errorf("row %d: line %d status %s, want line %d status %s (%+v)", i, r.Line, r.Status, w.line, w.status, r)
		}
		if w.status == importError && (len(r.Errors) == 0 || r.Errors[0].Field != w.field) {
			t.Errorf("line %d: errors %+v, want field %q", r.Line, r.Errors, w.field)
		}
	}
	if ir.Created != 2 || ir.Existing != 2 || ir.Failed != 5 {
		t.Errorf("created %d existing %d failed %d, want 2 2 5", ir.Created, ir.Existing, ir.Failed)
	}
	if ir.Rows[0].Password == "" || ir.Rows[2].Password != "" {
		t.Errorf("passwords: generated %q, given %q; want only the generated one returned", ir.Rows[0].Password, ir.Rows[2].Password)
	}
	if ir.Rows[3].UserID != h.student.ID {
		t.Errorf("existing row user id %d, want %d", ir.Rows[3].UserID, h.student.ID)
	}
	// The created users can log in with what the roster or the response says.
	h.login("ann@example.edu", ir.Rows[0].Password)
	h.login("ben@example.edu", "ben-password")
	ben, err := h.users.FindUserByEmail(t.Context(), "ben@example.edu")
	if err != nil {
		t.Fatal(err)
	}
	if ben.Name != "Ben\nMultiline" || ben.StudentKey != "3035000002" || ben.Role != marksmith.RoleStudent {
		t.Errorf("ben stored as %+v", ben)
	}
	if _, err := h.users.FindUserByEmail(t.Context(), "prof@example.edu"); err == nil {
		t.Error("an instructor's import created an instructor")
	}
}

func TestImportJSONAndAdminRoles(t *testing.T) {
	h := newHarness(t)
	body := `[{"email":"prof@example.edu","name":"Prof","role":"instructor"},{"email":"x","name":"X"},{"email":"s1@example.edu","name":"S1"}]`
	resp := h.do(request{method: "POST", path: "/api/v1/users/import", token: h.tokenFor(h.admin), body: []byte(body)})
	if resp.status != 200 {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var ir importResponse
	resp.decode(t, &ir)
	got := []string{}
	for _, r := range ir.Rows {
		got = append(got, r.Status)
	}
	if strings.Join(got, ",") != "created,error,created" || ir.Rows[1].Line != 2 {
		t.Fatalf("rows %+v", ir.Rows)
	}
	prof, err := h.users.FindUserByEmail(t.Context(), "prof@example.edu")
	if err != nil || prof.Role != marksmith.RoleInstructor {
		t.Errorf("prof = %+v, %v", prof, err)
	}
}

func TestImportRejectsWholeBody(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) { c.ImportMaxRows = 3 })
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
	if n, _ := h.users.CountUsers(t.Context()); n != 3 {
		t.Errorf("%d users after rejected imports, want the 3 seeded", n)
	}
}
