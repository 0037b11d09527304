package api

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
)

func signClaims(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// claimsFor returns claims the test app accepts for u, to be spoiled one at
// a time.
func (h *harness) claimsFor(u *marksmith.User, mod func(jwt.MapClaims)) jwt.MapClaims {
	now := h.clock.Now()
	c := jwt.MapClaims{
		"sub": strconv.FormatInt(u.ID, 10), "role": string(u.Role),
		"iss": testIssuer, "aud": testAudience,
		"exp": now.Add(10 * time.Minute).Unix(), "nbf": now.Unix(), "iat": now.Unix(), "jti": "test-jti",
	}
	if mod != nil {
		mod(c)
	}
	return c
}

// TestJWTAttacks sends forged and spoiled access tokens to a protected
// route; only the well-formed one gets in.
func TestJWTAttacks(t *testing.T) {
	h := newHarness(t)
	hs := func(mod func(jwt.MapClaims)) string {
		return signClaims(t, jwt.SigningMethodHS256, testSecret, h.claimsFor(h.student, mod))
	}
	good := hs(nil)
	parts := strings.Split(good, ".")
	adminPayload := base64.RawURLEncoding.EncodeToString(jsonBody(t, h.claimsFor(h.student, func(c jwt.MapClaims) { c["role"] = "admin" })))
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"valid", good, 200},
		{"alg none", signClaims(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, h.claimsFor(h.student, nil)), 401},
		{"alg none header on a real payload", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", 401},
		{"EdDSA when HS256 pinned", signClaims(t, jwt.SigningMethodEdDSA, edKey, h.claimsFor(h.student, nil)), 401},
		{"HS384 with the right secret", signClaims(t, jwt.SigningMethodHS384, testSecret, h.claimsFor(h.student, nil)), 401},
		{"wrong secret", signClaims(t, jwt.SigningMethodHS256, []byte("not-the-secret-not-the-secret-0123456"), h.claimsFor(h.student, nil)), 401},
		{"missing exp", hs(func(c jwt.MapClaims) { delete(c, "exp") }), 401},
		{"expired", hs(func(c jwt.MapClaims) { c["exp"] = h.clock.Now().Add(-time.Minute).Unix() }), 401},
		{"not yet valid", hs(func(c jwt.MapClaims) { c["nbf"] = h.clock.Now().Add(time.Minute).Unix() }), 401},
		{"missing nbf", hs(func(c jwt.MapClaims) { delete(c, "nbf") }), 401},
		{"wrong issuer", hs(func(c jwt.MapClaims) { c["iss"] = "someone-else" }), 401},
		{"wrong audience", hs(func(c jwt.MapClaims) { c["aud"] = "another-api" }), 401},
		{"tampered payload", parts[0] + "." + adminPayload + "." + parts[2], 401},
		{"many dots", strings.Repeat(".", 3000), 401},
		{"huge header", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","k":"`+strings.Repeat("x", 4000)+`"}`)) + "." + parts[1] + "." + parts[2], 401},
		{"garbage", "garbage", 401},
		{"unknown role", hs(func(c jwt.MapClaims) { c["role"] = "superuser" }), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			resp := h.do(request{method: "GET", path: "/api/v1/users/me", token: tt.token})
			if resp.status != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.status, tt.want, resp.body)
			}
			if tt.want == 401 {
				if e := resp.err(t); e.Code != marksmith.EUNAUTHORIZED {
					t.Errorf("code %q, want unauthorized", e.Code)
				}
				if !strings.Contains(resp.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Errorf("WWW-Authenticate = %q", resp.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	// A student's tampered token claiming admin must not reach admin routes.
	h.t = t
	if resp := h.do(request{method: "GET", path: "/api/v1/users", token: parts[0] + "." + adminPayload + "." + parts[2]}); resp.status != 401 {
		t.Errorf("tampered admin token on /api/v1/users: status %d", resp.status)
	}
}

// TestEdDSAConfusion runs an app that signs with Ed25519 and offers it an
// HS256 token signed with the public key as the secret.
func TestEdDSAConfusion(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *harnessConfig) { c.jwtKey = priv })
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"issued by the app", h.tokenFor(h.instructor), 200},
		{"EdDSA signed with the key", signClaims(t, jwt.SigningMethodEdDSA, priv, h.claimsFor(h.instructor, nil)), 200},
		{"HS256 with the public key as secret", signClaims(t, jwt.SigningMethodHS256, []byte(pub), h.claimsFor(h.instructor, nil)), 401},
		{"HS256 with the old HS secret", signClaims(t, jwt.SigningMethodHS256, testSecret, h.claimsFor(h.instructor, nil)), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			if resp := h.do(request{method: "GET", path: "/api/v1/users/me", token: tt.token}); resp.status != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.status, tt.want, resp.body)
			}
		})
	}
}

func TestAuthorizationHeaderForms(t *testing.T) {
	h := newHarness(t)
	tok := h.tokenFor(h.admin)
	tests := []struct {
		header string
		want   int
	}{
		{"Bearer " + tok, 200},
		{"bearer " + tok, 200},
		{"Basic " + tok, 401},
		{"Bearer", 401},
		{"Bearer ", 401},
		{tok, 401},
		{"", 401},
	}
	for _, tt := range tests {
		r := request{method: "GET", path: "/api/v1/users/me"}
		if tt.header != "" {
			r.header = map[string]string{"Authorization": tt.header}
		}
		if resp := h.do(r); resp.status != tt.want {
			t.Errorf("Authorization %.20q: status %d, want %d", tt.header, resp.status, tt.want)
		}
	}
}

func TestLoginIssuesWorkingTokens(t *testing.T) {
	h := newHarness(t)
	raw := h.loginStatus("admin@example.edu", testPassword)
	if raw.header.Get("Cache-Control") != "no-store" || raw.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("token response headers: Cache-Control %q, X-Content-Type-Options %q", raw.header.Get("Cache-Control"), raw.header.Get("X-Content-Type-Options"))
	}
	tr := h.login("  Instructor@Example.edu ", testPassword)
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 900 || tr.User == nil || tr.User.ID != h.instructor.ID || tr.MustChangePassword {
		t.Fatalf("login response %+v", tr)
	}
	if want := h.clock.Now().Add(7 * 24 * time.Hour); !tr.RefreshExpiresAt.Equal(want) {
		t.Errorf("refresh expires %v, want %v", tr.RefreshExpiresAt, want)
	}
	claims, err := h.jwt.Verify(tr.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != strconv.FormatInt(h.instructor.ID, 10) || claims.Role != marksmith.RoleInstructor ||
		claims.Issuer != testIssuer || claims.Audience[0] != testAudience || claims.ID == "" ||
		claims.NotBefore == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) != 15*time.Minute {
		t.Errorf("claims %+v", claims)
	}
	resp := h.do(request{method: "GET", path: "/api/v1/users/me", token: tr.AccessToken})
	var me marksmith.User
	resp.decode(t, &me)
	if resp.status != 200 || me.Email != "instructor@example.edu" {
		t.Errorf("me: %d %s", resp.status, resp.body)
	}
	if strings.Contains(string(resp.body), "argon2") || strings.Contains(string(resp.body), "password") {
		t.Errorf("me leaks the password hash: %s", resp.body)
	}
	// The refresh token is stored only as its hash.
	stored, err := h.store.FindRefreshTokenByHash(t.Context(), auth.HashToken(tr.RefreshToken))
	if err != nil {
		t.Fatalf("the refresh token is not stored under its hash: %v", err)
	}
	if stored.Hash == tr.RefreshToken || len(stored.Hash) != 64 || stored.UserID != h.instructor.ID {
		t.Errorf("stored refresh token %+v", stored)
	}
	// The access token stops working after its TTL (plus leeway).
	h.clock.Advance(15*time.Minute + 10*time.Second)
	if resp := h.do(request{method: "GET", path: "/api/v1/users/me", token: tr.AccessToken}); resp.status != 401 {
		t.Errorf("expired access token: status %d", resp.status)
	}
}

func TestLoginFailures(t *testing.T) {
	h := newHarness(t)
	disabled := h.seedUser("gone@example.edu", marksmith.RoleStudent, testPassword)
	if _, err := h.store.UpdateUser(t.Context(), disabled.ID, marksmith.UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body string
		want int
		code string
	}{
		{"wrong password", `{"email":"student@example.edu","password":"nope nope"}`, 401, marksmith.EUNAUTHORIZED},
		{"unknown email", `{"email":"nobody@example.edu","password":"nope nope"}`, 401, marksmith.EUNAUTHORIZED},
		{"disabled", `{"email":"gone@example.edu","password":"` + testPassword + `"}`, 403, marksmith.EFORBIDDEN},
		{"missing password", `{"email":"student@example.edu"}`, 422, marksmith.EUNPROCESSABLE},
		{"bad JSON", `{"email":`, 400, marksmith.EINVALID},
		{"unknown field", `{"email":"a@b.c","password":"x","admin":true}`, 400, marksmith.EINVALID},
		{"two values", `{"email":"a@b.c","password":"x"} {}`, 400, marksmith.EINVALID},
	}
	var unknownMsg, wrongMsg string
	for _, tt := range tests {
		resp := h.do(request{method: "POST", path: "/api/v1/auth/login", body: []byte(tt.body)})
		if resp.status != tt.want {
			t.Errorf("%s: status %d, want %d: %s", tt.name, resp.status, tt.want, resp.body)
			continue
		}
		e := resp.err(t)
		if e.Code != tt.code {
			t.Errorf("%s: code %q, want %q", tt.name, e.Code, tt.code)
		}
		switch tt.name {
		case "unknown email":
			unknownMsg = e.Message
		case "wrong password":
			wrongMsg = e.Message
		case "missing password":
			if f := resp.fields(t); strings.Join(f, ",") != "password" {
				t.Errorf("missing password: fields %v", f)
			}
		}
	}
	if unknownMsg != wrongMsg {
		t.Errorf("unknown email says %q, wrong password %q: tells which emails exist", unknownMsg, wrongMsg)
	}
	resp := h.do(request{method: "POST", path: "/api/v1/auth/login", contentType: "text/plain", body: []byte(`{"email":"a@b.c","password":"x"}`)})
	if resp.status != 400 {
		t.Errorf("text/plain login: status %d", resp.status)
	}
}

// TestLoginRateLimit locks an account after five failures, while sixty
// classmates behind the same address log in fine. The counts live in the
// database: a second server instance over it sees the same lock.
func TestLoginRateLimit(t *testing.T) {
	h := newHarness(t)
	twin := h.twin()
	login := func(h *harness, email, pw string) response { return h.loginStatus(email, pw) }
	for i := range 5 {
		// The failures are spread over both instances.
		inst := h
		if i%2 == 1 {
			inst = twin
		}
		if resp := login(inst, "student@example.edu", "wrong password"); resp.status != 401 {
			t.Fatalf("failure %d: status %d", i+1, resp.status)
		}
	}
	for name, inst := range map[string]*harness{"first instance": h, "second instance": twin} {
		resp := login(inst, "student@example.edu", testPassword)
		if resp.status != http.StatusTooManyRequests {
			t.Fatalf("%s, sixth attempt: status %d, want 429", name, resp.status)
		}
		if e := resp.err(t); e.Code != marksmith.ERATELIMIT {
			t.Errorf("%s: code %q", name, e.Code)
		}
		if ra, err := strconv.Atoi(resp.header.Get("Retry-After")); err != nil || ra != 900 {
			t.Errorf("%s: Retry-After = %q, want 900", name, resp.header.Get("Retry-After"))
		}
	}
	// A classroom behind one NAT: sixty students log in within a minute.
	for i := range 60 {
		email := fmt.Sprintf("s%02d@example.edu", i)
		h.seedUser(email, marksmith.RoleStudent, testPassword)
		if resp := login(h, email, testPassword); resp.status != 200 {
			t.Fatalf("classmate %d: status %d: %s", i, resp.status, resp.body)
		}
		h.clock.Advance(time.Second)
	}
	// Still locked until the first failure's window ends, and Retry-After
	// counts down.
	resp := login(twin, "student@example.edu", testPassword)
	if ra, _ := strconv.Atoi(resp.header.Get("Retry-After")); resp.status != 429 || ra != 900-60 {
		t.Errorf("after 60s: status %d Retry-After %q, want 429 and 840", resp.status, resp.header.Get("Retry-After"))
	}
	h.clock.Advance(15*time.Minute - 60*time.Second)
	if resp := login(h, "student@example.edu", testPassword); resp.status != 200 {
		t.Errorf("after the window: status %d, want 200: %s", resp.status, resp.body)
	}
	// A success clears the failures: four more do not lock.
	for range 4 {
		login(twin, "student@example.edu", "wrong password")
	}
	if resp := login(h, "student@example.edu", testPassword); resp.status != 200 {
		t.Errorf("after four new failures: status %d, want 200", resp.status)
	}
	// Unknown emails are limited the same way.
	for range 5 {
		login(h, "ghost@example.edu", "whatever1")
	}
	if resp := login(twin, "ghost@example.edu", "whatever1"); resp.status != 429 {
		t.Errorf("unknown email after 5 failures: status %d, want 429", resp.status)
	}
}

// TestLoginAddressLimit checks the per-address limit, with the address
// taken from X-Forwarded-For behind a trusted proxy.
func TestLoginAddressLimit(t *testing.T) {
	h := newHarness(t, func(c *harnessConfig) {
		c.http.TrustProxy = true
		c.login.AddressAttempts = 3
		c.login.AddressWindow = time.Minute
	})
	login := func(addr string) int {
		return h.do(request{method: "POST", path: "/api/v1/auth/login",
			header: map[string]string{"X-Forwarded-For": "203.0.113.9, " + addr},
			body:   jsonBody(t, marksmith.LoginInput{Email: "student@example.edu", Password: testPassword})}).status
	}
	for i := range 3 {
		if got := login("198.51.100.1"); got != 200 {
			t.Fatalf("attempt %d: %d", i+1, got)
		}
	}
	if got := login("198.51.100.1"); got != 429 {
		t.Errorf("fourth attempt from one address: %d, want 429", got)
	}
	if got := login("198.51.100.2"); got != 200 {
		t.Errorf("another address: %d, want 200", got)
	}
	h.clock.Advance(time.Minute + time.Second)
	if got := login("198.51.100.1"); got != 200 {
		t.Errorf("after the window: %d, want 200", got)
	}
}

// tokenRow is a stored refresh token, as the tests read it.
type tokenRow struct {
	id         int64
	used       bool
	revoked    bool
	replacedBy *int64
}

// family reads the stored refresh tokens of the family of a refresh
// token, oldest first.
func (h *harness) family(refreshToken string) []tokenRow {
	h.t.Helper()
	q := `SELECT id, used_at IS NOT NULL, revoked_at IS NOT NULL, replaced_by FROM refresh_tokens
		WHERE family = (SELECT family FROM refresh_tokens WHERE hash = $1) ORDER BY id`
	rows, err := h.db.SQLDB().QueryContext(h.t.Context(), q, auth.HashToken(refreshToken))
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []tokenRow
	for rows.Next() {
		var r tokenRow
		if err := rows.Scan(&r.id, &r.used, &r.revoked, &r.replacedBy); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// TestRefreshRotation rotates a refresh token, then replays the old one:
// the replay is refused and the whole family, the new token included, is
// revoked.
func TestRefreshRotation(t *testing.T) {
	h := newHarness(t)
	first := h.login("student@example.edu", testPassword)
	h.clock.Advance(time.Minute)
	resp := h.refresh(first.RefreshToken)
	if resp.status != 200 {
		t.Fatalf("refresh: %d %s", resp.status, resp.body)
	}
	var second marksmith.Session
	resp.decode(t, &second)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken || second.User == nil || second.User.ID != h.student.ID {
		t.Fatalf("refresh returned %+v", second)
	}
	if resp.header.Get("Cache-Control") != "no-store" {
		t.Errorf("refresh Cache-Control %q", resp.header.Get("Cache-Control"))
	}
	if me := h.do(request{method: "GET", path: "/api/v1/users/me", token: second.AccessToken}); me.status != 200 {
		t.Fatalf("new access token: %d", me.status)
	}
	// The second token rotates once more, fine.
	resp = h.refresh(second.RefreshToken)
	if resp.status != 200 {
		t.Fatalf("second refresh: %d", resp.status)
	}
	var third marksmith.Session
	resp.decode(t, &third)

	// Replaying the first (already rotated) token: refused, family revoked.
	if resp := h.refresh(first.RefreshToken); resp.status != 401 {
		t.Fatalf("replayed token: status %d, want 401", resp.status)
	}
	if resp := h.refresh(third.RefreshToken); resp.status != 401 {
		t.Fatalf("newest token after reuse: status %d, want 401", resp.status)
	}
	fam := h.family(first.RefreshToken)
	if len(fam) != 3 {
		t.Fatalf("family has %d tokens, want 3", len(fam))
	}
	for _, rt := range fam {
		if !rt.revoked {
			t.Errorf("token %d not revoked after reuse", rt.id)
		}
	}
	if fam[0].replacedBy == nil || *fam[0].replacedBy != fam[1].id || !fam[0].used {
		t.Errorf("first token not marked rotated: %+v", fam[0])
	}
	if !strings.Contains(h.logs.String(), "refresh token reused") {
		t.Error("reuse not logged")
	}
	// Another session of the same user is untouched.
	other := h.login("student@example.edu", testPassword)
	if resp := h.refresh(other.RefreshToken); resp.status != 200 {
		t.Errorf("other session: %d", resp.status)
	}
}

func TestRefreshRejects(t *testing.T) {
	h := newHarness(t)
	if resp := h.refresh("made-up-token"); resp.status != 401 {
		t.Errorf("unknown token: %d", resp.status)
	}
	if resp := h.do(request{method: "POST", path: "/api/v1/auth/refresh", body: []byte(`{}`)}); resp.status != 422 {
		t.Errorf("missing token: %d", resp.status)
	}
	expiring := h.login("student@example.edu", testPassword)
	h.clock.Advance(7*24*time.Hour + time.Second)
	if resp := h.refresh(expiring.RefreshToken); resp.status != 401 {
		t.Errorf("expired refresh token: %d", resp.status)
	}
	// A disabled user cannot refresh.
	tr := h.login("instructor@example.edu", testPassword)
	if _, err := h.store.UpdateUser(t.Context(), h.instructor.ID, marksmith.UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if resp := h.refresh(tr.RefreshToken); resp.status != 401 {
		t.Errorf("disabled user: %d", resp.status)
	}
}

func TestLogout(t *testing.T) {
	h := newHarness(t)
	tr := h.login("student@example.edu", testPassword)
	var rotated marksmith.Session
	h.refresh(tr.RefreshToken).decode(t, &rotated)
	if resp := h.do(request{method: "POST", path: "/api/v1/auth/logout", body: jsonBody(t, refreshRequest{RefreshToken: rotated.RefreshToken})}); resp.status != 204 {
		t.Fatalf("logout: %d", resp.status)
	}
	if resp := h.refresh(rotated.RefreshToken); resp.status != 401 {
		t.Errorf("refresh after logout: %d", resp.status)
	}
	// Logging out with an unknown token tells nothing.
	if resp := h.do(request{method: "POST", path: "/api/v1/auth/logout", body: jsonBody(t, refreshRequest{RefreshToken: "unknown"})}); resp.status != 204 {
		t.Errorf("logout unknown token: %d", resp.status)
	}
	if resp := h.do(request{method: "POST", path: "/api/v1/auth/logout", body: []byte(`{}`)}); resp.status != 422 {
		t.Errorf("logout without a token: %d", resp.status)
	}
}

// TestLogoutAll signs a user out everywhere: every session's refresh
// token is revoked, another user's is not.
func TestLogoutAll(t *testing.T) {
	h := newHarness(t)
	laptop := h.login("student@example.edu", testPassword)
	phone := h.login("student@example.edu", testPassword)
	other := h.login("instructor@example.edu", testPassword)
	h.call("POST", "/api/v1/auth/logout-all", "", nil, 401, nil)
	h.call("POST", "/api/v1/auth/logout-all", phone.AccessToken, nil, 204, nil)
	for name, tok := range map[string]string{"laptop": laptop.RefreshToken, "phone": phone.RefreshToken} {
		if resp := h.refresh(tok); resp.status != 401 {
			t.Errorf("%s session after logout-all: %d, want 401", name, resp.status)
		}
	}
	if resp := h.refresh(other.RefreshToken); resp.status != 200 {
		t.Errorf("another user's session: %d, want 200", resp.status)
	}
	// A new login works.
	h.login("student@example.edu", testPassword)
}

// TestConcurrentRefresh presents one refresh token from many requests at
// once: exactly one may win, and since the others are replays, the session
// ends.
func TestConcurrentRefresh(t *testing.T) {
	h := newHarness(t)
	tr := h.login("student@example.edu", testPassword)
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := request{method: "POST", path: "/api/v1/auth/refresh", body: jsonBody(t, refreshRequest{RefreshToken: tr.RefreshToken})}
			resp, err := h.app.Test(r.httpRequest(), -1)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts[200] != 1 || counts[401] != n-1 {
		t.Errorf("statuses %v, want one 200 and %d 401", counts, n-1)
	}
	for _, rt := range h.family(tr.RefreshToken) {
		if !rt.revoked {
			t.Errorf("token %d survived a replay race", rt.id)
		}
	}
}
