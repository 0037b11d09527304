package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cheapParams() *Params {
	return &Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

func TestHashAndCheckPassword(t *testing.T) {
	h, err := HashPasswordParams("correct horse", cheapParams())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q is not an argon2id PHC string with the given params", h)
	}
	h2, err := HashPasswordParams("correct horse", cheapParams())
	if err != nil {
		t.Fatal(err)
	}
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	tests := []struct {
		pw   string
		hash string
		ok   bool
		err  bool
	}{
		{"correct horse", h, true, false},
		{"correct horse", h2, true, false},
		{"Correct horse", h, false, false},
		{"", h, false, false},
		{"correct horse", "not-a-hash", false, true},
		{"correct horse", "$argon2id$v=19$m=1024,t=1,p=1$bad", false, true},
	}
	for _, tt := range tests {
		ok, err := CheckPassword(tt.pw, tt.hash)
		if ok != tt.ok || (err != nil) != tt.err {
			t.Errorf("CheckPassword(%q, %q) = %v, %v; want %v, err %v", tt.pw, tt.hash, ok, err, tt.ok, tt.err)
		}
	}
}

func TestHashPasswordDefaultParams(t *testing.T) {
	h, err := HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=1,p=2$") {
		t.Fatalf("hash %q does not use the default params", h)
	}
}

func TestNewPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw, err := NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != PasswordLength {
			t.Fatalf("len(%q) = %d, want %d", pw, len(pw), PasswordLength)
		}
		if strings.ContainsAny(pw, "0O1lI") {
			t.Fatalf("%q has a look-alike character", pw)
		}
		for _, r := range pw {
			if !strings.ContainsRune(passwordAlphabet, r) {
				t.Fatalf("%q has %q, not in the alphabet", pw, r)
			}
		}
		if seen[pw] {
			t.Fatalf("password %q repeated", pw)
		}
		seen[pw] = true
	}
}

func TestRefreshTokenAndHash(t *testing.T) {
	a, err := NewRefreshToken()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRefreshToken()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != RefreshTokenBytes {
		t.Fatalf("token %q decodes to %d bytes (%v), want %d", a, len(raw), err, RefreshTokenBytes)
	}
	if a == b {
		t.Fatal("two refresh tokens are equal")
	}
	if got, want := HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashToken(abc) = %s, want %s", got, want)
	}
	if HashToken(a) == HashToken(b) {
		t.Error("distinct tokens hash equal")
	}
	id, err := NewID()
	if err != nil || len(id) != 32 {
		t.Errorf("NewID() = %q, %v; want 32 hex chars", id, err)
	}
}
