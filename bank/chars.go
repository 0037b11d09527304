package bank

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxIDLength is the longest template id, in characters. Every route that
// takes a template id refuses a longer one (marksmith.MaxTemplateID, which
// must equal it), so the bank refuses to hold one.
const MaxIDLength = 200

// MaxPartIDLength is the longest part id, in characters: an answer is
// saved and reviewed by its part id, and those routes refuse a longer one
// (marksmith.MaxPartID, which must equal it).
const MaxPartIDLength = 64

// badText says what is wrong with s as text a template may hold, or ""
// if nothing: invalid UTF-8, a NUL (which PostgreSQL refuses and SQLite
// stores) or another control character, which no page, database or export
// should get (XML has no way to write most of them). Tab, line feed and
// carriage return are text.
func badText(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	for i, r := range s {
		switch {
		case r == 0:
			return fmt.Sprintf("contains a NUL character (at character %d)", utf8.RuneCountInString(s[:i])+1)
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r >= 0x7f && r <= 0x9f:
			return fmt.Sprintf("contains the control character U+%04X (at character %d)", r, utf8.RuneCountInString(s[:i])+1)
		}
	}
	return ""
}

// checkText records a problem for every string of the tree that badText
// refuses, keys included, with its line, column and path: "title",
// "tags[1]", "parts.a.prompt" (a part by its id, as the compiler names
// it), "params.n.choice[0]". A YAML or JSON escape ("\0", "\u0000") makes
// such a character in a source that holds none. Each node is visited once,
// however many aliases share it, so the walk is no longer than the source.
func checkText(ps *problems, root *node) {
	seen := map[*node]bool{}
	var walk func(n *node, field string)
	walk = func(n *node, field string) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		switch n.kind {
		case scalarNode:
			if s, ok := n.value.(string); ok {
				if msg := badText(s); msg != "" {
					ps.add(n, field, "%s", msg)
				}
			}
		case mappingNode:
			for i, k := range n.keys {
				key := k.str()
				if msg := badText(key); msg != "" && !seen[k] {
					seen[k] = true
					key = strconv.QuoteToASCII(key)
					ps.add(k, join(field, key), "the key %s", msg)
				}
				walk(n.vals[i], join(field, key))
			}
		case sequenceNode:
			for i, v := range n.vals {
				item := fmt.Sprintf("%s[%d]", field, i)
				if idn := v.get("id"); field == "parts" && idn != nil && idn.kind == scalarNode {
					if id, ok := idn.value.(string); ok && partIDPattern.MatchString(id) {
						item = "parts." + id
					}
				}
				walk(v, item)
			}
		}
	}
	walk(root, "")
}
