package calc

import (
	"fmt"
	"math"
	"strings"
)

// domainFuncs returns the functions of the question bank's subject matter:
// quantisation tables, nearest-entry lookup, binary codes, choosing the
// smallest item meeting a bound, vectors and matrices, self-attention,
// decoding sums of embeddings, and number formatting for prompts.
func domainFuncs() []Func {
	return []Func{
		{Name: "nearest", Doc: "nearest(table, x) — the entry of table nearest x (the first on an exact tie)", Fn: nearest},
		{Name: "nearest_index", Doc: "nearest_index(table, x) — 0-based index of the entry of table nearest x", Fn: nearestIndex},
		{Name: "tie_gap", Doc: "tie_gap(table, x) — |d1 - d2| for the distances d1, d2 from x to its nearest and second-nearest entries; small means x is near a tie", Fn: tieGap},
		{Name: "bin", Doc: "bin(i, n) — the n-bit binary code of index 0 ≤ i < 2^n, e.g. bin(5, 4) = \"0101\"", Fn: bin},
		{Name: "smallest", Doc: "smallest(list, bound) — the smallest number in list that is ≥ bound; error when none is", Fn: smallest},
		{Name: "smallest_index", Doc: "smallest_index(list, bound) — 0-based index of the smallest number ≥ bound, or -1 when none is", Fn: smallestIndex},
		{Name: "smallest_by", Doc: "smallest_by(names, values, bound) — the name paired with the smallest value ≥ bound, or \"\" when none fits", Fn: smallestBy},
		{Name: "lookup", Doc: "lookup(names, values, name) — the value paired with name", Fn: lookup},
		{Name: "index_of", Doc: "index_of(list, x) — 0-based index of the first item equal to x (numbers compare by value), or -1", Fn: indexOf},
	}
}

// table converts argument i of fn to a non-empty list of numbers.
func table(fn, name string, args []any, i int) ([]float64, error) {
	t, err := Floats(args[i])
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", fn, name, err)
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("%s: %s is empty", fn, name)
	}
	return t, nil
}

// nearestPos returns the index of the entry of t nearest x and the
// distances to the nearest and second-nearest entries (the second is +Inf
// for a one-entry table).
func nearestPos(t []float64, x float64) (int, float64, float64) {
	best, d1, d2 := -1, math.Inf(1), math.Inf(1)
	for i, v := range t {
		d := math.Abs(v - x)
		switch {
		case d < d1:
			best, d1, d2 = i, d, d1
		case d < d2:
			d2 = d
		}
	}
	return best, d1, d2
}

func nearestArgs(fn string, args []any) ([]float64, float64, error) {
	if err := arity(fn, args, 2); err != nil {
		return nil, 0, err
	}
	t, err := table(fn, "table", args, 0)
	if err != nil {
		return nil, 0, err
	}
	x, err := argFloat(fn, "x", args, 1)
	if err != nil {
		return nil, 0, err
	}
	return t, x, nil
}

func nearest(args ...any) (any, error) {
	t, x, err := nearestArgs("nearest", args)
	if err != nil {
		return nil, err
	}
	i, _, _ := nearestPos(t, x)
	l, _ := List(args[0])
	return l[i], nil
}

func nearestIndex(args ...any) (any, error) {
	t, x, err := nearestArgs("nearest_index", args)
	if err != nil {
		return nil, err
	}
	i, _, _ := nearestPos(t, x)
	return i, nil
}

func tieGap(args ...any) (any, error) {
	t, x, err := nearestArgs("tie_gap", args)
	if err != nil {
		return nil, err
	}
	if len(t) < 2 {
		return nil, fmt.Errorf("tie_gap: table needs at least 2 entries, has %d", len(t))
	}
	_, d1, d2 := nearestPos(t, x)
	return d2 - d1, nil
}

func bin(args ...any) (any, error) {
	if err := arity("bin", args, 2); err != nil {
		return nil, err
	}
	i, err := argInt("bin", "i", args, 0)
	if err != nil {
		return nil, err
	}
	n, err := argInt("bin", "n", args, 1)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 62 {
		return nil, fmt.Errorf("bin: n = %d bits outside [1, 62]", n)
	}
	if i < 0 || i >= 1<<n {
		return nil, fmt.Errorf("bin: i = %d outside [0, %d] for %d bits", i, 1<<n-1, n)
	}
	var b strings.Builder
	b.Grow(n)
	for k := n - 1; k >= 0; k-- {
		b.WriteByte('0' + byte(i>>k&1))
	}
	return b.String(), nil
}

// smallestPos returns the index of the smallest item of l that is ≥ bound
// (the first such on equal values), or -1.
func smallestPos(l []float64, bound float64) int {
	best := -1
	for i, v := range l {
		if v >= bound && (best < 0 || v < l[best]) {
			best = i
		}
	}
	return best
}

func smallestArgs(fn string, args []any, i int) ([]float64, float64, error) {
	l, err := Floats(args[i])
	if err != nil {
		return nil, 0, fmt.Errorf("%s: list: %w", fn, err)
	}
	bound, err := argFloat(fn, "bound", args, i+1)
	if err != nil {
		return nil, 0, err
	}
	return l, bound, nil
}

func smallest(args ...any) (any, error) {
	if err := arity("smallest", args, 2); err != nil {
		return nil, err
	}
	l, bound, err := smallestArgs("smallest", args, 0)
	if err != nil {
		return nil, err
	}
	i := smallestPos(l, bound)
	if i < 0 {
		return nil, fmt.Errorf("smallest: no item is ≥ %v", bound)
	}
	items, _ := List(args[0])
	return items[i], nil
}

func smallestIndex(args ...any) (any, error) {
	if err := arity("smallest_index", args, 2); err != nil {
		return nil, err
	}
	l, bound, err := smallestArgs("smallest_index", args, 0)
	if err != nil {
		return nil, err
	}
	return smallestPos(l, bound), nil
}

func smallestBy(args ...any) (any, error) {
	if err := arity("smallest_by", args, 3); err != nil {
		return nil, err
	}
	names, err := Strings(args[0])
	if err != nil {
		return nil, fmt.Errorf("smallest_by: names: %w", err)
	}
	l, bound, err := smallestArgs("smallest_by", args, 1)
	if err != nil {
		return nil, err
	}
	if len(names) != len(l) {
		return nil, fmt.Errorf("smallest_by: %d names but %d values", len(names), len(l))
	}
	i := smallestPos(l, bound)
	if i < 0 {
		return "", nil
	}
	return names[i], nil
}

func lookup(args ...any) (any, error) {
	if err := arity("lookup", args, 3); err != nil {
		return nil, err
	}
	names, err := Strings(args[0])
	if err != nil {
		return nil, fmt.Errorf("lookup: names: %w", err)
	}
	values, err := List(args[1])
	if err != nil {
		return nil, fmt.Errorf("lookup: values: %w", err)
	}
	if len(names) != len(values) {
		return nil, fmt.Errorf("lookup: %d names but %d values", len(names), len(values))
	}
	name, ok := args[2].(string)
	if !ok {
		name = fmt.Sprint(args[2])
	}
	for i, n := range names {
		if n == name {
			return values[i], nil
		}
	}
	return nil, fmt.Errorf("lookup: no name %q among %d names", name, len(names))
}

// equal reports whether a and b are equal, comparing numbers by value.
func equal(a, b any) bool {
	fa, errA := Float(a)
	fb, errB := Float(b)
	if errA == nil && errB == nil {
		return fa == fb
	}
	if errA == nil || errB == nil {
		return false
	}
	sa, okA := a.(string)
	sb, okB := b.(string)
	if okA && okB {
		return sa == sb
	}
	if ba, ok := a.(bool); ok {
		bb, ok := b.(bool)
		return ok && ba == bb
	}
	return false
}

func indexOf(args ...any) (any, error) {
	if err := arity("index_of", args, 2); err != nil {
		return nil, err
	}
	l, err := List(args[0])
	if err != nil {
		return nil, fmt.Errorf("index_of: list: %w", err)
	}
	for i, v := range l {
		if equal(v, args[1]) {
			return i, nil
		}
	}
	return -1, nil
}
