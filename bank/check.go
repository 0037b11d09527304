package bank

import (
	"errors"

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
	if _, err := c.t.Variant(variants.Seed(0, "validate", c.t.ID)); err != nil {
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
