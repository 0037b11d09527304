package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// The cookies of a browser session. The access and refresh tokens are the
// API's own; no script can read them (HttpOnly), and no other site's form
// or script sends them on a cross-site POST (SameSite=Lax).
const (
	cookieAccess  = "ms_access"
	cookieRefresh = "ms_refresh"
	cookieCSRF    = "ms_csrf"
	cookieFlash   = "ms_flash"
)

// csrfCookieAge is how long a browser keeps its CSRF secret: long enough
// that an open exam page is never caught without one.
const csrfCookieAge = 30 * 24 * time.Hour

type localKey int

const (
	keySession localKey = iota
	keyJSON             // the route answers JSON, errors included
)

// session is who a request is from, resolved once per request.
type session struct {
	user *marksmith.User // nil: nobody is signed in
	// csrf is the token forms and scripts must send back; it is bound to
	// the browser's CSRF cookie.
	csrf string
	// ended says why a session that the browser held has just ended
	// ("expired", "disabled"), for the sign-in page.
	ended string
}

// sessionOf returns the request's session; it is never nil after
// identify.
func sessionOf(c *fiber.Ctx) *session {
	if s, ok := c.Locals(keySession).(*session); ok {
		return s
	}
	return &session{}
}

// actor returns the signed-in user of a request that passed the access
// check.
func actor(c *fiber.Ctx) *marksmith.User { return sessionOf(c).user }

// secure says whether cookies set on this response must be Secure.
func (w *Web) secure(c *fiber.Ctx) bool {
	return w.cfg.Secure || c.Context().IsTLS()
}

func (w *Web) setCookie(c *fiber.Ctx, name, value string, expires time.Time) {
	ck := &fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   w.secure(c),
	}
	if !expires.IsZero() {
		ck.Expires = expires
		ck.MaxAge = int(expires.Sub(w.now()).Seconds())
		if ck.MaxAge <= 0 {
			ck.MaxAge = 1
		}
	}
	c.Cookie(ck)
}

func (w *Web) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{
		Name: name, Value: "", Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: w.secure(c), MaxAge: -1, Expires: time.Unix(0, 0),
	})
}

// setSession stores a session's tokens in the browser.
func (w *Web) setSession(c *fiber.Ctx, s *marksmith.Session) {
	ttl := s.AccessTTL
	if ttl <= 0 {
		ttl = time.Duration(s.ExpiresIn) * time.Second
	}
	w.setCookie(c, cookieAccess, s.AccessToken, w.now().Add(ttl))
	w.setCookie(c, cookieRefresh, s.RefreshToken, s.RefreshExpiresAt)
}

func (w *Web) clearSession(c *fiber.Ctx) {
	w.clearCookie(c, cookieAccess)
	w.clearCookie(c, cookieRefresh)
}

// clientAddr is the client's address for the login limits: the peer, or
// with TrustProxy the last X-Forwarded-For entry.
func (w *Web) clientAddr(c *fiber.Ctx) string {
	if w.cfg.TrustProxy {
		if ips := c.IPs(); len(ips) > 0 {
			if last := strings.TrimSpace(ips[len(ips)-1]); last != "" {
				return last
			}
		}
	}
	return c.IP()
}

// identify resolves who the request is from: it verifies the access
// cookie, refreshes the session with the refresh cookie when the access
// token has expired, and loads the user once. It also gives the browser a
// CSRF secret if it has none. Only a fault of the services is an error;
// a missing, expired or revoked session just leaves the request signed
// out.
func (w *Web) identify(c *fiber.Ctx) error {
	s := &session{}
	c.Locals(keySession, s)

	secret := c.Cookies(cookieCSRF)
	if !validSecret(secret) {
		secret = newSecret()
		w.setCookie(c, cookieCSRF, secret, w.now().Add(csrfCookieAge))
		// The request carries no valid cookie, so no token it sends can
		// match: the CSRF check refuses it.
	}
	s.csrf = w.csrf.token(secret)

	access, refresh := c.Cookies(cookieAccess), c.Cookies(cookieRefresh)
	if access == "" && refresh == "" {
		return nil
	}
	ctx := c.UserContext()
	p, err := w.auth.Verify(access)
	if access == "" || err != nil {
		if refresh == "" {
			w.clearCookie(c, cookieAccess)
			return nil
		}
		sess, err := w.refresh.refresh(ctx, refresh)
		if err != nil {
			switch marksmith.ErrorCode(err) {
			case marksmith.EUNAUTHORIZED, marksmith.EFORBIDDEN, marksmith.ENOTFOUND, marksmith.EINVALID, marksmith.ECONFLICT:
				w.clearSession(c)
				s.ended = "expired"
				return nil
			}
			return err
		}
		w.setSession(c, sess)
		if p, err = w.auth.Verify(sess.AccessToken); err != nil {
			return err // a token the service just made must verify
		}
	}
	u, err := w.auth.Actor(ctx, p)
	switch marksmith.ErrorCode(err) {
	case "":
		s.user = u
	case marksmith.EFORBIDDEN:
		w.clearSession(c)
		s.ended = "disabled"
	case marksmith.EUNAUTHORIZED, marksmith.ENOTFOUND:
		w.clearSession(c)
		s.ended = "expired"
	default:
		return err
	}
	return nil
}

// refreshGrace is how long the outcome of a refresh answers other
// requests that present the same refresh token: the requests a page had
// in flight when its access token expired all carry it, and a refresh
// token presented twice would revoke the whole session.
const refreshGrace = 15 * time.Second

// refresher refreshes sessions, one refresh per refresh token: concurrent
// requests with the same token wait for the first, and requests arriving
// just after it (within refreshGrace) share its outcome.
type refresher struct {
	auth  marksmith.AuthService
	now   func() time.Time
	mu    sync.Mutex
	calls map[[32]byte]*refreshCall
}

type refreshCall struct {
	done chan struct{}
	sess *marksmith.Session
	err  error
	at   time.Time
}

func newRefresher(auth marksmith.AuthService, now func() time.Time) *refresher {
	return &refresher{auth: auth, now: now, calls: map[[32]byte]*refreshCall{}}
}

func (r *refresher) refresh(ctx context.Context, token string) (*marksmith.Session, error) {
	key := sha256.Sum256([]byte(token))
	now := r.now()
	r.mu.Lock()
	for k, call := range r.calls {
		if !call.at.IsZero() && now.Sub(call.at) > refreshGrace {
			delete(r.calls, k)
		}
	}
	call, ok := r.calls[key]
	if !ok {
		call = &refreshCall{done: make(chan struct{})}
		r.calls[key] = call
	}
	r.mu.Unlock()
	if ok {
		select {
		case <-call.done:
			return call.sess, call.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// The refresh runs to its end even if this request goes away: others
	// may be waiting for it, and a half-done rotation helps nobody.
	call.sess, call.err = r.auth.Refresh(context.WithoutCancel(ctx), token)
	r.mu.Lock()
	call.at = r.now()
	if call.err != nil && marksmith.ErrorCode(call.err) == marksmith.EINTERNAL {
		delete(r.calls, key) // a fault may pass: let the next request try again
	}
	r.mu.Unlock()
	close(call.done)
	return call.sess, call.err
}

// errSignedOut is the error of a request that needs a signed-in user and
// has none.
var errSignedOut = &marksmith.Error{Code: marksmith.EUNAUTHORIZED, Message: "Please sign in."}

// isSignedOut reports whether err is errSignedOut.
func isSignedOut(err error) bool { return errors.Is(err, errSignedOut) }
