package bank

import (
	"fmt"
	"math"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// node is a parsed YAML (or JSON) value that remembers where it was
// written, so that every problem can name its line and column.
type node struct {
	kind  nodeKind
	line  int
	col   int
	keys  []*node // mapping keys, in order (scalars)
	vals  []*node // mapping values, parallel to keys; sequence items
	value any     // scalar: string, int, float64, bool or nil
}

type nodeKind int

const (
	scalarNode nodeKind = iota
	mappingNode
	sequenceNode
)

// get returns the value under key in a mapping, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != mappingNode {
		return nil
	}
	for i, k := range n.keys {
		if k.str() == key {
			return n.vals[i]
		}
	}
	return nil
}

// str returns a scalar as a string.
func (n *node) str() string {
	if n == nil || n.kind != scalarNode || n.value == nil {
		return ""
	}
	if s, ok := n.value.(string); ok {
		return s
	}
	return fmt.Sprint(n.value)
}

// plain converts the node to plain Go values: map[string]any, []any,
// string, int, float64, bool, nil.
func (n *node) plain() any {
	if n == nil {
		return nil
	}
	switch n.kind {
	case mappingNode:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			m[k.str()] = n.vals[i].plain()
		}
		return m
	case sequenceNode:
		l := make([]any, len(n.vals))
		for i, v := range n.vals {
			l[i] = v.plain()
		}
		return l
	}
	return n.value
}

// kindName names a node's kind for error messages.
func (n *node) kindName() string {
	if n == nil {
		return "nothing"
	}
	switch n.kind {
	case mappingNode:
		return "a mapping"
	case sequenceNode:
		return "a list"
	}
	switch n.value.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// parseNodes parses YAML or JSON source into a node tree.
func parseNodes(src []byte) (*node, error) {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, err
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, fmt.Errorf("the file is empty")
	}
	if len(f.Docs) > 1 {
		return nil, fmt.Errorf("the file holds %d documents; a template is one", len(f.Docs))
	}
	c := converter{anchors: map[string]*node{}}
	return c.convert(f.Docs[0].Body)
}

type converter struct {
	anchors map[string]*node
	depth   int
}

func (c *converter) convert(an ast.Node) (*node, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > 64 {
		return nil, fmt.Errorf("nesting deeper than 64 levels")
	}
	tok := an.GetToken()
	n := &node{}
	if tok != nil && tok.Position != nil {
		n.line, n.col = tok.Position.Line, tok.Position.Column
	}
	switch x := an.(type) {
	case *ast.MappingNode:
		n.kind = mappingNode
		for _, mv := range x.Values {
			if err := c.pair(n, mv); err != nil {
				return nil, err
			}
		}
	case *ast.MappingValueNode:
		n.kind = mappingNode
		if err := c.pair(n, x); err != nil {
			return nil, err
		}
		if k := n.keys[0]; k.line > 0 {
			n.line, n.col = k.line, k.col
		}
	case *ast.SequenceNode:
		n.kind = sequenceNode
		for _, v := range x.Values {
			item, err := c.convert(v)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, item)
		}
	case *ast.StringNode:
		n.value = x.Value
	case *ast.LiteralNode:
		n.value = x.Value.Value
	case *ast.IntegerNode:
		switch v := x.Value.(type) {
		case int64:
			n.value = int(v)
		case uint64:
			if v > math.MaxInt64 {
				return nil, fmt.Errorf("line %d: integer %d is too large", n.line, v)
			}
			n.value = int(v)
		default:
			n.value = v
		}
	case *ast.FloatNode:
		n.value = x.Value
	case *ast.BoolNode:
		n.value = x.Value
	case *ast.NullNode:
		n.value = nil
	case *ast.InfinityNode, *ast.NanNode:
		return nil, fmt.Errorf("line %d: infinity and NaN are not allowed", n.line)
	case *ast.AnchorNode:
		v, err := c.convert(x.Value)
		if err != nil {
			return nil, err
		}
		c.anchors[x.Name.String()] = v
		return v, nil
	case *ast.AliasNode:
		v, ok := c.anchors[x.Value.String()]
		if !ok {
			return nil, fmt.Errorf("line %d: unknown alias *%s", n.line, x.Value.String())
		}
		return v, nil
	case *ast.TagNode:
		return c.convert(x.Value)
	case *ast.CommentGroupNode:
		n.value = nil
	default:
		return nil, fmt.Errorf("line %d: unsupported YAML construct %s", n.line, strings.ToLower(an.Type().String()))
	}
	return n, nil
}

func (c *converter) pair(m *node, mv *ast.MappingValueNode) error {
	k, err := c.convert(mv.Key)
	if err != nil {
		return err
	}
	if k.kind != scalarNode {
		return fmt.Errorf("line %d: a mapping key must be a plain value", k.line)
	}
	for _, old := range m.keys {
		if old.str() == k.str() {
			return fmt.Errorf("line %d: key %q appears twice (first at line %d)", k.line, k.str(), old.line)
		}
	}
	var v *node
	if mv.Value == nil {
		v = &node{line: k.line, col: k.col}
	} else if v, err = c.convert(mv.Value); err != nil {
		return err
	}
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
	return nil
}
