package bank

import (
	"fmt"
	"strings"
)

// reader reads typed fields out of nodes, recording a problem for every
// field of the wrong type or name.
type reader struct {
	ps *problems
}

// fields records unknown keys of a mapping; allowed lists the known ones.
func (r *reader) fields(n *node, field string, allowed ...string) bool {
	if n == nil {
		return false
	}
	if n.kind != mappingNode {
		r.ps.add(n, field, "must be a mapping, not %s", n.kindName())
		return false
	}
	for _, k := range n.keys {
		if !contains(allowed, k.str()) {
			r.ps.add(k, join(field, k.str()), "unknown field %q (known: %s)", k.str(), strings.Join(allowed, ", "))
		}
	}
	return true
}

func (r *reader) str(n *node, field string) string {
	if n == nil {
		return ""
	}
	if n.kind != scalarNode || n.value == nil {
		r.ps.add(n, field, "must be a string, not %s", n.kindName())
		return ""
	}
	switch v := n.value.(type) {
	case string:
		return v
	case bool:
		r.ps.add(n, field, "must be a string, not a boolean (quote it)")
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func (r *reader) num(n *node, field string) (float64, bool) {
	if n == nil {
		return 0, false
	}
	switch v := n.value.(type) {
	case int:
		if n.kind == scalarNode {
			return float64(v), true
		}
	case float64:
		if n.kind == scalarNode {
			return v, true
		}
	}
	r.ps.add(n, field, "must be a number, not %s", n.kindName())
	return 0, false
}

func (r *reader) integer(n *node, field string) (int, bool) {
	if n == nil {
		return 0, false
	}
	if v, ok := n.value.(int); ok && n.kind == scalarNode {
		return v, true
	}
	r.ps.add(n, field, "must be a whole number, not %s", n.kindName())
	return 0, false
}

func (r *reader) boolean(n *node, field string) bool {
	if n == nil {
		return false
	}
	if v, ok := n.value.(bool); ok && n.kind == scalarNode {
		return v
	}
	r.ps.add(n, field, "must be true or false, not %s", n.kindName())
	return false
}

func (r *reader) strs(n *node, field string) []string {
	if n == nil {
		return nil
	}
	if n.kind != sequenceNode {
		r.ps.add(n, field, "must be a list of strings, not %s", n.kindName())
		return nil
	}
	out := make([]string, 0, len(n.vals))
	for i, v := range n.vals {
		if s := r.str(v, fmt.Sprintf("%s[%d]", field, i)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (r *reader) list(n *node, field string) []*node {
	if n == nil {
		return nil
	}
	if n.kind != sequenceNode {
		r.ps.add(n, field, "must be a list, not %s", n.kindName())
		return nil
	}
	return n.vals
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
