// Package auth holds the credentials primitives of the API: argon2id
// password hashes, one-time passwords, refresh tokens and their hashes, and
// signed access tokens (JWT) with the algorithm pinned.
package auth

import (
	"crypto/rand"
	"fmt"

	"github.com/alexedwards/argon2id"
)

// Params are the argon2id cost parameters of a password hash.
type Params = argon2id.Params

// DefaultParams returns the argon2id parameters used for new password
// hashes: 64 MiB of memory, one pass, two lanes, a 16-byte salt and a 32-byte
// key (RFC 9106's second recommended option, lowered to fit a small server).
func DefaultParams() *Params {
	return &Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}
}

// HashPassword hashes pw with argon2id and DefaultParams, returning the
// encoded hash (PHC string format, parameters and salt included).
func HashPassword(pw string) (string, error) {
	return HashPasswordParams(pw, DefaultParams())
}

// HashPasswordParams hashes pw with argon2id and the given parameters.
func HashPasswordParams(pw string, p *Params) (string, error) {
	if p == nil {
		p = DefaultParams()
	}
	h, err := argon2id.CreateHash(pw, p)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// CheckPassword reports whether pw matches the encoded argon2id hash. The
// comparison is constant-time; an error means the hash is malformed.
func CheckPassword(pw, hash string) (bool, error) {
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	if err != nil {
		return false, fmt.Errorf("check password: %w", err)
	}
	return ok, nil
}

// passwordAlphabet has no look-alike characters (0/O, 1/l/I) so that a
// one-time password read off a screen or a printout is typed right.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// PasswordLength is the length of a password made by NewPassword (about
// 129 bits of entropy).
const PasswordLength = 22

// NewPassword returns a random one-time password of PasswordLength
// characters drawn uniformly from an alphabet without look-alikes.
func NewPassword() (string, error) {
	out := make([]byte, PasswordLength)
	buf := make([]byte, 64)
	n := 0
	for n < len(out) {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("new password: %w", err)
		}
		for _, b := range buf {
			// Rejection sampling keeps the draw uniform: 256 - 256%57 = 228.
			if int(b) >= 256-256%len(passwordAlphabet) {
				continue
			}
			out[n] = passwordAlphabet[int(b)%len(passwordAlphabet)]
			n++
			if n == len(out) {
				break
			}
		}
	}
	return string(out), nil
}
