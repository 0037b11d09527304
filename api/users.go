package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
)

// Field limits of a user.
const (
	maxEmailLength      = 254
	maxNameLength       = 200
	maxStudentKeyLength = 100
	minPasswordLength   = 8
)

// userRequest is a user to create, from a JSON body or a roster row.
type userRequest struct {
	Email      string         `json:"email"`
	Name       string         `json:"name"`
	Role       marksmith.Role `json:"role,omitempty"`
	StudentKey string         `json:"student_key,omitempty"`
	Password   string         `json:"password,omitempty"`
}

type createUserResponse struct {
	User     *marksmith.User `json:"user"`
	Password string          `json:"password,omitempty"` // the generated one-time password, shown once
}

type listUsersResponse struct {
	Users  []*marksmith.User `json:"users"`
	Total  int               `json:"total"`
	Offset int               `json:"offset"`
	Limit  int               `json:"limit"`
}

// validEmail is a deliberately loose check: one @, something either side,
// a dot in the domain, no spaces or control characters.
func validEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return false
	}
	for _, r := range e {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// normalize trims the request, lower-cases the email and sets defaults: role
// student, and for students a student key equal to the email.
func (r *userRequest) normalize() {
	r.Email = normalizeEmail(r.Email)
	r.Name = strings.TrimSpace(r.Name)
	r.Role = marksmith.Role(strings.ToLower(strings.TrimSpace(string(r.Role))))
	r.StudentKey = strings.TrimSpace(r.StudentKey)
	if r.Role == "" {
		r.Role = marksmith.RoleStudent
	}
	if r.Role == marksmith.RoleStudent && r.StudentKey == "" {
		r.StudentKey = r.Email
	}
}

// validate checks a normalized request; by is the caller's role.
func (r *userRequest) validate(by marksmith.Role) validationErrors {
	var v validationErrors
	switch {
	case r.Email == "":
		v.add("email", "is required")
	case len(r.Email) > maxEmailLength:
		v.add("email", "is longer than %d characters", maxEmailLength)
	case !validEmail(r.Email):
		v.add("email", "%q is not an email address", r.Email)
	}
	switch {
	case r.Name == "":
		v.add("name", "is required")
	case utf8.RuneCountInString(r.Name) > maxNameLength:
		v.add("name", "is longer than %d characters", maxNameLength)
	}
	switch {
	case !r.Role.Valid():
		v.add("role", "%q is not one of admin, instructor, student", r.Role)
	case by != marksmith.RoleAdmin && r.Role != marksmith.RoleStudent:
		v.add("role", "an instructor may create only students, not %s", r.Role)
	}
	if utf8.RuneCountInString(r.StudentKey) > maxStudentKeyLength {
		v.add("student_key", "is longer than %d characters", maxStudentKeyLength)
	}
	if r.Password != "" && len(r.Password) < minPasswordLength {
		v.add("password", "is shorter than %d characters", minPasswordLength)
	} else if len(r.Password) > maxPasswordLength {
		v.add("password", "is longer than %d bytes", maxPasswordLength)
	}
	return v
}

// createUser stores the user of a normalized, valid request, generating a
// one-time password when none is given (returned, to be shown once).
func (s *server) createUser(ctx context.Context, r userRequest) (*marksmith.User, string, error) {
	pw, generated := r.Password, ""
	if pw == "" {
		var err error
		if pw, err = auth.NewPassword(); err != nil {
			return nil, "", err
		}
		generated = pw
	}
	hash, err := auth.HashPasswordParams(pw, s.cfg.PasswordParams)
	if err != nil {
		return nil, "", err
	}
	u := &marksmith.User{Email: r.Email, Name: r.Name, Role: r.Role, StudentKey: r.StudentKey, PasswordHash: hash}
	if err := s.users.CreateUser(ctx, u); err != nil {
		return nil, "", err
	}
	return u, generated, nil
}

// handleCreateUser creates one user. Admins create any role, instructors
// only students.
func (s *server) handleCreateUser() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := caller(c)
		if err != nil {
			return err
		}
		var req userRequest
		if err := decode(c, &req); err != nil {
			return err
		}
		req.normalize()
		if p.Role != marksmith.RoleAdmin && req.Role.Valid() && req.Role != marksmith.RoleStudent {
			return marksmith.Errorf(marksmith.EFORBIDDEN, "An instructor may create only students, not %s.", req.Role)
		}
		if err := req.validate(p.Role).err("user"); err != nil {
			return err
		}
		u, pw, err := s.createUser(c.UserContext(), req)
		if marksmith.ErrorCode(err) == marksmith.ECONFLICT {
			return marksmith.Errorf(marksmith.ECONFLICT, "A user with email %s already exists.", req.Email)
		} else if err != nil {
			return fmt.Errorf("create user %s: %w", req.Email, err)
		}
		return encode(c, fiber.StatusCreated, createUserResponse{User: u, Password: pw})
	}
}

// handleListUsers lists users, filtered by role and a search string,
// paginated.
func (s *server) handleListUsers() fiber.Handler {
	return func(c *fiber.Ctx) error {
		pg, err := parsePage(c)
		if err != nil {
			return err
		}
		f := marksmith.UserFilter{Query: strings.TrimSpace(c.Query("q")), Offset: pg.Offset, Limit: pg.Limit}
		if r := c.Query("role"); r != "" {
			role := marksmith.Role(r)
			if !role.Valid() {
				return &marksmith.Error{Code: marksmith.EINVALID, Message: "Invalid query parameters.",
					Details: []fieldError{{Field: "role", Message: fmt.Sprintf("%q is not one of admin, instructor, student", r)}}}
			}
			f.Role = &role
		}
		users, total, err := s.users.FindUsers(c.UserContext(), f)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		if users == nil {
			users = []*marksmith.User{}
		}
		return encode(c, fiber.StatusOK, listUsersResponse{Users: users, Total: total, Offset: pg.Offset, Limit: pg.Limit})
	}
}

// handleMe returns the caller's own user.
func (s *server) handleMe() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := caller(c)
		if err != nil {
			return err
		}
		u, err := s.users.FindUserByID(c.UserContext(), p.ID)
		if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
			return marksmith.Errorf(marksmith.EUNAUTHORIZED, "The account of this token no longer exists.")
		} else if err != nil {
			return fmt.Errorf("find user %d: %w", p.ID, err)
		}
		return encode(c, fiber.StatusOK, u)
	}
}

// Import row outcomes.
const (
	importCreated = "created"
	importExists  = "exists"
	importError   = "error"
)

// importRow is the outcome of one roster row. Line is the CSV line (the
// header is line 1) or, for a JSON body, the 1-based index in the array.
type importRow struct {
	Line     int          `json:"line"`
	Email    string       `json:"email,omitempty"`
	Status   string       `json:"status"`
	UserID   int64        `json:"user_id,omitempty"`
	Password string       `json:"password,omitempty"` // generated one-time password, shown once
	Errors   []fieldError `json:"errors,omitempty"`
}

type importResponse struct {
	Created  int         `json:"created"`
	Existing int         `json:"existing"`
	Failed   int         `json:"failed"`
	Rows     []importRow `json:"rows"`
}

// rosterRow is a parsed row, or the problems that kept it from parsing.
type rosterRow struct {
	line     int
	req      userRequest
	problems validationErrors
}

// rosterColumns returns the columns a CSV roster may have.
func rosterColumns() []string { return []string{"email", "name", "role", "student_key", "password"} }

// handleImportUsers creates users from a roster: CSV (a header row naming
// email, name and optionally role, student_key, password) or a JSON array
// of users. Each row is created, found to exist already, or reported with
// its line and the fields at fault; good rows are created even when others
// fail. Generated one-time passwords are returned once.
func (s *server) handleImportUsers() fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := caller(c)
		if err != nil {
			return err
		}
		var rows []rosterRow
		switch mt := mediaType(c); mt {
		case "text/csv":
			rows, err = parseCSVRoster(c.Body())
		case fiber.MIMEApplicationJSON:
			rows, err = parseJSONRoster(c.Body())
		default:
			return marksmith.Errorf(marksmith.EINVALID, "Content-Type must be text/csv or application/json, not %q.", mt)
		}
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return marksmith.Errorf(marksmith.EUNPROCESSABLE, "The roster has no rows.")
		}
		if len(rows) > s.cfg.ImportMaxRows {
			return marksmith.Errorf(marksmith.ETOOLARGE, "The roster has %d rows; the most one import takes is %d.", len(rows), s.cfg.ImportMaxRows)
		}
		resp := importResponse{Rows: make([]importRow, 0, len(rows))}
		for _, r := range rows {
			out := s.importRow(c.UserContext(), p.Role, r)
			switch out.Status {
			case importCreated:
				resp.Created++
			case importExists:
				resp.Existing++
			default:
				resp.Failed++
			}
			resp.Rows = append(resp.Rows, out)
		}
		return encode(c, fiber.StatusOK, resp)
	}
}

// importRow creates one roster row's user.
func (s *server) importRow(ctx context.Context, by marksmith.Role, r rosterRow) importRow {
	out := importRow{Line: r.line, Email: normalizeEmail(r.req.Email), Status: importError}
	if len(r.problems) > 0 {
		out.Errors = r.problems
		return out
	}
	r.req.normalize()
	out.Email = r.req.Email
	if v := r.req.validate(by); len(v) > 0 {
		out.Errors = v
		return out
	}
	existing, err := s.users.FindUserByEmail(ctx, r.req.Email)
	if err == nil {
		out.Status, out.UserID = importExists, existing.ID
		return out
	} else if marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
		return s.importFailure(ctx, out, err)
	}
	u, pw, err := s.createUser(ctx, r.req)
	if marksmith.ErrorCode(err) == marksmith.ECONFLICT {
		out.Status = importExists
		if existing, ferr := s.users.FindUserByEmail(ctx, r.req.Email); ferr == nil {
			out.UserID = existing.ID
		}
		return out
	} else if err != nil {
		return s.importFailure(ctx, out, err)
	}
	out.Status, out.UserID, out.Password = importCreated, u.ID, pw
	return out
}

// importFailure reports a row that failed for a reason of ours: the
// details go to the log, the row says only that it was not stored.
func (s *server) importFailure(ctx context.Context, out importRow, err error) importRow {
	if code := marksmith.ErrorCode(err); code != marksmith.EINTERNAL {
		out.Errors = []fieldError{{Field: "", Message: marksmith.ErrorMessage(err)}}
		return out
	}
	s.log.ErrorContext(ctx, "import row", "request_id", RequestID(ctx), "line", out.Line, "error", err.Error())
	out.Errors = []fieldError{{Field: "", Message: "Internal error; the row was not stored."}}
	return out
}

// parseCSVRoster reads a CSV roster: a header row, then one user a row.
func parseCSVRoster(body []byte) ([]rosterRow, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // a spreadsheet's byte-order mark
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, marksmith.Errorf(marksmith.EUNPROCESSABLE, "The roster is empty; it needs a header row (email,name,role,student_key,password).")
	} else if err != nil {
		return nil, marksmith.Errorf(marksmith.EUNPROCESSABLE, "The roster's header row is not valid CSV: %v.", err)
	}
	col := map[string]int{}
	var problems validationErrors
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case !slices.Contains(rosterColumns(), name):
			problems.add(h, "unknown column %q (columns: %s)", h, strings.Join(rosterColumns(), ", "))
		case hasIndex(col, name):
			problems.add(name, "column %q appears twice", name)
		default:
			col[name] = i
		}
	}
	for _, need := range []string{"email", "name"} {
		if _, ok := col[need]; !ok {
			problems.add(need, "the header row has no %q column", need)
		}
	}
	if len(problems) > 0 {
		return nil, &marksmith.Error{Code: marksmith.EUNPROCESSABLE, Message: "Invalid roster header (line 1).", Details: []fieldError(problems)}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var rows []rosterRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			rows = append(rows, rosterRow{line: line, problems: validationErrors{{Message: fmt.Sprintf("not valid CSV: %v", unwrapCSV(err))}}})
			continue
		}
		r := rosterRow{line: line, req: userRequest{
			Email:      get(rec, "email"),
			Name:       get(rec, "name"),
			Role:       marksmith.Role(get(rec, "role")),
			StudentKey: get(rec, "student_key"),
			Password:   get(rec, "password"),
		}}
		if len(rec) != len(header) {
			r.problems.add("", "the row has %d fields, the header %d", len(rec), len(header))
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func unwrapCSV(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func hasIndex(col map[string]int, name string) bool {
	_, ok := col[name]
	return ok
}

// parseJSONRoster reads a JSON array of users.
func parseJSONRoster(body []byte) ([]rosterRow, error) {
	var reqs []userRequest
	if err := decodeBytes(body, &reqs); err != nil {
		return nil, err
	}
	rows := make([]rosterRow, len(reqs))
	for i, r := range reqs {
		rows[i] = rosterRow{line: i + 1, req: r}
	}
	return rows, nil
}
