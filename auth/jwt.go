package auth

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/marksmith/marksmith"
)

// MinSecretLength is the least number of bytes an HS256 secret may have.
const MinSecretLength = 32

// DefaultMaxTokenLength is the longest access token Verify parses unless
// TokenConfig.MaxLength says otherwise. Tokens this package issues are a few
// hundred bytes; anything much longer is an attack on the parser.
const DefaultMaxTokenLength = 4096

// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
const DefaultLeeway = 5 * time.Second

// ErrInvalidToken is wrapped by every error Verify returns.
var ErrInvalidToken = errors.New("invalid access token")

// Claims are the claims of an access token: the registered claims (sub is
// the user id; iss, aud, exp, nbf, iat and jti are always set) and the role.
type Claims struct {
	Role marksmith.Role `json:"role"`
	jwt.RegisteredClaims
}

// UserID returns the user id in the subject claim.
func (c *Claims) UserID() (int64, error) {
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: subject %q is not a user id", ErrInvalidToken, c.Subject)
	}
	return id, nil
}

// TokenConfig configures a Tokens.
type TokenConfig struct {
	Issuer    string           // iss, required
	Audience  string           // aud, required
	TTL       time.Duration    // lifetime of an access token, required
	Leeway    time.Duration    // clock skew allowed; 0 means DefaultLeeway
	MaxLength int              // longest token parsed; 0 means DefaultMaxTokenLength
	CacheSize int              // verified tokens remembered; 0 means DefaultVerifiedCacheSize, -1 none
	Now       func() time.Time // the clock; nil means time.Now
}

// Tokens issues and verifies access tokens signed with exactly one
// algorithm: HS256 with a shared secret, or EdDSA with an Ed25519 key. A
// token signed with any other algorithm, "none" included, is rejected.
type Tokens struct {
	cfg    TokenConfig
	method jwt.SigningMethod
	sign   any // []byte or ed25519.PrivateKey
	verify any // []byte or ed25519.PublicKey
	parser *jwt.Parser
	seen   *verifiedCache // nil: every token is parsed
}

// NewHS256 returns Tokens signing with HMAC-SHA256 and secret, which must be
// at least MinSecretLength bytes.
func NewHS256(secret []byte, cfg TokenConfig) (*Tokens, error) {
	if len(secret) < MinSecretLength {
		return nil, fmt.Errorf("new HS256 tokens: secret is %d bytes, need at least %d", len(secret), MinSecretLength)
	}
	key := append([]byte(nil), secret...)
	return newTokens(jwt.SigningMethodHS256, key, key, cfg)
}

// NewEdDSA returns Tokens signing with the Ed25519 private key.
func NewEdDSA(key ed25519.PrivateKey, cfg TokenConfig) (*Tokens, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("new EdDSA tokens: private key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("new EdDSA tokens: no public key")
	}
	return newTokens(jwt.SigningMethodEdDSA, key, pub, cfg)
}

func newTokens(m jwt.SigningMethod, sign, verify any, cfg TokenConfig) (*Tokens, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("new tokens: issuer is empty")
	case cfg.Audience == "":
		return nil, errors.New("new tokens: audience is empty")
	case cfg.TTL <= 0:
		return nil, fmt.Errorf("new tokens: TTL %v is not positive", cfg.TTL)
	case cfg.Leeway < 0:
		return nil, fmt.Errorf("new tokens: leeway %v is negative", cfg.Leeway)
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.MaxLength <= 0 {
		cfg.MaxLength = DefaultMaxTokenLength
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{m.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(),
	)
	t := &Tokens{cfg: cfg, method: m, sign: sign, verify: verify, parser: p}
	switch {
	case cfg.CacheSize == 0:
		t.seen = newVerifiedCache(DefaultVerifiedCacheSize)
	case cfg.CacheSize > 0:
		t.seen = newVerifiedCache(cfg.CacheSize)
	}
	return t, nil
}

// Algorithm returns the one JWS algorithm these Tokens sign and accept.
func (t *Tokens) Algorithm() string { return t.method.Alg() }

// TTL returns the lifetime of an access token.
func (t *Tokens) TTL() time.Duration { return t.cfg.TTL }

// Issue returns a signed access token for the user and role, and its claims.
func (t *Tokens) Issue(userID int64, role marksmith.Role) (string, *Claims, error) {
	if userID <= 0 {
		return "", nil, fmt.Errorf("issue access token: user id %d is not positive", userID)
	}
	if !role.Valid() {
		return "", nil, fmt.Errorf("issue access token: role %q is not valid", role)
	}
	jti, err := NewID()
	if err != nil {
		return "", nil, fmt.Errorf("issue access token: %w", err)
	}
	now := t.cfg.Now().Truncate(time.Second)
	c := &Claims{
		Role: role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Subject:   strconv.FormatInt(userID, 10),
			Audience:  jwt.ClaimStrings{t.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(t.cfg.TTL)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
	}
	s, err := jwt.NewWithClaims(t.method, c).SignedString(t.sign)
	if err != nil {
		return "", nil, fmt.Errorf("issue access token: %w", err)
	}
	return s, c, nil
}

// Verify parses an access token and checks its length, algorithm,
// signature, issuer, audience, expiry, not-before, issued-at, subject, id
// and role. Every error wraps ErrInvalidToken. A token that passed before
// is not parsed again: its remembered claims are checked against the
// clock (exp, nbf and iat with the leeway), which is all that can change.
func (t *Tokens) Verify(token string) (*Claims, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidToken)
	}
	if len(token) > t.cfg.MaxLength {
		return nil, fmt.Errorf("%w: %d bytes, longer than %d", ErrInvalidToken, len(token), t.cfg.MaxLength)
	}
	if t.seen != nil {
		if c := t.seen.get(token, t.cfg.Now(), t.cfg.Leeway); c != nil {
			cp := *c
			return &cp, nil
		}
	}
	c := &Claims{}
	_, err := t.parser.ParseWithClaims(token, c, func(tok *jwt.Token) (any, error) {
		// The parser already pins the algorithm; checking the method's
		// type as well means a key of the wrong kind is never handed out.
		if tok.Method != t.method {
			return nil, fmt.Errorf("unexpected signing method %v", tok.Header["alg"])
		}
		return t.verify, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	switch {
	case c.NotBefore == nil:
		return nil, fmt.Errorf("%w: no nbf claim", ErrInvalidToken)
	case c.ExpiresAt == nil:
		return nil, fmt.Errorf("%w: no exp claim", ErrInvalidToken)
	case c.IssuedAt == nil:
		return nil, fmt.Errorf("%w: no iat claim", ErrInvalidToken)
	case c.ID == "":
		return nil, fmt.Errorf("%w: no jti claim", ErrInvalidToken)
	case !c.Role.Valid():
		return nil, fmt.Errorf("%w: role %q is not valid", ErrInvalidToken, c.Role)
	}
	if _, err := c.UserID(); err != nil {
		return nil, err
	}
	if t.seen != nil {
		cp := *c
		t.seen.put(token, &cp, t.cfg.Now(), t.cfg.Leeway)
	}
	return c, nil
}

// ParseEd25519PrivateKey parses a PEM-encoded PKCS #8 Ed25519 private key
// (as written by `openssl genpkey -algorithm ed25519`).
func ParseEd25519PrivateKey(pemBytes []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("parse Ed25519 key: no PEM block")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("parse Ed25519 key: PEM block is %q, want \"PRIVATE KEY\"", block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse Ed25519 key: %w", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parse Ed25519 key: key is %T, not Ed25519", k)
	}
	return ek, nil
}
