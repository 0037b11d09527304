package auth

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// clock is a test clock that can be moved.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }

func cachedTokens(t *testing.T, size int) (*Tokens, *clock) {
	t.Helper()
	clk := newClock(testNow)
	cfg := testConfig()
	cfg.Now = clk.now
	cfg.CacheSize = size
	toks, err := NewHS256(testSecret(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return toks, clk
}

func TestVerifyRemembersAToken(t *testing.T) {
	toks, _ := cachedTokens(t, 0)
	tok := sign(t, jwt.SigningMethodHS256, testSecret(), goodClaims())
	first, err := toks.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if n := toks.seen.len(); n != 1 {
		t.Fatalf("remembered %d tokens after one verification, want 1", n)
	}
	second, err := toks.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if second.Subject != "42" || second.Role != first.Role || second.ID != "abc123" || !second.ExpiresAt.Equal(first.ExpiresAt.Time) {
		t.Fatalf("remembered claims %+v differ from the parsed %+v", second, first)
	}
	// A caller that changes its claims does not change the next caller's.
	second.Subject = "7"
	third, err := toks.Verify(tok)
	if err != nil || third.Subject != "42" {
		t.Fatalf("third verification: %+v, %v; want subject 42", third, err)
	}
}

func TestRememberedTokenStillExpires(t *testing.T) {
	toks, clk := cachedTokens(t, 0)
	tok := sign(t, jwt.SigningMethodHS256, testSecret(), goodClaims()) // exp = testNow + 10 min
	if _, err := toks.Verify(tok); err != nil {
		t.Fatal(err)
	}
	// Inside the leeway after exp: still valid, as a full parse says.
	clk.set(testNow.Add(10*time.Minute + DefaultLeeway - time.Second))
	if _, err := toks.Verify(tok); err != nil {
		t.Fatalf("within the leeway after exp: %v", err)
	}
	clk.set(testNow.Add(10*time.Minute + DefaultLeeway + time.Second))
	if _, err := toks.Verify(tok); err == nil {
		t.Fatal("a remembered token verified after it expired")
	}
	// And before its nbf (the clock stepped back) it is refused too.
	clk.set(testNow.Add(-time.Minute - DefaultLeeway - time.Second))
	if _, err := toks.Verify(tok); err == nil {
		t.Fatal("a remembered token verified before its nbf")
	}
}

func TestRememberedTokenDoesNotVouchForAnother(t *testing.T) {
	toks, _ := cachedTokens(t, 0)
	tok := sign(t, jwt.SigningMethodHS256, testSecret(), goodClaims())
	if _, err := toks.Verify(tok); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"flipped signature": flip(tok),
		"other key":         sign(t, jwt.SigningMethodHS256, []byte("another secret of thirty-two bytes!!"), goodClaims()),
		"extra byte":        tok + "A",
	} {
		if _, err := toks.Verify(bad); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if n := toks.seen.len(); n != 1 {
		t.Fatalf("remembered %d tokens, want only the good one", n)
	}
}

func TestVerifiedCacheStaysBounded(t *testing.T) {
	toks, clk := cachedTokens(t, 4)
	var tokens []string
	for i := range 10 {
		c := goodClaims()
		c["jti"] = "id" + string(rune('a'+i))
		tokens = append(tokens, sign(t, jwt.SigningMethodHS256, testSecret(), c))
	}
	for _, tok := range tokens {
		if _, err := toks.Verify(tok); err != nil {
			t.Fatal(err)
		}
		if n := toks.seen.len(); n > 4 {
			t.Fatalf("cache holds %d tokens, limit 4", n)
		}
	}
	// Every token still verifies, remembered or not.
	for _, tok := range tokens {
		if _, err := toks.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	// Expired entries are what a full cache drops first.
	clk.set(testNow.Add(time.Hour))
	fresh := goodClaims()
	fresh["exp"] = testNow.Add(2 * time.Hour).Unix()
	if _, err := toks.Verify(sign(t, jwt.SigningMethodHS256, testSecret(), fresh)); err != nil {
		t.Fatal(err)
	}
	if n := toks.seen.len(); n != 1 {
		t.Fatalf("after the others expired the cache holds %d tokens, want 1", n)
	}
}

func TestVerifyWithoutCache(t *testing.T) {
	toks, _ := cachedTokens(t, -1)
	tok := sign(t, jwt.SigningMethodHS256, testSecret(), goodClaims())
	for range 2 {
		if _, err := toks.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	if toks.seen != nil {
		t.Fatal("CacheSize -1 still remembers tokens")
	}
}

// BenchmarkVerify compares a token's first verification (a full parse)
// with the repeated verification an autosave makes.
func BenchmarkVerify(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"parse", -1}, {"remembered", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := testConfig()
			cfg.CacheSize = bc.size
			toks, err := NewHS256(testSecret(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			tok, _, err := toks.Issue(42, "student")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := toks.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
