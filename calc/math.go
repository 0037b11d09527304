package calc

import (
	"fmt"
	"math"
)

// mathFuncs returns the numeric functions: exponentials and logarithms,
// trigonometry, rounding to decimals or significant figures, and the
// integrality tests used by fairness constraints.
func mathFuncs() []Func {
	return []Func{
		unary("exp", "exp(x) — e raised to x", math.Exp),
		unaryChecked("ln", "ln(x) — natural logarithm of x > 0", positive, math.Log),
		{Name: "log", Doc: "log(x, base) — logarithm of x > 0 to base > 0, base ≠ 1", Fn: logBase},
		unaryChecked("log2", "log2(x) — base-2 logarithm of x > 0", positive, math.Log2),
		unaryChecked("log10", "log10(x) — base-10 logarithm of x > 0", positive, math.Log10),
		unaryChecked("sqrt", "sqrt(x) — square root of x ≥ 0", nonNegative, math.Sqrt),
		{Name: "pow", Doc: "pow(x, y) — x raised to y (a real result is required)", Fn: pow},
		unary("sin", "sin(x) — sine of x radians", math.Sin),
		unary("cos", "cos(x) — cosine of x radians", math.Cos),
		unary("tanh", "tanh(x) — hyperbolic tangent of x", math.Tanh),
		unary("sigmoid", "sigmoid(x) — logistic function 1/(1+e^-x)", sigmoid),
		{Name: "pi", Doc: "pi() — the constant π", Fn: func(args ...any) (any, error) {
			if err := arity("pi", args, 0); err != nil {
				return nil, err
			}
			return math.Pi, nil
		}},
		{Name: "roundto", Doc: "roundto(x, decimals) — x rounded half away from zero to decimals places (decimals may be negative)", Fn: roundTo},
		{Name: "sigfig", Doc: "sigfig(x, n) — x rounded to n ≥ 1 significant figures", Fn: sigFig},
		{Name: "clamp", Doc: "clamp(x, lo, hi) — x limited to [lo, hi]; int when all three are int", Fn: clamp},
		{Name: "isint", Doc: "isint(x) — true when x is an int or a float with no fractional part", Fn: isInt},
		unary("frac", "frac(x) — distance from x to the nearest integer, in [0, 0.5]", distToInt),
		unaryChecked("norm_ppf", "norm_ppf(p) — standard normal quantile: the z with P(Z ≤ z) = p, for 0 < p < 1", probability, probit),
		unary("norm_cdf", "norm_cdf(z) — standard normal cumulative probability P(Z ≤ z)", normCDF),
		{Name: "near_int", Doc: "near_int(x, eps) — true when x is within eps of an integer", Fn: nearInt},
	}
}

// arity checks that fn was called with exactly n arguments.
func arity(fn string, args []any, n int) error {
	if len(args) != n {
		return fmt.Errorf("%s: want %d argument%s, got %d", fn, n, plural(n), len(args))
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// argFloat converts argument i of fn, called name in messages, to float64.
func argFloat(fn, name string, args []any, i int) (float64, error) {
	f, err := Float(args[i])
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %w", fn, name, err)
	}
	if math.IsNaN(f) {
		return 0, fmt.Errorf("%s: %s is NaN", fn, name)
	}
	return f, nil
}

// argInt converts argument i of fn, called name in messages, to int.
func argInt(fn, name string, args []any, i int) (int, error) {
	n, err := Int(args[i])
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %w", fn, name, err)
	}
	return n, nil
}

// result checks that a computed number is finite.
func result(fn string, v float64) (any, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("%s: result %v is not a finite number", fn, v)
	}
	return v, nil
}

func unary(name, doc string, f func(float64) float64) Func {
	return unaryChecked(name, doc, nil, f)
}

// unaryChecked builds a one-argument numeric function whose argument must
// pass check (when check is not nil).
func unaryChecked(name, doc string, check func(float64) string, f func(float64) float64) Func {
	return Func{Name: name, Doc: doc, Fn: func(args ...any) (any, error) {
		if err := arity(name, args, 1); err != nil {
			return nil, err
		}
		x, err := argFloat(name, "x", args, 0)
		if err != nil {
			return nil, err
		}
		if check != nil {
			if msg := check(x); msg != "" {
				return nil, fmt.Errorf("%s: x = %v %s", name, x, msg)
			}
		}
		return result(name, f(x))
	}}
}

func positive(x float64) string {
	if x <= 0 {
		return "must be positive"
	}
	return ""
}

func nonNegative(x float64) string {
	if x < 0 {
		return "must not be negative"
	}
	return ""
}

func probability(p float64) string {
	if !(p > 0 && p < 1) {
		return "must be strictly between 0 and 1"
	}
	return ""
}

func normCDF(z float64) float64 { return math.Erfc(-z/math.Sqrt2) / 2 }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func distToInt(x float64) float64 { return math.Abs(x - math.Round(x)) }

func logBase(args ...any) (any, error) {
	if err := arity("log", args, 2); err != nil {
		return nil, err
	}
	x, err := argFloat("log", "x", args, 0)
	if err != nil {
		return nil, err
	}
	b, err := argFloat("log", "base", args, 1)
	if err != nil {
		return nil, err
	}
	if x <= 0 {
		return nil, fmt.Errorf("log: x = %v must be positive", x)
	}
	if b <= 0 || b == 1 {
		return nil, fmt.Errorf("log: base = %v must be positive and not 1", b)
	}
	return result("log", math.Log(x)/math.Log(b))
}

func pow(args ...any) (any, error) {
	if err := arity("pow", args, 2); err != nil {
		return nil, err
	}
	x, err := argFloat("pow", "x", args, 0)
	if err != nil {
		return nil, err
	}
	y, err := argFloat("pow", "y", args, 1)
	if err != nil {
		return nil, err
	}
	return result("pow", math.Pow(x, y))
}

// roundHalf rounds x to d decimals, half away from zero, treating x as the
// decimal it was written as: 2.675 is stored as 2.67499999999999982236431605997495353221893310546875
// yet rounds to 2.68.
func roundHalf(x float64, d int) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x + 0 // -0 becomes 0
	}
	p := math.Pow(10, float64(d))
	y := x * p
	if math.IsInf(y, 0) || math.Abs(y) >= 1<<52 {
		return x // no digits below 10^-d to round away
	}
	r := math.Round(y)
	// A written tie lands within a few ulps below the half; round it away
	// from zero too. Only where ulps are far smaller than the half.
	if u := 4 * ulp(y); u < 0.25 {
		t := math.Trunc(y)
		if f := math.Abs(y - t); f < 0.5 && 0.5-f <= u {
			r = t + math.Copysign(1, y)
		}
	}
	if r == 0 {
		return 0 // never -0, which would print as "-0"
	}
	if d < 0 {
		return r * math.Pow(10, float64(-d))
	}
	return r / p
}

func ulp(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}

func roundTo(args ...any) (any, error) {
	if err := arity("roundto", args, 2); err != nil {
		return nil, err
	}
	x, err := argFloat("roundto", "x", args, 0)
	if err != nil {
		return nil, err
	}
	d, err := argInt("roundto", "decimals", args, 1)
	if err != nil {
		return nil, err
	}
	if d < -15 || d > 15 {
		return nil, fmt.Errorf("roundto: decimals = %d outside [-15, 15]", d)
	}
	return roundHalf(x, d), nil
}

func sigFig(args ...any) (any, error) {
	if err := arity("sigfig", args, 2); err != nil {
		return nil, err
	}
	x, err := argFloat("sigfig", "x", args, 0)
	if err != nil {
		return nil, err
	}
	n, err := argInt("sigfig", "n", args, 1)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 17 {
		return nil, fmt.Errorf("sigfig: n = %d outside [1, 17]", n)
	}
	return sigRound(x, n), nil
}

// sigRound rounds x to n significant figures.
func sigRound(x float64, n int) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	e := int(math.Floor(math.Log10(math.Abs(x))))
	d := n - 1 - e
	return roundHalf(x, d)
}

func clamp(args ...any) (any, error) {
	if err := arity("clamp", args, 3); err != nil {
		return nil, err
	}
	xi, ok1 := args[0].(int)
	li, ok2 := args[1].(int)
	hi, ok3 := args[2].(int)
	if ok1 && ok2 && ok3 {
		if li > hi {
			return nil, fmt.Errorf("clamp: lo = %d is above hi = %d", li, hi)
		}
		return min(max(xi, li), hi), nil
	}
	x, err := argFloat("clamp", "x", args, 0)
	if err != nil {
		return nil, err
	}
	lo, err := argFloat("clamp", "lo", args, 1)
	if err != nil {
		return nil, err
	}
	h, err := argFloat("clamp", "hi", args, 2)
	if err != nil {
		return nil, err
	}
	if lo > h {
		return nil, fmt.Errorf("clamp: lo = %v is above hi = %v", lo, h)
	}
	return math.Min(math.Max(x, lo), h), nil
}

func isInt(args ...any) (any, error) {
	if err := arity("isint", args, 1); err != nil {
		return nil, err
	}
	if _, ok := args[0].(int); ok {
		return true, nil
	}
	x, err := argFloat("isint", "x", args, 0)
	if err != nil {
		return nil, err
	}
	return !math.IsInf(x, 0) && x == math.Trunc(x), nil
}

func nearInt(args ...any) (any, error) {
	if err := arity("near_int", args, 2); err != nil {
		return nil, err
	}
	x, err := argFloat("near_int", "x", args, 0)
	if err != nil {
		return nil, err
	}
	eps, err := argFloat("near_int", "eps", args, 1)
	if err != nil {
		return nil, err
	}
	if eps < 0 {
		return nil, fmt.Errorf("near_int: eps = %v must not be negative", eps)
	}
	if math.IsInf(x, 0) {
		return false, nil
	}
	return distToInt(x) <= eps, nil
}
