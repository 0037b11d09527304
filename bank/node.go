package bank

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
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
	// size counts the values of the node, itself included, and depth its
	// nesting of mappings and lists (0 for a scalar), both as if every
	// alias under it were written out: an alias shares its anchor's node,
	// so plain would build that many values.
	size  int
	depth int
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

// parseNodes parses YAML or JSON source into a node tree, refusing with a
// *limitError what is over lim: nesting, keys, aliases and strings before
// the parser runs, expanded values while the tree is built.
func parseNodes(ctx context.Context, src []byte, lim Limits) (*node, error) {
	tokens := lexer.Tokenize(string(src))
	if err := prescan(ctx, tokens, lim); err != nil {
		return nil, err
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, err
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, fmt.Errorf("the file is empty")
	}
	if len(f.Docs) > 1 {
		return nil, fmt.Errorf("the file holds %d documents; a template is one", len(f.Docs))
	}
	c := converter{anchors: map[string]*node{}, lim: lim}
	return c.convert(f.Docs[0].Body)
}

// converter turns the parser's tree into nodes. Aliases share their
// anchor's node, so the tree it builds is no larger than the source; the
// sizes it keeps bound what the aliases expand to.
type converter struct {
	anchors map[string]*node
	lim     Limits
}

func (c *converter) convert(an ast.Node) (*node, error) {
	tok := an.GetToken()
	n := &node{size: 1}
	if tok != nil && tok.Position != nil {
		n.line, n.col = tok.Position.Line, tok.Position.Column
	}
	switch x := an.(type) {
	case *ast.MappingNode:
		n.kind = mappingNode
		seen := make(map[string]*node, len(x.Values))
		for _, mv := range x.Values {
			if err := c.pair(n, mv, seen); err != nil {
				return nil, err
			}
		}
	case *ast.MappingValueNode:
		n.kind = mappingNode
		if err := c.pair(n, x, nil); err != nil {
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
			if err := c.grow(n, item, v); err != nil {
				return nil, err
			}
		}
	case *ast.StringNode:
		n.value = x.Value
		if err := c.checkString(n, x.Value); err != nil {
			return nil, err
		}
	case *ast.LiteralNode:
		n.value = x.Value.Value
		if err := c.checkString(n, x.Value.Value); err != nil {
			return nil, err
		}
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
		if v.size > c.lim.MaxValues {
			return nil, c.tooMany(x)
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

// pair adds one key and its value to mapping m; seen indexes m's keys
// (nil for a mapping of one pair), so that a repeated key is found in
// constant time, not by a scan of the keys before it.
func (c *converter) pair(m *node, mv *ast.MappingValueNode, seen map[string]*node) error {
	k, err := c.convert(mv.Key)
	if err != nil {
		return err
	}
	if k.kind != scalarNode {
		return fmt.Errorf("line %d: a mapping key must be a plain value", k.line)
	}
	if seen != nil {
		ks := k.str()
		if old, dup := seen[ks]; dup {
			return fmt.Errorf("line %d: key %q appears twice (first at line %d)", k.line, ks, old.line)
		}
		seen[ks] = k
	}
	var v *node
	if mv.Value == nil {
		v = &node{line: k.line, col: k.col, size: 1}
	} else if v, err = c.convert(mv.Value); err != nil {
		return err
	}
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
	if err := c.grow(m, k, mv.Key); err != nil {
		return err
	}
	if mv.Value == nil {
		return c.grow(m, v, mv.Key)
	}
	return c.grow(m, v, mv.Value)
}

// grow adds child's size and depth to the collection n, refusing a
// collection whose values, with every alias written out, would be more or
// deeper than the limits allow; at is where child is written (an alias
// shares its anchor's node, which is written elsewhere). Sizes saturate
// just past the limit, so they never overflow however the aliases nest.
func (c *converter) grow(n, child *node, at ast.Node) error {
	n.size = min(n.size+child.size, c.lim.MaxValues+1)
	n.depth = max(n.depth, child.depth+1)
	if n.size > c.lim.MaxValues {
		return c.tooMany(at)
	}
	if n.depth > c.lim.MaxDepth {
		line, col := position(at)
		return &limitError{line: line, col: col, limit: LimitDepth,
			msg: fmt.Sprintf("nesting, with aliases written out, is deeper than %d levels", c.lim.MaxDepth)}
	}
	return nil
}

// tooMany is the refusal of the value written at that expands past
// MaxValues.
func (c *converter) tooMany(at ast.Node) error {
	line, col := position(at)
	return &limitError{line: line, col: col, limit: LimitValues,
		msg: fmt.Sprintf("the template holds more than %d values with its aliases written out", c.lim.MaxValues)}
}

// position returns the line and column where an AST node is written, or
// zeros.
func position(an ast.Node) (line, col int) {
	if an == nil {
		return 0, 0
	}
	if tok := an.GetToken(); tok != nil && tok.Position != nil {
		return tok.Position.Line, tok.Position.Column
	}
	return 0, 0
}

// checkString refuses a string longer than MaxString.
func (c *converter) checkString(n *node, s string) error {
	if len(s) <= c.lim.MaxString {
		return nil
	}
	return &limitError{line: n.line, col: n.col, limit: LimitString,
		msg: fmt.Sprintf("a string of %s is longer than the %s allowed", byteSize(len(s)), byteSize(c.lim.MaxString))}
}
