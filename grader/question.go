package grader

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"

	"github.com/marksmith/marksmith/calc"
)

// Question is a compiled set of part specs of one question variant, ready
// to grade many submissions fast: keys are converted, regular expressions
// and follow expressions compiled once. It is safe for concurrent use.
type Question struct {
	parts  []part
	params map[string]any
	// read lists the parts whose answers follow expressions read.
	read []int
	// envs recycles environments of follow expressions (the parameters
	// and ans), so grading does not copy the parameters each time.
	envs sync.Pool
}

// part is one compiled spec.
type part struct {
	id    string
	typ   Type
	marks float64

	// number, integer, table and points
	num    numOpts
	tol    tol
	key    float64 // number, integer
	keyAny any     // key, boxed
	sig    dec     // key rounded to tol.SigFigs
	places dec     // key rounded to tol.Decimals

	// choice and multi
	opts    []Option
	keyIdx  int    // choice
	keyMask uint64 // multi
	letters bool   // every label is one ASCII letter: "AC" means A and C
	labels  string // "A, B, C" for messages
	scheme  string
	penalty float64

	// text and essay
	cs       bool
	accept   []phrase
	patterns []pattern
	rubric   []criterion
	index    phraseIndex // the accepted phrases and the rubric's

	// sequence: the key, and its tokens boxed once
	seq    []string
	seqAny []any

	// table
	table      [][]float64
	rows, cols int

	// points
	charts []Chart
	npts   int

	// item names what partial credit counts ("cell"); fbAll is the
	// feedback when every item is right, built once.
	item, fbAll string

	// choice: the option IDs, boxed once so that answers share them;
	// multi: every set of picks of up to maxSubsets options, likewise.
	ids     []any
	subsets []any

	// error carried forward
	follow      *calc.Program
	refs        []int // indices of the parts follow reads
	followMarks float64
}

// phrase is a normalised accepted phrase (" vanishing gradient ").
type phrase string

// criterion is a compiled rubric criterion.
type criterion struct {
	Criterion
	name     string // the text, or the ID, for feedback
	phrases  []phrase
	patterns []pattern
}

// Compile validates specs and compiles them for grading. params are the
// variant's parameters, which follow expressions may use. Errors name the
// part at fault.
func Compile(specs []Spec, params map[string]any) (*Question, error) {
	return CompileParts(specs, nil, params)
}

// CompileParts is Compile with parts already compiled: parts[i], when
// not nil, must be CompilePart(&specs[i]); a nil part is compiled here.
// parts may be nil. The question grades exactly as Compile's would.
func CompileParts(specs []Spec, parts []*Part, params map[string]any) (*Question, error) {
	if parts != nil && len(parts) != len(specs) {
		return nil, fmt.Errorf("%d compiled parts for %d specs", len(parts), len(specs))
	}
	q := &Question{parts: make([]part, len(specs)), params: make(map[string]any, len(params))}
	for k, v := range params {
		q.params[k] = v // a copy: the caller may reuse its map
	}
	params = q.params
	index := make(map[string]int, len(specs))
	for i := range specs {
		id := specs[i].Part
		if id == "" {
			return nil, fmt.Errorf("part %d: part id is empty", i+1)
		}
		if _, dup := index[id]; dup {
			return nil, fmt.Errorf("part %q: duplicate part id", id)
		}
		index[id] = i
	}
	if _, clash := params["ans"]; clash && hasFollow(specs) {
		return nil, errors.New("parameter \"ans\" clashes with the answers map of follow expressions")
	}
	for i := range specs {
		if parts != nil && parts[i] != nil {
			cp := &parts[i].p
			if cp.id != specs[i].Part || cp.typ != specs[i].Type {
				return nil, fmt.Errorf("part %q: compiled part is of part %q (%s)", specs[i].Part, cp.id, cp.typ)
			}
			q.parts[i] = *cp // a copy: its follow rule is this question's own
			continue
		}
		if err := q.parts[i].compile(&specs[i], false); err != nil {
			return nil, fmt.Errorf("part %q: %w", specs[i].Part, err)
		}
	}
	read := make([]bool, len(specs))
	for i := range specs {
		if strings.TrimSpace(specs[i].Follow) == "" {
			continue
		}
		dynamic, err := q.parts[i].compileFollow(&specs[i], specs, index, params)
		if err != nil {
			return nil, fmt.Errorf("part %q: follow: %w", specs[i].Part, err)
		}
		for _, j := range q.parts[i].refs {
			read[j] = true
		}
		if dynamic {
			for j := range read {
				read[j] = true
			}
		}
	}
	for j, r := range read {
		if r {
			q.read = append(q.read, j)
		}
	}
	q.envs.New = func() any {
		env := make(map[string]any, len(params)+1)
		for k, v := range params {
			env[k] = v
		}
		return env
	}
	return q, nil
}

// hasFollow reports whether any spec has a follow expression.
func hasFollow(specs []Spec) bool {
	for i := range specs {
		if strings.TrimSpace(specs[i].Follow) != "" {
			return true
		}
	}
	return false
}

// Parse reads a raw answer for spec. It returns the answer in canonical
// form — float64 for number and integer; the option ID (string) for
// choice; option IDs in display order ([]any of string) for multi; the
// trimmed text (string) for text and essay; []any of string for sequence;
// []any of rows, each []any of float64 or nil for a blank cell, for table;
// map[string]map[string][2]float64 (chart ID to label to x, y) for points,
// with IDs and labels spelled as in the key — or a *FormatError saying why
// it cannot be read. A blank answer (empty or white space) returns nil,
// nil: it is not a format error. Parsed values, here and in
// Result.Answer, may share memory with the compiled spec: treat them as
// read-only.
func Parse(spec *Spec, raw string) (any, error) {
	pr, err := NewParser(spec)
	if err != nil {
		return nil, err
	}
	return pr.Parse(raw)
}

// Parser reads the answers of one part, its spec compiled once: it suits
// checking many answers of one paper as they are saved. It is safe for
// concurrent use.
type Parser struct{ p part }

// NewParser compiles spec for parsing (not for scoring: the regular
// expressions of text and rubric parts are left out).
func NewParser(spec *Spec) (*Parser, error) {
	pr := &Parser{}
	if err := pr.p.compile(spec, true); err != nil {
		return nil, fmt.Errorf("part %q: %w", spec.Part, err)
	}
	return pr, nil
}

// Parse reads raw as Parse does.
func (pr *Parser) Parse(raw string) (any, error) {
	return pr.p.parseRaw(raw)
}

// parseRaw reads raw for a compiled part: nil for a blank answer, a
// *FormatError for one that cannot be read.
func (p *part) parseRaw(raw string) (any, error) {
	if trimSpace(raw) == "" {
		return nil, nil
	}
	v, msg := p.parse(raw)
	if msg != "" {
		return nil, &FormatError{Msg: msg}
	}
	return v, nil
}

// Grade grades one submission: answers are keyed by part ID, a missing key
// is a blank answer. It returns one Result per spec, in spec order.
func (q *Question) Grade(answers map[string]string) []Result {
	rs := make([]Result, len(q.parts))
	for i := range q.parts {
		p := &q.parts[i]
		r := &rs[i]
		r.Part, r.Max = p.id, p.marks
		raw := answers[p.id]
		if trimSpace(raw) == "" {
			r.Rule, r.Feedback = RuleBlank, fbBlank
			continue
		}
		v, msg := p.parse(raw)
		if msg != "" {
			r.Rule, r.FormatError, r.Feedback = RuleFormatError, msg, msg
			continue
		}
		r.Answer = v
	}
	var env map[string]any
	for i := range q.parts {
		p := &q.parts[i]
		r := &rs[i]
		if r.Rule != "" {
			continue
		}
		p.score(r)
		if p.follow != nil && r.Score < r.Max {
			if env == nil {
				env = q.env(rs)
			}
			p.carryForward(r, rs, env)
		}
		r.Score = round(r.Score)
	}
	if env != nil {
		env["ans"] = nil
		q.envs.Put(env)
	}
	return rs
}

// env returns an environment for follow expressions: the parameters and
// ans, the parsed answers that could be read (of the parts that follow
// expressions read).
func (q *Question) env(rs []Result) map[string]any {
	env := q.envs.Get().(map[string]any)
	ans := make(map[string]any, len(q.read))
	for _, i := range q.read {
		if rs[i].Answer != nil {
			ans[rs[i].Part] = rs[i].Answer
		}
	}
	env["ans"] = ans
	return env
}

// carryForward gives error-carried-forward credit when the answer matches
// the follow expression's value better than the key.
func (p *part) carryForward(r *Result, rs []Result, env map[string]any) {
	for _, j := range p.refs {
		if rs[j].Answer == nil {
			return // an earlier answer is blank or unreadable: nothing to carry
		}
	}
	out, err := p.runFollow(env)
	if err != nil || out == nil {
		return
	}
	frac, ok := p.fraction(r.Answer, out)
	if !ok {
		return
	}
	fm := p.followMarks
	if fm == 0 {
		fm = p.marks
	}
	if s := frac * fm; s > r.Score {
		r.Score, r.Rule, r.Feedback = s, RuleECF, fbECF
	}
}

// runFollow evaluates the follow expression; a failure of any kind,
// even a panic inside the expression library, only means no carried-
// forward credit.
func (p *part) runFollow(env map[string]any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("follow %q: %v", p.follow.Source(), r)
		}
	}()
	return p.follow.Run(env)
}

// fraction scores an answer against another key (a follow value): the
// fraction of the part's credit it earns; ok is false when the value
// cannot be a key of this part.
func (p *part) fraction(v, key any) (float64, bool) {
	switch p.typ {
	case Number, Integer:
		k, err := calc.Float(key)
		if err != nil || math.IsNaN(k) || math.IsInf(k, 0) {
			return 0, false
		}
		if p.tol.judge(v.(float64), k, p.typ == Integer) != noMatch {
			return 1, true
		}
		return 0, true
	case Choice:
		id, ok := key.(string)
		if !ok {
			return 0, false
		}
		if v.(string) == id {
			return 1, true
		}
		return 0, true
	case Sequence:
		ks, err := calc.Strings(key)
		if err != nil || len(ks) == 0 {
			return 0, false
		}
		return float64(matchTokens(v.([]any), ks, p.cs)) / float64(len(ks)), true
	case Table:
		m, err := calc.Matrix(key)
		if err != nil || len(m) != p.rows {
			return 0, false
		}
		for _, row := range m {
			if len(row) != p.cols {
				return 0, false
			}
		}
		return float64(p.rightCells(v.([]any), m)) / float64(p.rows*p.cols), true
	}
	return 0, false
}

// followType reports whether answers of type t may carry errors forward.
func followType(t Type) bool {
	switch t {
	case Number, Integer, Choice, Sequence, Table:
		return true
	}
	return false
}

// ansRef finds the parts a follow expression reads: ans.x and ans["x"].
var ansRef = regexp.MustCompile(`\bans\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:"([^"]*)"|'([^']*)'|` + "`([^`]*)`" + `)\s*\])`)

// ansWord finds every use of ans.
var ansWord = regexp.MustCompile(`\bans\b`)

// compileFollow compiles the follow expression of part p (spec s).
// dynamic reports that the expression uses ans other than as ans.x or
// ans["x"], so it may read any part.
func (p *part) compileFollow(s *Spec, specs []Spec, index map[string]int, params map[string]any) (dynamic bool, err error) {
	if !followType(s.Type) {
		return false, fmt.Errorf("a %s part cannot carry errors forward (only number, integer, choice, sequence and table)", s.Type)
	}
	if s.FollowMarks < 0 || s.FollowMarks > s.Marks || math.IsNaN(s.FollowMarks) {
		return false, fmt.Errorf("follow_marks %v must be between 0 and the part's marks %v", s.FollowMarks, s.Marks)
	}
	seen := map[int]bool{}
	refs := ansRef.FindAllStringSubmatch(s.Follow, -1)
	for _, m := range refs {
		name := m[1] + m[2] + m[3] + m[4]
		j, ok := index[name]
		if !ok {
			return false, fmt.Errorf("%q reads ans.%s, but the question has no part %q", s.Follow, name, name)
		}
		if specs[j].Part == s.Part {
			return false, fmt.Errorf("%q reads the part's own answer", s.Follow)
		}
		if !seen[j] {
			seen[j] = true
			p.refs = append(p.refs, j)
		}
	}
	dynamic = len(ansWord.FindAllStringIndex(s.Follow, -1)) > len(refs)
	env := make(calc.Env, len(params)+1)
	for k, v := range params {
		env[k] = v
	}
	ans := make(map[string]any, len(specs))
	for i := range specs {
		ans[specs[i].Part] = exampleAnswer(specs[i].Type)
	}
	env["ans"] = ans
	prog, err := compileFollowProgram(s.Follow, env)
	if err != nil {
		return false, err
	}
	p.follow = prog
	p.followMarks = s.FollowMarks
	return dynamic, nil
}

// exampleAnswer is a value of the canonical answer type of t, for type
// checking follow expressions.
func exampleAnswer(t Type) any {
	switch t {
	case Number, Integer:
		return 0.0
	case Choice, Text, Essay:
		return ""
	case Multi, Sequence, Table:
		return []any{}
	case Points:
		return map[string]map[string][2]float64{}
	}
	return nil
}

// compile converts and checks a spec. forParse skips what only scoring
// needs (regular expressions of text and rubric).
func (p *part) compile(s *Spec, forParse bool) error {
	p.id, p.typ, p.marks = s.Part, s.Type, s.Marks
	if s.Marks < 0 || math.IsNaN(s.Marks) || math.IsInf(s.Marks, 0) {
		return fmt.Errorf("marks %v must be a finite number ≥ 0", s.Marks)
	}
	if err := s.Tolerance.validate(); err != nil {
		return err
	}
	p.tol = newTol(s.Tolerance)
	p.cs = s.CaseSensitive
	var err error
	switch s.Type {
	case Number, Integer:
		if p.num, err = newNumOpts(s, true); err != nil {
			return err
		}
		if p.key, err = numberKey(s.Key, s.Type == Integer); err != nil {
			return err
		}
		p.keyAny = p.key
		if p.tol.SigFigs > 0 {
			p.sig = roundSig(p.key, p.tol.SigFigs)
		}
		if p.tol.Decimals > 0 {
			p.places = roundPlaces(p.key, p.tol.Decimals)
		}
	case Choice, Multi:
		err = p.compileOptions(s, forParse)
	case Text:
		err = p.compileText(s, forParse)
	case Essay:
		err = p.compileRubric(s, forParse)
	case Sequence:
		p.seq, err = calc.Strings(s.Key)
		if err == nil && len(p.seq) == 0 {
			err = errors.New("the key sequence is empty")
		}
		p.seqAny = make([]any, len(p.seq))
		for i, t := range p.seq {
			p.seqAny[i] = t
		}
		if err != nil {
			err = fmt.Errorf("key: %w", err)
		}
	case Table:
		if p.num, err = newNumOpts(s, false); err != nil {
			return err
		}
		err = p.compileTable(s)
	case Points:
		err = p.compilePoints(s)
	default:
		return fmt.Errorf("unknown answer type %q (want one of %s)", s.Type, typeList())
	}
	if err != nil {
		return err
	}
	switch s.Type {
	case Multi:
		p.item = "option"
		p.fbAll = countFeedback(len(p.opts), len(p.opts), p.item)
	case Sequence:
		p.item = "token"
		p.fbAll = countFeedback(len(p.seq), len(p.seq), p.item)
	case Table:
		p.item = "cell"
		p.fbAll = countFeedback(p.rows*p.cols, p.rows*p.cols, p.item)
	case Points:
		p.item = "point"
		p.fbAll = countFeedback(p.npts, p.npts, p.item)
	}
	return nil
}

func typeList() string {
	var b strings.Builder
	for i, t := range Types() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(t))
	}
	return b.String()
}

// numberKey converts a number or integer key.
func numberKey(k any, integer bool) (float64, error) {
	f, err := calc.Float(calc.Normalize(k))
	if err != nil {
		return 0, fmt.Errorf("key: %w", err)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("key %v is not a finite number", f)
	}
	if integer {
		r := math.Round(f)
		if math.Abs(f-r) > exactRel*math.Max(1, math.Abs(f)) {
			return 0, fmt.Errorf("key %v of an integer part is not a whole number", f)
		}
		f = r
	}
	return f, nil
}

// compileTable converts the key of a table part.
func (p *part) compileTable(s *Spec) error {
	m, err := calc.Matrix(s.Key)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	if len(m) == 0 || len(m[0]) == 0 {
		return errors.New("key: the table is empty")
	}
	for i, row := range m {
		if len(row) != len(m[0]) {
			return fmt.Errorf("key: row %d has %d cells, row 1 has %d", i+1, len(row), len(m[0]))
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("key: cell (%d, %d) is not a finite number", i+1, j+1)
			}
		}
	}
	p.table, p.rows, p.cols = m, len(m), len(m[0])
	return nil
}

// compilePoints converts the key of a points part.
func (p *part) compilePoints(s *Spec) error {
	var charts []Chart
	switch k := s.Key.(type) {
	case []Chart:
		charts = k
	default:
		b, err := json.Marshal(k)
		if err == nil {
			err = json.Unmarshal(b, &charts)
		}
		if err != nil {
			return fmt.Errorf("key: want a list of charts: %w", err)
		}
	}
	if len(charts) == 0 {
		return errors.New("key: no charts")
	}
	p.npts = 0
	for i, c := range charts {
		if strings.TrimSpace(c.ID) == "" {
			return fmt.Errorf("key: chart %d has no id", i+1)
		}
		for j := range i {
			if strings.EqualFold(charts[j].ID, c.ID) {
				return fmt.Errorf("key: duplicate chart id %q", c.ID)
			}
		}
		if len(c.Points) == 0 {
			return fmt.Errorf("key: chart %q has no points", c.ID)
		}
		for j, pt := range c.Points {
			if strings.TrimSpace(pt.Label) == "" {
				return fmt.Errorf("key: chart %q point %d has no label", c.ID, j+1)
			}
			for k := range j {
				if strings.EqualFold(c.Points[k].Label, pt.Label) {
					return fmt.Errorf("key: chart %q: duplicate label %q", c.ID, pt.Label)
				}
			}
			if math.IsNaN(pt.X) || math.IsInf(pt.X, 0) || math.IsNaN(pt.Y) || math.IsInf(pt.Y, 0) {
				return fmt.Errorf("key: chart %q point %q is not finite", c.ID, pt.Label)
			}
		}
		p.npts += len(c.Points)
	}
	p.charts = charts
	var err error
	p.num, err = newNumOpts(s, false)
	return err
}

// boxNumber returns f as an answer; the key, the most common answer, is
// boxed once at compile time rather than on every grading.
func (p *part) boxNumber(f float64) any {
	if f == p.key && p.keyAny != nil {
		return p.keyAny
	}
	return f
}

// parse reads a raw, non-blank answer into its canonical form, or returns
// a message for the student.
func (p *part) parse(raw string) (any, string) {
	switch p.typ {
	case Number:
		f, msg := parseNumber(raw, &p.num)
		if msg != "" {
			return nil, msg
		}
		return p.boxNumber(f), ""
	case Integer:
		f, msg := parseNumber(raw, &p.num)
		if msg != "" {
			return nil, msg
		}
		if f != math.Trunc(f) {
			return nil, msgWhole
		}
		return p.boxNumber(f), ""
	case Choice:
		return p.parseChoice(raw)
	case Multi:
		return p.parseMulti(raw)
	case Text, Essay:
		return trimSpace(raw), ""
	case Sequence:
		return parseSequence(raw, p.seq, p.seqAny)
	case Table:
		return p.parseTable(raw)
	case Points:
		return p.parsePoints(raw)
	}
	return nil, "This answer type cannot be read."
}

// score grades a parsed answer against the key.
func (p *part) score(r *Result) {
	switch p.typ {
	case Number, Integer:
		switch p.tol.judgeKey(r.Answer.(float64), p) {
		case exactMatch:
			r.Score, r.Rule, r.Feedback = p.marks, RuleExact, fbExact
		case tolMatch:
			r.Score, r.Rule, r.Feedback = p.marks, RuleTolerance, fbTolerance
		default:
			r.Rule, r.Feedback = RuleWrong, fbWrong
		}
	case Choice:
		if r.Answer == p.ids[p.keyIdx] || r.Answer.(string) == p.opts[p.keyIdx].ID {
			r.Score, r.Rule, r.Feedback = p.marks, RuleExact, fbExact
		} else {
			r.Rule, r.Feedback = RuleWrong, fbWrong
		}
	case Multi:
		p.scoreMulti(r)
	case Text:
		p.scoreText(r)
	case Essay:
		p.scoreEssay(r)
	case Sequence:
		n := matchTokens(r.Answer.([]any), p.seq, p.cs)
		r.Score = p.marks * float64(n) / float64(len(p.seq))
		r.Rule, r.Feedback = RulePerToken, p.countFeedback(n, len(p.seq))
	case Table:
		n := p.rightCells(r.Answer.([]any), p.table)
		r.Score = p.marks * float64(n) / float64(p.rows*p.cols)
		r.Rule, r.Feedback = RulePerCell, p.countFeedback(n, p.rows*p.cols)
	case Points:
		n := p.rightPoints(r.Answer.(map[string]map[string][2]float64))
		r.Score = p.marks * float64(n) / float64(p.npts)
		r.Rule, r.Feedback = RulePerPoint, p.countFeedback(n, p.npts)
	}
}
