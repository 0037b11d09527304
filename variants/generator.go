// Package variants draws the values of a template's parameters from a seed:
// sampling, derived values, constraints with rejection, the canonical
// variant, rendering of prompts and distinct variants across a cohort. It is
// pure: the same definition and seed give the same values on every run.
package variants

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/marksmith/marksmith/calc"
)

// Program is a compiled expression.
type Program = calc.Program

// Kind is how a parameter gets its value.
type Kind int

// The parameter kinds.
const (
	Choice    Kind = iota + 1 // one of Values
	IntRange                  // an integer in [Lo, Hi] on a grid of Step
	RealRange                 // a real in [Lo, Hi] on a grid of Step
	Sample                    // K distinct items of Values (or of From), in drawn order
	Shuffle                   // a permutation of Values (or of From)
	Const                     // a fixed Value
	Derived                   // computed by Expr from earlier parameters
)

// String names the kind as templates write it.
func (k Kind) String() string {
	switch k {
	case Choice:
		return "choice"
	case IntRange:
		return "int"
	case RealRange:
		return "real"
	case Sample:
		return "sample"
	case Shuffle:
		return "shuffle"
	case Const:
		return "value"
	case Derived:
		return "expr"
	}
	return "unknown"
}

// Param is one parameter. Parameters are drawn in order, so Derived and From
// expressions may use any parameter before them.
type Param struct {
	Name   string
	Kind   Kind
	Values []any         // Choice, Sample, Shuffle (when From is nil)
	From   *calc.Program // Sample, Shuffle: the list to draw from
	K      int           // Sample: how many
	Lo, Hi float64       // IntRange, RealRange
	Step   float64       // IntRange, RealRange; 0 means 1 for IntRange
	Value  any           // Const
	Expr   *calc.Program // Derived

	// memo caches the lists From gives (set by Prepare).
	memo *listMemo
}

// Sampled reports whether the parameter is drawn at random (and so has a
// canonical value and takes part in distinctness).
func (p *Param) Sampled() bool {
	return p.Kind != Const && p.Kind != Derived
}

// Constraint must hold in every variant.
type Constraint struct {
	Expr   *calc.Program
	Reason string
}

// Generator draws variants of one template. It is immutable once built and
// safe for concurrent use.
type Generator struct {
	Params      []Param
	Constraints []Constraint
	// Canonical holds the sampled parameters' values of the printed paper.
	Canonical map[string]any
	// MaxTries bounds rejection sampling; 0 means DefaultMaxTries.
	MaxTries int

	// after[i] lists the constraints that can be checked once parameter i
	// is drawn (set by Prepare); nil means all are checked at the end.
	after [][]int
	// skip[i] is set for a derived parameter that a rejected draw need not
	// compute: no later sample or shuffle reads it.
	skip []bool
	// late[i] is set for a derived parameter that neither a constraint nor a
	// sample or shuffle list reads: it is computed once a draw is accepted.
	late []bool
}

// Prepare readies the generator for fast drawing: parameters and sample
// sources that depend on no drawn parameter are computed once, and each
// constraint is checked as soon as the last parameter it reads is drawn, so
// a hopeless draw is abandoned early. Call it once, before any draw.
func (g *Generator) Prepare() error {
	index := make(map[string]int, len(g.Params))
	fixed := map[string]bool{}
	env := map[string]any{}
	for i := range g.Params {
		p := &g.Params[i]
		index[p.Name] = i
		switch {
		case p.Kind == Const:
			fixed[p.Name] = true
			env[p.Name] = p.Value
		case p.Kind == Derived && readsOnly(p.Expr, index, fixed):
			v, err := p.Expr.Run(env)
			if err != nil {
				return fmt.Errorf("parameter %s: %w", p.Name, err)
			}
			p.Kind, p.Value = Const, v
			fixed[p.Name] = true
			env[p.Name] = v
		case (p.Kind == Sample || p.Kind == Shuffle) && p.From != nil && readsOnly(p.From, index, fixed):
			src, err := p.source(nil, env)
			if err != nil {
				return err
			}
			p.Values, p.From = src, nil
		case (p.Kind == Sample || p.Kind == Shuffle) && p.From != nil:
			p.memo = &listMemo{}
			for _, name := range p.From.Names() {
				if _, isParam := index[name]; isParam && !fixed[name] {
					p.memo.names = append(p.memo.names, name) // constants need no place in the key
				}
			}
		}
	}
	// A rejected draw still draws every later sampled parameter, so that the
	// random stream is consumed exactly as if all were drawn; only derived
	// values no later list depends on are skipped. Derived values that no
	// constraint needs either wait until a draw is accepted.
	forLists := map[string]bool{}
	forChecks := map[string]bool{}
	for _, c := range g.Constraints {
		for _, n := range c.Expr.Names() {
			forChecks[n] = true
		}
	}
	g.skip = make([]bool, len(g.Params))
	g.late = make([]bool, len(g.Params))
	for i := len(g.Params) - 1; i >= 0; i-- {
		p := &g.Params[i]
		if p.From != nil {
			for _, n := range p.From.Names() {
				forLists[n] = true
			}
		}
		if p.Kind != Derived {
			continue
		}
		g.skip[i] = !forLists[p.Name]
		g.late[i] = !forLists[p.Name] && !forChecks[p.Name]
		for _, n := range p.Expr.Names() {
			if forLists[p.Name] {
				forLists[n] = true
			}
			if forChecks[p.Name] {
				forChecks[n] = true
			}
		}
	}
	g.after = make([][]int, len(g.Params))
	for ci, c := range g.Constraints {
		last := -1
		for _, name := range c.Expr.Names() {
			if i, ok := index[name]; ok && i > last {
				last = i
			}
		}
		if last < 0 {
			last = len(g.Params) - 1
		}
		if last >= 0 {
			g.after[last] = append(g.after[last], ci)
		}
	}
	return nil
}

// readsOnly reports whether prog reads no parameter outside fixed.
func readsOnly(prog *Program, index map[string]int, fixed map[string]bool) bool {
	for _, name := range prog.Names() {
		if _, isParam := index[name]; isParam && !fixed[name] {
			return false
		}
	}
	return true
}

// DefaultMaxTries is the number of draws tried before a seed is declared to
// give no fair variant.
const DefaultMaxTries = 2000

// ConstraintError says that no draw satisfied the constraints.
type ConstraintError struct {
	Tries  int
	Counts []ConstraintCount // every constraint that failed, most often first
}

// ConstraintCount is how often one constraint failed.
type ConstraintCount struct {
	Expr   string
	Reason string
	Failed int
}

func (e *ConstraintError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no variant satisfied the constraints in %d tries", e.Tries)
	for i, c := range e.Counts {
		if i == 3 {
			break
		}
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%sconstraint %q failed %d times", sep, c.Expr, c.Failed)
		if c.Reason != "" {
			fmt.Fprintf(&b, " (%s)", c.Reason)
		}
	}
	return b.String()
}

// Draw returns the parameter values of the variant with this seed; seed 0 is
// the canonical variant. The map holds every parameter, sampled and derived.
func (g *Generator) Draw(seed uint64) (map[string]any, error) {
	env, _, err := g.DrawCountedContext(context.Background(), seed)
	return env, err
}

// DrawContext is Draw that gives up with ctx's error once ctx is done. It
// looks at ctx before each draw, so it overruns a deadline by one draw's
// work at most.
func (g *Generator) DrawContext(ctx context.Context, seed uint64) (map[string]any, error) {
	env, _, err := g.DrawCountedContext(ctx, seed)
	return env, err
}

// DrawCounted is Draw that also says how many draws it took: 1 when the
// first met every constraint. The accepted share of a template's draws,
// times SpaceSize, estimates how many variants its constraints leave.
func (g *Generator) DrawCounted(seed uint64) (map[string]any, int, error) {
	return g.DrawCountedContext(context.Background(), seed)
}

// DrawCountedContext is DrawCounted that gives up with ctx's error once
// ctx is done; it looks at ctx before each draw.
func (g *Generator) DrawCountedContext(ctx context.Context, seed uint64) (map[string]any, int, error) {
	if seed == 0 {
		env, err := g.CanonicalValues()
		return env, 1, err
	}
	r := newRNG(seed)
	r.run = &calc.Runner{}
	tries := g.MaxTries
	if tries <= 0 {
		tries = DefaultMaxTries
	}
	failed := make([]int, len(g.Constraints))
	env := make(map[string]any, len(g.Params))
	for try := 0; try < tries; try++ {
		if err := ctx.Err(); err != nil {
			return nil, try, err
		}
		ok, err := g.drawOnce(r, env)
		if err != nil {
			return nil, try + 1, err
		}
		if ok < 0 {
			return env, try + 1, nil
		}
		failed[ok]++
	}
	e := &ConstraintError{Tries: tries}
	for i, n := range failed {
		if n > 0 {
			e.Counts = append(e.Counts, ConstraintCount{Expr: g.Constraints[i].Expr.Source(), Reason: g.Constraints[i].Reason, Failed: n})
		}
	}
	sort.SliceStable(e.Counts, func(i, j int) bool { return e.Counts[i].Failed > e.Counts[j].Failed })
	return nil, tries, e
}

// drawOnce fills env with one draw and returns the index of the first
// constraint that failed, or -1 when all hold.
func (g *Generator) drawOnce(r *rng, env map[string]any) (int, error) {
	rejected := -1
	for i := range g.Params {
		p := &g.Params[i]
		if (rejected >= 0 && g.skip[i]) || (g.late != nil && g.late[i]) {
			continue
		}
		v, err := p.draw(r, env)
		if err != nil {
			return 0, err
		}
		env[p.Name] = v
		if g.after == nil || rejected >= 0 {
			continue
		}
		for _, ci := range g.after[i] {
			ok, err := g.holds(r, ci, env)
			if err != nil {
				return 0, err
			}
			if !ok {
				rejected = ci
				break
			}
		}
	}
	if g.after == nil {
		return g.check(env)
	}
	if rejected >= 0 {
		return rejected, nil
	}
	for i := range g.Params {
		if !g.late[i] {
			continue
		}
		p := &g.Params[i]
		v, err := p.draw(r, env)
		if err != nil {
			return 0, err
		}
		env[p.Name] = v
	}
	return -1, nil
}

// holds evaluates constraint ci.
func (g *Generator) holds(r *rng, ci int, env map[string]any) (bool, error) {
	c := g.Constraints[ci]
	v, err := c.Expr.RunWith(r.runner(), env)
	if err != nil {
		return false, fmt.Errorf("constraint %q: %w", c.Expr.Source(), err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("constraint %q gave %v, not true or false", c.Expr.Source(), v)
	}
	return b, nil
}

// check returns the index of the first failing constraint, or -1.
func (g *Generator) check(env map[string]any) (int, error) {
	for i := range g.Constraints {
		ok, err := g.holds(nil, i, env)
		if err != nil {
			return 0, err
		}
		if !ok {
			return i, nil
		}
	}
	return -1, nil
}

func (p *Param) draw(r *rng, env map[string]any) (any, error) {
	switch p.Kind {
	case Choice:
		return p.Values[r.intn(len(p.Values))], nil
	case IntRange:
		step := p.step()
		n := int(math.Floor((p.Hi-p.Lo)/step+1e-9)) + 1
		return int(p.Lo) + r.intn(n)*int(step), nil
	case RealRange:
		n := int(math.Floor((p.Hi-p.Lo)/p.Step+1e-9)) + 1
		return cleanFloat(p.Lo + float64(r.intn(n))*p.Step), nil
	case Sample, Shuffle:
		src, err := p.source(r.runner(), env)
		if err != nil {
			return nil, err
		}
		k := len(src)
		if p.Kind == Sample {
			if p.K > len(src) {
				return nil, fmt.Errorf("parameter %s: cannot sample %d items from %d", p.Name, p.K, len(src))
			}
			k = p.K
		}
		// A partial Fisher–Yates: the first k positions of a uniform
		// permutation, its indices on the stack for the usual short lists.
		var buf [32]int
		idx := buf[:0]
		if len(src) <= len(buf) {
			idx = buf[:len(src)]
		} else {
			idx = make([]int, len(src))
		}
		for i := range idx {
			idx[i] = i
		}
		out := make([]any, k)
		for i := 0; i < k; i++ {
			j := i + r.intn(len(src)-i)
			idx[i], idx[j] = idx[j], idx[i]
			out[i] = src[idx[i]]
		}
		return out, nil
	case Const:
		return p.Value, nil
	case Derived:
		v, err := p.Expr.RunWith(r.runner(), env)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("parameter %s: unknown kind %d", p.Name, p.Kind)
}

func (p *Param) step() float64 {
	if p.Step <= 0 {
		return 1
	}
	return p.Step
}

// source returns the list a Sample or Shuffle draws from.
func (p *Param) source(run *calc.Runner, env map[string]any) ([]any, error) {
	if p.From == nil {
		return p.Values, nil
	}
	key, ok := p.memo.key(env)
	if ok {
		if l, found := p.memo.lists.Load(key); found {
			return l.([]any), nil
		}
	}
	l, err := p.list(run, env)
	if err == nil && ok && p.memo.size.Add(1) <= maxMemo {
		p.memo.lists.Store(key, l)
	}
	return l, err
}

// list computes the list From gives.
func (p *Param) list(run *calc.Runner, env map[string]any) ([]any, error) {
	v, err := p.From.RunWith(run, env)
	if err != nil {
		return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
	}
	l, err := calc.List(v)
	if err != nil {
		return nil, fmt.Errorf("parameter %s: from: %w", p.Name, err)
	}
	return l, nil
}

// listMemo caches the lists a sample or shuffle draws from, keyed by the
// values of the parameters its expression reads when they are numbers,
// text or booleans: "without(1..5, mag_b)" is computed once for each value
// of mag_b rather than on every draw. A drawn list is never changed, so
// one cached list serves every draw.
type listMemo struct {
	names []string
	lists sync.Map // key -> []any
	size  atomic.Int64
}

// maxMemo bounds the lists one parameter caches.
const maxMemo = 256

// key returns the cache key of env's values of the names, and false when
// one is not a number, text or boolean (or there is no memo).
func (m *listMemo) key(env map[string]any) (string, bool) {
	if m == nil {
		return "", false
	}
	var buf [64]byte
	b := buf[:0]
	for _, name := range m.names {
		switch x := env[name].(type) {
		case int:
			b = strconv.AppendInt(append(b, 'i'), int64(x), 10)
		case float64:
			b = strconv.AppendFloat(append(b, 'f'), x, 'g', -1, 64)
		case bool:
			b = strconv.AppendBool(append(b, 'b'), x)
		case string:
			b = strconv.AppendQuote(append(b, 's'), x)
		default:
			return "", false
		}
		b = append(b, 0)
	}
	return string(b), true
}

// cleanFloat rounds away the binary noise of lo + i*step (0.30000000000000004).
func cleanFloat(f float64) float64 {
	r := math.Round(f*1e9) / 1e9
	if math.Abs(r-f) < 1e-12*math.Max(1, math.Abs(f)) {
		return r
	}
	return f
}

// CanonicalValues returns the printed paper's values, with derived
// parameters computed from them.
func (g *Generator) CanonicalValues() (map[string]any, error) {
	env := make(map[string]any, len(g.Params))
	for i := range g.Params {
		p := &g.Params[i]
		if p.Sampled() {
			v, ok := g.Canonical[p.Name]
			if !ok {
				return nil, fmt.Errorf("parameter %s has no canonical value", p.Name)
			}
			env[p.Name] = v
			continue
		}
		v, err := p.draw(nil, env)
		if err != nil {
			return nil, err
		}
		env[p.Name] = v
	}
	i, err := g.check(env)
	if err != nil {
		return nil, err
	}
	if i >= 0 {
		c := g.Constraints[i]
		return nil, fmt.Errorf("the canonical values break constraint %q (%s)", c.Expr.Source(), c.Reason)
	}
	return env, nil
}

// CheckCanonical reports every way a canonical value falls outside its
// parameter's range, as messages keyed by parameter name.
func (g *Generator) CheckCanonical() map[string]string {
	problems := map[string]string{}
	env := map[string]any{}
	for i := range g.Params {
		p := &g.Params[i]
		if !p.Sampled() {
			if v, err := p.draw(nil, env); err == nil {
				env[p.Name] = v
			}
			continue
		}
		v, ok := g.Canonical[p.Name]
		if !ok {
			problems[p.Name] = "no canonical value"
			continue
		}
		env[p.Name] = v
		if msg := p.admits(v, env); msg != "" {
			problems[p.Name] = msg
		}
	}
	return problems
}

// admits says why v could not have been drawn for p, or "" if it could.
func (p *Param) admits(v any, env map[string]any) string {
	switch p.Kind {
	case Choice:
		for _, c := range p.Values {
			if Equal(c, v) {
				return ""
			}
		}
		return fmt.Sprintf("canonical value %s is not one of the choices", Format(v))
	case IntRange, RealRange:
		f, err := calc.Float(v)
		if err != nil {
			return fmt.Sprintf("canonical value %s is not a number", Format(v))
		}
		if f < p.Lo-1e-9 || f > p.Hi+1e-9 {
			return fmt.Sprintf("canonical value %s is outside the range [%s, %s]", Format(v), Format(p.Lo), Format(p.Hi))
		}
		k := (f - p.Lo) / p.step()
		if math.Abs(k-math.Round(k)) > 1e-6 {
			return fmt.Sprintf("canonical value %s is not on the grid of step %s from %s", Format(v), Format(p.step()), Format(p.Lo))
		}
		if p.Kind == IntRange && f != math.Trunc(f) {
			return fmt.Sprintf("canonical value %s is not an integer", Format(v))
		}
	case Sample, Shuffle:
		src, err := p.source(nil, env)
		if err != nil {
			return err.Error()
		}
		l, err := calc.List(v)
		if err != nil {
			return "canonical value must be a list"
		}
		want := len(src)
		if p.Kind == Sample {
			want = p.K
		}
		if len(l) != want {
			return fmt.Sprintf("canonical value has %d items, want %d", len(l), want)
		}
		used := make([]bool, len(src))
	next:
		for _, item := range l {
			for j, s := range src {
				if !used[j] && Equal(s, item) {
					used[j] = true
					continue next
				}
			}
			return fmt.Sprintf("canonical item %s is not in the list drawn from (or appears twice)", Format(item))
		}
	}
	return ""
}

// SpaceSize returns an upper bound on the number of distinct variants (the
// product of every sampled parameter's choices, before constraints), and
// +Inf when it overflows a float64.
func (g *Generator) SpaceSize() float64 {
	n := 1.0
	env := map[string]any{}
	for i := range g.Params {
		p := &g.Params[i]
		switch p.Kind {
		case Choice:
			n *= float64(len(p.Values))
		case IntRange, RealRange:
			n *= math.Floor((p.Hi-p.Lo)/p.step()+1e-9) + 1
		case Sample, Shuffle:
			size := len(p.Values)
			if p.From != nil {
				if v, ok := g.Canonical[p.Name]; ok {
					if l, err := calc.List(v); err == nil && p.Kind == Shuffle {
						size = len(l)
					}
				}
				if src, err := p.source(nil, env); err == nil {
					size = len(src)
				}
			}
			k := size
			if p.Kind == Sample {
				k = p.K
			}
			for j := 0; j < k; j++ {
				n *= float64(size - j)
			}
		}
		if v, ok := g.Canonical[p.Name]; ok {
			env[p.Name] = v
		} else if !p.Sampled() {
			if v, err := p.draw(nil, env); err == nil {
				env[p.Name] = v
			}
		}
	}
	return n
}

// Fingerprint identifies a variant by its sampled values; two variants with
// the same fingerprint are the same exam question.
func (g *Generator) Fingerprint(env map[string]any) string {
	var b strings.Builder
	for i := range g.Params {
		p := &g.Params[i]
		if !p.Sampled() {
			continue
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(Format(env[p.Name]))
		b.WriteByte(';')
	}
	return b.String()
}

// ErrNoSeed is returned for a cohort with no students.
var errNoKeys = errors.New("no students to draw variants for")

// Cohort is the result of drawing one variant per student.
type Cohort struct {
	Seeds    []uint64 // per student, in the order given
	Distinct int      // how many distinct variants the cohort has
	// FirstDistinct is how many distinct variants the students' own
	// hashed seeds gave, before any repeat was drawn again: what as many
	// independent draws give, from which the space's size can be
	// estimated.
	FirstDistinct int
	// Exhausted is set when the space (or the search) ran out of distinct
	// variants before every student had one of their own.
	Exhausted bool
}

// SaturateAfter is how many students in a row must fail to find an unused
// variant, after trying every alternative seed, before a cohort draw takes
// the template's space to be used up and stops looking. SpaceSize counts
// variants before constraints, so a space can run out long before it.
const SaturateAfter = 16

// DrawCohort gives each student a variant seed, distinct from the others'
// wherever the parameter space allows, by a CohortDraw: a student whose
// hashed seed repeats an earlier variant gets the first of up to retries
// alternative seeds that does not. Once every variant is taken, or
// SaturateAfter students in a row found none free, the rest keep their
// hashed seeds. The result is deterministic in (examSeed, template,
// students).
func (g *Generator) DrawCohort(examSeed uint64, template string, students []string, retries int) (*Cohort, error) {
	return g.DrawCohortContext(context.Background(), examSeed, template, students, retries)
}

// DrawCohortContext is DrawCohort that gives up with ctx's error once ctx
// is done.
func (g *Generator) DrawCohortContext(ctx context.Context, examSeed uint64, template string, students []string, retries int) (*Cohort, error) {
	if len(students) == 0 {
		return nil, errNoKeys
	}
	cd := g.NewCohortDraw(examSeed, template, retries)
	c := &Cohort{Seeds: make([]uint64, len(students))}
	for i, s := range students {
		base := cd.Base(s)
		fp, err := g.sampleFingerprint(ctx, base)
		if err != nil {
			return nil, fmt.Errorf("student %s: %w", s, err)
		}
		seed, err := cd.Next(base, fp, func(k int) (string, error) { return g.sampleFingerprint(ctx, Reseed(base, k)) })
		if err != nil {
			return nil, fmt.Errorf("student %s: %w", s, err)
		}
		c.Seeds[i] = seed
	}
	c.Distinct, c.FirstDistinct, c.Exhausted = cd.Distinct(), cd.FirstDistinct(), cd.Exhausted()
	return c, nil
}

// sampleFingerprint draws seed's values and returns their fingerprint.
func (g *Generator) sampleFingerprint(ctx context.Context, seed uint64) (string, error) {
	env, err := g.DrawContext(ctx, seed)
	if err != nil {
		return "", err
	}
	return g.Fingerprint(env), nil
}

// CohortDraw is the one algorithm that chooses a cohort's variant seeds,
// one student after another, keeping what it needs to go on: publishing
// draws a roster in batches with it, and students added to a published
// exam continue the cohort of the papers already issued (see Taken).
//
// A student's seed is their hashed seed (Base), unless its variant
// repeats one already given: then the first of Retries alternative seeds
// (Reseed(base, 1), Reseed(base, 2), …) whose variant does not. Once the
// space is used up (every variant SpaceSize counts is taken, or
// SaturateAfter students in a row found none free), no alternatives are
// tried. The choices depend only on the order of the students, not on how
// they are batched.
type CohortDraw struct {
	examSeed  uint64
	template  string
	retries   int
	space     float64
	seen      map[string]struct{}
	firsts    map[string]struct{} // the students' own (hashed) seeds' variants
	sat       Saturation
	exhausted bool
}

// NewCohortDraw starts a cohort of the template in an exam.
func (g *Generator) NewCohortDraw(examSeed uint64, template string, retries int) *CohortDraw {
	return &CohortDraw{examSeed: examSeed, template: template, retries: retries, space: g.SpaceSize(),
		seen: map[string]struct{}{}, firsts: map[string]struct{}{}}
}

// Base returns a student's hashed seed.
func (c *CohortDraw) Base(student string) uint64 { return Seed(c.examSeed, student, c.template) }

// Taken records a variant already given, by its fingerprint.
func (c *CohortDraw) Taken(fp string) { c.seen[fp] = struct{}{} }

// Seen reports whether a variant was already given.
func (c *CohortDraw) Seen(fp string) bool {
	_, ok := c.seen[fp]
	return ok
}

// Searching reports whether a repeat would still look for alternatives.
func (c *CohortDraw) Searching() bool {
	return !c.sat.Full() && float64(len(c.seen)) < c.space
}

// Retries is how many alternative seeds a repeat may try.
func (c *CohortDraw) Retries() int { return c.retries }

// Distinct is how many distinct variants the cohort has.
func (c *CohortDraw) Distinct() int { return len(c.seen) }

// FirstDistinct is how many distinct variants the students' own hashed
// seeds gave, before repeats were redrawn: from its repeats the size of
// the space can be estimated.
func (c *CohortDraw) FirstDistinct() int { return len(c.firsts) }

// Exhausted reports whether some student had to repeat a variant because
// the space (or the search) ran out.
func (c *CohortDraw) Exhausted() bool { return c.exhausted }

// Next chooses the seed of the next student, whose hashed seed base has
// the variant fingerprint fp; alt(k) returns the fingerprint of the k-th
// alternative seed, Reseed(base, k), and is called only as needed.
func (c *CohortDraw) Next(base uint64, fp string, alt func(k int) (string, error)) (uint64, error) {
	c.firsts[fp] = struct{}{}
	chosen := base
	tries := c.retries
	if !c.Searching() {
		tries, c.exhausted = 0, true
	}
	if c.Seen(fp) {
		if tries == 0 {
			c.exhausted = true
		}
		for k := 1; k <= tries; k++ {
			f, err := alt(k)
			if err != nil {
				return 0, err
			}
			if !c.Seen(f) {
				chosen, fp = Reseed(base, k), f
				break
			}
			if k == tries {
				c.exhausted = true
			}
		}
	}
	c.sat.Record(c.Seen(fp))
	c.seen[fp] = struct{}{}
	return chosen, nil
}

// Saturation follows a cohort draw: how many students in a row ended with
// a variant someone already had. Its zero value is ready to use.
type Saturation struct {
	misses int
	full   bool
}

// Record notes one student's outcome: repeat is whether the variant chosen
// was already taken.
func (s *Saturation) Record(repeat bool) {
	if !repeat {
		s.misses = 0
		return
	}
	s.misses++
	if s.misses >= SaturateAfter {
		s.full = true
	}
}

// Full reports whether the space is taken to be used up.
func (s *Saturation) Full() bool { return s.full }

// Check reports the first constraint that env breaks, or nil. env holds a
// variant's drawn and derived values; the template's constants, which a
// stored variant leaves out, are added here.
func (g *Generator) Check(env map[string]any) error {
	env = g.WithConstants(env)
	i, err := g.check(env)
	if err != nil {
		return err
	}
	if i >= 0 {
		c := g.Constraints[i]
		if c.Reason != "" {
			return fmt.Errorf("constraint %q does not hold (%s)", c.Expr.Source(), c.Reason)
		}
		return fmt.Errorf("constraint %q does not hold", c.Expr.Source())
	}
	return nil
}

// WithConstants returns env with the template's constants added, which a
// stored variant leaves out: a copy when one was missing, env itself when
// none was.
func (g *Generator) WithConstants(env map[string]any) map[string]any {
	var full map[string]any // env with the constants, made when one is missing
	for i := range g.Params {
		p := &g.Params[i]
		if _, ok := env[p.Name]; ok || p.Kind != Const {
			continue
		}
		if full == nil {
			full = make(map[string]any, len(g.Params))
			for k, v := range env {
				full[k] = v
			}
		}
		full[p.Name] = p.Value
	}
	if full != nil {
		return full
	}
	return env
}

// Derive completes env, which holds every sampled parameter, with the
// constant and derived ones, in order.
func (g *Generator) Derive(env map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(g.Params))
	for i := range g.Params {
		p := &g.Params[i]
		if p.Sampled() {
			v, ok := env[p.Name]
			if !ok {
				return nil, fmt.Errorf("no value for parameter %s", p.Name)
			}
			out[p.Name] = v
			continue
		}
		v, err := p.draw(nil, out)
		if err != nil {
			return nil, err
		}
		out[p.Name] = v
	}
	return out, nil
}
