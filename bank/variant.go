package bank

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/marksmith/marksmith/calc"
	"github.com/marksmith/marksmith/grader"
	"github.com/marksmith/marksmith/variants"
)

// Variant is one drawn instance of a template: its parameter values, its
// rendered prompts and, in each part's answer spec, its key. It is
// JSON-serialisable; a published exam stores it so that an issued paper
// never changes.
type Variant struct {
	Template  string         `json:"template"`
	Version   int            `json:"version"`
	Seed      uint64         `json:"variant"`
	Canonical bool           `json:"canonical,omitempty"`
	Title     string         `json:"title"`
	Marks     float64        `json:"marks"`
	Params    map[string]any `json:"params,omitempty"` // drawn and derived values; constants are the template's
	Stem      string         `json:"stem,omitempty"`
	Parts     []PartVariant  `json:"parts"`
}

// PartVariant is one part of a variant.
type PartVariant struct {
	ID    string  `json:"id"`
	Marks float64 `json:"marks"`
	Lead  string  `json:"lead,omitempty"` // shown above the part, e.g. an instruction for it and the parts after it
	// Prompt is the question, ending with its instruction.
	Prompt string `json:"prompt"`
	// Instruction is the prompt's last line: how to write the answer in
	// Marksmith. An export to another system, whose forms differ, can
	// strip it from the prompt and say its own.
	Instruction string         `json:"instruction,omitempty"`
	Rows        []string       `json:"rows,omitempty"`    // table answers: row labels
	Columns     []string       `json:"columns,omitempty"` // table answers: column labels
	Charts      []grader.Chart `json:"charts,omitempty"`  // points answers: the charts to plot on, without points
	Answer      grader.Spec    `json:"answer"`
}

// partError is a failure to build one part of a variant.
type partError struct {
	part  string
	field string
	err   error
}

func (e *partError) Error() string {
	return fmt.Sprintf("part %s: %s: %v", e.part, e.field, e.err)
}

func (e *partError) Unwrap() error { return e.err }

// Canonical returns the variant that reproduces the printed paper.
func (t *Template) Canonical() (*Variant, error) { return t.Variant(0) }

// Variant returns the variant drawn from seed; seed 0 is the canonical one.
func (t *Template) Variant(seed uint64) (*Variant, error) {
	return t.variant(context.Background(), seed)
}

// variant is Variant that stops drawing once ctx is done.
func (t *Template) variant(ctx context.Context, seed uint64) (*Variant, error) {
	env, err := t.gen.DrawContext(ctx, seed)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", t.ID, err)
	}
	return t.build(seed, env)
}

// build renders the variant of env, the values of every parameter. It
// takes env over: once the texts are rendered, the constants are removed
// and the rest become the variant's Params.
func (t *Template) build(seed uint64, env map[string]any) (*Variant, error) {
	run := &calc.Runner{} // one expression machine for the whole variant
	v := &Variant{
		Template:  t.ID,
		Version:   t.Version,
		Seed:      seed,
		Canonical: seed == 0,
		Title:     t.Title,
		Marks:     t.Marks,
		Parts:     make([]PartVariant, len(t.parts)),
	}
	if t.intro != nil {
		s, err := t.intro.RenderWith(run, env)
		if err != nil {
			return nil, &partError{part: "intro", field: "intro", err: err}
		}
		v.Stem = s
	}
	for i, p := range t.parts {
		pv, err := p.build(seed, env, run)
		if err != nil {
			return nil, err
		}
		v.Parts[i] = pv
	}
	for _, p := range t.gen.Params {
		if p.Kind == variants.Const {
			delete(env, p.Name)
		}
	}
	v.Params = env
	return v, nil
}

func (p *part) build(seed uint64, env map[string]any, run *calc.Runner) (PartVariant, error) {
	fail := func(field string, err error) (PartVariant, error) {
		return PartVariant{}, &partError{part: p.id, field: field, err: err}
	}
	pv := PartVariant{ID: p.id, Marks: p.marks}
	prompt, err := p.prompt.RenderWith(run, env)
	if err != nil {
		return fail("prompt", err)
	}
	if pv.Rows, err = renderAll(p.rows, env, run); err != nil {
		return fail("rows", err)
	}
	if pv.Columns, err = renderAll(p.cols, env, run); err != nil {
		return fail("columns", err)
	}
	if p.lead != nil {
		if pv.Lead, err = p.lead.RenderWith(run, env); err != nil {
			return fail("lead", err)
		}
	}
	spec := grader.Spec{
		Part: p.id, Type: p.typ, Marks: p.marks, Tolerance: p.tolerance, Unit: p.unit,
		Suffixes: p.suffixes, Scheme: p.scheme, Penalty: p.penalty, Accept: p.accept,
		Patterns: p.patterns, CaseSensitive: p.caseSens, Rubric: p.rubric,
		Follow: p.follow, FollowMarks: p.followMk,
	}
	if p.reference != nil {
		if spec.Reference, err = p.reference.RenderWith(run, env); err != nil {
			return fail("reference", err)
		}
	}
	if spec.Options, err = p.buildOptions(seed, env, run); err != nil {
		return fail("options", err)
	}
	raw := p.key
	if p.value != nil {
		if raw, err = p.value.RunWith(run, env); err != nil {
			return fail("value", err)
		}
	}
	if p.typ == grader.Points {
		charts, err := p.buildCharts(env, run)
		if err != nil {
			return fail("charts", err)
		}
		spec.Key = charts
		pv.Charts = make([]grader.Chart, len(charts))
		for i, ch := range charts {
			ch.Points = nil
			pv.Charts[i] = ch
		}
	} else if spec.Key, err = convertKey(p.typ, raw, spec.Options); err != nil {
		return fail("value", err)
	}
	if p.typ == grader.Choice || p.typ == grader.Multi {
		correct := map[string]bool{}
		switch k := spec.Key.(type) {
		case string:
			correct[k] = true
		case []string:
			for _, id := range k {
				correct[id] = true
			}
		}
		for i := range spec.Options {
			spec.Options[i].Correct = correct[spec.Options[i].ID]
		}
	}
	if p.typ == grader.Table && spec.Key != nil {
		tbl := spec.Key.([][]float64)
		if len(pv.Rows) > 0 && len(pv.Rows) != len(tbl) {
			return fail("rows", fmt.Errorf("%d row labels for a key of %d rows", len(pv.Rows), len(tbl)))
		}
		if len(pv.Columns) > 0 && len(tbl) > 0 && len(pv.Columns) != len(tbl[0]) {
			return fail("columns", fmt.Errorf("%d column labels for a key of %d columns", len(pv.Columns), len(tbl[0])))
		}
	}
	pv.Answer = spec
	if p.instr != nil {
		if pv.Instruction, err = p.instr.RenderWith(run, env); err != nil {
			return fail("instruction", err)
		}
	} else {
		pv.Instruction = DefaultInstruction(&spec)
	}
	pv.Prompt = prompt
	if pv.Instruction != "" {
		pv.Prompt = prompt + "\n\n" + pv.Instruction
	}
	return pv, nil
}

// labels names options in display order.
const labels = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

func (p *part) buildOptions(seed uint64, env map[string]any, run *calc.Runner) ([]grader.Option, error) {
	opts := p.options
	if p.optExpr != nil {
		v, err := p.optExpr.RunWith(run, env)
		if err != nil {
			return nil, err
		}
		l, err := calc.List(v)
		if err != nil {
			return nil, err
		}
		opts = make([]grader.Option, len(l))
		for i, item := range l {
			switch x := item.(type) {
			case string:
				opts[i] = grader.Option{ID: x, Text: x}
			case map[string]any:
				id, _ := x["id"].(string)
				text, _ := x["text"].(string)
				if id == "" {
					return nil, fmt.Errorf("option %d has no id", i+1)
				}
				opts[i] = grader.Option{ID: id, Text: text}
			default:
				return nil, fmt.Errorf("option %d is %v, not a string or {id, text}", i+1, item)
			}
		}
	}
	if len(opts) == 0 {
		return nil, nil
	}
	if len(opts) > len(labels) {
		return nil, fmt.Errorf("%d options, at most %d", len(opts), len(labels))
	}
	out := make([]grader.Option, len(opts))
	copy(out, opts)
	if p.shuffle && seed != 0 {
		perm := variants.Permutation(seed, p.id, len(out))
		for i, j := range perm {
			out[i] = opts[j]
		}
	}
	seen := map[string]bool{}
	for i := range out {
		if seen[out[i].ID] {
			return nil, fmt.Errorf("option id %q appears twice", out[i].ID)
		}
		seen[out[i].ID] = true
		out[i].Label = labels[i : i+1]
	}
	return out, nil
}

func (p *part) buildCharts(env map[string]any, run *calc.Runner) ([]grader.Chart, error) {
	out := make([]grader.Chart, len(p.charts))
	for i, ch := range p.charts {
		v, err := ch.value.RunWith(run, env)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", ch.id, err)
		}
		rows, err := calc.List(v)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", ch.id, err)
		}
		c := grader.Chart{ID: ch.id, Title: ch.title, XLabel: ch.xLabel, YLabel: ch.yLabel, Points: make([]grader.Point, len(rows))}
		for j, row := range rows {
			l, err := calc.List(row)
			if err != nil || len(l) != 3 {
				return nil, fmt.Errorf("chart %s: point %d must be [label, x, y]", ch.id, j+1)
			}
			label, ok := l[0].(string)
			x, errX := calc.Float(l[1])
			y, errY := calc.Float(l[2])
			if !ok || errX != nil || errY != nil {
				return nil, fmt.Errorf("chart %s: point %d must be [label, x, y]", ch.id, j+1)
			}
			c.Points[j] = grader.Point{Label: label, X: x, Y: y}
		}
		out[i] = c
	}
	return out, nil
}

// convertKey turns an evaluated key into the form grader.Spec documents for
// the answer type.
func convertKey(typ grader.Type, raw any, opts []grader.Option) (any, error) {
	switch typ {
	case grader.Number:
		f, err := calc.Float(raw)
		if err != nil {
			return nil, err
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("the key is %v, not a finite number", f)
		}
		return f, nil
	case grader.Integer:
		return calc.Int(raw)
	case grader.Choice:
		id, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("the key %v is not an option id", raw)
		}
		if !hasOption(opts, id) {
			return nil, fmt.Errorf("the key %q is not one of the options (%s)", id, optionIDs(opts))
		}
		return id, nil
	case grader.Multi:
		ids, err := calc.Strings(raw)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !hasOption(opts, id) {
				return nil, fmt.Errorf("the key %q is not one of the options (%s)", id, optionIDs(opts))
			}
		}
		return ids, nil
	case grader.Text, grader.Essay:
		if raw == nil {
			return nil, nil
		}
		s, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("the key %v is not text", raw)
		}
		return s, nil
	case grader.Sequence:
		return calc.Strings(raw)
	case grader.Table:
		m, err := calc.Matrix(raw)
		if err != nil {
			return nil, err
		}
		for i, row := range m {
			if len(row) != len(m[0]) {
				return nil, fmt.Errorf("row %d has %d cells, row 1 has %d", i+1, len(row), len(m[0]))
			}
			for _, f := range row {
				if math.IsNaN(f) || math.IsInf(f, 0) {
					return nil, errors.New("the key has a cell that is not a finite number")
				}
			}
		}
		return m, nil
	}
	return raw, nil
}

func hasOption(opts []grader.Option, id string) bool {
	for _, o := range opts {
		if o.ID == id {
			return true
		}
	}
	return false
}

func optionIDs(opts []grader.Option) string {
	ids := make([]string, len(opts))
	for i, o := range opts {
		ids[i] = o.ID
	}
	return strings.Join(ids, ", ")
}

// Public returns a copy of the variant that is safe to show a student
// before results are released: no key, no correct flags, no rubric,
// accepted phrasings, reference answer or follow rule, and no parameter
// values (some of them are answers).
func (v *Variant) Public() *Variant {
	out := *v
	out.Params = nil
	out.Parts = make([]PartVariant, len(v.Parts))
	for i, p := range v.Parts {
		s := p.Answer
		pub := grader.Spec{Part: s.Part, Type: s.Type, Marks: s.Marks, Unit: s.Unit, Suffixes: s.Suffixes, Scheme: s.Scheme}
		if len(s.Options) > 0 {
			pub.Options = make([]grader.Option, len(s.Options))
			for j, o := range s.Options {
				pub.Options[j] = grader.Option{ID: o.ID, Label: o.Label, Text: o.Text}
			}
		}
		p.Answer = pub
		out.Parts[i] = p
	}
	return &out
}

// Specs returns the answer specs of the variant's parts, in order.
func (v *Variant) Specs() []grader.Spec {
	specs := make([]grader.Spec, len(v.Parts))
	for i, p := range v.Parts {
		specs[i] = p.Answer
	}
	return specs
}

// Grader compiles the variant's answer specs for grading many submissions.
func (v *Variant) Grader() (*grader.Question, error) {
	return grader.Compile(v.Specs(), v.Params)
}

// Grade grades one submission of this variant; answers are keyed by part ID.
func (v *Variant) Grade(answers map[string]string) ([]grader.Result, error) {
	q, err := v.Grader()
	if err != nil {
		return nil, err
	}
	return q.Grade(answers), nil
}

func renderAll(ts []*variants.Text, env map[string]any, run *calc.Runner) ([]string, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		s, err := t.RenderWith(run, env)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// Rebuild returns the variant that this template (typically a corrected
// version) gives for the same drawn values as old: the sampled parameters
// are kept, derived values, prompts and keys are recomputed. A regrade uses
// it so that a student's numbers never change.
func (t *Template) Rebuild(old *Variant) (*Variant, error) {
	env := make(map[string]any, len(t.gen.Params))
	for _, p := range t.gen.Params {
		if !p.Sampled() {
			continue
		}
		v, ok := old.Params[p.Name]
		if !ok {
			return nil, fmt.Errorf("template %s v%d: the stored variant has no value for parameter %s", t.ID, t.Version, p.Name)
		}
		env[p.Name] = calc.Normalize(v)
	}
	full, err := t.gen.Derive(env)
	if err != nil {
		return nil, fmt.Errorf("template %s v%d: %w", t.ID, t.Version, err)
	}
	return t.build(old.Seed, full)
}
