package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/marksmith/marksmith"
)

var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func testConfig() TokenConfig {
	return TokenConfig{
		Issuer:   "marksmith-test",
		Audience: "marksmith-api",
		TTL:      15 * time.Minute,
		Now:      func() time.Time { return testNow },
	}
}

func testSecret() []byte { return []byte("0123456789abcdef0123456789abcdef-test") }

// goodClaims returns claims that Verify accepts, to be spoiled one at a time.
func goodClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub":  "42",
		"role": "instructor",
		"iss":  "marksmith-test",
		"aud":  "marksmith-api",
		"exp":  testNow.Add(10 * time.Minute).Unix(),
		"nbf":  testNow.Add(-time.Minute).Unix(),
		"iat":  testNow.Add(-time.Minute).Unix(),
		"jti":  "abc123",
	}
}

func with(mod func(jwt.MapClaims)) jwt.MapClaims {
	c := goodClaims()
	mod(c)
	return c
}

func sign(t *testing.T, m jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func TestVerifyHS256(t *testing.T) {
	toks, err := NewHS256(testSecret(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hs := func(c jwt.Claims) string { return sign(t, jwt.SigningMethodHS256, testSecret(), c) }
	good := hs(goodClaims())
	parts := strings.Split(good, ".")
	tamperedClaims := with(func(c jwt.MapClaims) { c["role"] = "admin" })
	tamperedPayload := base64.RawURLEncoding.EncodeToString(mustJSON(t, tamperedClaims))
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, goodClaims())

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", good, true},
		{"expired within leeway", hs(with(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-3 * time.Second).Unix() })), true},
		{"alg none", none, false},
		{"alg none with empty signature of a real token", parts[0] + "." + parts[1] + ".", false},
		{"alg none header swapped in", b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".", false},
		{"EdDSA when HS256 pinned", sign(t, jwt.SigningMethodEdDSA, edPriv, goodClaims()), false},
		{"RS256 when HS256 pinned", sign(t, jwt.SigningMethodRS256, rsaKey, goodClaims()), false},
		{"HS512 with the right secret", sign(t, jwt.SigningMethodHS512, testSecret(), goodClaims()), false},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-0123"), goodClaims()), false},
		{"missing exp", hs(with(func(c jwt.MapClaims) { delete(c, "exp") })), false},
		{"expired", hs(with(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Minute).Unix() })), false},
		{"nbf in the future", hs(with(func(c jwt.MapClaims) { c["nbf"] = testNow.Add(time.Minute).Unix() })), false},
		{"missing nbf", hs(with(func(c jwt.MapClaims) { delete(c, "nbf") })), false},
		{"missing iat", hs(with(func(c jwt.MapClaims) { delete(c, "iat") })), false},
		{"iat in the future", hs(with(func(c jwt.MapClaims) { c["iat"] = testNow.Add(time.Hour).Unix() })), false},
		{"wrong issuer", hs(with(func(c jwt.MapClaims) { c["iss"] = "evil" })), false},
		{"missing issuer", hs(with(func(c jwt.MapClaims) { delete(c, "iss") })), false},
		{"wrong audience", hs(with(func(c jwt.MapClaims) { c["aud"] = "other-api" })), false},
		{"missing audience", hs(with(func(c jwt.MapClaims) { delete(c, "aud") })), false},
		{"missing subject", hs(with(func(c jwt.MapClaims) { delete(c, "sub") })), false},
		{"subject not a user id", hs(with(func(c jwt.MapClaims) { c["sub"] = "alice" })), false},
		{"missing jti", hs(with(func(c jwt.MapClaims) { delete(c, "jti") })), false},
		{"unknown role", hs(with(func(c jwt.MapClaims) { c["role"] = "root" })), false},
		{"tampered payload", parts[0] + "." + tamperedPayload + "." + parts[2], false},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flip(parts[2]), false},
		{"many dots", strings.Repeat(".", 5000), false},
		{"many dots under the length limit", strings.Repeat("a.", 1000), false},
		{"huge header", b64(`{"alg":"HS256","x":"`+strings.Repeat("A", 10000)+`"}`) + "." + parts[1] + "." + parts[2], false},
		{"garbage", "not a token", false},
		{"empty", "", false},
		{"two parts", parts[0] + "." + parts[1], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := toks.Verify(tt.token)
			if tt.ok {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if id, _ := c.UserID(); id != 42 || c.Role != marksmith.RoleInstructor {
					t.Fatalf("claims = sub %d role %q, want 42 instructor", id, c.Role)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted %s", tt.name)
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v does not wrap ErrInvalidToken", err)
			}
		})
	}
}

func TestVerifyEdDSA(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := NewEdDSA(priv, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	_, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", sign(t, jwt.SigningMethodEdDSA, priv, goodClaims()), true},
		// Algorithm confusion: the public key is no secret, so a verifier
		// that let the token choose HS256 would accept these.
		{"HS256 signed with raw public key", sign(t, jwt.SigningMethodHS256, []byte(pub), goodClaims()), false},
		{"HS256 signed with PEM public key", sign(t, jwt.SigningMethodHS256, pubPEM, goodClaims()), false},
		{"HS256 signed with DER public key", sign(t, jwt.SigningMethodHS256, pubDER, goodClaims()), false},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, goodClaims()), false},
		{"wrong key", sign(t, jwt.SigningMethodEdDSA, otherPriv, goodClaims()), false},
		{"expired", sign(t, jwt.SigningMethodEdDSA, priv, with(func(c jwt.MapClaims) { c["exp"] = testNow.Add(-time.Hour).Unix() })), false},
		{"missing nbf", sign(t, jwt.SigningMethodEdDSA, priv, with(func(c jwt.MapClaims) { delete(c, "nbf") })), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := toks.Verify(tt.token)
			if tt.ok != (err == nil) {
				t.Fatalf("Verify err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	if got := toks.Algorithm(); got != "EdDSA" {
		t.Errorf("Algorithm() = %q, want EdDSA", got)
	}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	cfg := testConfig()
	now := testNow
	cfg.Now = func() time.Time { return now }
	toks, err := NewHS256(testSecret(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, issued, err := toks.Issue(7, marksmith.RoleStudent)
	if err != nil {
		t.Fatal(err)
	}
	c, err := toks.Verify(s)
	if err != nil {
		t.Fatalf("Verify fresh token: %v", err)
	}
	if id, _ := c.UserID(); id != 7 || c.Role != marksmith.RoleStudent || c.ID != issued.ID || c.ID == "" {
		t.Fatalf("claims = %+v, want sub 7 student jti %q", c, issued.ID)
	}
	if got := c.ExpiresAt.Sub(c.IssuedAt.Time); got != 15*time.Minute {
		t.Errorf("exp - iat = %v, want 15m", got)
	}
	if c.Issuer != "marksmith-test" || len(c.Audience) != 1 || c.Audience[0] != "marksmith-api" {
		t.Errorf("iss/aud = %q/%v", c.Issuer, c.Audience)
	}
	_, other, err := toks.Issue(7, marksmith.RoleStudent)
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == issued.ID {
		t.Errorf("two tokens share jti %q", other.ID)
	}
	now = now.Add(15*time.Minute + 4*time.Second) // inside the leeway
	if _, err := toks.Verify(s); err != nil {
		t.Errorf("Verify within leeway: %v", err)
	}
	now = now.Add(2 * time.Second) // past it
	if _, err := toks.Verify(s); err == nil {
		t.Error("Verify accepted an expired token")
	}
}

func TestNewTokensRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		mod    func(*TokenConfig)
	}{
		{"short secret", []byte("short"), func(*TokenConfig) {}},
		{"no issuer", testSecret(), func(c *TokenConfig) { c.Issuer = "" }},
		{"no audience", testSecret(), func(c *TokenConfig) { c.Audience = "" }},
		{"no ttl", testSecret(), func(c *TokenConfig) { c.TTL = 0 }},
		{"negative leeway", testSecret(), func(c *TokenConfig) { c.Leeway = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.mod(&cfg)
			if _, err := NewHS256(tt.secret, cfg); err == nil {
				t.Fatal("NewHS256 accepted a bad config")
			}
		})
	}
	if _, err := NewEdDSA(ed25519.PrivateKey([]byte("short")), testConfig()); err == nil {
		t.Error("NewEdDSA accepted a short key")
	}
}

func TestIssueRejectsBadInput(t *testing.T) {
	toks, err := NewHS256(testSecret(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := toks.Issue(0, marksmith.RoleAdmin); err == nil {
		t.Error("Issue accepted user id 0")
	}
	if _, _, err := toks.Issue(1, "root"); err == nil {
		t.Error("Issue accepted role root")
	}
}

func TestParseEd25519PrivateKey(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	good := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	got, err := ParseEd25519PrivateKey(good)
	if err != nil {
		t.Fatalf("ParseEd25519PrivateKey: %v", err)
	}
	if !got.Equal(priv) {
		t.Fatal("parsed key differs")
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{
		"not PEM":   []byte("hello"),
		"wrong PEM": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"RSA key":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER}),
	} {
		if _, err := ParseEd25519PrivateKey(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func flip(sig string) string {
	b := []byte(sig)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}
