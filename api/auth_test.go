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
		"iss": DefaultIssuer, "aud": DefaultAudience,
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
	h := newHarness(t, func(c *Config, _ *Deps) { c.JWTSecret, c.JWTKey = nil, priv })
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
	raw := h.do(request{method: "POST", path: "/api/v1/auth/login", body: jsonBody(t, loginRequest{Email: "admin@example.edu", Password: testPassword})})
	if raw.header.Get("Cache-Control") != "no-store" || raw.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("token response headers: Cache-Control %q, X-Content-Type-Options %q", raw.header.Get("Cache-Control"), raw.header.Get("X-Content-Type-Options"))
	}
	tr := h.login("  Instructor@Example.edu ", testPassword)
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 900 || tr.User == nil || tr.User.ID != h.instructor.ID {
		t.Fatalf("login response %+v", tr)
	}
	if want := h.clock.Now().Add(7 * 24 * time.Hour); !tr.RefreshExpiresAt.Equal(want) {
		t.Errorf("refresh expires %v, want %v", tr.RefreshExpiresAt, want)
	}
	claims, err := h.srv.jwt.Verify(tr.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != strconv.FormatInt(h.instructor.ID, 10) || claims.Role != marksmith.RoleInstructor ||
		claims.Issuer != DefaultIssuer || claims.Audience[0] != DefaultAudience || claims.ID == "" ||
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
	for _, rt := range h.tokens.family(h.tokens.byID[1].Family) {
		if rt.Hash == tr.RefreshToken || len(rt.Hash) != 64 {
			t.Errorf("stored refresh token hash %q", rt.Hash)
		}
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
	if _, err := h.users.UpdateUser(t.Context(), disabled.ID, marksmith.UserUpdate{Disabled: ptr(true)}); err != nil {
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

func ptr[T any](v T) *T { return &v }

// TestLoginRateLimit locks an account after five failures, while sixty
// classmates behind the same address log in fine.
func TestLoginRateLimit(t *testing.T) {
	h := newHarness(t)
	login := func(email, pw string) response {
		return h.do(request{method: "POST", path: "/api/v1/auth/login", body: jsonBody(t, loginRequest{Email: email, Password: pw})})
	}
	for i := range 5 {
		if resp := login("student@example.edu", "wrong password"); resp.status != 401 {
			t.Fatalf("failure %d: status %d", i+1, resp.status)
		}
	}
	resp := login("student@example.edu", testPassword)
	if resp.status != http.StatusTooManyRequests {
		t.Fatalf("sixth attempt: status %d, want 429", resp.status)
	}
	if e := resp.err(t); e.Code != marksmith.ERATELIMIT {
		t.Errorf("code %q", e.Code)
	}
	if ra, err := strconv.Atoi(resp.header.Get("Retry-After")); err != nil || ra != 900 {
		t.Errorf("Retry-After = %q, want 900", resp.header.Get("Retry-After"))
	}
	// A classroom behind one NAT: sixty students log in within a minute.
	for i := range 60 {
		email := fmt.Sprintf("s%02d@example.edu", i)
		h.seedUser(email, marksmith.RoleStudent, testPassword)
		if resp := login(email, testPassword); resp.status != 200 {
			t.Fatalf("classmate %d: status %d: %s", i, resp.status, resp.body)
		}
		h.clock.Advance(time.Second)
	}
	// Still locked until the first failure leaves the window.
	if resp := login("student@example.edu", testPassword); resp.status != 429 {
		t.Errorf("after 60s: status %d, want 429", resp.status)
	}
	h.clock.Advance(15*time.Minute - 60*time.Second)
	if resp := login("student@example.edu", testPassword); resp.status != 200 {
		t.Errorf("after the window: status %d, want 200: %s", resp.status, resp.body)
	}
	// A success clears the failures: four more do not lock.
	for range 4 {
		login("student@example.edu", "wrong password")
	}
	if resp := login("student@example.edu", testPassword); resp.status != 200 {
		t.Errorf("after four new failures: status %d, want 200", resp.status)
	}
	// Unknown emails are limited the same way.
	for range 5 {
		login("ghost@example.edu", "whatever1")
	}
	if resp := login("ghost@example.edu", "whatever1"); resp.status != 429 {
		t.Errorf("unknown email after 5 failures: status %d, want 429", resp.status)
	}
}

// TestLoginAddressLimit checks the per-address limit, with the address
// taken from X-Forwarded-For behind a trusted proxy.
func TestLoginAddressLimit(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) {
		c.TrustProxy = true
		c.Login.AddressAttempts = 3
		c.Login.AddressWindow = time.Minute
	})
	login := func(addr string) int {
		return h.do(request{method: "POST", path: "/api/v1/auth/login",
			header: map[string]string{"X-Forwarded-For": "203.0.113.9, " + addr},
			body:   jsonBody(t, loginRequest{Email: "student@example.edu", Password: testPassword})}).status
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

// TestRefreshRotation rotates a refresh token, then replays the old one:
// the replay is refused and the whole family, the new token included, is
// revoked.
func TestRefreshRotation(t *testing.T) {
	h := newHarness(t)
	refresh := func(tok string) response {
		return h.do(request{method: "POST", path: "/api/v1/auth/refresh", body: jsonBody(t, refreshRequest{RefreshToken: tok})})
	}
	first := h.login("student@example.edu", testPassword)
	h.clock.Advance(time.Minute)
	resp := refresh(first.RefreshToken)
	if resp.status != 200 {
		t.Fatalf("refresh: %d %s", resp.status, resp.body)
	}
	var second tokenResponse
	resp.decode(t, &second)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh returned the same tokens")
	}
	if me := h.do(request{method: "GET", path: "/api/v1/users/me", token: second.AccessToken}); me.status != 200 {
		t.Fatalf("new access token: %d", me.status)
	}
	// The second token rotates once more, fine.
	resp = refresh(second.RefreshToken)
	if resp.status != 200 {
		t.Fatalf("second refresh: %d", resp.status)
	}
	var third tokenResponse
	resp.decode(t, &third)

	// Replaying the first (already rotated) token: refused, family revoked.
	if resp := refresh(first.RefreshToken); resp.status != 401 {
		t.Fatalf("replayed token: status %d, want 401", resp.status)
	}
	if resp := refresh(third.RefreshToken); resp.status != 401 {
		t.Fatalf("newest token after reuse: status %d, want 401", resp.status)
	}
	fam := h.tokens.family(h.tokens.byID[1].Family)
	if len(fam) != 3 {
		t.Fatalf("family has %d tokens, want 3", len(fam))
	}
	for _, rt := range fam {
		if rt.RevokedAt == nil {
			t.Errorf("token %d not revoked after reuse", rt.ID)
		}
	}
	if fam[0].ReplacedBy == nil || *fam[0].ReplacedBy != fam[1].ID || fam[0].UsedAt == nil {
		t.Errorf("first token not marked rotated: %+v", fam[0])
	}
	if !strings.Contains(h.logs.String(), "refresh token reused") {
		t.Error("reuse not logged")
	}
	// Another session of the same user is untouched.
	other := h.login("student@example.edu", testPassword)
	if resp := refresh(other.RefreshToken); resp.status != 200 {
		t.Errorf("other session: %d", resp.status)
	}
}

func TestRefreshRejects(t *testing.T) {
	h := newHarness(t)
	refresh := func(tok string) response {
		return h.do(request{method: "POST", path: "/api/v1/auth/refresh", body: jsonBody(t, refreshRequest{RefreshToken: tok})})
	}
	if resp := refresh("made-up-token"); resp.status != 401 {
		t.Errorf("unknown token: %d", resp.status)
	}
	if resp := h.do(request{method: "POST", path: "/api/v1/auth/refresh", body: []byte(`{}`)}); resp.status != 422 {
		t.Errorf("missing token: %d", resp.status)
	}
	expiring := h.login("student@example.edu", testPassword)
	h.clock.Advance(7*24*time.Hour + time.Second)
	if resp := refresh(expiring.RefreshToken); resp.status != 401 {
		t.Errorf("expired refresh token: %d", resp.status)
	}
	// A disabled user cannot refresh.
	tr := h.login("instructor@example.edu", testPassword)
	if _, err := h.users.UpdateUser(t.Context(), h.instructor.ID, marksmith.UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if resp := refresh(tr.RefreshToken); resp.status != 401 {
		t.Errorf("disabled user: %d", resp.status)
	}
}

func TestLogout(t *testing.T) {
	h := newHarness(t)
	tr := h.login("student@example.edu", testPassword)
	resp := h.do(request{method: "POST", path: "/api/v1/auth/refresh", body: jsonBody(t, refreshRequest{RefreshToken: tr.RefreshToken})})
	var rotated tokenResponse
	resp.decode(t, &rotated)
	if resp := h.do(request{method: "POST", path: "/api/v1/auth/logout", body: jsonBody(t, refreshRequest{RefreshToken: rotated.RefreshToken})}); resp.status != 204 {
		t.Fatalf("logout: %d", resp.status)
	}
	if resp := h.do(request{method: "POST", path: "/api/v1/auth/refresh", body: jsonBody(t, refreshRequest{RefreshToken: rotated.RefreshToken})}); resp.status != 401 {
		t.Errorf("refresh after logout: %d", resp.status)
	}
	// Logging out with an unknown token tells nothing.
	if resp := h.do(request{method: "POST", path: "/api/v1/auth/logout", body: jsonBody(t, refreshRequest{RefreshToken: "unknown"})}); resp.status != 204 {
		t.Errorf("logout unknown token: %d", resp.status)
	}
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
	for _, rt := range h.tokens.family(h.tokens.byID[1].Family) {
		if rt.RevokedAt == nil {
			t.Errorf("token %d survived a replay race", rt.ID)
		}
	}
}
