package calc

import (
	"math"
	"testing"
)

func TestMathValues(t *testing.T) {
	runValues(t, []valueCase{
		{"exp(0)", 1.0},
		{"exp(1)", math.E},
		{"ln(1)", 0.0},
		{"ln(2)", 0.6931471805599453},
		{"log(8, 2)", 3.0},
		{"log(1000, 10)", 3.0},
		{"log2(8)", 3.0},
		{"log2(1024)", 10.0},
		{"log2(0.5)", -1.0},
		{"log10(1000)", 3.0},
		{"sqrt(16)", 4.0},
		{"sqrt(2)", 1.4142135623730951},
		{"pow(2, 10)", 1024.0},
		{"pow(2, -1)", 0.5},
		{"pow(4, 0.5)", 2.0},
		{"sin(pi() / 2)", 1.0},
		{"cos(0)", 1.0},
		{"tanh(0)", 0.0},
		{"tanh(1)", 0.7615941559557649},
		{"sigmoid(0)", 0.5},
		{"sigmoid(2)", 0.8807970779778823},
		{"sigmoid(-2)", 0.11920292202211755},
		{"sigmoid(-800)", 0.0},
		{"sigmoid(800)", 1.0},
		{"pi()", math.Pi},
		{"roundto(2.675, 2)", 2.68},
		{"roundto(0.125, 2)", 0.13},
		{"roundto(-2.5, 0)", -3.0},
		{"roundto(1234.5, -2)", 1200.0},
		{"roundto(1250, -2)", 1300.0},
		{"roundto(0.9, 0)", 1.0},
		{"roundto(-0.004, 2)", 0.0},
		{"roundto(1.005, 2)", 1.01},
		{"roundto(0.285, 2)", 0.29},
		{"roundto(-0.285, 2)", -0.29},
		{"roundto(0.28499, 2)", 0.28},
		{"roundto(1e20, 2)", 1e20},
		{"roundto(1e300, 15)", 1e300},
		{"roundto(1125899906842624.5, 0)", 1125899906842624.5 + 0.5},
		{"roundto(562949953421312.25, 0)", 562949953421312.0},
		{"sigfig(173408256, 4)", 173400000.0},
		{"sigfig(0.00012345, 3)", 0.000123},
		{"sigfig(9.996, 3)", 10.0},
		{"sigfig(-0.0456, 1)", -0.05},
		{"sigfig(0, 3)", 0.0},
		{"clamp(5, 0, 3)", 3},
		{"clamp(-1, 0, 3)", 0},
		{"clamp(-1.5, 0, 3)", 0.0},
		{"clamp(2.5, 0, 3)", 2.5},
		{"isint(2)", true},
		{"isint(2.0)", true},
		{"isint(2.5)", false},
		{"isint(70e9 * 4 / 8 / 1e9)", true},
		{"frac(2.3)", 0.2999999999999998},
		{"frac(-2.7)", 0.30000000000000027},
		{"frac(2.5)", 0.5},
		{"frac(4)", 0.0},
		{"near_int(2.001, 0.01)", true},
		{"near_int(2.1, 0.01)", false},
		{"near_int(-3.0000001, 1e-6)", true},
		{"norm_cdf(0)", 0.5},
		{"norm_cdf(1.959963984540054)", 0.975},
		{"norm_ppf(0.975)", 1.959963984540054},
		{"norm_ppf(0.5)", 0.0},
		{"norm_ppf(norm_cdf(-1.3))", -1.3},
	})
}

func TestMathErrors(t *testing.T) {
	runErrors(t, []errorCase{
		{"$env['x5b']", "$env is not available: name the parameters the expression reads"},
		{"len($env)", "$env is not available"},
		{"exp(1, 2)", "exp: want 1 argument, got 2"},
		{"pi(1)", "pi: want 0 arguments, got 1"},
		{"exp(1000)", "exp: result +Inf is not a finite number"},
		{"ln(0)", "ln: x = 0 must be positive"},
		{"ln(-1)", "ln: x = -1 must be positive"},
		{"ln('a')", "ln: x: a (string) is not a number"},
		{"log(0, 2)", "log: x = 0 must be positive"},
		{"log(8, 1)", "log: base = 1 must be positive and not 1"},
		{"log2(0)", "log2: x = 0 must be positive"},
		{"log10(-5)", "log10: x = -5 must be positive"},
		{"sqrt(-1)", "sqrt: x = -1 must not be negative"},
		{"pow(-8, 0.5)", "pow: result NaN is not a finite number"},
		{"pow(0, -1)", "pow: result +Inf"},
		{"sin([1])", "sin: x: [1] ([]interface {}) is not a number"},
		{"roundto(1, 0.5)", "roundto: decimals: 0.5 is not an integer"},
		{"roundto(1, 20)", "roundto: decimals = 20 outside [-15, 15]"},
		{"sigfig(1, 0)", "sigfig: n = 0 outside [1, 17]"},
		{"clamp(1, 3, 0)", "clamp: lo = 3 is above hi = 0"},
		{"clamp(1.5, 3, 0)", "clamp: lo = 3 is above hi = 0"},
		{"clamp(nil, 0, 1)", "clamp: x:"},
		{"isint('2')", "isint: x:"},
		{"near_int(1, -1)", "near_int: eps = -1 must not be negative"},
		{"norm_ppf(1)", "norm_ppf: x = 1 must be strictly between 0 and 1"},
		{"norm_ppf(0)", "norm_ppf: x = 0 must be strictly between 0 and 1"},
	})
}

func TestRoundingNeverGivesNegativeZero(t *testing.T) {
	for _, x := range []float64{-0.004, math.Copysign(0, -1), -1e-300} {
		for _, d := range []int{0, 2} {
			if got := roundHalf(x, d); got != 0 || math.Signbit(got) {
				t.Errorf("roundHalf(%v, %d) = %v (sign bit %v), want +0", x, d, got, math.Signbit(got))
			}
		}
	}
}
