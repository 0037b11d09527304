package grader

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
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

// compilePattern compiles an accepted pattern, case-insensitive unless cs.
func compilePattern(src string, cs bool) (*regexp.Regexp, error) {
	if !cs {
		src = "(?i)" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", src, err)
	}
	return re, nil
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

// matches reports whether text (raw, and normalised) matches any phrase
// or pattern.
func matches(raw, norm string, phrases []phrase, patterns []*regexp.Regexp) bool {
	for _, ph := range phrases {
		if ph.in(norm) {
			return true
		}
	}
	for _, re := range patterns {
		if re.MatchString(raw) {
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
	norm := normText(raw, p.cs)
	if matches(raw, norm, p.accept, p.patterns) {
		r.Score, r.Rule, r.Feedback = p.marks, RuleAccepted, fbAccepted
		return
	}
	r.NeedsReview = true
	if len(p.rubric) > 0 {
		p.applyRubric(r, raw, norm)
		return
	}
	r.Rule, r.Feedback = RuleWrong, fbNotAccepted
}

// scoreEssay grades an essay by its rubric: a suggested score, always
// reviewed.
func (p *part) scoreEssay(r *Result) {
	raw := r.Answer.(string)
	p.applyRubric(r, raw, normText(raw, p.cs))
	r.NeedsReview = true
}

// applyRubric sums the criteria the answer meets, capped at the part's
// marks, and lists which were met.
func (p *part) applyRubric(r *Result, raw, norm string) {
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
		m := matches(raw, norm, c.phrases, c.patterns)
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
