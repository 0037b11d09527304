package bank

import (
	"context"
	"errors"
	"fmt"

	"github.com/goccy/go-yaml/token"
)

// Limits bounds what one template may hold, so that a hostile or mistaken
// upload is refused before it costs much. Each bound is checked before the
// work it protects: the size before parsing, nesting, keys, aliases and
// string lengths while scanning the tokens (before the YAML parser, which
// recurses once per level and is quadratic in the keys of one block
// mapping: 10,000 keys take it a second, 100,000 over a minute), the values that
// aliases expand to while the tree is built, and parameters, parts and
// placeholders before they are compiled. A zero field takes its default
// (see DefaultLimits).
type Limits struct {
	MaxBytes        int // size of the source in bytes
	MaxDepth        int // nesting of mappings and lists, aliases written out
	MaxKeys         int // keys in any one mapping
	MaxAliases      int // uses of YAML aliases (*name)
	MaxValues       int // values (scalars, mappings, lists) with every alias written out
	MaxParams       int // parameters
	MaxParts        int // parts
	MaxPlaceholders int // {{ }} placeholders in all texts together
	MaxString       int // bytes in any one string (a key, a value, a prompt)
}

// DefaultLimits returns the limits a zero Limits stands for. They are far
// above what any template of the built-in bank needs (the largest is 12 KB
// with 41 placeholders) and far below what takes a server noticeable time.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:        256 << 10,
		MaxDepth:        32,
		MaxKeys:         1_000,
		MaxAliases:      100,
		MaxValues:       100_000,
		MaxParams:       200,
		MaxParts:        100,
		MaxPlaceholders: 1_000,
		MaxString:       64 << 10,
	}
}

// withDefaults fills every zero (or negative) field with its default.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	pick := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	return Limits{
		MaxBytes:        pick(l.MaxBytes, d.MaxBytes),
		MaxDepth:        pick(l.MaxDepth, d.MaxDepth),
		MaxKeys:         pick(l.MaxKeys, d.MaxKeys),
		MaxAliases:      pick(l.MaxAliases, d.MaxAliases),
		MaxValues:       pick(l.MaxValues, d.MaxValues),
		MaxParams:       pick(l.MaxParams, d.MaxParams),
		MaxParts:        pick(l.MaxParts, d.MaxParts),
		MaxPlaceholders: pick(l.MaxPlaceholders, d.MaxPlaceholders),
		MaxString:       pick(l.MaxString, d.MaxString),
	}
}

// LoadOptions are the settings of LoadContext. The zero value is the
// defaults.
type LoadOptions struct {
	Limits Limits
}

// The names problems give the limits in their Limit field.
const (
	LimitBytes        = "bytes"
	LimitDepth        = "depth"
	LimitKeys         = "keys"
	LimitAliases      = "aliases"
	LimitValues       = "values"
	LimitParams       = "params"
	LimitParts        = "parts"
	LimitPlaceholders = "placeholders"
	LimitString       = "string"
	LimitTime         = "time"
)

var (
	// ErrTooLarge is matched (errors.Is) by the *ValidationError of a
	// template whose source is over Limits.MaxBytes: an API answers it
	// with 413.
	ErrTooLarge = errors.New("template too large")
	// ErrLimit is matched (errors.Is) by the *ValidationError of a
	// template over any other limit, or whose validation ran past its
	// context's deadline: an API answers it with 422, like any other
	// problem.
	ErrLimit = errors.New("template over a limit")
)

// limitError is a template over one of its limits, with where the limit
// was hit. Load turns it into a one-problem *ValidationError.
type limitError struct {
	line, col int
	field     string
	limit     string // one of the Limit* names
	msg       string
}

func (e *limitError) Error() string {
	return fmt.Sprintf("line %d: %s", e.line, e.msg)
}

// kind returns the sentinel the refusal matches.
func (e *limitError) kind() error {
	if e.limit == LimitBytes {
		return ErrTooLarge
	}
	return ErrLimit
}

// overBytes refuses a source over lim.MaxBytes, naming the line where the
// limit falls.
func overBytes(src []byte, lim Limits) *limitError {
	if len(src) <= lim.MaxBytes {
		return nil
	}
	line, col := 1, 1
	for _, b := range src[:lim.MaxBytes] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &limitError{line: line, col: col, limit: LimitBytes,
		msg: fmt.Sprintf("the template is %s; at most %s is allowed", byteSize(len(src)), byteSize(lim.MaxBytes))}
}

// byteSize writes n bytes for a person: 512 bytes, 12.5 KiB, 1.3 MiB.
func byteSize(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.4g KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.4g MiB", float64(n)/(1<<20))
	}
}

// scanCheckEvery is how many tokens prescan reads between looks at its
// context.
const scanCheckEvery = 4096

// prescan checks the token stream against the limits the parser cannot be
// trusted with. The parser recurses once per level of nesting, so an
// unbounded nesting exhausts the stack; and it parses a block mapping by
// recursing once per key and copying the keys after it at each level, so
// its time is quadratic in the keys of one mapping. Nesting is counted from
// brackets in flow style and from indentation in block style; keys are the
// ':' indicators, counted for the mapping they belong to.
func prescan(ctx context.Context, tokens token.Tokens, lim Limits) error {
	type level struct {
		col  int
		seq  bool
		keys int
	}
	var (
		block   []level // open block collections, outermost first
		flow    []int   // keys of the open flow collections, outermost first
		aliases int
		prev    *token.Token // the last token that is not a comment
	)
	over := func(tk *token.Token, limit, format string, args ...any) error {
		e := &limitError{limit: limit, msg: fmt.Sprintf(format, args...)}
		if tk != nil && tk.Position != nil {
			e.line, e.col = tk.Position.Line, tk.Position.Column
		}
		return e
	}
	deep := func(tk *token.Token) error {
		if len(block)+len(flow) > lim.MaxDepth {
			return over(tk, LimitDepth, "nesting is deeper than %d levels", lim.MaxDepth)
		}
		return nil
	}
	tooManyKeys := func(tk *token.Token) error {
		return over(tk, LimitKeys, "a mapping has more than %d keys", lim.MaxKeys)
	}
	// enter notes a block collection entry (a key or a '-') at column col:
	// it closes the collections indented deeper, and opens one unless it
	// continues the innermost.
	enter := func(tk *token.Token, col int, seq bool) error {
		for len(block) > 0 {
			top := block[len(block)-1]
			if top.col > col || (top.col == col && top.seq && !seq) {
				block = block[:len(block)-1]
				continue
			}
			break
		}
		if n := len(block); n == 0 || block[n-1].col != col || block[n-1].seq != seq {
			block = append(block, level{col: col, seq: seq})
		}
		return deep(tk)
	}
	for i, tk := range tokens {
		if i%scanCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		switch tk.Type {
		case token.CommentType:
			continue
		case token.SequenceStartType, token.MappingStartType:
			flow = append(flow, 0)
			if err := deep(tk); err != nil {
				return err
			}
		case token.SequenceEndType, token.MappingEndType:
			if len(flow) > 0 {
				flow = flow[:len(flow)-1]
			}
		case token.SequenceEntryType:
			if len(flow) == 0 && tk.Position != nil {
				if err := enter(tk, tk.Position.Column, true); err != nil {
					return err
				}
			}
		case token.MappingValueType:
			if n := len(flow); n > 0 {
				if flow[n-1]++; flow[n-1] > lim.MaxKeys {
					return tooManyKeys(tk)
				}
				break
			}
			if prev == nil || prev.Position == nil {
				break
			}
			if err := enter(prev, prev.Position.Column, false); err != nil {
				return err
			}
			if top := &block[len(block)-1]; !top.seq {
				if top.keys++; top.keys > lim.MaxKeys {
					return tooManyKeys(prev)
				}
			}
		case token.AliasType:
			aliases++
			if aliases > lim.MaxAliases {
				return over(tk, LimitAliases, "the template uses aliases more than %d times", lim.MaxAliases)
			}
		}
		if len(tk.Value) > lim.MaxString {
			return over(tk, LimitString, "a string of %s is longer than the %s allowed", byteSize(len(tk.Value)), byteSize(lim.MaxString))
		}
		prev = tk
	}
	return nil
}
