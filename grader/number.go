package grader

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Messages for numbers that cannot be read. They are shown to students.
const (
	msgNotNumber  = "Enter a number, for example 1234.5, 1,234.5, 1.2e6 or 1.2 × 10^6."
	msgCommas     = "Use a point for decimals and commas only between groups of three digits, for example 1,234,567.5."
	msgHex        = "Write the number in decimal, not hexadecimal."
	msgUnderscore = "Remove the underscores from the number (commas may separate groups of three digits)."
	msgFinite     = "Enter a finite number (not NaN or infinity)."
	msgTooLarge   = "That number is too large."
	msgPower      = "Write a power of ten as 1.2e6 or 1.2 × 10^6."
	msgWhole      = "Enter a whole number."
	msgNoSuffix   = "Write the number in full here, without K, M, B or T."
	msgCellComma  = "Inside a table or on a plot a comma separates values; use a point for decimals and no thousands separators."
)

// numOpts says which number syntax a part accepts.
type numOpts struct {
	thousands bool   // commas between groups of three digits
	suffixes  bool   // K, M, B, T and the words thousand … trillion
	unit      string // the key's unit as written, "" for none
	byteUnit  bool   // unit is a byte unit: answers may use any byte unit
	unitP10   int    // the key unit's size: 10^unitP10 × 2^unitP2 bytes
	unitP2    int
	unitList  string // for messages: the units an answer may use
}

// byteUnitDef is a unit of data size: 10^p10 × 2^p2 bytes.
type byteUnitDef struct {
	name    string
	p10, p2 int
}

// byteUnits lists the byte units, matched case-insensitively.
var byteUnits = [...]byteUnitDef{
	{name: "b", p10: 0}, {name: "byte", p10: 0}, {name: "bytes", p10: 0},
	{name: "kb", p10: 3}, {name: "mb", p10: 6}, {name: "gb", p10: 9}, {name: "tb", p10: 12}, {name: "pb", p10: 15},
	{name: "kib", p2: 10}, {name: "mib", p2: 20}, {name: "gib", p2: 30}, {name: "tib", p2: 40}, {name: "pib", p2: 50},
}

// lookupByteUnit finds a byte unit by name, case-insensitively.
func lookupByteUnit(s string) (p10, p2 int, ok bool) {
	if len(s) > 5 {
		return 0, 0, false
	}
	for i := range byteUnits {
		if strings.EqualFold(s, byteUnits[i].name) {
			return byteUnits[i].p10, byteUnits[i].p2, true
		}
	}
	return 0, 0, false
}

// suffixDef is a multiplier written after a number.
type suffixDef struct {
	name string
	p10  int
}

var suffixes = [...]suffixDef{
	{"k", 3}, {"m", 6}, {"b", 9}, {"bn", 9}, {"t", 12},
	{"thousand", 3}, {"million", 6}, {"billion", 9}, {"trillion", 12},
}

func lookupSuffix(s string) (int, bool) {
	if len(s) > 8 {
		return 0, false
	}
	for i := range suffixes {
		if strings.EqualFold(s, suffixes[i].name) {
			return suffixes[i].p10, true
		}
	}
	return 0, false
}

// spaceAt reports the width of the white space starting at s[i], 0 if
// none. It is small enough to be inlined; non-ASCII goes to uniSpaceAt.
func spaceAt(s string, i int) int {
	if c := s[i]; c < utf8.RuneSelf {
		return int(asciiSpace[c])
	}
	return uniSpaceAt(s, i)
}

// asciiSpace marks the ASCII white space characters.
var asciiSpace = [utf8.RuneSelf]uint8{'\t': 1, '\n': 1, '\v': 1, '\f': 1, '\r': 1, ' ': 1}

// uniSpaceAt reports the width of a non-ASCII space at s[i] (NBSP, thin
// space, …), 0 if none.
func uniSpaceAt(s string, i int) int {
	r, w := utf8.DecodeRuneInString(s[i:])
	if unicode.IsSpace(r) {
		return w
	}
	return 0
}

func skipSpaces(s string, i int) int {
	for i < len(s) {
		w := spaceAt(s, i)
		if w == 0 {
			break
		}
		i += w
	}
	return i
}

// trimSpace trims Unicode white space, without allocating.
func trimSpace(s string) string {
	i := skipSpaces(s, 0)
	s = s[i:]
	for len(s) > 0 {
		c := s[len(s)-1]
		if c < utf8.RuneSelf {
			if asciiSpace[c] == 0 {
				break
			}
			s = s[:len(s)-1]
			continue
		}
		r, w := utf8.DecodeLastRuneInString(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[:len(s)-w]
	}
	return s
}

// minusAt reports the width of a minus sign at s[i]: '-' or U+2212.
func minusAt(s string, i int) int {
	if s[i] == '-' {
		return 1
	}
	if strings.HasPrefix(s[i:], "\u2212") {
		return len("\u2212")
	}
	return 0
}

// timesAt reports the width of a multiplication sign at s[i]: × x X * ·
// or ⋅.
func timesAt(s string, i int) int {
	switch s[i] {
	case 'x', 'X', '*':
		return 1
	}
	for _, t := range [...]string{"×", "·", "⋅", "∙"} {
		if strings.HasPrefix(s[i:], t) {
			return len(t)
		}
	}
	return 0
}

// superscript digits and signs, as written in 10⁸ or 10⁻³.
func superAt(s string, i int) (r byte, w int) {
	if s[i] < utf8.RuneSelf {
		return 0, 0
	}
	c, w := utf8.DecodeRuneInString(s[i:])
	switch c {
	case '⁰':
		return '0', w
	case '¹':
		return '1', w
	case '²':
		return '2', w
	case '³':
		return '3', w
	case '⁴', '⁵', '⁶', '⁷', '⁸', '⁹':
		return byte('4' + c - '⁴'), w
	case '⁻':
		return '-', w
	case '⁺':
		return '+', w
	}
	return 0, 0
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// maxExp caps exponents: anything beyond overflows or underflows float64 anyway.
const maxExp = 100000

// expDigits parses [sign] digits at s[i:], ASCII or superscript.
// It returns the exponent, the index after it and whether any digit was read.
func expDigits(s string, i int, super bool) (int, int, bool) {
	neg := false
	if i < len(s) {
		if super {
			if c, w := superAt(s, i); c == '-' || c == '+' {
				neg = c == '-'
				i += w
			}
		} else if s[i] == '+' {
			i++
		} else if w := minusAt(s, i); w > 0 {
			neg = true
			i += w
		}
	}
	n, any := 0, false
	for i < len(s) {
		var d byte
		if super {
			c, w := superAt(s, i)
			if c < '0' || c > '9' {
				break
			}
			d = c
			i += w
		} else {
			if s[i] < '0' || s[i] > '9' {
				break
			}
			d = s[i]
			i++
		}
		any = true
		if n < maxExp {
			n = n*10 + int(d-'0')
		}
	}
	if n > maxExp {
		n = maxExp
	}
	if neg {
		n = -n
	}
	return n, i, any
}

// powerAt reads the power part of "10^8", "10**8", "10^(−3)" or "10⁸" at
// s[i:], just after the "10". It returns the exponent and the index after
// it; ok is false when there is no power there.
func powerAt(s string, i int) (exp, end int, ok bool) {
	j := skipSpaces(s, i)
	if j < len(s) {
		if c, _ := superAt(s, j); c != 0 {
			if j != i {
				return 0, 0, false
			}
			e, k, any := expDigits(s, j, true)
			return e, k, any
		}
	}
	switch {
	case strings.HasPrefix(s[j:], "^"):
		j++
	case strings.HasPrefix(s[j:], "**"):
		j += 2
	default:
		return 0, 0, false
	}
	j = skipSpaces(s, j)
	paren := j < len(s) && s[j] == '('
	if paren {
		j = skipSpaces(s, j+1)
	}
	e, k, any := expDigits(s, j, false)
	if !any {
		return 0, 0, false
	}
	if paren {
		k = skipSpaces(s, k)
		if k >= len(s) || s[k] != ')' {
			return 0, 0, false
		}
		k++
	}
	return e, k, true
}

func isHexDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// parseNumber reads a number written the ways people write numbers (see
// docs/answers.md). It returns the value in the key's unit, or a message
// for the student saying why it cannot be read.
func parseNumber(s string, o *numOpts) (float64, string) {
	s = trimSpace(s)
	if s == "" {
		return 0, msgNotNumber
	}
	i := 0
	neg := false
	if s[0] == '+' {
		i = 1
	} else if w := minusAt(s, 0); w > 0 {
		neg = true
		i = w
	}

	// Mantissa: digits, at most one point, commas between groups of three.
	nd := 0
	dot, comma := false, false
	// For the fast path: up to 19 significant digits as an integer, and
	// the number of them after the point.
	var mant uint64
	sig, frac := 0, 0
	exact := true
	group := 0 // integer digits since the last comma
	mantStart := i
mantissa:
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			nd++
			if !dot {
				group++
			}
			switch {
			case mant == 0 && c == '0':
				if dot {
					frac++
				}
			case sig < 19:
				mant = mant*10 + uint64(c-'0')
				sig++
				if dot {
					frac++
				}
			default:
				exact = false
			}
		case c == '.':
			if dot {
				return 0, msgNotNumber
			}
			if comma && group != 3 {
				return 0, msgCommas
			}
			dot = true
		case c == ',':
			if !o.thousands {
				if nd > 0 {
					return 0, msgCellComma
				}
				return 0, msgNotNumber
			}
			if dot || nd == 0 {
				return 0, msgCommas
			}
			if comma && group != 3 || !comma && (group > 3 || s[mantStart] == '0') {
				return 0, msgCommas
			}
			comma = true
			group = 0
		default:
			break mantissa
		}
	}
	mantEnd := i
	if comma && !dot && group != 3 {
		return 0, msgCommas
	}
	if nd == 0 {
		rest := s[mantStart:]
		if hasFoldPrefix(rest, "nan") || hasFoldPrefix(rest, "inf") || strings.HasPrefix(rest, "∞") {
			return 0, msgFinite
		}
		return 0, msgNotNumber
	}
	if i < len(s) {
		switch c := s[i]; {
		case c == '_':
			return 0, msgUnderscore
		case (c == 'x' || c == 'X') && !dot && !comma && i-mantStart == 1 && s[mantStart] == '0' && isHexDigits(s[i+1:]):
			return 0, msgHex
		}
	}

	// Exponent: e8, E-3, × 10^8, x10^8, *10**8, · 10⁸; or a bare power 10^8.
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		if e, j, ok := expDigits(s, i+1, false); ok {
			exp, i = e, j
		}
	} else if !dot && !comma && i-mantStart == 2 && s[mantStart:i] == "10" {
		if e, j, ok := powerAt(s, i); ok {
			mantStart, mantEnd = 0, 0 // the mantissa is 1
			mant, sig, frac = 1, 1, 0
			exp, i = e, j
		}
	}
	if j := skipSpaces(s, i); j < len(s) && exp == 0 {
		if w := timesAt(s, j); w > 0 {
			k := skipSpaces(s, j+w)
			if !strings.HasPrefix(s[k:], "10") {
				if s[j] == 'x' || s[j] == 'X' || s[j] == '*' {
					// "5 x" is an unexpected tail, reported below.
					goto tail
				}
				return 0, msgPower
			}
			e, end, ok := powerAt(s, k+2)
			if !ok {
				return 0, msgPower
			}
			exp, i = e, end
		}
	}

tail:
	p10, p2 := 0, 0
	if t := trimSpace(s[i:]); t != "" {
		matched := false
		if o.unit != "" {
			if o.byteUnit {
				if u10, u2, ok := lookupByteUnit(t); ok {
					p10, p2 = u10-o.unitP10, u2-o.unitP2
					matched = true
				}
			} else if strings.EqualFold(t, o.unit) {
				matched = true
			}
		}
		if !matched {
			if sp, ok := lookupSuffix(t); ok {
				if !o.suffixes {
					return 0, msgNoSuffix
				}
				p10 = sp
				matched = true
			}
		}
		if !matched {
			return 0, tailMessage(t, o)
		}
	}

	var f float64
	if e10 := exp + p10 - frac; exact && mant < 1<<53 && -22 <= e10 && e10 <= 22 {
		// Both exact in float64, so one operation rounds correctly.
		f = float64(mant)
		if e10 >= 0 {
			f *= pow10[e10]
		} else {
			f /= pow10[-e10]
		}
	} else {
		// The digits without commas, then the exponent, for strconv.
		var buf [80]byte
		digits := buf[:0]
		if mantEnd == 0 {
			digits = append(digits, '1')
		}
		for k := mantStart; k < mantEnd; k++ {
			if s[k] != ',' {
				digits = append(digits, s[k])
			}
		}
		digits = append(digits, 'e')
		digits = strconv.AppendInt(digits, int64(exp+p10), 10)
		var err error
		f, err = strconv.ParseFloat(string(digits), 64)
		if err != nil && !math.IsInf(f, 0) {
			return 0, msgNotNumber
		}
	}
	if p2 != 0 {
		f = math.Ldexp(f, p2)
	}
	if math.IsInf(f, 0) {
		return 0, msgTooLarge
	}
	if neg && f != 0 {
		f = -f
	}
	return f, ""
}

// tailMessage explains text found after a number.
func tailMessage(t string, o *numOpts) string {
	if o.unit != "" && isWordish(t) {
		return "Unknown unit \"" + clip(t) + "\"; give the answer in " + o.unitList + "."
	}
	if strings.ContainsRune(t, ',') && !o.thousands {
		return msgCellComma
	}
	if strings.HasPrefix(t, ".") || strings.HasPrefix(t, ",") {
		return msgCommas
	}
	return "Unexpected \"" + clip(t) + "\" after the number. " + msgNotNumber
}

func isWordish(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && r != '%' && r != '/' && r != ' ' {
			return false
		}
	}
	return true
}

// clip shortens text quoted back to the student.
func clip(s string) string {
	if len(s) <= 24 {
		return s
	}
	n := 0
	for i := range s {
		if n == 20 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// newNumOpts builds the number syntax options of a spec.
func newNumOpts(s *Spec, thousands bool) (numOpts, error) {
	o := numOpts{thousands: thousands, suffixes: s.Suffixes, unit: strings.TrimSpace(s.Unit)}
	if o.unit == "" {
		return o, nil
	}
	if p10, p2, ok := lookupByteUnit(o.unit); ok {
		o.byteUnit = true
		o.unitP10, o.unitP2 = p10, p2
		o.unitList = o.unit + " (or B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
	} else {
		o.unitList = o.unit
	}
	return o, nil
}
