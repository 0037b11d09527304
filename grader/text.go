package grader

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// normText normalises text for phrase matching: letters and digits are
// kept (lower-cased unless cs), every run of anything else becomes one
// space, and the result is padded with a space at each end, so that
// " vanishing gradient " is contained in the normalised answer exactly
// when the answer contains the phrase as whole words.
func normText(s string, cs bool) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			case 'A' <= c && c <= 'Z':
				if !cs {
					c += 'a' - 'A'
				}
			default:
				if !space {
					b.WriteByte(' ')
					space = true
				}
				continue
			}
			b.WriteByte(c)
			space = false
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			if !cs {
				r = unicode.ToLower(r)
			}
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// newPhrase normalises an accepted phrase. A phrase ending in * matches
// any word starting with it ("gradient*" matches "gradients").
func newPhrase(s string, cs bool) (phrase, error) {
	t := strings.TrimSpace(s)
	prefix := strings.HasSuffix(t, "*")
	n := normText(strings.TrimSuffix(t, "*"), cs)
	if strings.TrimSpace(n) == "" {
		return "", fmt.Errorf("phrase %q has no letters or digits", s)
	}
	if prefix {
		n = n[:len(n)-1]
	}
	return phrase(n), nil
}

// in reports whether the phrase occurs in normalised text.
func (ph phrase) in(norm string) bool { return strings.Contains(norm, string(ph)) }

// maxCriteria bounds a rubric: phrase matches are kept as bit sets, bit 0
// for the accepted phrasings of a text part and bit i+1 for criterion i.
const maxCriteria = 63

// phraseIndex finds which groups of phrases occur in a normalised text in
// one pass over its words, rather than searching the text for every
// phrase: phrases are indexed by their first word.
type phraseIndex struct {
	byFirst map[string][]phraseRef
	prefix  []phraseRef // one-word prefix phrases ("gradient*"), searched for
}

// phraseRef is a phrase and the group (bit) it belongs to.
type phraseRef struct {
	ph    phrase
	group uint
}

func (x *phraseIndex) add(ph phrase, group int) {
	body := string(ph)[1:]
	i := strings.IndexByte(body, ' ')
	if i < 0 {
		x.prefix = append(x.prefix, phraseRef{ph, uint(group)})
		return
	}
	if x.byFirst == nil {
		x.byFirst = map[string][]phraseRef{}
	}
	x.byFirst[body[:i]] = append(x.byFirst[body[:i]], phraseRef{ph, uint(group)})
}

// find returns the set of groups with a phrase in norm.
func (x *phraseIndex) find(norm string) uint64 {
	var found uint64
	for _, r := range x.prefix {
		if found&(1<<r.group) == 0 && r.ph.in(norm) {
			found |= 1 << r.group
		}
	}
	if len(x.byFirst) == 0 {
		return found
	}
	for i := 0; i+1 < len(norm); {
		j := strings.IndexByte(norm[i+1:], ' ')
		if j < 0 {
			break
		}
		for _, r := range x.byFirst[norm[i+1:i+1+j]] {
			if found&(1<<r.group) == 0 && strings.HasPrefix(norm[i:], string(r.ph)) {
				found |= 1 << r.group
			}
		}
		i += 1 + j
	}
	return found
}

// pattern is a compiled accepted pattern. A case-insensitive pattern
// without inline flags is matched against the ASCII-lower-cased answer,
// which lets it carry a prefilter of lower-cased literals: the regexp runs
// only when the answer contains one of them.
type pattern struct {
	re    *regexp.Regexp
	lower bool // match against lowerASCII(answer)
	// need lists literals of which every match contains at least one;
	// when the text has none of them the regexp is not run. nil: unknown.
	need []string
	// branches, when set, stand for re: its alternatives, those that start
	// with a literal tried only where it occurs (see splitBranches).
	branches []branch
}

// match reports whether the answer (raw, and ASCII-lower-cased) matches.
func (pt *pattern) match(raw, lower string) bool {
	text := raw
	if pt.lower {
		text = lower
	}
	if pt.need != nil {
		found := false
		for _, n := range pt.need {
			if strings.Contains(text, n) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if pt.branches != nil {
		return matchBranches(pt.branches, text)
	}
	return pt.re.MatchString(text)
}

// maxNeed bounds the literals a prefilter checks.
const maxNeed = 16

// required returns literals of which every match of re contains at least
// one, or nil when there is no such set (or it would be too large).
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || len(re.Rune) == 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any one part's set will do; take the one whose shortest
		// literal is longest, the most selective.
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			set := required(sub)
			if set == nil {
				continue
			}
			short := len(set[0])
			for _, l := range set {
				short = min(short, len(l))
			}
			if short > bestLen {
				best, bestLen = set, short
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			set := required(sub)
			if set == nil || len(all)+len(set) > maxNeed {
				return nil
			}
			all = append(all, set...)
		}
		return all
	}
	return nil
}

// compilePattern compiles an accepted pattern, case-insensitive unless cs.
func compilePattern(src string, cs bool) (pattern, error) {
	k := patternKey{src, cs}
	if p, ok := patternCache.Load(k); ok {
		return p.(pattern), nil
	}
	p, err := compilePatternOnce(src, cs)
	if err == nil && patternCount.Add(1) <= maxCachedPatterns {
		patternCache.Store(k, p)
	}
	return p, err
}

// Compiled patterns are kept, up to maxCachedPatterns: every variant of a
// template has the same accepted phrasings and rubric phrases, and a
// cohort's papers are compiled one student at a time (a bulk upload of
// 10,000 students compiles each pattern 10,000 times). A compiled pattern
// is never changed after it is built, so one may serve every grader, on
// any goroutine. The result is the same with or without the cache.
var (
	patternCache sync.Map // patternKey → pattern
	patternCount atomic.Int64
)

const maxCachedPatterns = 20000

type patternKey struct {
	src string
	cs  bool
}

// compilePatternOnce compiles a pattern (see compilePattern).
func compilePatternOnce(src string, cs bool) (pattern, error) {
	if cs {
		re, err := regexp.Compile(src)
		if err != nil {
			return pattern{}, fmt.Errorf("pattern %q: %w", src, err)
		}
		p := pattern{re: re}
		if tree, err := syntax.Parse(src, syntax.Perl); err == nil {
			p.need = required(tree)
		}
		return p, nil
	}
	re, err := regexp.Compile("(?i)" + src)
	if err != nil {
		return pattern{}, fmt.Errorf("pattern %q: %w", src, err)
	}
	if strings.Contains(src, "(?") {
		return pattern{re: re}, nil // inline flags may turn folding off
	}
	tree, err := syntax.Parse(src, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return pattern{re: re}, nil
	}
	// A pattern of ASCII only is lower-cased as written (escapes such as \W
	// kept) and run without folding on the ASCII-lower-cased answer, which
	// matches exactly what the (?i) pattern matches on the raw answer and
	// runs about twice as fast. Other patterns keep (?i). Either way the
	// lowered literals the pattern requires give a cheap prefilter.
	lowerLiterals(tree)
	need := required(tree)
	if lowered, ok := lowerPattern(src); ok {
		if fast, err := regexp.Compile(lowered); err == nil {
			return pattern{re: fast, lower: true, need: need, branches: splitBranches(lowered)}, nil
		}
	}
	return pattern{re: re, lower: true, need: need}, nil
}

// lowerPattern lower-cases the ASCII letters of a regular expression that
// stand for themselves, leaving escapes (\W, \B) alone. It reports false
// for a pattern with non-ASCII text or with classes and codes that name a
// case (\p{Lu}, [:upper:], \x41), whose folding the lower-cased answer
// would not reproduce.
func lowerPattern(src string) (string, bool) {
	if strings.Contains(src, "[:upper:]") || strings.Contains(src, "[:lower:]") {
		return "", false // classes of one case
	}
	b := []byte(src)
	inClass := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= utf8.RuneSelf:
			return "", false
		case c == '\\':
			i++ // the escaped character stays as written
			if i < len(b) && (b[i] == 'p' || b[i] == 'P' || b[i] == 'x' || b[i] == 'Q' || (b[i] >= '0' && b[i] <= '9')) {
				return "", false // Unicode classes and character codes name cases; \Q…\E quotes letters
			}
		case c == '[' && !inClass:
			inClass = true
			if i+1 < len(b) && b[i+1] == '^' {
				i++
			}
			if i+1 < len(b) && b[i+1] == ']' {
				i++ // a ] first in a class stands for itself
			}
		case c == ']' && inClass:
			inClass = false
		case inClass && i+2 < len(b) && b[i+1] == '-' && b[i+2] != ']':
			// A range keeps its meaning when lowered only if both ends
			// are upper-case letters (or neither is): [A-z] would become
			// [a-z] and lose the signs between Z and a.
			if isUpperASCII(c) != isUpperASCII(b[i+2]) {
				return "", false
			}
			if isUpperASCII(c) {
				b[i] = c + 'a' - 'A'
			}
		case isUpperASCII(c):
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b), true
}

func isUpperASCII(c byte) bool { return 'A' <= c && c <= 'Z' }

// lowerLiterals lower-cases the case-folded ASCII literals of a parsed
// pattern and turns their folding off.
func lowerLiterals(re *syntax.Regexp) {
	if re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase != 0 {
		ascii := true
		for _, r := range re.Rune {
			ascii = ascii && r < utf8.RuneSelf
		}
		if ascii {
			for i, r := range re.Rune {
				if 'A' <= r && r <= 'Z' {
					re.Rune[i] = r + 'a' - 'A'
				}
			}
			re.Flags &^= syntax.FoldCase
		}
	}
	for _, sub := range re.Sub {
		lowerLiterals(sub)
	}
}

// lowerASCII lower-cases the ASCII letters of s, allocating only when s
// has an upper-case one.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// compileText compiles the accepted phrasings and patterns of a text part.
// The key (the model answer), when it is a string, is accepted too.
func (p *part) compileText(s *Spec, forParse bool) error {
	accept := s.Accept
	k, ok := s.Key.(string)
	if !ok && s.Key != nil {
		return fmt.Errorf("key: want the model answer as text, got %T", s.Key)
	}
	if strings.TrimSpace(k) != "" {
		accept = append(accept[:len(accept):len(accept)], k)
	}
	if len(accept) == 0 && len(s.Patterns) == 0 && len(s.Rubric) == 0 {
		return errors.New("a text part needs accepted phrasings, patterns or a rubric")
	}
	for _, a := range accept {
		ph, err := newPhrase(a, s.CaseSensitive)
		if err != nil {
			return fmt.Errorf("accept: %w", err)
		}
		p.accept = append(p.accept, ph)
	}
	if forParse {
		return nil
	}
	for _, ph := range p.accept {
		p.index.add(ph, 0)
	}
	for _, src := range s.Patterns {
		re, err := compilePattern(src, s.CaseSensitive)
		if err != nil {
			return err
		}
		p.patterns = append(p.patterns, re)
	}
	return p.compileRubric(s, forParse)
}

// compileRubric compiles the rubric criteria of a text or essay part.
func (p *part) compileRubric(s *Spec, forParse bool) error {
	if _, ok := s.Key.(string); !ok && s.Key != nil {
		return fmt.Errorf("key: want the reference answer as text, got %T", s.Key)
	}
	if forParse {
		return nil
	}
	if len(s.Rubric) > maxCriteria {
		return fmt.Errorf("rubric: %d criteria; at most %d are allowed", len(s.Rubric), maxCriteria)
	}
	ids := map[string]bool{}
	for i, c := range s.Rubric {
		name := c.ID
		if name == "" {
			name = fmt.Sprintf("%d", i+1)
		}
		if ids[name] {
			return fmt.Errorf("rubric: duplicate criterion id %q", name)
		}
		ids[name] = true
		if c.Marks < 0 || math.IsNaN(c.Marks) || math.IsInf(c.Marks, 0) {
			return fmt.Errorf("rubric criterion %q: marks %v must be a finite number ≥ 0", name, c.Marks)
		}
		if len(c.Phrases) == 0 && len(c.Patterns) == 0 {
			return fmt.Errorf("rubric criterion %q: needs phrases or patterns", name)
		}
		cr := criterion{Criterion: c, name: c.Text}
		cr.ID = name
		if cr.name == "" {
			cr.name = name
		}
		for _, ph := range c.Phrases {
			n, err := newPhrase(ph, s.CaseSensitive)
			if err != nil {
				return fmt.Errorf("rubric criterion %q: %w", name, err)
			}
			cr.phrases = append(cr.phrases, n)
			p.index.add(n, i+1)
		}
		for _, src := range c.Patterns {
			re, err := compilePattern(src, s.CaseSensitive)
			if err != nil {
				return fmt.Errorf("rubric criterion %q: %w", name, err)
			}
			cr.patterns = append(cr.patterns, re)
		}
		p.rubric = append(p.rubric, cr)
	}
	return nil
}

// anyMatch reports whether an answer (raw, and ASCII-lower-cased) matches
// any of patterns.
func anyMatch(raw, lower string, patterns []pattern) bool {
	for i := range patterns {
		if patterns[i].match(raw, lower) {
			return true
		}
	}
	return false
}

// scoreText grades short text: an accepted phrasing or pattern earns full
// marks; otherwise the rubric, if any, suggests a score; either way an
// answer that is not accepted goes to review, since people phrase right
// answers in ways no list foresees.
func (p *part) scoreText(r *Result) {
	raw := r.Answer.(string)
	found := p.index.find(normText(raw, p.cs))
	lower := lowerASCII(raw)
	if found&1 != 0 || anyMatch(raw, lower, p.patterns) {
		r.Score, r.Rule, r.Feedback = p.marks, RuleAccepted, fbAccepted
		return
	}
	r.NeedsReview = true
	if len(p.rubric) > 0 {
		p.applyRubric(r, raw, found, lower)
		return
	}
	r.Rule, r.Feedback = RuleWrong, fbNotAccepted
}

// scoreEssay grades an essay by its rubric: a suggested score, always
// reviewed.
func (p *part) scoreEssay(r *Result) {
	raw := r.Answer.(string)
	p.applyRubric(r, raw, p.index.find(normText(raw, p.cs)), lowerASCII(raw))
	r.NeedsReview = true
}

// applyRubric sums the criteria the answer meets, capped at the part's
// marks, and lists which were met. found is the set of criteria whose
// phrases the answer contains (bit i+1 for criterion i).
func (p *part) applyRubric(r *Result, raw string, found uint64, lower string) {
	r.Rule = RuleRubric
	if len(p.rubric) == 0 {
		r.Feedback = fbReview
		return
	}
	var buf [16]bool
	met := buf[:0]
	sum, size, nmet := 0.0, len(fbSuggested)+len(" Met: .")+len(" Not met: ."), 0
	for i := range p.rubric {
		c := &p.rubric[i]
		m := found&(1<<(i+1)) != 0 || anyMatch(raw, lower, c.patterns)
		met = append(met, m)
		if m {
			sum += c.Marks
			nmet++
		}
		size += len(c.name) + 2
	}
	r.Score = math.Min(sum, p.marks)
	var b strings.Builder
	b.Grow(size)
	b.WriteString(fbSuggested)
	for pass, list := range [2]string{" Met: ", " Not met: "} {
		want := pass == 0
		if want && nmet == 0 || !want && nmet == len(met) {
			continue
		}
		b.WriteString(list)
		first := true
		for i, m := range met {
			if m != want {
				continue
			}
			if !first {
				b.WriteString("; ")
			}
			first = false
			b.WriteString(p.rubric[i].name)
		}
		b.WriteByte('.')
	}
	r.Feedback = b.String()
}
