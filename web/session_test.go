package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// TestCSRF refuses every state-changing request without the token of the
// browser's CSRF secret, and lets the same request through with it.
func TestCSRF(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(ann)
	cases := []struct {
		name   string
		form   url.Values
		header map[string]string
		want   int
	}{
		{"no token", url.Values{csrfField: {""}}, nil, http.StatusForbidden},
		{"wrong token", url.Values{csrfField: {"forged"}}, nil, http.StatusForbidden},
		{"another browser's token", url.Values{csrfField: {h.anon().token}}, nil, http.StatusForbidden},
		{"cross-site", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"the token", nil, nil, http.StatusSeeOther},
	}
	for _, tc := range cases {
		form := tc.form
		if form == nil {
			form = url.Values{csrfField: {b.token}}
		}
		hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, v := range tc.header {
			hdr[k] = v
		}
		res := b.do(http.MethodPost, "/exams/1/start", strings.NewReader(form.Encode()), hdr)
		if res.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.Code, tc.want)
		}
		if tc.want == http.StatusForbidden && !strings.Contains(res.Body.String(), "did not come from this site") {
			t.Errorf("%s: the page does not say why", tc.name)
		}
	}
	if got := strings.Count(strings.Join(h.exams.calls, ";"), "StartAttempt"); got != 1 {
		t.Errorf("StartAttempt called %d times, want once (with the token)", got)
	}

	// The autosave script sends the token as a header; without it, 403 JSON.
	res := b.do(http.MethodPut, "/attempts/10/answers/1/a", strings.NewReader(`{"answer":"1","seq":9}`), map[string]string{"Content-Type": "application/json"})
	if res.Code != http.StatusForbidden || !strings.Contains(res.Body.String(), `"code":"csrf"`) {
		t.Errorf("autosave without the header: %s", res)
	}
	// Signing in needs it too (no login CSRF).
	res = h.anon().do(http.MethodPost, "/login", strings.NewReader("email=ann%40example.edu&password=pw-ann%40example.edu"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if res.Code != http.StatusForbidden {
		t.Errorf("login without a token: %d", res.Code)
	}
	if len(h.exams.saves) != 0 {
		t.Errorf("saves: %v", h.exams.saves)
	}
}

// TestLogin sets the session cookies as the issue asks, sends the reader
// on to where they were going, and says why a login failed.
func TestLogin(t *testing.T) {
	for _, secure := range []bool{false, true} {
		h := newHarness(t, Config{Secure: secure})
		b := h.anon()
		res := b.post("/login", url.Values{"email": {"ann@example.edu"}, "password": {"wrong"}})
		if res.Code != http.StatusUnauthorized || !strings.Contains(res.Body.String(), "do not match") || !strings.Contains(res.Body.String(), `value="ann@example.edu"`) {
			t.Errorf("wrong password: %s", res)
		}
		res = b.post("/login", url.Values{"email": {"ann@example.edu"}, "password": {"pw-ann@example.edu"}, "next": {"/attempts/10"}})
		if res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/attempts/10" {
			t.Fatalf("login: %s, to %q", res, res.Header.Get("Location"))
		}
		cookies := map[string]string{}
		for _, c := range res.Header.Values("Set-Cookie") {
			name, _, _ := strings.Cut(c, "=")
			cookies[name] = c
		}
		for _, name := range []string{cookieAccess, cookieRefresh, cookieCSRF} {
			c := strings.ToLower(cookies[name])
			if !strings.Contains(c, "; httponly") || !strings.Contains(c, "; samesite=lax") || !strings.Contains(c, "; path=/") {
				t.Errorf("cookie %s: %q", name, c)
			}
			if strings.Contains(c, "; secure") != secure {
				t.Errorf("cookie %s with Secure=%v: %q", name, secure, c)
			}
		}
		// The CSRF secret is new after signing in: the old token is void.
		old := b.token
		if res := b.get("/exams"); res.Code != 200 {
			t.Fatalf("GET /exams after login: %s", res)
		} else if b.token = csrfOf(t, res.Body.String()); b.token == old {
			t.Errorf("the CSRF token did not change at login")
		}
		if res := b.post("/exams/1/start", url.Values{csrfField: {old}}); res.Code != http.StatusForbidden {
			t.Errorf("a token from before the login: %d", res.Code)
		}
	}
	// An outside "next" is ignored.
	h := newHarness(t, Config{})
	res := h.anon().post("/login", url.Values{"email": {"ann@example.edu"}, "password": {"pw-ann@example.edu"}, "next": {"//evil.example/x"}})
	if loc := res.Header.Get("Location"); loc != "/" {
		t.Errorf("next=//evil.example: to %q", loc)
	}
}

// TestRefresh renews an expired access token with the refresh cookie,
// once, however many requests carry it at the same time.
func TestRefresh(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(ann)
	h.auth.expire(b.cookies[cookieAccess])
	oldRefresh := b.cookies[cookieRefresh]
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := &browser{h: h, cookies: map[string]string{cookieAccess: b.cookies[cookieAccess], cookieRefresh: oldRefresh, cookieCSRF: b.cookies[cookieCSRF]}}
			codes[i] = c.get("/exams").Code
		}(i)
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("request %d: %d", i, c)
		}
	}
	if h.auth.refreshes != 1 {
		t.Errorf("%d refreshes, want 1", h.auth.refreshes)
	}
	// The browser gets the new tokens and goes on with them.
	res := b.get("/exams")
	if res.Code != http.StatusOK || b.cookies[cookieRefresh] == oldRefresh || b.cookies[cookieAccess] == "" {
		t.Errorf("after refresh: %d, cookies %v", res.Code, b.cookies)
	}
	// A revoked session signs out, with a word on the sign-in page.
	h.auth.expire(b.cookies[cookieAccess])
	h.auth.mu.Lock()
	delete(h.auth.refresh, b.cookies[cookieRefresh])
	h.auth.mu.Unlock()
	res = b.get("/exams")
	if loc := res.Header.Get("Location"); res.Code != http.StatusSeeOther || !strings.Contains(loc, "ended=expired") {
		t.Errorf("revoked session: %d to %q", res.Code, loc)
	}
	if _, ok := b.cookies[cookieAccess]; ok {
		t.Errorf("the access cookie is kept after the session ended")
	}
}

// TestRefresherGrace shares one refresh with the requests that present
// the same token just after it.
func TestRefresherGrace(t *testing.T) {
	now := testNow
	a := newFakeAuth(ann)
	s := a.login(ann)
	r := newRefresher(a, func() time.Time { return now })
	first, err := r.refresh(context.Background(), s.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(refreshGrace / 2)
	again, err := r.refresh(context.Background(), s.RefreshToken)
	if err != nil || again.RefreshToken != first.RefreshToken {
		t.Errorf("within the grace: %v, %v", again, err)
	}
	now = now.Add(refreshGrace)
	if _, err := r.refresh(context.Background(), s.RefreshToken); marksmith.ErrorCode(err) != marksmith.EUNAUTHORIZED {
		t.Errorf("after the grace: %v, want the service's refusal", err)
	}
	if a.refreshes != 2 {
		t.Errorf("%d refreshes reached the service, want 2", a.refreshes)
	}
}

// TestMustChangePassword keeps an account with a one-time password on the
// password page until it has chosen its own.
func TestMustChangePassword(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(newcomer)
	for _, path := range []string{"/exams", "/attempts/10", "/"} {
		if res := b.get(path); res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/password" {
			t.Errorf("GET %s: %d to %q, want /password", path, res.Code, res.Header.Get("Location"))
		}
	}
	if res := b.post("/exams/1/start", nil); res.Code != http.StatusForbidden {
		t.Errorf("POST before choosing a password: %d", res.Code)
	}
	res := b.get("/password")
	if !strings.Contains(res.Body.String(), "Choose your password") {
		t.Errorf("password page: %s", res)
	}
	res = b.post("/password", url.Values{"current_password": {"pw-new@example.edu"}, "new_password": {"short"}, "confirm_password": {"short"}})
	if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body.String(), "shorter than 8") {
		t.Errorf("short password: %s", res)
	}
	res = b.post("/password", url.Values{"current_password": {"pw-new@example.edu"}, "new_password": {"a long passphrase"}, "confirm_password": {"a long passphrase!"}})
	if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body.String(), "differ") {
		t.Errorf("mismatch: %s", res)
	}
	res = b.post("/password", url.Values{"current_password": {"pw-new@example.edu"}, "new_password": {"a long passphrase"}, "confirm_password": {"a long passphrase"}})
	if res.Code != http.StatusSeeOther {
		t.Fatalf("change: %s", res)
	}
	if res := b.get("/exams"); res.Code != http.StatusOK {
		t.Errorf("after choosing a password: %d", res.Code)
	}
}

// TestSignOut ends this session, or every session of the user.
func TestSignOut(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(ann)
	rt := b.cookies[cookieRefresh]
	res := b.post("/logout", nil)
	if res.Code != http.StatusSeeOther || len(h.auth.revoked) != 1 || h.auth.revoked[0] != rt {
		t.Errorf("logout: %d, revoked %v", res.Code, h.auth.revoked)
	}
	if _, ok := b.cookies[cookieAccess]; ok {
		t.Errorf("cookies after logout: %v", b.cookies)
	}
	b = h.as(ben)
	if res := b.post("/logout/all", nil); res.Code != http.StatusSeeOther || len(h.auth.logoutAll) != 1 || h.auth.logoutAll[0] != ben.ID {
		t.Errorf("logout everywhere: %d, %v", res.Code, h.auth.logoutAll)
	}
	if res := b.get("/exams"); res.Code != http.StatusSeeOther {
		t.Errorf("after signing out everywhere: %d", res.Code)
	}
}

// TestDisabledAccount signs out a disabled account with a word why.
func TestDisabledAccount(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(ann)
	h.auth.users[ann.ID].Disabled = true
	res := b.get("/exams")
	if loc := res.Header.Get("Location"); !strings.Contains(loc, "ended=disabled") {
		t.Errorf("disabled: to %q", loc)
	}
	if res := b.get("/login?ended=disabled"); !strings.Contains(res.Body.String(), "Your account is disabled") {
		t.Errorf("the sign-in page does not say why")
	}
}
