package grader

import (
	"fmt"
	"math"
	"strconv"
)

// exactRel is how close (relative) a number must be to the key to count as
// exact: floating-point noise in a computed key is not the student's fault.
const exactRel = 1e-9

// noiseRel widens absolute and relative tolerances by a hair, so that an
// answer exactly on the boundary (1.01 against 1 ± 0.01) is accepted
// despite binary rounding.
const noiseRel = 1e-12

// maxSigFigs and maxDecimals bound the rounding tolerances: float64 holds
// about 17 significant digits.
const (
	maxSigFigs  = 17
	maxDecimals = 30
)

// validate checks a tolerance.
func (t Tolerance) validate() error {
	switch {
	case t.Abs < 0 || math.IsNaN(t.Abs) || math.IsInf(t.Abs, 0):
		return fmt.Errorf("tolerance: abs %v must be a finite number ≥ 0", t.Abs)
	case t.Rel < 0 || math.IsNaN(t.Rel) || math.IsInf(t.Rel, 0):
		return fmt.Errorf("tolerance: rel %v must be a finite number ≥ 0", t.Rel)
	case t.SigFigs < 0 || t.SigFigs > maxSigFigs:
		return fmt.Errorf("tolerance: sigfigs %d must be between 1 and %d (0 for none)", t.SigFigs, maxSigFigs)
	case t.Decimals < 0 || t.Decimals > maxDecimals:
		return fmt.Errorf("tolerance: decimals %d must be between 0 and %d", t.Decimals, maxDecimals)
	}
	return nil
}

// tol is a compiled tolerance. Decimals 0 means "no decimal-place rule"
// (the field is omitted when empty), so rounding to whole numbers is asked
// for with abs: 0.5 instead.
type tol struct {
	Tolerance
	any bool
}

func newTol(t Tolerance) tol {
	return tol{Tolerance: t, any: t.Abs > 0 || t.Rel > 0 || t.SigFigs > 0 || t.Decimals > 0}
}

// match says whether x answers key: exact (within exactRel), accepted by a
// tolerance rule, or neither.
type match uint8

const (
	noMatch match = iota
	tolMatch
	exactMatch
)

// judge compares a number with a key. For an integer part exact means
// equal: integers carry no floating-point noise.
func (t *tol) judge(x, key float64, integer bool) match {
	return t.judgeRounded(x, key, integer, nil, nil)
}

// judgeKey compares a number with the part's own key, whose roundings are
// computed once.
func (t *tol) judgeKey(x float64, p *part) match {
	return t.judgeRounded(x, p.key, p.typ == Integer, &p.sig, &p.places)
}

// judgeRounded is judge with the key's roundings to t.SigFigs and
// t.Decimals given (nil: compute them).
func (t *tol) judgeRounded(x, key float64, integer bool, keySig, keyPlaces *dec) match {
	d := math.Abs(x - key)
	ak := math.Abs(key)
	if x == key || !integer && d <= exactRel*ak {
		return exactMatch
	}
	if !t.any {
		return noMatch
	}
	noise := noiseRel * math.Max(ak, math.Abs(x))
	if t.Abs > 0 && d <= t.Abs+noise {
		return tolMatch
	}
	if t.Rel > 0 && d <= t.Rel*ak+noise {
		return tolMatch
	}
	if t.SigFigs > 0 {
		var ks dec
		if keySig != nil {
			ks = *keySig
		} else {
			ks = roundSig(key, t.SigFigs)
		}
		if roundSig(x, t.SigFigs) == ks {
			return tolMatch
		}
	}
	if t.Decimals > 0 {
		var kp dec
		if keyPlaces != nil {
			kp = *keyPlaces
		} else {
			kp = roundPlaces(key, t.Decimals)
		}
		if roundPlaces(x, t.Decimals) == kp {
			return tolMatch
		}
	}
	return noMatch
}

// dec is a rounded decimal: value = ±0.d[0]d[1]…d[n-1] × 10^e, without
// trailing zeros; zero has n = 0 and is never negative. Two decs are equal
// (==) exactly when they are the same number.
type dec struct {
	neg bool
	n   uint8
	e   int32
	d   [maxSigFigs + 3]byte
}

// shortest writes |v|'s shortest decimal representation, the digits the
// student typed, into b and returns the digits and decimal exponent e such
// that |v| = 0.digits × 10^e.
func shortest(v float64, b *[32]byte) ([]byte, int) {
	s := strconv.AppendFloat(b[:0], math.Abs(v), 'e', -1, 64) // d.ddde±XX
	n := 0
	i := 0
	for ; i < len(s) && s[i] != 'e'; i++ {
		if s[i] != '.' {
			s[n] = s[i]
			n++
		}
	}
	e, _ := strconv.Atoi(string(s[i+1:]))
	return s[:n], e + 1
}

// roundDigits rounds 0.digits × 10^e to keep digits, halves away from zero.
func roundDigits(neg bool, digits []byte, e, keep int) dec {
	var r dec
	if keep < 0 {
		return r
	}
	if keep == 0 {
		if len(digits) > 0 && digits[0] >= '5' {
			r.neg, r.n, r.e, r.d[0] = neg, 1, int32(e+1), '1'
		}
		return r
	}
	if keep > len(r.d) {
		keep = len(r.d)
	}
	up := keep < len(digits) && digits[keep] >= '5'
	if keep > len(digits) {
		keep = len(digits)
	}
	copy(r.d[:], digits[:keep])
	n := keep
	if up {
		i := n - 1
		for ; i >= 0 && r.d[i] == '9'; i-- {
			r.d[i] = '0'
		}
		if i < 0 {
			// 9.99 → 10.0: shift.
			copy(r.d[1:], r.d[:n])
			r.d[0] = '1'
			n++
			e++
		} else {
			r.d[i]++
		}
	}
	for n > 0 && r.d[n-1] == '0' {
		n--
	}
	for i := n; i < len(r.d); i++ {
		r.d[i] = 0
	}
	if n == 0 {
		return dec{}
	}
	r.neg, r.n, r.e = neg, uint8(n), int32(e)
	return r
}

// roundSig rounds v to n significant figures.
func roundSig(v float64, n int) dec {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return dec{}
	}
	var b [32]byte
	digits, e := shortest(v, &b)
	return roundDigits(v < 0, digits, e, n)
}

// roundPlaces rounds v to p decimal places.
func roundPlaces(v float64, p int) dec {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return dec{}
	}
	var b [32]byte
	digits, e := shortest(v, &b)
	return roundDigits(v < 0, digits, e, e+p)
}
