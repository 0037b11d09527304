package bank

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a template, with where it is.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Field   string `json:"field"`
	Message string `json:"message"`
	// Limit names the limit the template is over (one of the Limit*
	// names, such as "keys"), or is empty for any other problem.
	Limit string `json:"limit,omitempty"`
}

// String formats the problem as file:line:column: field: message.
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", p.File, p.Line, p.Column, p.Field, p.Message)
}

// ValidationError lists every problem found in a template. A template
// refused for a limit matches ErrTooLarge (its size) or ErrLimit (any
// other limit, or its time) with errors.Is.
type ValidationError struct {
	Problems []Problem
	// cause is ErrTooLarge, ErrLimit (possibly joined with the context's
	// error) or nil.
	cause error
}

// Unwrap returns the limit the template is over (ErrTooLarge or ErrLimit),
// or nil.
func (e *ValidationError) Unwrap() error { return e.cause }

// Error lists the problems one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects problems while a template is read.
type problems struct {
	file string
	list []Problem
}

func (ps *problems) add(n *node, field, format string, args ...any) {
	p := Problem{File: ps.file, Field: field, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.line, n.col
	}
	ps.list = append(ps.list, p)
}

// limit records a problem of being over a limit.
func (ps *problems) limit(n *node, field, limit, format string, args ...any) {
	ps.add(n, field, format, args...)
	ps.list[len(ps.list)-1].Limit = limit
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	var cause error
	for _, p := range ps.list {
		if p.Limit != "" {
			cause = ErrLimit
		}
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		if ps.list[i].Line != ps.list[j].Line {
			return ps.list[i].Line < ps.list[j].Line
		}
		return ps.list[i].Column < ps.list[j].Column
	})
	return &ValidationError{Problems: ps.list, cause: cause}
}
