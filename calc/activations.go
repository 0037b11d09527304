package calc

import (
	"fmt"
	"math"
)

// Activation is an activation function with its formula and the properties
// exam questions ask about. The properties are declared, and the tests check
// each against Eval numerically.
type Activation struct {
	// Name is the function's name as a paper prints it, e.g. "ReLU".
	Name string
	// Formula is the definition in LaTeX, e.g. `g(s) = \sin(s)`.
	Formula string
	// Eval computes g(s); it is finite for every finite s.
	Eval func(s float64) float64
	// ZeroCentred: g is odd, g(-s) = -g(s), so g(0) = 0.
	ZeroCentred bool
	// Cheap: g is piecewise linear, needing no exp, log, trigonometry,
	// division or erf.
	Cheap bool
	// Bounded: g's output is bounded above and below.
	Bounded bool
	// Monotonic: g never decreases as s increases.
	Monotonic bool
	// Squashing: g is bounded and strictly increasing, so it maps every
	// input into a fixed interval while keeping the order of its inputs
	// (a larger input always gives a larger output): it normalises or
	// scales the data. Clipping (Hard tanh, ReLU6), thresholds (Binary
	// step), periodic (Sine) and bump (Gaussian) functions are bounded
	// but not squashing.
	Squashing bool
}

// Activations returns the pool of activation functions questions can draw
// from: the five of the DASC7606 paper first (Sigmoid, Tanh, ReLU, Sine,
// SiLU), then others in common use.
func Activations() []Activation {
	return []Activation{
		{Name: "Sigmoid", Formula: `g(s) = \frac{1}{1 + e^{-s}}`, Eval: sigmoid,
			Bounded: true, Monotonic: true, Squashing: true},
		{Name: "Tanh", Formula: `g(s) = \frac{2}{1 + e^{-2s}} - 1`, Eval: math.Tanh,
			ZeroCentred: true, Bounded: true, Monotonic: true, Squashing: true},
		{Name: "ReLU", Formula: `g(s) = \begin{cases} 0 & \text{for } s < 0 \\ s & \text{for } s \geq 0 \end{cases}`, Eval: relu,
			Cheap: true, Monotonic: true},
		{Name: "Sine", Formula: `g(s) = \sin(s)`, Eval: math.Sin,
			ZeroCentred: true, Bounded: true},
		{Name: "SiLU (Sigmoid Linear Unit)", Formula: `g(s) = \frac{s}{1 + e^{-s}}`, Eval: func(s float64) float64 { return s * sigmoid(s) }},
		{Name: "Leaky ReLU", Formula: `g(s) = \begin{cases} 0.01s & \text{for } s < 0 \\ s & \text{for } s \geq 0 \end{cases}`, Eval: leakyReLU,
			Cheap: true, Monotonic: true},
		{Name: "ELU (Exponential Linear Unit)", Formula: `g(s) = \begin{cases} e^{s} - 1 & \text{for } s < 0 \\ s & \text{for } s \geq 0 \end{cases}`, Eval: elu,
			Monotonic: true},
		{Name: "GELU (Gaussian Error Linear Unit)", Formula: `g(s) = \frac{s}{2}\left(1 + \operatorname{erf}\left(\frac{s}{\sqrt{2}}\right)\right)`, Eval: func(s float64) float64 { return s * normCDF(s) }},
		{Name: "Softplus", Formula: `g(s) = \ln(1 + e^{s})`, Eval: softplus,
			Monotonic: true},
		{Name: "Softsign", Formula: `g(s) = \frac{s}{1 + |s|}`, Eval: func(s float64) float64 { return s / (1 + math.Abs(s)) },
			ZeroCentred: true, Bounded: true, Monotonic: true, Squashing: true},
		{Name: "Hard tanh", Formula: `g(s) = \begin{cases} -1 & \text{for } s < -1 \\ s & \text{for } -1 \leq s \leq 1 \\ 1 & \text{for } s > 1 \end{cases}`, Eval: func(s float64) float64 { return math.Max(-1, math.Min(1, s)) },
			ZeroCentred: true, Cheap: true, Bounded: true, Monotonic: true},
		{Name: "Identity", Formula: `g(s) = s`, Eval: func(s float64) float64 { return s },
			ZeroCentred: true, Cheap: true, Monotonic: true},
		{Name: "Arctan", Formula: `g(s) = \tan^{-1}(s)`, Eval: math.Atan,
			ZeroCentred: true, Bounded: true, Monotonic: true, Squashing: true},
		{Name: "Hard sigmoid", Formula: `g(s) = \begin{cases} 0 & \text{for } s < -2.5 \\ 0.2s + 0.5 & \text{for } -2.5 \leq s \leq 2.5 \\ 1 & \text{for } s > 2.5 \end{cases}`, Eval: func(s float64) float64 { return math.Max(0, math.Min(1, 0.2*s+0.5)) },
			Cheap: true, Bounded: true, Monotonic: true},
		{Name: "Mish", Formula: `g(s) = s \tanh(\ln(1 + e^{s}))`, Eval: func(s float64) float64 { return s * math.Tanh(softplus(s)) }},
		{Name: "Gaussian", Formula: `g(s) = e^{-s^2}`, Eval: func(s float64) float64 { return math.Exp(-s * s) },
			Bounded: true},
		{Name: "Swish (β = 2)", Formula: `g(s) = \frac{s}{1 + e^{-2s}}`, Eval: func(s float64) float64 { return s * sigmoid(2*s) }},
		{Name: "Binary step", Formula: `g(s) = \begin{cases} 0 & \text{for } s < 0 \\ 1 & \text{for } s \geq 0 \end{cases}`, Eval: step,
			Cheap: true, Bounded: true, Monotonic: true},
		{Name: "ReLU6", Formula: `g(s) = \min(\max(0, s), 6)`, Eval: func(s float64) float64 { return math.Min(math.Max(0, s), 6) },
			Cheap: true, Bounded: true, Monotonic: true},
	}
}

func relu(s float64) float64 { return math.Max(0, s) }

func leakyReLU(s float64) float64 {
	if s < 0 {
		return 0.01 * s
	}
	return s
}

func elu(s float64) float64 {
	if s < 0 {
		return math.Expm1(s)
	}
	return s
}

// softplus computes ln(1 + e^s) without overflow.
func softplus(s float64) float64 { return math.Max(s, 0) + math.Log1p(math.Exp(-math.Abs(s))) }

func step(s float64) float64 {
	if s < 0 {
		return 0
	}
	return 1
}

// activationFuncs returns the template functions over the activation pool.
func activationFuncs() []Func {
	return []Func{
		{Name: "activations", Doc: "activations() — the pool of activation functions, each a map {name, formula, zero_centred, cheap, bounded, monotonic, squashing}; e.g. map(filter(activations(), .squashing), .name)", Fn: activations},
		{Name: "activate", Doc: "activate(name, s) — g(s) for the activation function called name in activations()", Fn: activate},
	}
}

func activations(args ...any) (any, error) {
	if err := arity("activations", args, 0); err != nil {
		return nil, err
	}
	pool := Activations()
	out := make([]any, len(pool))
	for i, a := range pool {
		out[i] = map[string]any{
			"name":         a.Name,
			"formula":      a.Formula,
			"zero_centred": a.ZeroCentred,
			"cheap":        a.Cheap,
			"bounded":      a.Bounded,
			"monotonic":    a.Monotonic,
			"squashing":    a.Squashing,
		}
	}
	return out, nil
}

func activate(args ...any) (any, error) {
	if err := arity("activate", args, 2); err != nil {
		return nil, err
	}
	name, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("activate: name: %v (%T) is not a string", args[0], args[0])
	}
	s, err := finite("activate", args, 1)
	if err != nil {
		return nil, err
	}
	for _, a := range Activations() {
		if a.Name == name {
			return a.Eval(s), nil
		}
	}
	return nil, fmt.Errorf("activate: no activation function %q", name)
}
