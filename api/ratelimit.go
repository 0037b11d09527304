package api

import (
	"sync"
	"time"
)

// slidingWindow counts events per key over the last span, keeping each
// event's time (a sliding log), and refuses once limit are inside it.
type slidingWindow struct {
	limit int
	span  time.Duration
	hits  map[string][]time.Time
}

func newSlidingWindow(limit int, span time.Duration) slidingWindow {
	return slidingWindow{limit: limit, span: span, hits: map[string][]time.Time{}}
}

// prune drops key's events older than span and returns the rest.
func (w *slidingWindow) prune(key string, now time.Time) []time.Time {
	hs := w.hits[key]
	i := 0
	for i < len(hs) && !hs[i].After(now.Add(-w.span)) {
		i++
	}
	if i == len(hs) {
		delete(w.hits, key)
		return nil
	}
	if i > 0 {
		hs = append(hs[:0], hs[i:]...)
		w.hits[key] = hs
	}
	return hs
}

// wait returns how long until key may have another event, or 0 if now.
func (w *slidingWindow) wait(key string, now time.Time) time.Duration {
	hs := w.prune(key, now)
	if len(hs) < w.limit {
		return 0
	}
	// The oldest event that must leave the window to get under the limit.
	return hs[len(hs)-w.limit].Add(w.span).Sub(now)
}

func (w *slidingWindow) add(key string, now time.Time) {
	w.hits[key] = append(w.hits[key], now)
}

func (w *slidingWindow) sweep(now time.Time) {
	for k := range w.hits {
		w.prune(k, now)
	}
}

// loginLimiter limits login attempts per client address (all attempts,
// loosely) and per account (failures, tightly). It is in memory, so each
// instance limits on its own; that bounds guessing well enough without
// shared state, which correctness never depends on.
type loginLimiter struct {
	mu        sync.Mutex
	address   slidingWindow
	account   slidingWindow
	lastSweep time.Time
}

func newLoginLimiter(l LoginLimits) *loginLimiter {
	return &loginLimiter{
		address: newSlidingWindow(l.AddressAttempts, l.AddressWindow),
		account: newSlidingWindow(l.AccountFailures, l.AccountWindow),
	}
}

// attempt records a login attempt from addr for account and reports how
// long the caller must wait first (0 means go ahead).
func (l *loginLimiter) attempt(addr, account string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybeSweep(now)
	if d := l.address.wait(addr, now); d > 0 {
		return d
	}
	l.address.add(addr, now)
	return l.account.wait(account, now)
}

// failure records a failed login for account.
func (l *loginLimiter) failure(account string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.account.add(account, now)
}

// success clears account's failures.
func (l *loginLimiter) success(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.account.hits, account)
}

// maybeSweep forgets expired keys now and then so memory stays bounded.
func (l *loginLimiter) maybeSweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	l.address.sweep(now)
	l.account.sweep(now)
}
