package grader

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// A rubric pattern is usually an alternation of phrasings, many of them a
// word that starts with a literal ("\bmov(e|es|ed|ing)\b|\bshift\w*|…").
// Go's regexp runs such an alternation over every byte of the answer, at
// about 100 ns a byte for a long essay, because no one literal starts every
// match. Split into its branches, a branch that starts with a literal
// (after an optional \b) is tried only where its literal occurs, anchored
// there; the other branches run over the whole text as before. The answer
// matches the pattern exactly when it matches one of the branches.

// branch is one alternative of a split pattern.
type branch struct {
	lit      string         // the literal the branch starts with; "" for a branch run over the whole text
	boundary bool           // the branch starts with \b, checked where the literal occurs
	re       *regexp.Regexp // anchored at the literal's position when lit != ""
}

// splitBranches splits a pattern that has no case folding and no flags into
// branches. It returns nil when no branch starts with a literal, since
// splitting would then only add work.
func splitBranches(src string) []branch {
	tree, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil
	}
	var nodes []branchNode
	collectBranches(tree, false, &nodes)
	out := make([]branch, 0, len(nodes))
	anchored := 0
	for _, n := range nodes {
		if lit := leadingLiteral(n.re); lit != "" {
			re, err := regexp.Compile(`^(?:` + n.re.String() + `)`)
			if err != nil {
				return nil
			}
			out = append(out, branch{lit: lit, boundary: n.boundary, re: re})
			anchored++
			continue
		}
		expr := n.re.String()
		if n.boundary {
			expr = `\b(?:` + expr + `)`
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil
		}
		out = append(out, branch{re: re})
	}
	if anchored == 0 {
		return nil
	}
	return out
}

// branchNode is an alternative of a parsed pattern and whether a \b
// precedes it.
type branchNode struct {
	re       *syntax.Regexp
	boundary bool
}

// collectBranches lists the top-level alternatives of re, looking through
// capture groups (they do not change whether a text matches) and
// distributing a leading \b over an alternation it precedes.
func collectBranches(re *syntax.Regexp, boundary bool, out *[]branchNode) {
	switch {
	case re.Op == syntax.OpCapture:
		collectBranches(re.Sub[0], boundary, out)
		return
	case re.Op == syntax.OpAlternate:
		for _, sub := range re.Sub {
			collectBranches(sub, boundary, out)
		}
		return
	case re.Op == syntax.OpWordBoundary && !boundary:
		*out = append(*out, branchNode{re: &syntax.Regexp{Op: syntax.OpEmptyMatch}, boundary: true})
		return
	case re.Op == syntax.OpConcat && len(re.Sub) >= 2 && re.Sub[0].Op == syntax.OpWordBoundary && !boundary:
		collectBranches(concat(re, re.Sub[1:]), true, out)
		return
	case re.Op == syntax.OpConcat && len(re.Sub) >= 2:
		// (a|b)c is ac|bc: distributed while the branches stay few.
		first := re.Sub[0]
		for first.Op == syntax.OpCapture {
			first = first.Sub[0]
		}
		if first.Op == syntax.OpAlternate && len(*out)+len(first.Sub) <= maxBranches {
			for _, alt := range first.Sub {
				subs := append([]*syntax.Regexp{alt}, re.Sub[1:]...)
				collectBranches(concat(re, subs), boundary, out)
			}
			return
		}
	}
	*out = append(*out, branchNode{re: re, boundary: boundary})
}

// maxBranches bounds how far alternations are distributed.
const maxBranches = 32

// concat is the concatenation of subs, with re's flags.
func concat(re *syntax.Regexp, subs []*syntax.Regexp) *syntax.Regexp {
	if len(subs) == 1 {
		return subs[0]
	}
	return &syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: subs}
}

// leadingLiteral returns the literal every match of re starts with, or ""
// when re does not start with one (or starts with an empty-width assertion
// after it, which anchoring could change).
func leadingLiteral(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpCapture:
		return leadingLiteral(re.Sub[0])
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return ""
		}
		return string(re.Rune)
	case syntax.OpConcat:
		return leadingLiteral(re.Sub[0])
	}
	return ""
}

// matchBranches reports whether text matches one of the branches.
func matchBranches(branches []branch, text string) bool {
	for i := range branches {
		b := &branches[i]
		if b.lit == "" {
			if b.re.MatchString(text) {
				return true
			}
			continue
		}
		for off := 0; off < len(text); {
			j := strings.Index(text[off:], b.lit)
			if j < 0 {
				break
			}
			k := off + j
			if (!b.boundary || wordBoundary(text, k)) && b.re.MatchString(text[k:]) {
				return true
			}
			off = k + 1
		}
	}
	return false
}

// wordBoundary reports whether \b holds at byte k of text: an ASCII word
// character on one side and not on the other (the ends count as not).
func wordBoundary(text string, k int) bool {
	before := k > 0 && isWordByte(text[k-1])
	after := k < len(text) && isWordByte(text[k])
	return before != after
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || isASCIILetter(c)
}
