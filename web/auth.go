package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// handleHome sends each reader to their own start page.
func (w *Web) handleHome() fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := actor(c)
		switch {
		case u == nil:
			return w.toLogin(c)
		case u.MustChangePassword:
			return w.redirect(c, "/password")
		case u.Role == marksmith.RoleStudent:
			return w.redirect(c, "/exams")
		case u.Role == marksmith.RoleAdmin:
			return w.redirect(c, "/admin/users")
		default:
			return w.redirect(c, "/instructor/exams")
		}
	}
}

// loginPage is what the sign-in page shows.
type loginPage struct {
	Email   string
	Next    string
	Error   string
	Notice  string
	Retry   bool
	Already *marksmith.User
}

var endedNotices = map[string]string{
	"expired":    "Your session has ended. Please sign in again.",
	"disabled":   "Your account is disabled. Ask an administrator.",
	"signed-out": "You are signed out.",
	"everywhere": "You are signed out on every device.",
}

func (w *Web) handleLoginForm() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := loginPage{Next: safeNext(c.Query("next")), Notice: endedNotices[c.Query("ended")], Already: actor(c)}
		if s := sessionOf(c); s.ended != "" {
			p.Notice = endedNotices[s.ended]
		}
		return w.render(c, "login", "Sign in", p)
	}
}

// handleLogin signs in with an email and password: the session's tokens
// go into the cookies, and the reader on to where they were going (or to
// choose a password, when theirs is a one-time password).
func (w *Web) handleLogin() fiber.Handler {
	return func(c *fiber.Ctx) error {
		in := marksmith.LoginInput{
			Email:    strings.TrimSpace(c.FormValue("email")),
			Password: c.FormValue("password"),
			Client:   w.clientAddr(c),
		}
		next := safeNext(c.FormValue("next"))
		sess, err := w.auth.Login(c.UserContext(), in)
		if err != nil {
			code := marksmith.ErrorCode(err)
			switch code {
			case marksmith.EUNAUTHORIZED, marksmith.EFORBIDDEN, marksmith.ERATELIMIT, marksmith.EUNPROCESSABLE, marksmith.EINVALID:
				c.Status(statusOf(code))
				msg := marksmith.ErrorMessage(err)
				if code == marksmith.EUNAUTHORIZED {
					msg = "That email and password do not match an account."
				}
				return w.render(c, "login", "Sign in", loginPage{Email: in.Email, Next: next, Error: msg, Retry: code == marksmith.ERATELIMIT})
			}
			return err
		}
		w.setSession(c, sess)
		// A new secret for the new session: a token from before signing in
		// (a planted one included) is worth nothing after.
		w.setCookie(c, cookieCSRF, newSecret(), w.now().Add(csrfCookieAge))
		if sess.MustChangePassword || sess.User != nil && sess.User.MustChangePassword {
			return w.redirect(c, "/password")
		}
		if next == "" {
			next = "/"
		}
		return w.redirect(c, next)
	}
}

// handleLogout ends this browser's session.
func (w *Web) handleLogout() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if rt := c.Cookies(cookieRefresh); rt != "" {
			if err := w.auth.Logout(c.UserContext(), rt); err != nil {
				return err
			}
		}
		w.clearSession(c)
		return w.redirect(c, "/login?ended=signed-out")
	}
}

// handleLogoutAll ends every session of the user: sign out everywhere.
func (w *Web) handleLogoutAll() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := w.auth.LogoutAll(c.UserContext(), actor(c)); err != nil {
			return err
		}
		w.clearSession(c)
		return w.redirect(c, "/login?ended=everywhere")
	}
}

// passwordPage is what the password page shows.
type passwordPage struct {
	Must   bool
	Errors map[string]string
	Error  string
}

func (w *Web) handlePasswordForm() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return w.render(c, "password", "Your password", passwordPage{Must: actor(c).MustChangePassword})
	}
}

// handlePassword changes the user's own password, then signs in again
// with it: changing a password signs out the other sessions, and this one
// carries on with fresh tokens.
func (w *Web) handlePassword() fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := actor(c)
		in := marksmith.PasswordChange{Current: c.FormValue("current_password"), New: c.FormValue("new_password")}
		page := passwordPage{Must: u.MustChangePassword, Errors: map[string]string{}}
		if in.New != c.FormValue("confirm_password") {
			page.Errors["confirm_password"] = "The two new passwords differ."
		}
		if len(page.Errors) == 0 {
			err := w.users.ChangePassword(c.UserContext(), u, in)
			if err == nil {
				sess, lerr := w.auth.Login(c.UserContext(), marksmith.LoginInput{Email: u.Email, Password: in.New, Client: w.clientAddr(c)})
				if lerr != nil {
					w.clearSession(c)
					return w.redirect(c, "/login?ended=expired")
				}
				w.setSession(c, sess)
				w.flash(c, "Your password is changed. Other devices are signed out.")
				return w.redirect(c, "/")
			}
			var me *marksmith.Error
			if !errors.As(err, &me) || (me.Code != marksmith.EUNPROCESSABLE && me.Code != marksmith.EUNAUTHORIZED && me.Code != marksmith.EINVALID) {
				return err
			}
			page.Error = me.Message
			if me.Code == marksmith.EUNAUTHORIZED {
				page.Errors["current_password"] = "This is not your current password."
				page.Error = ""
			}
			for _, fe := range fieldErrors(err) {
				switch fe.Field {
				case "current_password", "current":
					page.Errors["current_password"] = fe.Message
				default:
					page.Errors["new_password"] = fe.Message
				}
			}
			c.Status(statusOf(me.Code))
		} else {
			c.Status(fiber.StatusUnprocessableEntity)
		}
		return w.render(c, "password", "Your password", page)
	}
}

// handleCSRFToken gives the exam page's script the token of the
// browser's current CSRF secret (after a sign-in in another tab changed
// it).
func (w *Web) handleCSRFToken() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"token": sessionOf(c).csrf})
	}
}

// fieldErrors returns the field problems of an EUNPROCESSABLE error.
func fieldErrors(err error) []marksmith.FieldError {
	var me *marksmith.Error
	if errors.As(err, &me) {
		if fes, ok := me.Details.([]marksmith.FieldError); ok {
			return fes
		}
		if p, ok := me.Details.(marksmith.Problems); ok {
			return p
		}
	}
	return nil
}
