// Package bank is the question bank: the template model (questions, parts,
// parameters, answer specs, rubrics), its YAML/JSON codec with line-numbered
// validation, variants of a template with their answer keys, and the
// built-in DASC7606 bank embedded in the binary.
package bank

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/marksmith/marksmith/calc"
	"github.com/marksmith/marksmith/grader"
	"github.com/marksmith/marksmith/variants"
)

// Template is a loaded, validated and compiled question template. It is
// immutable and safe for concurrent use.
type Template struct {
	ID       string
	Title    string
	Version  int
	Marks    float64
	Tags     []string
	Authored bool   // written for this bank rather than taken from a paper
	Origin   string // where the question comes from
	Source   []byte // the bytes it was loaded from
	Format   string // "yaml" or "json"

	gen      *variants.Generator
	intro    *variants.Text
	parts    []*part
	measures []measure
}

// measure is how close a variant comes to the threshold of one of its
// constraints: a number the constraint keeps at or above AtLeast (or at or
// below AtMost). The self-test reports the closest any variant came.
type measure struct {
	constraint int // index in the generator's constraints
	value      *calc.Program
	limit      float64
	upper      bool // the limit is an upper one (at_most)
	node       *node
	field      string
}

// part is a compiled part.
type part struct {
	id        string
	marks     float64
	lead      *variants.Text // shown above the part, e.g. an instruction for it and the parts after it
	prompt    *variants.Text
	instr     *variants.Text // the prompt's last line: how to write the answer; nil for the default
	typ       grader.Type
	key       any           // a literal key
	value     *calc.Program // or a computed one
	tolerance grader.Tolerance
	unit      string
	suffixes  bool
	options   []grader.Option // literal options (Correct ignored; the key decides)
	optExpr   *calc.Program   // or computed ones
	shuffle   bool
	scheme    string
	penalty   float64
	accept    []string
	patterns  []string
	caseSens  bool
	rubric    []grader.Criterion
	reference *variants.Text
	follow    string
	followMk  float64
	charts    []chart
	rows      []*variants.Text // table: row labels
	cols      []*variants.Text // table: column labels
}

type chart struct {
	id, title, xLabel, yLabel string
	value                     *calc.Program
}

// PartIDs returns the template's part IDs in order.
func (t *Template) PartIDs() []string {
	ids := make([]string, len(t.parts))
	for i, p := range t.parts {
		ids[i] = p.id
	}
	return ids
}

// Generator returns the template's variant generator.
func (t *Template) Generator() *variants.Generator { return t.gen }

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9_.\-]*(/[a-z0-9][a-z0-9_.\-]*)*$`)
	namePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	syntaxPos   = regexp.MustCompile(`^\[(\d+):(\d+)\]\s*`)
	linePrefix  = regexp.MustCompile(`^line (\d+): `)
)

var (
	topFields    = []string{"id", "title", "version", "marks", "tags", "authored", "origin", "intro", "params", "canonical", "constraints", "parts"}
	paramKinds   = []string{"choice", "int", "real", "sample", "shuffle", "value", "expr"}
	paramFields  = []string{"choice", "int", "real", "sample", "shuffle", "value", "expr", "step", "k", "note"}
	partFields   = []string{"id", "marks", "lead", "prompt", "answer", "note"}
	answerFields = []string{"type", "key", "value", "tolerance", "unit", "suffixes", "options", "shuffle", "scheme", "penalty", "accept", "patterns", "case_sensitive", "rubric", "reference", "follow", "follow_marks", "charts", "rows", "columns", "instruction"}
	reserved     = []string{"ans", "true", "false", "nil", "not", "and", "or", "in", "matches", "contains", "startsWith", "endsWith", "let"}
)

// Load parses (YAML or JSON), validates and compiles a template with the
// default limits and no deadline. name is the file name problems are
// reported against. The error is a *ValidationError listing every problem
// when the template is not sound.
func Load(name string, data []byte) (*Template, error) {
	return LoadContext(context.Background(), name, data, LoadOptions{})
}

// LoadContext is Load within opts.Limits and ctx. A template over a limit
// is refused, before the work the limit protects, with a *ValidationError
// of one problem that names the limit and where it was hit, and matches
// ErrTooLarge (the size) or ErrLimit (any other). The work stops soon
// after ctx is done: past its deadline the template is refused likewise
// (ErrLimit, and context.DeadlineExceeded); when it is cancelled the error
// is ctx's, wrapped.
func LoadContext(ctx context.Context, name string, data []byte, opts LoadOptions) (*Template, error) {
	lim := opts.Limits.withDefaults()
	if le := overBytes(data, lim); le != nil {
		return nil, refusal(name, le)
	}
	if err := ctx.Err(); err != nil {
		return nil, stopped(name, err)
	}
	ps := &problems{file: name}
	root, err := parseNodes(ctx, data, lim)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			return nil, stopped(name, err)
		}
		if le := (*limitError)(nil); errors.As(err, &le) {
			return nil, refusal(name, le)
		}
		p := Problem{File: name, Field: "", Message: err.Error(), Line: 1, Column: 1}
		if m := syntaxPos.FindStringSubmatch(err.Error()); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Column, _ = strconv.Atoi(m[2])
			p.Message = syntaxPos.ReplaceAllString(firstLine(err.Error()), "")
		} else if m := linePrefix.FindStringSubmatch(err.Error()); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Message = err.Error()[len(m[0]):]
		}
		return nil, &ValidationError{Problems: []Problem{p}}
	}
	t := &Template{Source: append([]byte(nil), data...), Format: "yaml"}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		t.Format = "json"
	}
	checkText(ps, root)
	c := &compiler{r: reader{ps: ps}, t: t, env: calc.Env{}, ctx: ctx, lim: lim}
	if !c.counts(root) {
		return nil, ps.err()
	}
	c.template(root)
	if c.stop != nil {
		return nil, stopped(name, c.stop)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	if err := t.gen.Prepare(); err != nil {
		ps.add(root.get("params"), "params", "%s", firstLine(err.Error()))
		return nil, ps.err()
	}
	c.checkFollows()
	c.check(root)
	if c.stop != nil {
		return nil, stopped(name, c.stop)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return t, nil
}

// refusal is the *ValidationError of a template over a limit.
func refusal(name string, le *limitError) error {
	return &ValidationError{
		Problems: []Problem{{File: name, Line: le.line, Column: le.col, Field: le.field, Message: le.msg, Limit: le.limit}},
		cause:    le.kind(),
	}
}

// stopped is the error of a load that stopped because its context is done
// (err is, or wraps, the context's error): past a deadline the template is
// refused like one over a limit; cancelled, nobody waits for an answer.
func stopped(name string, err error) error {
	if !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("load template %s: %w", name, err)
	}
	return &ValidationError{
		Problems: []Problem{{File: name, Line: 1, Column: 1, Limit: LimitTime,
			Message: "validating the template took longer than the time allowed; simplify its parameters and constraints"}},
		cause: errors.Join(ErrLimit, err),
	}
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// compiler turns a node tree into a Template, recording problems.
type compiler struct {
	r     reader
	t     *Template
	env   calc.Env
	nodes map[string]*node // part id -> its node, for problems found later

	ctx          context.Context
	lim          Limits
	stop         error // the context's error, once it is done
	placeholders int   // placeholders in the texts compiled so far
}

func (c *compiler) ps() *problems { return c.r.ps }

// halted reports whether the load must stop because its context is done,
// keeping the context's error in stop.
func (c *compiler) halted() bool {
	if c.stop == nil {
		c.stop = c.ctx.Err()
	}
	return c.stop != nil
}

// counts checks the numbers of parameters and parts against the limits
// before anything is compiled, and reports whether they are within them.
func (c *compiler) counts(root *node) bool {
	ok := true
	if n := root.get("params"); n != nil && n.kind == mappingNode && len(n.keys) > c.lim.MaxParams {
		c.ps().limit(n, "params", LimitParams, "has %d parameters; at most %d are allowed", len(n.keys), c.lim.MaxParams)
		ok = false
	}
	if n := root.get("parts"); n != nil && n.kind == sequenceNode && len(n.vals) > c.lim.MaxParts {
		c.ps().limit(n, "parts", LimitParts, "has %d parts; at most %d are allowed", len(n.vals), c.lim.MaxParts)
		ok = false
	}
	return ok
}

func (c *compiler) template(root *node) {
	r := &c.r
	if !r.fields(root, "", topFields...) {
		return
	}
	t := c.t
	for _, req := range []string{"id", "title", "marks", "parts"} {
		if root.get(req) == nil {
			c.ps().add(root, req, "is required")
		}
	}
	if n := root.get("id"); n != nil {
		t.ID = r.str(n, "id")
		switch {
		case utf8.RuneCountInString(t.ID) > MaxIDLength:
			c.ps().add(n, "id", "is %d characters long; an id is at most %d", utf8.RuneCountInString(t.ID), MaxIDLength)
		case t.ID != "" && !idPattern.MatchString(t.ID) && badText(t.ID) == "":
			// (checkText reports the characters that no text may hold.)
			c.ps().add(n, "id", "%q is not a valid id: use lower-case letters, digits, '-', '_', '.', with '/' between segments", t.ID)
		}
	}
	t.Title = r.str(root.get("title"), "title")
	t.Version = 1
	if n := root.get("version"); n != nil {
		if v, ok := r.integer(n, "version"); ok {
			if v < 1 {
				c.ps().add(n, "version", "must be 1 or more")
			}
			t.Version = v
		}
	}
	if n := root.get("marks"); n != nil {
		if v, ok := r.num(n, "marks"); ok {
			if v <= 0 {
				c.ps().add(n, "marks", "must be more than 0")
			}
			t.Marks = v
		}
	}
	t.Tags = r.strs(root.get("tags"), "tags")
	if n := root.get("authored"); n != nil {
		t.Authored = r.boolean(n, "authored")
	}
	t.Origin = r.str(root.get("origin"), "origin")

	gen := &variants.Generator{Canonical: map[string]any{}}
	c.t.gen = gen
	c.params(root.get("params"))
	c.canonical(root.get("canonical"))
	c.constraints(root.get("constraints"))
	if n := root.get("intro"); n != nil {
		t.intro = c.text(n, "intro")
	}
	c.parts(root.get("parts"))
}

func (c *compiler) params(n *node) {
	if n == nil {
		return
	}
	if n.kind != mappingNode {
		c.ps().add(n, "params", "must be a mapping of parameter names to definitions, not %s", n.kindName())
		return
	}
	for i, k := range n.keys {
		name := k.str()
		field := "params." + name
		switch {
		case !namePattern.MatchString(name):
			c.ps().add(k, field, "%q is not a valid name: use letters, digits and _, starting with a letter", name)
			continue
		case contains(reserved, name):
			c.ps().add(k, field, "%q is a reserved word", name)
			continue
		case c.isFunc(name):
			c.ps().add(k, field, "%q is the name of a function", name)
			continue
		}
		if p, ok := c.param(name, n.vals[i], field); ok {
			c.t.gen.Params = append(c.t.gen.Params, p)
		}
		c.env[name] = nil
	}
}

func (c *compiler) isFunc(name string) bool {
	for _, f := range calc.Functions() {
		if f.Name == name {
			return true
		}
	}
	return false
}

func (c *compiler) param(name string, n *node, field string) (variants.Param, bool) {
	r := &c.r
	p := variants.Param{Name: name}
	if !r.fields(n, field, paramFields...) {
		return p, false
	}
	var kinds []string
	for _, k := range paramKinds {
		if n.get(k) != nil {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) != 1 {
		c.ps().add(n, field, "needs exactly one of %v, found %d", paramKinds, len(kinds))
		return p, false
	}
	kind := kinds[0]
	v := n.get(kind)
	vf := field + "." + kind
	ok := true
	switch kind {
	case "choice":
		p.Kind = variants.Choice
		if v.kind != sequenceNode || len(v.vals) == 0 {
			c.ps().add(v, vf, "must be a non-empty list of values")
			return p, false
		}
		p.Values = v.plain().([]any)
	case "int", "real":
		p.Kind = variants.IntRange
		if kind == "real" {
			p.Kind = variants.RealRange
		}
		if v.kind != sequenceNode || len(v.vals) != 2 {
			c.ps().add(v, vf, "must be a range [low, high]")
			return p, false
		}
		lo, ok1 := r.num(v.vals[0], vf+"[0]")
		hi, ok2 := r.num(v.vals[1], vf+"[1]")
		if !ok1 || !ok2 {
			return p, false
		}
		if lo > hi {
			c.ps().add(v, vf, "low %v is above high %v", lo, hi)
			ok = false
		}
		p.Lo, p.Hi = lo, hi
		if s := n.get("step"); s != nil {
			p.Step, _ = r.num(s, field+".step")
			if p.Step <= 0 {
				c.ps().add(s, field+".step", "must be more than 0")
				ok = false
			}
		}
		if kind == "int" {
			if lo != math.Trunc(lo) || hi != math.Trunc(hi) || p.Step != math.Trunc(p.Step) {
				c.ps().add(v, vf, "an int range needs whole-number bounds and step")
				ok = false
			}
		} else if p.Step == 0 {
			c.ps().add(n, field+".step", "a real range needs a step (variants are drawn on a grid so that they can be told apart)")
			ok = false
		}
	case "sample", "shuffle":
		p.Kind = variants.Sample
		if kind == "shuffle" {
			p.Kind = variants.Shuffle
		}
		switch {
		case v.kind == sequenceNode && len(v.vals) > 0:
			p.Values = v.plain().([]any)
		case v.kind == scalarNode:
			if src, isStr := v.value.(string); isStr {
				p.From = c.expr(v, vf, src)
				ok = p.From != nil
			} else {
				c.ps().add(v, vf, "must be a list or an expression giving one")
				ok = false
			}
		default:
			c.ps().add(v, vf, "must be a non-empty list or an expression giving one")
			ok = false
		}
		if p.Kind == variants.Sample {
			kn := n.get("k")
			if kn == nil {
				c.ps().add(n, field+".k", "a sample needs k, the number of items to draw")
				ok = false
			} else if k, okk := r.integer(kn, field+".k"); okk {
				p.K = k
				if k < 1 || (p.Values != nil && k > len(p.Values)) {
					c.ps().add(kn, field+".k", "must be between 1 and the number of items (%d)", len(p.Values))
					ok = false
				}
			}
		}
	case "value":
		p.Kind = variants.Const
		p.Value = calc.Normalize(v.plain())
	case "expr":
		p.Kind = variants.Derived
		src := r.str(v, vf)
		p.Expr = c.expr(v, vf, src)
		ok = p.Expr != nil
	}
	if kind != "int" && kind != "real" && n.get("step") != nil {
		c.ps().add(n.get("step"), field+".step", "step belongs to int and real ranges only")
	}
	if kind != "sample" && n.get("k") != nil {
		c.ps().add(n.get("k"), field+".k", "k belongs to sample only")
	}
	return p, ok
}

// expr compiles an expression against the names defined so far.
func (c *compiler) expr(n *node, field, src string) *calc.Program {
	if c.halted() {
		return nil
	}
	if src == "" {
		c.ps().add(n, field, "is an empty expression")
		return nil
	}
	p, err := calc.Compile(src, c.env)
	if err != nil {
		c.ps().add(n, field, "%s", exprMessage(err))
		return nil
	}
	return p
}

// exprMessage shortens an expr-lang error to its first line.
func exprMessage(err error) string {
	var ce *calc.Error
	if errors.As(err, &ce) {
		return fmt.Sprintf("expression %q: %s", ce.Src, firstLine(ce.Err.Error()))
	}
	return firstLine(err.Error())
}

// text compiles a text with placeholders, refusing the placeholders past
// the template's limit before compiling them.
func (c *compiler) text(n *node, field string) *variants.Text {
	src := c.r.str(n, field)
	before := c.placeholders
	c.placeholders += strings.Count(src, "{{")
	if c.placeholders > c.lim.MaxPlaceholders {
		if before <= c.lim.MaxPlaceholders {
			c.ps().limit(n, field, LimitPlaceholders, "brings the template's placeholders to %d; at most %d are allowed", c.placeholders, c.lim.MaxPlaceholders)
		}
		src = ""
	}
	if c.halted() {
		src = ""
	}
	t, errs := variants.CompileText(src, c.env)
	for _, err := range errs {
		c.ps().add(n, field, "placeholder: %s", exprMessage(err))
	}
	return t
}

func (c *compiler) canonical(n *node) {
	sampled := 0
	for _, p := range c.t.gen.Params {
		if p.Sampled() {
			sampled++
		}
	}
	if n == nil {
		if sampled > 0 {
			c.ps().add(nil, "canonical", "is required: the values of the printed paper for every drawn parameter")
		}
		return
	}
	if n.kind != mappingNode {
		c.ps().add(n, "canonical", "must be a mapping of parameter names to values, not %s", n.kindName())
		return
	}
	byName := map[string]*variants.Param{}
	for i := range c.t.gen.Params {
		byName[c.t.gen.Params[i].Name] = &c.t.gen.Params[i]
	}
	for i, k := range n.keys {
		name := k.str()
		p, ok := byName[name]
		switch {
		case !ok:
			c.ps().add(k, "canonical."+name, "no parameter is named %q", name)
			continue
		case !p.Sampled():
			c.ps().add(k, "canonical."+name, "parameter %q is %s, not drawn, so it has no canonical value", name, p.Kind)
			continue
		}
		c.t.gen.Canonical[name] = calc.Normalize(n.vals[i].plain())
	}
	for _, p := range c.t.gen.Params {
		if _, ok := c.t.gen.Canonical[p.Name]; p.Sampled() && !ok {
			c.ps().add(n, "canonical", "has no value for parameter %q", p.Name)
		}
	}
}

func (c *compiler) constraints(n *node) {
	for i, item := range c.r.list(n, "constraints") {
		field := fmt.Sprintf("constraints[%d]", i)
		var src, reason string
		var at = item
		if item.kind == mappingNode {
			if !c.r.fields(item, field, "expr", "reason", "measure") {
				continue
			}
			at = item.get("expr")
			if at == nil {
				c.ps().add(item, field+".expr", "is required")
				continue
			}
			src = c.r.str(at, field+".expr")
			reason = c.r.str(item.get("reason"), field+".reason")
		} else {
			src = c.r.str(item, field)
		}
		if p := c.expr(at, field, src); p != nil {
			c.t.gen.Constraints = append(c.t.gen.Constraints, variants.Constraint{Expr: p, Reason: reason})
			if item.kind == mappingNode && item.get("measure") != nil {
				c.measures(len(c.t.gen.Constraints)-1, item.get("measure"), field+".measure")
			}
		}
	}
}

// measures reads a constraint's measure: {value: expr, at_least: x} or
// {value: expr, at_most: x}, or a list of them.
func (c *compiler) measures(ci int, n *node, field string) {
	items := []*node{n}
	if n.kind == sequenceNode {
		items = n.vals
	}
	for i, item := range items {
		f := field
		if n.kind == sequenceNode {
			f = fmt.Sprintf("%s[%d]", field, i)
		}
		if !c.r.fields(item, f, "value", "at_least", "at_most") {
			continue
		}
		m := measure{constraint: ci, node: item, field: f}
		vn := item.get("value")
		if vn == nil {
			c.ps().add(item, f+".value", "is required: an expression giving the number the constraint bounds")
			continue
		}
		lo, hi := item.get("at_least"), item.get("at_most")
		switch {
		case (lo == nil) == (hi == nil):
			c.ps().add(item, f, "needs exactly one of at_least and at_most, the threshold")
			continue
		case lo != nil:
			m.limit, _ = c.r.num(lo, f+".at_least")
		default:
			m.limit, _ = c.r.num(hi, f+".at_most")
			m.upper = true
		}
		if m.value = c.expr(vn, f+".value", c.r.str(vn, f+".value")); m.value != nil {
			c.t.measures = append(c.t.measures, m)
		}
	}
}

// checkFollows rejects follow rules that read a constant: a stored paper
// keeps only drawn and derived values.
func (c *compiler) checkFollows() {
	consts := map[string]bool{}
	for _, p := range c.t.gen.Params {
		if p.Kind == variants.Const {
			consts[p.Name] = true
		}
	}
	env := calc.Env{"ans": nil}
	for k := range c.env {
		env[k] = nil
	}
	for _, p := range c.t.parts {
		if p.follow == "" {
			continue
		}
		prog, err := calc.Compile(p.follow, env)
		if err != nil {
			continue // reported when the part was compiled
		}
		for _, name := range prog.Names() {
			if !consts[name] {
				continue
			}
			n := c.nodes[p.id]
			if n != nil && n.get("answer") != nil {
				n = n.get("answer").get("follow")
			}
			c.ps().add(n, "parts."+p.id+".answer.follow", "reads %s, a constant of the template; a follow rule may read drawn or derived values and ans", name)
		}
	}
}
