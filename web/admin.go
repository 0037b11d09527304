package web

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// usersPage is the admins' list of accounts, with the outcome of the last
// action (a created account or a reset password, shown once).
type usersPage struct {
	Query   string
	Role    string
	Users   []*marksmith.User
	Total   int
	Offset  int
	Prev    string
	Next    string
	Created *marksmith.NewAccount
	Reset   *marksmith.NewAccount
	Form    marksmith.NewUser
	Errors  map[string]string
	Error   string
}

func (w *Web) loadUsers(c *fiber.Ctx, p *usersPage) error {
	p.Query, p.Role, p.Offset = strings.TrimSpace(c.Query("q")), c.Query("role"), max(0, c.QueryInt("offset"))
	f := marksmith.UserFilter{Query: p.Query, Offset: p.Offset, Limit: pageSize}
	if r := marksmith.Role(p.Role); r.Valid() {
		f.Role = &r
	} else {
		p.Role = ""
	}
	list, total, err := w.users.FindUsers(c.UserContext(), actor(c), f)
	if err != nil {
		return err
	}
	p.Users, p.Total = list, total
	link := func(off int) string {
		q := url.Values{"offset": {strconv.Itoa(off)}}
		if p.Query != "" {
			q.Set("q", p.Query)
		}
		if p.Role != "" {
			q.Set("role", p.Role)
		}
		return "/admin/users?" + q.Encode()
	}
	if p.Offset > 0 {
		p.Prev = link(max(0, p.Offset-pageSize))
	}
	if p.Offset+len(list) < total {
		p.Next = link(p.Offset + pageSize)
	}
	return nil
}

func (w *Web) handleUsers() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := &usersPage{Form: marksmith.NewUser{Role: marksmith.RoleStudent}}
		if err := w.loadUsers(c, p); err != nil {
			return err
		}
		return w.render(c, "users", "Users", p)
	}
}

// handleCreateUser creates an account and shows its one-time password
// once, on the response itself (never in a URL or a cookie).
func (w *Web) handleCreateUser() fiber.Handler {
	return func(c *fiber.Ctx) error {
		in := marksmith.NewUser{
			Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")),
			Role: marksmith.Role(c.FormValue("role")), StudentKey: strings.TrimSpace(c.FormValue("student_key")),
		}
		p := &usersPage{Form: in, Errors: map[string]string{}}
		acc, err := w.users.CreateUser(c.UserContext(), actor(c), in)
		if err != nil {
			switch marksmith.ErrorCode(err) {
			case marksmith.EUNPROCESSABLE, marksmith.EINVALID, marksmith.ECONFLICT:
			default:
				return err
			}
			p.Error = marksmith.ErrorMessage(err)
			for _, fe := range fieldErrors(err) {
				p.Errors[fe.Field] = fe.Message
			}
			c.Status(statusOf(marksmith.ErrorCode(err)))
		} else {
			p.Created = acc
			p.Form = marksmith.NewUser{Role: in.Role}
		}
		if err := w.loadUsers(c, p); err != nil {
			return err
		}
		return w.render(c, "users", "Users", p)
	}
}

func (w *Web) handleSetDisabled(disabled bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		u, err := w.users.SetDisabled(c.UserContext(), actor(c), id, disabled)
		if err != nil {
			return err
		}
		if disabled {
			w.flash(c, u.Email+" is disabled and signed out everywhere.")
		} else {
			w.flash(c, u.Email+" is enabled.")
		}
		return w.redirect(c, usersBack(c))
	}
}

func (w *Web) handleResetPassword() fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		acc, err := w.users.ResetPassword(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		p := &usersPage{Reset: acc, Form: marksmith.NewUser{Role: marksmith.RoleStudent}}
		if err := w.loadUsers(c, p); err != nil {
			return err
		}
		return w.render(c, "users", "Users", p)
	}
}

func usersBack(c *fiber.Ctx) string {
	if b := safeNext(c.FormValue("back")); strings.HasPrefix(b, "/admin/users") {
		return b
	}
	return "/admin/users"
}
