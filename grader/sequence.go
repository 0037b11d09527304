package grader

import (
	"encoding/json"
	"strconv"
	"strings"
)

const msgSequence = "Enter the items separated by spaces or commas, for example: 1111, 0001."

// tokenSepAt reports the width of a token separator at s[i]: white space,
// a comma or a semicolon.
func tokenSepAt(s string, i int) int {
	if s[i] == ',' || s[i] == ';' {
		return 1
	}
	return spaceAt(s, i)
}

// unquote strips matching quotes around a token.
func unquote(t string) string {
	if len(t) >= 2 {
		if c := t[0]; (c == '"' || c == '\'' || c == '`') && t[len(t)-1] == c {
			return t[1 : len(t)-1]
		}
	}
	return t
}

// parseSequence reads a token sequence: items separated by white space,
// commas or semicolons, optionally in brackets, or a JSON array. A token
// equal to the key's at its position shares the key's boxed token.
func parseSequence(raw string, key []string, keyAny []any) (any, string) {
	t := trimSpace(raw)
	if strings.HasPrefix(t, "[") {
		if toks, ok := jsonTokens(t); ok {
			if len(toks) == 0 {
				return nil, msgSequence
			}
			return toks, ""
		}
		if strings.HasSuffix(t, "]") {
			t = t[1 : len(t)-1]
		}
	}
	n := 0
	for i := 0; i < len(t); {
		for i < len(t) {
			w := tokenSepAt(t, i)
			if w == 0 {
				break
			}
			i += w
		}
		if i < len(t) {
			n++
		}
		for i < len(t) && tokenSepAt(t, i) == 0 {
			i++
		}
	}
	if n == 0 {
		return nil, msgSequence
	}
	toks := make([]any, 0, n)
	for i := 0; i < len(t); {
		for i < len(t) {
			w := tokenSepAt(t, i)
			if w == 0 {
				break
			}
			i += w
		}
		j := i
		for j < len(t) && tokenSepAt(t, j) == 0 {
			j++
		}
		if j > i {
			tok := unquote(t[i:j])
			if k := len(toks); k < len(key) && tok == key[k] {
				toks = append(toks, keyAny[k])
			} else {
				toks = append(toks, tok)
			}
		}
		i = j
	}
	return toks, ""
}

// jsonTokens reads a JSON array of strings and numbers.
func jsonTokens(t string) ([]any, bool) {
	d := json.NewDecoder(strings.NewReader(t))
	d.UseNumber()
	var arr []any
	if err := d.Decode(&arr); err != nil || d.More() {
		return nil, false
	}
	toks := make([]any, 0, len(arr))
	for _, e := range arr {
		switch x := e.(type) {
		case string:
			toks = append(toks, strings.TrimSpace(x))
		case json.Number:
			toks = append(toks, x.String())
		case bool:
			toks = append(toks, strconv.FormatBool(x))
		default:
			return nil, false
		}
	}
	return toks, true
}

// matchTokens counts the positions where the answer's token equals the
// key's.
func matchTokens(toks []any, key []string, cs bool) int {
	n := 0
	for i, k := range key {
		if i >= len(toks) {
			break
		}
		t, _ := toks[i].(string)
		if t == k || !cs && strings.EqualFold(t, k) {
			n++
		}
	}
	return n
}
