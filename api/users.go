package api

import (
	"bytes"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

type listUsersResponse struct {
	Users  []*marksmith.User `json:"users"`
	Total  int               `json:"total"`
	Offset int               `json:"offset"`
	Limit  int               `json:"limit"`
}

// handleMe returns the caller's own account.
func (s *server) handleMe() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		u, err := s.users.Me(c.UserContext(), actor)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, u)
	}
}

// handleChangePassword changes the caller's own password, given the
// current one; every session of the account ends, so the caller logs in
// again with the new one.
func (s *server) handleChangePassword() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		var in marksmith.PasswordChange
		if err := decode(c, &in); err != nil {
			return err
		}
		if err := s.users.ChangePassword(c.UserContext(), actor, in); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// handleListUsers lists users, filtered by role and a search string,
// paginated.
func (s *server) handleListUsers() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		pg, err := parsePage(c)
		if err != nil {
			return err
		}
		f := marksmith.UserFilter{Query: strings.TrimSpace(c.Query("q")), Offset: pg.Offset, Limit: pg.Limit}
		if r := c.Query("role"); r != "" {
			role := marksmith.Role(r)
			if !role.Valid() {
				return &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.",
					Details: []marksmith.FieldError{{Field: "role", Message: "must be admin, instructor or student"}}}
			}
			f.Role = &role
		}
		users, total, err := s.users.FindUsers(c.UserContext(), actor, f)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, listUsersResponse{Users: users, Total: total, Offset: pg.Offset, Limit: pg.Limit})
	}
}

// handleCreateUser creates one user. Admins create any role, instructors
// only students.
func (s *server) handleCreateUser() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		var in marksmith.NewUser
		if err := decode(c, &in); err != nil {
			return err
		}
		acc, err := s.users.CreateUser(c.UserContext(), actor, in)
		if err != nil {
			return err
		}
		noStore(c)
		return encode(c, fiber.StatusCreated, acc)
	}
}

// handleImportUsers creates users from a roster: CSV (a header row naming
// email, name and optionally role, student_key, password) or a JSON array
// of users, row by row.
func (s *server) handleImportUsers() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		var format string
		switch mt := mediaType(c); mt {
		case "text/csv":
			format = "csv"
		case fiber.MIMEApplicationJSON:
			format = "json"
		default:
			return marksmith.Errorf(marksmith.EINVALID, "Content-Type must be text/csv or application/json, not %q.", mt)
		}
		rep, err := s.users.ImportUsers(c.UserContext(), actor, marksmith.Roster{Format: format, Body: bytes.NewReader(c.Body())})
		if err != nil {
			return err
		}
		noStore(c)
		return encode(c, fiber.StatusOK, rep)
	}
}

type updateUserRequest struct {
	Disabled *bool `json:"disabled"`
}

// handleUpdateUser disables or enables an account (admins).
func (s *server) handleUpdateUser() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		var req updateUserRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		if req.Disabled == nil {
			return (marksmith.Problems{{Field: "disabled", Message: "is required (true or false)"}}).Err("user update")
		}
		u, err := s.users.SetDisabled(c.UserContext(), actor, id, *req.Disabled)
		if err != nil {
			return err
		}
		return encode(c, fiber.StatusOK, u)
	}
}

// handleResetPassword gives an account a new one-time password (admins).
func (s *server) handleResetPassword() handlerFunc {
	return func(c *fiber.Ctx, actor *marksmith.User) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		acc, err := s.users.ResetPassword(c.UserContext(), actor, id)
		if err != nil {
			return err
		}
		noStore(c)
		return encode(c, fiber.StatusOK, acc)
	}
}
