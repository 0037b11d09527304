package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// CSRF protection is a signed double submit: the browser holds a random
// secret in an HttpOnly cookie, and every form and script sends back
// HMAC(key, secret) in the field _csrf or the header X-CSRF-Token. Another
// site can make the browser send the cookie but can read neither the
// cookie nor the page, so it cannot produce the token; without the
// server's key, a secret planted in the cookie gives it nothing either.
const (
	csrfField  = "_csrf"
	csrfHeader = "X-CSRF-Token"
)

// ECSRF is the code of a request refused for a missing or wrong CSRF
// token (403). It is the pages' own: the domain never produces it.
const ECSRF = "csrf"

type csrfSigner struct{ key []byte }

func (s *csrfSigner) token(secret string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("marksmith csrf\x00"))
	m.Write([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *csrfSigner) valid(secret, token string) bool {
	if !validSecret(secret) || token == "" {
		return false
	}
	return hmac.Equal([]byte(s.token(secret)), []byte(token))
}

// sign and verify protect the flash cookie, so that nothing but this
// server can put words on its pages.
func (s *csrfSigner) sign(msg string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("marksmith flash\x00"))
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString([]byte(msg)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *csrfSigner) verify(v string) (string, bool) {
	b64, mac, ok := strings.Cut(v, ".")
	if !ok {
		return "", false
	}
	msg, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return "", false
	}
	if !hmac.Equal([]byte(s.sign(string(msg))), []byte(b64+"."+mac)) {
		return "", false
	}
	return string(msg), true
}

// newSecret returns a random CSRF secret: 32 bytes, base64url.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error()) // crypto/rand never fails on a working system
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func validSecret(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// checkCSRF refuses a state-changing request without the token of the
// browser's CSRF secret, and one a browser says
// comes from another site.
func (w *Web) checkCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return nil
	}
	refuse := &marksmith.Error{Code: ECSRF, Message: "This form has expired or did not come from this site. Go back, reload the page and try again."}
	// Browsers say where a request comes from; another site's is refused
	// whatever it carries.
	if c.Get("Sec-Fetch-Site") == "cross-site" {
		return refuse
	}
	token := c.Get(csrfHeader)
	if token == "" {
		token = c.FormValue(csrfField)
	}
	if !w.csrf.valid(c.Cookies(cookieCSRF), token) {
		return refuse
	}
	return nil
}

// flash shows msg on the next page the browser loads (after a redirect).
func (w *Web) flash(c *fiber.Ctx, msg string) {
	w.setCookie(c, cookieFlash, w.csrf.sign(msg), w.now().Add(5*time.Minute))
}

// takeFlash returns and forgets the message of a previous flash.
func (w *Web) takeFlash(c *fiber.Ctx) string {
	v := c.Cookies(cookieFlash)
	if v == "" {
		return ""
	}
	w.clearCookie(c, cookieFlash)
	msg, ok := w.csrf.verify(v)
	if !ok {
		return ""
	}
	return msg
}
