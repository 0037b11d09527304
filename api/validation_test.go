package api

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// TestMalformedOrInvalid checks the line between a malformed request
// (400, code invalid: bad JSON, a wrong type, an unknown field, a bad path
// or query parameter) and a well-formed one whose fields fail validation
// (422, code unprocessable, with each field at fault in details) on the
// routes that take a body or a parameter.
func TestMalformedOrInvalid(t *testing.T) {
	f := newExamFixture(t)
	h := f.h
	exam := fmt.Sprintf("/api/v1/exams/%d", f.exam)
	accommodation := fmt.Sprintf("%s/students/%d/accommodation", exam, f.samUser.ID)
	reopen := fmt.Sprintf("/api/v1/attempts/%d/reopen", f.benAttempt)
	save := fmt.Sprintf("/api/v1/attempts/%d/answers/1/b", f.samAttempt)
	tests := []struct {
		name, method, path, token, body string
		want                            int
		fields                          string // the fields a 400 or 422 names, comma-separated; "" when none
	}{
		{"accommodation, wrong type", "PUT", accommodation, f.prof, `{"extra_seconds":"ten","reason":"x"}`, 400, ""},
		{"accommodation, negative", "PUT", accommodation, f.prof, `{"extra_seconds":-5,"reason":"x"}`, 422, "extra_seconds"},
		{"accommodation, early close", "PUT", accommodation, f.prof, `{"extra_seconds":0,"closes_at":"2000-01-01T00:00:00Z"}`, 422, "closes_at"},
		{"accommodation, bad user", "PUT", exam + "/students/x/accommodation", f.prof, `{"extra_seconds":5}`, 400, "user"},
		{"remove student, bad user", "DELETE", exam + "/students/0", f.prof, ``, 400, "user"},
		{"close, nothing to close", "POST", exam + "/close", f.prof, `{}`, 422, "attempt_ids"},
		{"close, unknown field", "POST", exam + "/close", f.prof, `{"everyone":true}`, 400, ""},
		{"close, bad id", "POST", "/api/v1/exams/-1/close", f.prof, `{"all":true}`, 400, "id"},
		{"accommodation, exponent", "PUT", accommodation, f.prof, `{"extra_seconds":1e10,"reason":"x"}`, 422, "extra_seconds"},
		{"close, id past int64", "POST", exam + "/close", f.prof, `{"attempt_ids":[99999999999999999999],"reason":"x"}`, 422, "attempt_ids[0]"},
		{"reopen, exponent", "POST", reopen, f.prof, `{"seconds":1e10,"reason":"x"}`, 422, "seconds"},
		{"reopen, wrong type", "POST", reopen, f.prof, `{"seconds":"600","reason":"x"}`, 400, ""},
		{"reopen, no reason, too short", "POST", reopen, f.prof, `{"seconds":5}`, 422, "reason,seconds"},
		{"students, none", "POST", exam + "/students", f.prof, `{}`, 422, "students"},
		{"students, not a list", "POST", exam + "/students", f.prof, `{"students":"sam@example.edu"}`, 400, ""},
		{"review, empty", "POST", exam + "/review", f.prof, `{}`, 422, "reason,question,part,attempt_ids"},
		{"review, negative score", "POST", exam + "/review", f.prof, `{"question":2,"part":"e","attempt_ids":[1],"score":-1,"reason":"x"}`, 422, "score"},
		{"accept, part without question", "POST", exam + "/review/accept", f.prof, `{"part":"e"}`, 422, "part"},
		{"accept, no such question", "POST", exam + "/review/accept", f.prof, `{"question":9}`, 422, "question"},
		{"accept, not JSON", "POST", exam + "/review/accept", f.prof, `{question:2}`, 400, ""},
		{"release, wrong type", "POST", exam + "/release", f.prof, `{"partial":"yes"}`, 400, ""},
		{"regrade, no template", "POST", exam + "/regrade", f.prof, `{"dry_run":true}`, 422, "template"},
		{"save, no seq", "PUT", save, f.sam, `{"answer":"A"}`, 422, "seq"},
		{"save, seq 1.5", "PUT", save, f.sam, `{"answer":"A","seq":1.5}`, 422, "seq"},
		{"save, seq past int64 and an unknown field", "PUT", save, f.sam, `{"answer":"A","seq":99999999999999999999,"x":1}`, 400, ""},
		{"save, seq as a string", "PUT", save, f.sam, `{"answer":"A","seq":"2"}`, 400, ""},
		{"save, bad question", "PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/x/b", f.samAttempt), f.sam, `{"answer":"A","seq":2}`, 400, "question"},
		{"save, question past the last an exam holds", "PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/101/b", f.samAttempt), f.sam, `{"answer":"A","seq":2}`, 400, "question"},
		{"save, question past int32", "PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/99999999999/b", f.samAttempt), f.sam, `{"answer":"A","seq":2}`, 400, "question"},
		{"save, NUL part", "PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/%%00", f.samAttempt), f.sam, `{"answer":"A","seq":2}`, 400, "part"},
		{"save, part not UTF-8", "PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/%%ff", f.samAttempt), f.sam, `{"answer":"A","seq":2}`, 400, "part"},
		{"save, part of 65 characters", "PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/%s", f.samAttempt, strings.Repeat("b", 65)), f.sam, `{"answer":"A","seq":2}`, 400, "part"},
		{"review, NUL in part", "POST", exam + "/review", f.prof, `{"question":2,"part":"e\u0000","attempt_ids":[1],"score":1,"reason":"x"}`, 422, "part"},
		{"review, NUL in the group's answer", "POST", exam + "/review", f.prof, `{"question":2,"part":"e","answer":"a\u0000","group":"v","score":1,"reason":"x"}`, 422, "answer"},
		{"review, NUL in the group", "POST", exam + "/review", f.prof, `{"question":2,"part":"e","answer":"a","group":"v\u0000","score":1,"reason":"x"}`, 422, "group"},
		{"accept, NUL in part", "POST", exam + "/review/accept", f.prof, `{"question":2,"part":"\u0000"}`, 422, "part"},
		{"save, invalid UTF-8", "PUT", save, f.sam, "{\"answer\":\"\xff\",\"seq\":2}", 400, "body"},
		{"user update, nothing", "PATCH", fmt.Sprintf("/api/v1/users/%d", f.kim.ID), f.admin, `{}`, 422, "disabled"},
		{"password change, nothing", "PUT", "/api/v1/users/me/password", f.sam, `{}`, 422, "current_password,new_password"},
		{"password change, old names", "PUT", "/api/v1/users/me/password", f.sam, `{"current":"a","new":"b"}`, 400, ""},
		{"exam, bad seed", "POST", "/api/v1/exams", f.prof, `{"title":"x","seed":"-1"}`, 400, ""},
		{"exam, bad fields", "POST", "/api/v1/exams", f.prof, `{"title":"","delivery":"pigeon","questions":[]}`, 422, "title,opens_at,delivery,questions"},
		{"list users, bad role", "GET", "/api/v1/users?role=king", f.admin, ``, 400, "role"},
		{"list exams, bad limit", "GET", "/api/v1/exams?limit=0", f.prof, ``, 400, "limit"},
		{"preview, bad seed", "GET", "/api/v1/templates/dasc7606%2Fq7/preview?seed=x", f.prof, ``, 400, "seed"},
		{"not JSON at all", "POST", exam + "/close", f.prof, `all`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			defer func() { h.t = t }()
			r := request{method: tt.method, path: tt.path, token: tt.token, body: []byte(tt.body)}
			resp := h.do(r)
			if resp.status != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.status, tt.want, resp.body)
			}
			code := map[int]string{400: marksmith.EINVALID, 422: marksmith.EUNPROCESSABLE}[tt.want]
			e := resp.err(t)
			if e.Code != code {
				t.Errorf("code %q, want %q", e.Code, code)
			}
			if tt.fields != "" {
				if got := strings.Join(resp.fields(t), ","); got != tt.fields {
					t.Errorf("fields %s, want %s (%s)", got, tt.fields, resp.body)
				}
			}
		})
	}
}

// TestSeeds checks that seeds are strings of digits in every response,
// and are read from a string or an integer in a request.
func TestSeeds(t *testing.T) {
	h := newExamHarness(t, "sqlite")
	prof := h.tokenFor(h.instructor)
	now := h.clock.Now()
	body := func(seed any) map[string]any {
		b := map[string]any{"title": "Seeds", "questions": []map[string]any{{"template": "dasc7606/q7"}},
			"opens_at": now, "closes_at": now.Add(time.Hour)}
		if seed != nil {
			b["seed"] = seed
		}
		return b
	}
	tests := []struct {
		seed any
		want string // the seed the response writes; "" for a random one
	}{
		{"18446744073709551615", "18446744073709551615"},
		{"0", "0"},
		{uint64(9007199254740993), "9007199254740993"}, // 2^53+1: past what a float64 holds
		{12345, "12345"},
		{nil, ""},
	}
	for _, tt := range tests {
		var e marksmith.Exam
		resp := h.call("POST", "/api/v1/exams", prof, body(tt.seed), 201, &e)
		if tt.want != "" && (e.Seed.String() != tt.want || !strings.Contains(string(resp.body), `"seed":"`+tt.want+`"`)) {
			t.Errorf("seed %v: response %s", tt.seed, resp.body)
		}
		if tt.want == "" && !strings.Contains(string(resp.body), `"seed":"`+e.Seed.String()+`"`) {
			t.Errorf("random seed: response %s", resp.body)
		}
		if tt.seed == "18446744073709551615" {
			// An update without a seed keeps it.
			b := body(nil)
			b["seed"] = nil
			var u marksmith.Exam
			h.call("PUT", fmt.Sprintf("/api/v1/exams/%d", e.ID), prof, b, 200, &u)
			if u.Seed != e.Seed {
				t.Errorf("update without a seed: %v, want %v", u.Seed, e.Seed)
			}
		}
	}
	// Not a seed at all: 400. A number (or a string of digits) out of the
	// range: 422 naming the seed.
	for _, bad := range []any{"-1", "1e3", true, " 1", ""} {
		h.call("POST", "/api/v1/exams", prof, body(bad), 400, nil)
	}
	for _, bad := range []any{"18446744073709551616", -1, 1.5, 1e20} {
		resp := h.call("POST", "/api/v1/exams", prof, body(bad), 422, nil)
		if !strings.Contains(string(resp.body), `"field":"seed"`) {
			t.Errorf("seed %v: %s", bad, resp.body)
		}
	}
}
