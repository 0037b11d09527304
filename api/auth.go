package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// encodeSession writes a session (tokens), which no cache may keep (RFC
// 6749 section 5.1).
func encodeSession(c *fiber.Ctx, sess *marksmith.Session) error {
	noStore(c)
	return encode(c, fiber.StatusOK, sess)
}

// noStore forbids caches to keep a response that carries a secret (tokens,
// one-time passwords).
func noStore(c *fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderPragma, "no-cache")
}

// handleLogin checks an email and password and starts a session.
func (s *server) handleLogin() handlerFunc {
	return func(c *fiber.Ctx, _ *marksmith.User) error {
		var in marksmith.LoginInput
		if err := decode(c, &in); err != nil {
			return err
		}
		in.Client = s.clientAddr(c)
		sess, err := s.auth.Login(c.UserContext(), in)
		if err != nil {
			return err
		}
		return encodeSession(c, sess)
	}
}

// handleRefresh exchanges a refresh token for a new session (rotation).
func (s *server) handleRefresh() handlerFunc {
	return func(c *fiber.Ctx, _ *marksmith.User) error {
		var req refreshRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		sess, err := s.auth.Refresh(c.UserContext(), req.RefreshToken)
		if err != nil {
			return err
		}
		return encodeSession(c, sess)
	}
}

// handleLogout revokes the presented refresh token's family. It answers
// 204 whether or not the token was known, so it tells nothing about
// tokens.
func (s *server) handleLogout() handlerFunc {
	return func(c *fiber.Ctx, _ *marksmith.User) error {
		var req refreshRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if err := s.auth.Logout(c.UserContext(), req.RefreshToken); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// handleLogoutAll signs the caller out everywhere: every refresh token of
// the account is revoked.
func (s *server) handleLogoutAll() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		if err := s.auth.LogoutAll(c.UserContext(), actor); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}
