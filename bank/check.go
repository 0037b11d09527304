package bank

import (
	"errors"
	"fmt"
	"math"

	"github.com/marksmith/marksmith/calc"
	"github.com/marksmith/marksmith/variants"
)

// check validates what only running the template shows: canonical values
// in their ranges, a canonical variant that builds and keeps its
// constraints, and a drawn variant that exists at all.
func (c *compiler) check(root *node) {
	canon := root.get("canonical")
	for name, msg := range c.t.gen.CheckCanonical() {
		at := canon
		if canon != nil && canon.get(name) != nil {
			at = canon.get(name)
		}
		c.ps().add(at, "canonical."+name, "%s", msg)
	}
	if len(c.ps().list) > 0 {
		return
	}
	if _, err := c.t.Canonical(); err != nil {
		c.buildProblem(root, canon, "canonical", err)
		return
	}
	if env, err := c.t.gen.CanonicalValues(); err == nil {
		for _, m := range c.t.measures {
			x, err := m.eval(env)
			switch {
			case err != nil:
				c.ps().add(m.node, m.field, "%s", firstLine(err.Error()))
			case m.upper && x > m.limit || !m.upper && x < m.limit:
				c.ps().add(m.node, m.field, "the canonical variant gives %s, beyond the threshold %s, though it keeps the constraint", variants.Format(x), variants.Format(m.limit))
			}
		}
	}
	if c.halted() {
		return
	}
	_, err := c.t.variant(c.ctx, variants.Seed(0, "validate", c.t.ID))
	if cerr := c.ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		c.stop = cerr
		return
	}
	if err != nil {
		c.buildProblem(root, root.get("constraints"), "constraints", err)
	}
}

func (c *compiler) buildProblem(root, at *node, field string, err error) {
	var pe *partError
	if errors.As(err, &pe) {
		n := c.nodes[pe.part]
		if n != nil && n.get("answer") != nil && n.get("answer").get(pe.field) != nil {
			n = n.get("answer").get(pe.field)
		} else if n != nil && n.get(pe.field) != nil {
			n = n.get(pe.field)
		} else if pe.part == "intro" {
			n = root.get("intro")
		}
		c.ps().add(n, "parts."+pe.part+"."+pe.field, "%s", firstLine(pe.err.Error()))
		return
	}
	if at == nil {
		at = root
	}
	c.ps().add(at, field, "%s", firstLine(err.Error()))
}

// eval computes the measure for the values env (with the template's
// constants).
func (m *measure) eval(env map[string]any) (float64, error) {
	v, err := m.value.Run(env)
	if err != nil {
		return 0, err
	}
	x, err := calc.Float(v)
	if err != nil {
		return 0, fmt.Errorf("measure %q gave %v, not a number", m.value.Source(), v)
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("measure %q gave %v, not a finite number", m.value.Source(), x)
	}
	return x, nil
}
