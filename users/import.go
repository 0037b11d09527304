package users

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/marksmith/marksmith"
)

// rosterColumns are the columns a CSV roster may have.
var rosterColumns = []string{"email", "name", "role", "student_key", "password"}

// row is a parsed roster row, or the problems that kept it from parsing.
type row struct {
	line     int
	user     marksmith.NewUser
	problems marksmith.Problems
}

// ImportUsers creates accounts from a roster: CSV (a header row naming
// email, name and optionally role, student_key, password; UTF-8 with or
// without a byte-order mark) or a JSON array of users. Each row is
// created, found to exist already, or reported with its line and the
// fields at fault; good rows are created even when others fail, and a
// malformed line never stops the rows after it. Generated one-time
// passwords are returned once.
func (s *Service) ImportUsers(ctx context.Context, actor *marksmith.User, in marksmith.Roster) (*marksmith.ImportReport, error) {
	if err := requireStaff(actor); err != nil {
		return nil, err
	}
	var rows []row
	var err error
	switch in.Format {
	case "csv":
		rows, err = parseCSV(in.Body, s.cfg.ImportMaxRows)
	case "json":
		rows, err = parseJSON(in.Body, s.cfg.ImportMaxRows)
	default:
		return nil, marksmith.Errorf(marksmith.EINVALID, "A roster is CSV or JSON, not %q.", in.Format)
	}
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, marksmith.Errorf(marksmith.EUNPROCESSABLE, "The roster has no rows.")
	}
	rep := &marksmith.ImportReport{Rows: make([]marksmith.ImportRow, 0, len(rows))}
	for _, r := range rows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out := s.importRow(ctx, actor.Role, r)
		switch out.Status {
		case marksmith.ImportCreated:
			rep.Created++
		case marksmith.ImportExists:
			rep.Existing++
		default:
			rep.Failed++
		}
		rep.Rows = append(rep.Rows, out)
	}
	return rep, nil
}

// tooMany is the error of a roster over the row limit.
func tooMany(max int) error {
	return marksmith.Errorf(marksmith.ETOOLARGE, "The roster has more than %d rows, the most one import takes; split it.", max)
}

// importRow creates one roster row's user.
func (s *Service) importRow(ctx context.Context, by marksmith.Role, r row) marksmith.ImportRow {
	out := marksmith.ImportRow{Line: r.line, Email: strings.ToValidUTF8(NormalizeEmail(r.user.Email), "?"), Status: marksmith.ImportError}
	if len(r.problems) > 0 {
		out.Errors = r.problems
		return out
	}
	normalize(&r.user)
	if p := validate(&r.user, by); len(p) > 0 {
		out.Errors = p
		return out
	}
	out.Email = r.user.Email
	existing, err := s.store.FindUserByEmail(ctx, r.user.Email)
	if err == nil {
		out.Status, out.UserID = marksmith.ImportExists, existing.ID
		return out
	} else if marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
		return s.importFailure(ctx, out, err)
	}
	acc, err := s.create(ctx, r.user)
	if marksmith.ErrorCode(err) == marksmith.ECONFLICT {
		out.Status = marksmith.ImportExists
		if existing, ferr := s.store.FindUserByEmail(ctx, r.user.Email); ferr == nil {
			out.UserID = existing.ID
		}
		return out
	} else if err != nil {
		return s.importFailure(ctx, out, err)
	}
	out.Status, out.UserID, out.Password = marksmith.ImportCreated, acc.User.ID, acc.Password
	return out
}

// importFailure reports a row that failed for a reason of ours: the
// details go to the log, the row says only that it was not stored.
func (s *Service) importFailure(ctx context.Context, out marksmith.ImportRow, err error) marksmith.ImportRow {
	if code := marksmith.ErrorCode(err); code != marksmith.EINTERNAL {
		out.Errors = []marksmith.FieldError{{Message: marksmith.ErrorMessage(err)}}
		return out
	}
	s.log.ErrorContext(ctx, "import row", "line", out.Line, "error", err.Error())
	out.Errors = []marksmith.FieldError{{Message: "Internal error; the row was not stored."}}
	return out
}

// parseCSV reads a CSV roster: a header row, then one user a row. A row
// that is not valid CSV (an unterminated quote, a stray quote) is reported
// with its line; reading goes on at the next line.
func parseCSV(body io.Reader, max int) ([]row, error) {
	br := bufio.NewReader(body)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3) // a spreadsheet's byte-order mark
	}
	lines := &lineReader{r: br}
	header, err := readRecord(lines)
	if errors.Is(err, io.EOF) {
		return nil, marksmith.Errorf(marksmith.EUNPROCESSABLE, "The roster is empty; it needs a header row (email,name,role,student_key,password).")
	} else if err != nil {
		return nil, marksmith.Errorf(marksmith.EUNPROCESSABLE, "The roster's header row (line 1) is not valid CSV: %v.", unwrapCSV(err))
	}
	col := map[string]int{}
	var p marksmith.Problems
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		_, dup := col[name]
		switch {
		case !slices.Contains(rosterColumns, name):
			p.Add(strings.ToValidUTF8(h, "?"), "unknown column %q (columns: %s)", strings.ToValidUTF8(h, "?"), strings.Join(rosterColumns, ", "))
		case dup:
			p.Add(name, "column %q appears twice", name)
		default:
			col[name] = i
		}
	}
	for _, need := range []string{"email", "name"} {
		if _, ok := col[need]; !ok {
			p.Add(need, "the header row has no %q column", need)
		}
	}
	if len(p) > 0 {
		return nil, &marksmith.Error{Code: marksmith.EUNPROCESSABLE, Message: "Invalid roster header (line 1).", Details: []marksmith.FieldError(p)}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var rows []row
	for {
		rec, err := readRecord(lines)
		if errors.Is(err, io.EOF) {
			break
		}
		line := lines.line
		if len(rows) >= max {
			return nil, tooMany(max)
		}
		if err != nil {
			rows = append(rows, row{line: line, problems: marksmith.Problems{{Message: fmt.Sprintf("not valid CSV: %v", unwrapCSV(err))}}})
			continue
		}
		r := row{line: line, user: marksmith.NewUser{
			Email: get(rec, "email"), Name: get(rec, "name"), Role: marksmith.Role(get(rec, "role")),
			StudentKey: get(rec, "student_key"), Password: get(rec, "password"),
		}}
		if len(rec) != len(header) {
			r.problems.Add("", "the row has %d fields, the header %d", len(rec), len(header))
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// lineReader hands the CSV reader one record's lines at a time and counts
// them, so that a malformed record is reported at its own line and never
// swallows the rows after it.
type lineReader struct {
	r    *bufio.Reader
	line int
}

// maxLine bounds one line of a roster.
const maxLine = 64 << 10

// readRecord reads one CSV record, which is one line: a roster's fields
// hold no line breaks, so an unterminated quote is an error of its line
// alone.
func readRecord(lr *lineReader) ([]string, error) {
	for {
		text, err := lr.r.ReadString('\n')
		if len(text) == 0 && err != nil {
			return nil, err
		}
		lr.line++
		if len(text) > maxLine {
			return nil, fmt.Errorf("line %d is longer than %d bytes", lr.line, maxLine)
		}
		if strings.TrimSpace(text) == "" {
			if err != nil {
				return nil, err
			}
			continue // blank lines carry no row
		}
		cr := csv.NewReader(strings.NewReader(text))
		cr.FieldsPerRecord = -1
		cr.TrimLeadingSpace = true
		rec, rerr := cr.Read()
		if rerr != nil {
			return nil, rerr
		}
		return rec, nil
	}
}

func unwrapCSV(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseJSON reads a JSON array of users, one at a time. A roster that is
// not JSON, or an item with an unknown field or a value of the wrong type,
// is malformed (EINVALID) and nothing is created; so is text that is not
// UTF-8, which the decoder would otherwise read as U+FFFD and store as
// such. A well-formed value a row cannot take (a NUL in a name, an
// unknown role) is that row's error, as in a CSV roster.
func parseJSON(body io.Reader, max int) ([]row, error) {
	dec := json.NewDecoder(body)
	tok, err := dec.Token()
	if err != nil {
		return nil, marksmith.Errorf(marksmith.EINVALID, "Invalid JSON roster: %s.", describeJSON(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, marksmith.Errorf(marksmith.EINVALID, "A JSON roster is an array of users.")
	}
	var rows []row
	for i := 1; dec.More(); i++ {
		if len(rows) >= max {
			return nil, tooMany(max)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, marksmith.Errorf(marksmith.EINVALID, "Invalid JSON roster at item %d: %s.", i, describeJSON(err))
		}
		if !utf8.Valid(raw) {
			field := fmt.Sprintf("[%d]", i-1)
			if key := invalidKey(raw); key != "" {
				field += "." + key
			}
			return nil, &marksmith.Error{Code: marksmith.EINVALID, Message: fmt.Sprintf("Invalid JSON roster at item %d: not valid UTF-8.", i),
				Details: []marksmith.FieldError{{Field: field, Message: "is not valid UTF-8 text"}}}
		}
		var u marksmith.NewUser
		item := json.NewDecoder(bytes.NewReader(raw))
		item.DisallowUnknownFields()
		if err := item.Decode(&u); err != nil {
			return nil, marksmith.Errorf(marksmith.EINVALID, "Invalid JSON roster at item %d: %s.", i, describeJSON(err))
		}
		rows = append(rows, row{line: i, user: u})
	}
	if _, err := dec.Token(); err != nil {
		return nil, marksmith.Errorf(marksmith.EINVALID, "Invalid JSON roster: %s.", describeJSON(err))
	}
	return rows, nil
}

// invalidKey returns the key of the JSON object raw whose value is not
// UTF-8, or "" if raw is not an object or its keys are at fault.
func invalidKey(raw []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		if !utf8.Valid(m[k]) && utf8.ValidString(k) && !strings.ContainsRune(k, utf8.RuneError) {
			return k
		}
	}
	return ""
}

// describeJSON says what is wrong with a JSON roster without Go's type
// names.
func describeJSON(err error) string {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind()), typ.Value)
	case errors.As(err, &typ):
		return fmt.Sprintf("an item must be an object, not %s", typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "unexpected end of input"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "not valid JSON"
}

// jsonKind names the JSON a Go kind is read from.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	}
	return "a number"
}
