package grader

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith/calc"
)

// maxOptions bounds the options of a part: picks are kept as bit sets.
const maxOptions = 64

// maxSubsets bounds the options of a multi part whose every answer is
// built at compile time (2^6 answers, cheap to build per variant), so
// grading allocates none.
const maxSubsets = 6

// compileOptions checks the options and key of a choice or multi part;
// forParse skips building the answers shared between gradings.
func (p *part) compileOptions(s *Spec, forParse bool) error {
	if len(s.Options) == 0 {
		return errors.New("no options")
	}
	if len(s.Options) > maxOptions {
		return fmt.Errorf("%d options; at most %d are allowed", len(s.Options), maxOptions)
	}
	p.letters = true
	var labels strings.Builder
	var flagged uint64
	for i, o := range s.Options {
		if strings.TrimSpace(o.ID) == "" {
			return fmt.Errorf("option %d has no id", i+1)
		}
		if strings.TrimSpace(o.Label) == "" {
			return fmt.Errorf("option %q has no label", o.ID)
		}
		for j := range i {
			if s.Options[j].ID == o.ID {
				return fmt.Errorf("duplicate option id %q", o.ID)
			}
			if strings.EqualFold(strings.TrimSpace(s.Options[j].Label), strings.TrimSpace(o.Label)) {
				return fmt.Errorf("options %q and %q have the same label %q", s.Options[j].ID, o.ID, o.Label)
			}
		}
		l := strings.TrimSpace(o.Label)
		if len(l) != 1 || !isASCIILetter(l[0]) {
			p.letters = false
		}
		if i > 0 {
			labels.WriteString(", ")
		}
		labels.WriteString(l)
		if o.Correct {
			flagged |= 1 << i
		}
	}
	p.opts = make([]Option, len(s.Options))
	copy(p.opts, s.Options)
	p.ids = make([]any, len(p.opts))
	for i := range p.opts {
		p.opts[i].Label = strings.TrimSpace(p.opts[i].Label)
		p.ids[i] = p.opts[i].ID
	}
	p.labels = labels.String()

	// The key: option IDs; without one, the options marked correct.
	var mask uint64
	if s.Key == nil {
		mask = flagged
	} else {
		var ids []string
		if id, ok := s.Key.(string); ok && s.Type == Choice {
			ids = []string{id}
		} else {
			var err error
			if ids, err = calc.Strings(s.Key); err != nil {
				return fmt.Errorf("key: want option ids: %w", err)
			}
		}
		for _, id := range ids {
			i := p.optionByID(id)
			if i < 0 {
				return fmt.Errorf("key: no option has id %q", id)
			}
			mask |= 1 << i
		}
		if flagged != 0 && flagged != mask {
			return errors.New("key and the options marked correct disagree")
		}
	}
	if s.Type == Choice {
		if bits.OnesCount64(mask) != 1 {
			return fmt.Errorf("a choice part needs exactly one right option, has %d", bits.OnesCount64(mask))
		}
		p.keyIdx = bits.TrailingZeros64(mask)
		return nil
	}
	p.keyMask = mask
	if len(p.opts) <= maxSubsets && !forParse {
		p.subsets = make([]any, 1<<len(p.opts))
		for m := range p.subsets {
			p.subsets[m] = p.idsOf(uint64(m))
		}
	}
	p.scheme = s.Scheme
	if p.scheme == "" {
		p.scheme = AllOrNothing
	}
	switch p.scheme {
	case AllOrNothing, PerOption, RightMinusWrong:
	default:
		return fmt.Errorf("unknown scheme %q (want %s, %s or %s)", s.Scheme, AllOrNothing, PerOption, RightMinusWrong)
	}
	if s.Penalty < 0 || math.IsNaN(s.Penalty) || math.IsInf(s.Penalty, 0) {
		return fmt.Errorf("penalty %v must be a finite number ≥ 0", s.Penalty)
	}
	p.penalty = s.Penalty
	return nil
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func (p *part) optionByID(id string) int {
	for i := range p.opts {
		if p.opts[i].ID == id {
			return i
		}
	}
	return -1
}

// stripDecor removes what people write around an option label: "(b)",
// "[B]", "b)", "b.", quotes.
func stripDecor(t string) string {
	for len(t) > 1 {
		switch {
		case t[0] == '(' && t[len(t)-1] == ')', t[0] == '[' && t[len(t)-1] == ']',
			t[0] == '"' && t[len(t)-1] == '"', t[0] == '\'' && t[len(t)-1] == '\'':
			t = strings.TrimSpace(t[1 : len(t)-1])
		case t[len(t)-1] == ')' || t[len(t)-1] == '.' || t[len(t)-1] == ':':
			t = strings.TrimSpace(t[:len(t)-1])
		case t[0] == '(':
			t = strings.TrimSpace(t[1:])
		default:
			return t
		}
	}
	return t
}

// resolve finds the option a token names: its label, its ID, or its text,
// case-insensitively. It returns -1 when no option matches.
func (p *part) resolve(tok string) int {
	t := stripDecor(tok)
	if t == "" {
		return -1
	}
	for i := range p.opts {
		if strings.EqualFold(t, p.opts[i].Label) {
			return i
		}
	}
	for i := range p.opts {
		if t == p.opts[i].ID {
			return i
		}
	}
	found := -1
	for i := range p.opts {
		if strings.EqualFold(t, p.opts[i].ID) || strings.EqualFold(t, strings.TrimSpace(p.opts[i].Text)) {
			if found >= 0 && found != i {
				return -1 // ambiguous
			}
			found = i
		}
	}
	return found
}

// isOptionSep reports whether c separates options in a multi-select answer.
func isOptionSep(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ';', '/', '&', '+', '[', ']', '"', '\'', '|':
		return true
	}
	return false
}

// nextOption returns the next token of a list of options at raw[i:] and
// the index after it; tok is empty at the end.
func nextOption(raw string, i int) (tok string, next int) {
	for i < len(raw) && isOptionSep(raw[i]) {
		i++
	}
	j := i
	for j < len(raw) && !isOptionSep(raw[j]) {
		j++
	}
	return raw[i:j], j
}

// letterMask reads a run of single-letter labels ("AC"); ok is false when
// some letter is not a label.
func (p *part) letterMask(tok string) (uint64, bool) {
	var m uint64
	for k := 0; k < len(tok); k++ {
		i := p.resolve(tok[k : k+1])
		if i < 0 || !isASCIILetter(tok[k]) {
			return 0, false
		}
		m |= 1 << i
	}
	return m, true
}

// pickMask reads an answer naming options into a set; msg is non-empty
// when some token names no option.
func (p *part) pickMask(raw string) (mask uint64, n int, msg string) {
	t := trimSpace(raw)
	if i := p.resolve(t); i >= 0 {
		return 1 << i, 1, ""
	}
	for i := 0; ; {
		var tok string
		if tok, i = nextOption(t, i); tok == "" {
			return mask, n, ""
		}
		if k := p.resolve(tok); k >= 0 {
			mask |= 1 << k
			n++
			continue
		}
		if strings.EqualFold(tok, "and") {
			continue
		}
		if p.letters {
			if m, ok := p.letterMask(stripDecor(tok)); ok {
				mask |= m
				n += len(stripDecor(tok))
				continue
			}
		}
		return 0, 0, "Unknown option \"" + clip(tok) + "\"; the options are " + p.labels + "."
	}
}

// parseChoice reads a single-choice answer: the option ID.
func (p *part) parseChoice(raw string) (any, string) {
	t := trimSpace(raw)
	if i := p.resolve(t); i >= 0 {
		return p.ids[i], ""
	}
	mask, n, msg := p.pickMask(t)
	if msg != "" {
		return nil, msg
	}
	if n > 1 && bits.OnesCount64(mask) > 1 {
		return nil, "Choose only one option."
	}
	if n == 0 {
		return nil, "Choose one of the options " + p.labels + "."
	}
	return p.ids[bits.TrailingZeros64(mask)], ""
}

// isNone reports whether an answer explicitly picks no option.
func isNone(t string) bool {
	for _, w := range [...]string{"[]", "none", "-", "∅", "{}", "nothing", "none of them"} {
		if strings.EqualFold(t, w) {
			return true
		}
	}
	return false
}

// parseMulti reads a multi-select answer: the picked option IDs in display
// order.
func (p *part) parseMulti(raw string) (any, string) {
	t := trimSpace(raw)
	var mask uint64
	if !isNone(t) || p.resolve(t) >= 0 {
		var msg string
		if mask, _, msg = p.pickMask(t); msg != "" {
			return nil, msg
		}
	}
	if mask < uint64(len(p.subsets)) {
		return p.subsets[mask], ""
	}
	return p.idsOf(mask), ""
}

// idsOf lists the IDs of a set of options in display order.
func (p *part) idsOf(mask uint64) []any {
	ids := make([]any, 0, bits.OnesCount64(mask))
	for m := mask; m != 0; m &= m - 1 {
		ids = append(ids, p.ids[bits.TrailingZeros64(m)])
	}
	return ids
}

// maskOf converts picked option IDs back to a set.
func (p *part) maskOf(ids []any) uint64 {
	var m uint64
	for _, v := range ids {
		id, _ := v.(string)
		if i := p.optionByID(id); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

// scoreMulti grades a multi-select answer by its scheme.
func (p *part) scoreMulti(r *Result) {
	picked := p.maskOf(r.Answer.([]any))
	key := p.keyMask
	r.Rule = p.scheme
	switch p.scheme {
	case AllOrNothing:
		if picked == key {
			r.Score, r.Feedback = p.marks, fbExact
		} else {
			r.Feedback = "Incorrect: full marks need exactly the right options."
		}
	case PerOption:
		n := len(p.opts)
		wrong := bits.OnesCount64(picked ^ key)
		share := p.marks / float64(n)
		r.Score = math.Max(0, share*float64(n-wrong)-p.penalty*share*float64(wrong))
		r.Feedback = p.countFeedback(n-wrong, n)
	case RightMinusWrong:
		right := bits.OnesCount64(picked & key)
		wrong := bits.OnesCount64(picked &^ key)
		if nk := bits.OnesCount64(key); nk == 0 {
			if picked == 0 {
				r.Score = p.marks
			}
		} else {
			r.Score = math.Max(0, float64(right-wrong)/float64(nk)*p.marks)
		}
		r.Feedback = strconv.Itoa(right) + " right and " + strconv.Itoa(wrong) + " wrong options picked."
	}
}

// countFeedback says how many of the part's n items were right.
func (p *part) countFeedback(right, n int) string {
	if right == n {
		return p.fbAll
	}
	return countFeedback(right, n, p.item)
}

// countFeedback says how many of n items were right.
func countFeedback(right, n int, item string) string {
	if right == n && n > 1 {
		return "All " + strconv.Itoa(n) + " " + item + "s right."
	}
	if n == 1 {
		if right == 1 {
			return "The " + item + " is right."
		}
		return "The " + item + " is wrong."
	}
	return strconv.Itoa(right) + " of " + strconv.Itoa(n) + " " + item + "s right."
}
