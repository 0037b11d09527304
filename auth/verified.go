package auth

import (
	"sync"
	"time"
)

// DefaultVerifiedCacheSize bounds the access tokens whose verification
// Tokens remembers: a class of several thousand students, each with the
// token of their session, and room to spare.
const DefaultVerifiedCacheSize = 50000

// verifiedCache remembers the claims of access tokens that passed Verify,
// keyed by the whole token string, so that a student's autosaves, which
// send the same token many times a minute, are not parsed and checked
// again each time. A token's string fixes its claims and signature, so a
// remembered verification stays true until the token's time window
// closes, which is checked on every hit against the same clock and leeway
// as a full parse. Nothing is remembered of a token that failed.
type verifiedCache struct {
	mu    sync.RWMutex
	max   int
	items map[string]*Claims
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{max: max, items: make(map[string]*Claims)}
}

// get returns the remembered claims of token while now is inside their
// window (nbf and iat not after now, exp not before it, each with leeway),
// or nil.
func (v *verifiedCache) get(token string, now time.Time, leeway time.Duration) *Claims {
	v.mu.RLock()
	c := v.items[token]
	v.mu.RUnlock()
	if c == nil {
		return nil
	}
	if now.Add(leeway).Before(c.NotBefore.Time) || now.Add(leeway).Before(c.IssuedAt.Time) ||
		!now.Add(-leeway).Before(c.ExpiresAt.Time) {
		return nil
	}
	return c
}

// put remembers a verified token. When the cache is full it first drops
// the tokens that have expired, and if that frees too little, all of them.
func (v *verifiedCache) put(token string, c *Claims, now time.Time, leeway time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.items) >= v.max {
		for k, old := range v.items {
			if !now.Add(-leeway).Before(old.ExpiresAt.Time) {
				delete(v.items, k)
			}
		}
		if len(v.items) >= v.max*3/4 {
			clear(v.items)
		}
	}
	v.items[token] = c
}

// len returns how many tokens are remembered.
func (v *verifiedCache) len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.items)
}
