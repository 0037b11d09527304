package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// RefreshTokenBytes is the number of random bytes in a refresh token.
const RefreshTokenBytes = 32

// NewRefreshToken returns a new random refresh token: RefreshTokenBytes
// random bytes, base64url without padding (43 characters).
func NewRefreshToken() (string, error) {
	b := make([]byte, RefreshTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new refresh token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the hex SHA-256 of a token. Refresh tokens carry 256
// bits of entropy, so a fast unsalted hash is enough to make a stolen table
// of hashes useless; only this hash is stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewID returns a random 128-bit identifier, hex encoded (token ids, refresh
// token families).
func NewID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return hex.EncodeToString(b), nil
}
