package bank

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// aliasBomb is a list of nine anchored lists, each holding nine aliases
// of the one before: 9^9 (387 million) values once written out, in about
// 700 bytes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString(`[&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`)
	for c := 'b'; c <= 'i'; c++ {
		fmt.Fprintf(&b, ", &%c [", c)
		for j := range 9 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*%c", c-1)
		}
		b.WriteString("]")
	}
	b.WriteString("]")
	return b.String()
}

// manyKeys is a template whose canonical mapping has n keys, one line
// each: a megabyte for 100,000.
func manyKeys(n int) string {
	var b strings.Builder
	b.WriteString("id: t/keys\ntitle: Keys\nmarks: 1\ncanonical:\n")
	for i := range n {
		fmt.Fprintf(&b, "  k%d: 1\n", i)
	}
	b.WriteString("parts:\n  - {id: a, marks: 1, prompt: x, answer: {type: integer, key: 1}}\n")
	return b.String()
}

// withPrompt is a one-part template with this prompt (YAML-quoted).
func withPrompt(prompt string) string {
	return "id: t/prompt\ntitle: P\nmarks: 1\nparams:\n  x: {value: 2}\nparts:\n  - id: a\n    marks: 1\n    prompt: \"" +
		prompt + "\"\n    answer: {type: integer, value: x}\n"
}

// minimal is a valid template with extra lines inserted before its parts.
func minimal(extra string) string {
	return "id: t/min\ntitle: M\nmarks: 1\n" + extra + "parts:\n  - {id: a, marks: 1, prompt: x, answer: {type: integer, key: 1}}\n"
}

// nParams is a template with n constant parameters.
func nParams(n int) string {
	var b strings.Builder
	b.WriteString("params:\n")
	for i := range n {
		fmt.Fprintf(&b, "  p%d: {value: %d}\n", i, i)
	}
	return minimal(b.String())
}

// nParts is a template with n parts of one mark.
func nParts(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id: t/parts\ntitle: P\nmarks: %d\nparts:\n", n)
	for i := range n {
		fmt.Fprintf(&b, "  - {id: p%d, marks: 1, prompt: x, answer: {type: integer, key: 1}}\n", i)
	}
	return b.String()
}

// nested is depth levels of block mappings, each key indented two more
// spaces than its parent.
func nested(depth int) string {
	var b strings.Builder
	for i := range depth {
		b.WriteString(strings.Repeat("  ", i) + "b:\n")
	}
	return b.String()
}

// TestLoadLimits loads templates over each limit (and the hostile inputs
// that once exhausted memory, the stack or minutes of CPU) and checks that
// each is refused quickly with one problem naming the limit, where it was
// hit, and the sentinel the API maps to a status.
func TestLoadLimits(t *testing.T) {
	bomb := aliasBomb()
	if len(bomb) > 704 {
		t.Fatalf("the alias bomb is %d bytes, want at most 704", len(bomb))
	}
	tests := []struct {
		name      string
		src       string
		lim       Limits
		limit     string
		sentinel  error
		line, col int
		field     string
	}{
		{"alias bomb in a parameter", minimal("params:\n  x: {value: " + bomb + "}\n"), Limits{}, LimitValues, ErrLimit, 5, 0, ""},
		{"alias bomb in canonical", minimal("params:\n  x: {choice: [1, 2]}\ncanonical: {x: " + bomb + "}\n"), Limits{}, LimitValues, ErrLimit, 6, 0, ""},
		{"alias bomb in a part's key", "id: t/k\ntitle: K\nmarks: 1\nparts:\n  - {id: a, marks: 1, prompt: x, answer: {type: sequence, key: " + bomb + "}}\n",
			Limits{}, LimitValues, ErrLimit, 5, 0, ""},
		{"aliases in a mapping's values", "a: &a [1, 2, 3]\nb: &b [*a, *a, *a, *a]\nc: {x: *b, y: *b}\n", Limits{MaxValues: 30}, LimitValues, ErrLimit, 3, 15, ""},
		{"120 KB of nested [ (JSON)", strings.Repeat("[", 120_000), Limits{}, LimitDepth, ErrLimit, 1, 33, ""},
		{"120 KB of nested {b: (YAML)", strings.Repeat("{b: ", 30_000), Limits{}, LimitDepth, ErrLimit, 1, 129, ""},
		{"deep block indentation", nested(200), Limits{}, LimitDepth, ErrLimit, 33, 65, ""},
		{"deep block list", strings.Repeat("- ", 1000) + "x\n", Limits{}, LimitDepth, ErrLimit, 1, 65, ""},
		{"deeper than a lowered limit", minimal("params:\n  x: {value: [[[[1]]]]}\n"), Limits{MaxDepth: 5}, LimitDepth, ErrLimit, 5, 16, ""},
		{"aliases nest deeper than the limit", "a: &a [[[1]]]\nb: &b [[[*a]]]\nc: [[[*b]]]\n", Limits{MaxDepth: 8}, LimitDepth, ErrLimit, 3, 0, ""},
		{"100,000 keys (1 MB)", manyKeys(100_000), Limits{}, LimitBytes, ErrTooLarge, 22_772, 8, ""},
		{"100,000 keys under a raised size limit", manyKeys(100_000), Limits{MaxBytes: 4 << 20}, LimitKeys, ErrLimit, 1005, 3, ""},
		{"1,001 keys in one flow mapping", minimal("canonical: {" + strings.Repeat("k: 1, ", 1001) + "}\n"), Limits{}, LimitKeys, ErrLimit, 4, 6014, ""},
		{"200,000 placeholders (1.4 MB)", withPrompt(strings.Repeat("{{x}} ", 200_000)), Limits{}, LimitBytes, ErrTooLarge, 9, 262_060, ""},
		{"200,000 placeholders under a raised size limit", withPrompt(strings.Repeat("{{x}} ", 200_000)), Limits{MaxBytes: 4 << 20, MaxString: 4 << 20},
			LimitPlaceholders, ErrLimit, 9, 13, "parts.a.prompt"},
		{"placeholders over the limit across parts", withPrompt(strings.Repeat("{{x}}", 6)), Limits{MaxPlaceholders: 5}, LimitPlaceholders, ErrLimit, 9, 13, "parts.a.prompt"},
		{"a string over the limit", withPrompt(strings.Repeat("x", 64<<10+1)), Limits{}, LimitString, ErrLimit, 9, 13, ""},
		{"201 parameters", nParams(201), Limits{}, LimitParams, ErrLimit, 5, 5, "params"},
		{"101 parts", nParts(101), Limits{}, LimitParts, ErrLimit, 5, 3, "parts"},
		{"101 aliases", minimal("params:\n  x: {value: [&a 1" + strings.Repeat(", *a", 101) + "]}\n"), Limits{}, LimitAliases, ErrLimit, 5, 421, ""},
		{"over a lowered size limit", goodTemplate, Limits{MaxBytes: 100}, LimitBytes, ErrTooLarge, 7, 4, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			tp, err := LoadContext(context.Background(), "t.yaml", []byte(tt.src), LoadOptions{Limits: tt.lim})
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("refusing took %s", took)
			}
			if tp != nil {
				t.Fatalf("loaded %s; want it refused for the %s limit", tp.ID, tt.limit)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			if len(ve.Problems) != 1 {
				t.Fatalf("problems = %v, want one", ve.Problems)
			}
			p := ve.Problems[0]
			if p.Limit != tt.limit || p.File != "t.yaml" || p.Line != tt.line || (tt.col != 0 && p.Column != tt.col) || p.Field != tt.field {
				t.Errorf("problem = %+v, want limit %q at line %d column %d field %q", p, tt.limit, tt.line, tt.col, tt.field)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			other := ErrTooLarge
			if tt.sentinel == ErrTooLarge {
				other = ErrLimit
			}
			if errors.Is(err, other) {
				t.Errorf("errors.Is(%v, %v) = true, want only %v", err, other, tt.sentinel)
			}
		})
	}
}

// TestLoadWithinLimits loads templates at or under each limit, and over a
// default limit that the options raise.
func TestLoadWithinLimits(t *testing.T) {
	tests := []struct {
		name string
		src  string
		lim  Limits
	}{
		{"200 parameters", nParams(200), Limits{}},
		{"201 parameters with the limit raised", nParams(201), Limits{MaxParams: 201}},
		{"100 parts", nParts(100), Limits{}},
		{"101 parts with the limit raised", nParts(101), Limits{MaxParts: 101}},
		{"1,000 placeholders", withPrompt(strings.Repeat("{{x}}", 1000)), Limits{}},
		{"a list nested 31 deep in the template", minimal("params:\n  x: {value: " + strings.Repeat("[", 29) + "1" + strings.Repeat("]", 29) + "}\n"), Limits{}},
		{"aliases used 100 times", minimal("params:\n  x: {value: [&a 1" + strings.Repeat(", *a", 100) + "]}\n"), Limits{}},
		{"1,000 keys in one block mapping", minimal("params:\n  t:\n    value:\n" + func() string {
			var b strings.Builder
			for i := range 1000 {
				fmt.Fprintf(&b, "      k%d: %d\n", i, i)
			}
			return b.String()
		}()), Limits{}},
		{"a 64 KiB string", withPrompt(strings.Repeat("x", 64<<10)), Limits{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := LoadContext(context.Background(), "t.yaml", []byte(tt.src), LoadOptions{Limits: tt.lim}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestBuiltinWithinDefaultLimits keeps the default limits well above what
// the built-in bank needs: every template loads with each limit at half
// its default.
func TestBuiltinWithinDefaultLimits(t *testing.T) {
	d := DefaultLimits()
	half := Limits{MaxBytes: d.MaxBytes / 2, MaxDepth: d.MaxDepth / 2, MaxKeys: d.MaxKeys / 2, MaxAliases: d.MaxAliases / 2,
		MaxValues: d.MaxValues / 2, MaxParams: d.MaxParams / 2, MaxParts: d.MaxParts / 2, MaxPlaceholders: d.MaxPlaceholders / 2, MaxString: d.MaxString / 2}
	ts, err := builtinOnce()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range ts {
		if _, err := LoadContext(context.Background(), tp.ID, tp.Source, LoadOptions{Limits: half}); err != nil {
			t.Errorf("%s: %v", tp.ID, err)
		}
	}
}

// countdown is a context whose deadline passes after its Err has been
// asked a number of times: a clock-free way to expire mid-way.
type countdown struct {
	context.Context
	left atomic.Int64
}

func newCountdown(n int64) *countdown {
	c := &countdown{Context: context.Background()}
	c.left.Store(n)
	return c
}

func (c *countdown) Err() error {
	if c.left.Add(-1) < 0 {
		return context.DeadlineExceeded
	}
	return nil
}

// rejectAll is a template whose constraint rejects every draw, so that
// validating it draws 2,000 times before giving up.
const rejectAll = `id: t/reject
title: Reject
marks: 1
params:
  x: {int: [1, 1000000]}
canonical: {x: 1}
constraints: ["x == 1"]
parts:
  - {id: a, marks: 1, prompt: "{{x}}", answer: {type: integer, value: x}}
`

// TestLoadContext checks that a load stops when its context is done: past
// the deadline, mid-way through drawing, as a time-limit problem; once
// cancelled, with the context's error.
func TestLoadContext(t *testing.T) {
	// Without a deadline, rejectAll is refused for its constraint after
	// all its draws: the canonical value 1 holds, every other draw fails.
	probs := problemsOf(t, rejectAll)
	if len(probs) != 1 || !strings.Contains(probs[0].Message, "2000") {
		t.Fatalf("problems without a deadline = %v, want the constraint failing 2000 draws", probs)
	}
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	midway := newCountdown(50)
	tests := []struct {
		name     string
		ctx      context.Context
		src      string
		timeout  bool // want a time-limit problem; else the context's error
		wantErrs error
	}{
		{"already past its deadline", expired, goodTemplate, true, context.DeadlineExceeded},
		{"deadline passes while drawing", midway, rejectAll, true, context.DeadlineExceeded},
		{"cancelled", cancelled, goodTemplate, false, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := LoadContext(tt.ctx, "t.yaml", []byte(tt.src), LoadOptions{})
			if tp != nil || !errors.Is(err, tt.wantErrs) {
				t.Fatalf("LoadContext = %v, %v; want an error matching %v", tp, err, tt.wantErrs)
			}
			var ve *ValidationError
			isVE := errors.As(err, &ve)
			if isVE != tt.timeout {
				t.Fatalf("error %v: a *ValidationError = %v, want %v", err, isVE, tt.timeout)
			}
			if tt.timeout {
				if len(ve.Problems) != 1 || ve.Problems[0].Limit != LimitTime || !errors.Is(err, ErrLimit) {
					t.Errorf("problems = %+v (ErrLimit %v), want one time-limit problem", ve.Problems, errors.Is(err, ErrLimit))
				}
			}
		})
	}
	if left := midway.left.Load(); left > 0 {
		t.Errorf("the countdown has %d checks left: the load did not run until its deadline", left)
	}
}

// TestSelfTestContext checks that a self-test stops once its context is
// done, with the context's error, and runs to the end without one.
func TestSelfTestContext(t *testing.T) {
	tp := builtinTemplate(t, "dasc7606/q6")
	ctx := newCountdown(100)
	if _, err := tp.SelfTestContext(ctx, 1, 1000); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SelfTestContext past its deadline = %v, want context.DeadlineExceeded", err)
	}
	rep, err := tp.SelfTestContext(context.Background(), 1, 50)
	if err != nil || rep.Count != 50 || !rep.OK() {
		t.Fatalf("SelfTestContext = %+v, %v; want 50 variants passing", rep, err)
	}
}
