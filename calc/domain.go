package calc

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// domainFuncs returns the functions of the question bank's subject matter:
// quantisation tables, nearest-entry lookup, binary codes, choosing the
// smallest item meeting a bound, vectors and matrices, self-attention,
// decoding sums of embeddings, and number formatting for prompts.
func domainFuncs() []Func {
	fs := []Func{
		{Name: "nearest", Doc: "nearest(table, x) — the entry of table nearest x (the first on an exact tie)", Fn: nearest},
		{Name: "nearest_index", Doc: "nearest_index(table, x) — 0-based index of the entry of table nearest x", Fn: nearestIndex},
		{Name: "tie_gap", Doc: "tie_gap(table, x) — |d1 - d2| for the distances d1, d2 from x to its nearest and second-nearest entries; small means x is near a tie", Fn: tieGap},
		{Name: "bin", Doc: "bin(i, n) — the n-bit binary code of index 0 ≤ i < 2^n, e.g. bin(5, 4) = \"0101\"", Fn: bin},
		{Name: "smallest", Doc: "smallest(list, bound) — the smallest number in list that is ≥ bound; error when none is", Fn: smallest},
		{Name: "smallest_index", Doc: "smallest_index(list, bound) — 0-based index of the smallest number ≥ bound, or -1 when none is", Fn: smallestIndex},
		{Name: "smallest_by", Doc: "smallest_by(names, values, bound) — the name paired with the smallest value ≥ bound, or \"\" when none fits", Fn: smallestBy},
		{Name: "min_gap_ratio", Doc: "min_gap_ratio(list, x) — the smallest |item - x| / |item| over the items: how close x comes to any item, relatively", Fn: minGapRatio},
		{Name: "uniform_table", Doc: "uniform_table(bits, lo, hi) — 2^bits equally spaced values from lo to hi inclusive (exact; see roundall)", Fn: uniformTable},
		{Name: "normal_table", Doc: "normal_table(bits[, decimals]) — NF-style quantisation table of 2^bits values in [-1, 1] for normally distributed weights, rounded to decimals (default 2); normal_table(4) is the NF4 table", Fn: normalTable},
		{Name: "roundall", Doc: "roundall(list, decimals) — every number of list rounded half away from zero to decimals places", Fn: roundAll},
		{Name: "lookup_all", Doc: "lookup_all(names, values, keys) — the value paired with each of keys, in order: lookup_all(gpus, vram, ['T4', 'H100'])", Fn: lookupAll},
		{Name: "lookup", Doc: "lookup(names, values, name) — the value paired with name", Fn: lookup},
		{Name: "index_of", Doc: "index_of(list, x) — 0-based index of the first item equal to x (numbers compare by value, lists item by item), or -1", Fn: indexOf},
		{Name: "without", Doc: "without(list, x) — the items of list not equal to x, in order", Fn: without},
		{Name: "insert", Doc: "insert(list, i, x) — list with x inserted before its item i (0 ≤ i ≤ len(list)), e.g. insert([1, 4], 1, 2) = [1, 2, 4]", Fn: insert},
		{Name: "distinct", Doc: "distinct(list) — whether no two items of list are equal (numbers compare by value, lists item by item; NaN equals nothing, a record is never equal to another)", Fn: distinct},
		{Name: "permute", Doc: "permute(list, perm) — list reordered so item i of the result is list[perm[i]]; perm is a permutation of 0..n-1", Fn: permute},
		{Name: "argmax", Doc: "argmax(list) — 0-based index of the largest number (the first on a tie)", Fn: func(args ...any) (any, error) { return argBest("argmax", args, 1) }},
		{Name: "rank", Doc: "rank(labels, values) — [label, value, index] for every pair, largest value first (ties keep list order), e.g. rank(['a', 'b'], [1, 3]) = [['b', 3, 1], ['a', 1, 0]]", Fn: rank},
		{Name: "argmin", Doc: "argmin(list) — 0-based index of the smallest number (the first on a tie)", Fn: func(args ...any) (any, error) { return argBest("argmin", args, -1) }},
	}
	fs = append(fs, linalgFuncs()...)
	fs = append(fs, activationFuncs()...)
	return append(fs, formatFuncs()...)
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
	l, _ := list(args[0])
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
	l, err := floats(fn, "list", args, i)
	if err != nil {
		return nil, 0, err
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
	items, _ := list(args[0])
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
	names, err := strs(args[0])
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
	values, err := list(args[1])
	if err != nil {
		return nil, fmt.Errorf("lookup: values: %w", err)
	}
	name, ok := args[2].(string)
	if !ok {
		name = fmt.Sprint(args[2])
	}
	// A list of strings, as templates write it, is searched as it is; other
	// lists are converted first.
	if names, ok := args[0].([]any); ok {
		if len(names) != len(values) {
			return nil, fmt.Errorf("lookup: %d names but %d values", len(names), len(values))
		}
		for i, n := range names {
			s, isStr := n.(string)
			if !isStr {
				s = fmt.Sprint(n)
			}
			if s == name {
				return values[i], nil
			}
		}
		return nil, fmt.Errorf("lookup: no name %q among %d names", name, len(names))
	}
	names, err := strs(args[0])
	if err != nil {
		return nil, fmt.Errorf("lookup: names: %w", err)
	}
	if len(names) != len(values) {
		return nil, fmt.Errorf("lookup: %d names but %d values", len(names), len(values))
	}
	for i, n := range names {
		if n == name {
			return values[i], nil
		}
	}
	return nil, fmt.Errorf("lookup: no name %q among %d names", name, len(names))
}

func lookupAll(args ...any) (any, error) {
	if err := arity("lookup_all", args, 3); err != nil {
		return nil, err
	}
	keys, err := list(args[2])
	if err != nil {
		return nil, fmt.Errorf("lookup_all: keys: %w", err)
	}
	out := make([]any, len(keys))
	for i, k := range keys {
		v, err := lookup(args[0], args[1], k)
		if err != nil {
			return nil, fmt.Errorf("lookup_all: key %d: %w", i+1, err)
		}
		out[i] = v
	}
	return out, nil
}

// equal reports whether a and b are equal, comparing numbers by value and
// lists item by item.
func equal(a, b any) bool {
	if la, ok := a.([]any); ok {
		lb, ok := b.([]any)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !equal(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
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

func without(args ...any) (any, error) {
	if err := arity("without", args, 2); err != nil {
		return nil, err
	}
	l, err := list(args[0])
	if err != nil {
		return nil, fmt.Errorf("without: list: %w", err)
	}
	out := make([]any, 0, len(l))
	for _, v := range l {
		if !equal(v, args[1]) {
			out = append(out, v)
		}
	}
	return out, nil
}

func insert(args ...any) (any, error) {
	if err := arity("insert", args, 3); err != nil {
		return nil, err
	}
	l, err := list(args[0])
	if err != nil {
		return nil, fmt.Errorf("insert: list: %w", err)
	}
	i, err := argInt("insert", "i", args, 1)
	if err != nil {
		return nil, err
	}
	if i < 0 || i > len(l) {
		return nil, fmt.Errorf("insert: i = %d outside [0, %d]", i, len(l))
	}
	out := make([]any, 0, len(l)+1)
	out = append(out, l[:i]...)
	out = append(out, args[2])
	return append(out, l[i:]...), nil
}

func distinct(args ...any) (any, error) {
	if err := arity("distinct", args, 1); err != nil {
		return nil, err
	}
	l, err := list(args[0])
	if err != nil {
		return nil, fmt.Errorf("distinct: list: %w", err)
	}
	for i := range l {
		for j := i + 1; j < len(l); j++ {
			if equal(l[i], l[j]) {
				return false, nil
			}
		}
	}
	return true, nil
}

func indexOf(args ...any) (any, error) {
	if err := arity("index_of", args, 2); err != nil {
		return nil, err
	}
	l, err := list(args[0])
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

// floatList converts a list of numbers to []float64 without normalising a
// copy first. On failure it returns the 0-based index of the bad item (-1
// when v is no list) and the error.
func floatList(v any) ([]float64, int, error) {
	switch l := v.(type) {
	case []any:
		out := make([]float64, len(l))
		for k, e := range l {
			var err error
			if out[k], err = Float(e); err != nil {
				return nil, k, err
			}
		}
		return out, 0, nil
	case []float64:
		return l, 0, nil
	}
	out, err := Floats(v)
	if err != nil {
		return nil, -1, err
	}
	return out, 0, nil
}

// floats converts argument i of fn, called name in messages, to []float64.
func floats(fn, name string, args []any, i int) ([]float64, error) {
	out, k, err := floatList(args[i])
	switch {
	case err == nil:
		return out, nil
	case k < 0:
		return nil, fmt.Errorf("%s: %s: %w", fn, name, err)
	}
	return nil, fmt.Errorf("%s: %s item %d: %w", fn, name, k+1, err)
}

// table converts argument i of fn to a non-empty list of numbers.
func table(fn, name string, args []any, i int) ([]float64, error) {
	t, err := floats(fn, name, args, i)
	if err != nil {
		return nil, err
	}
	if len(t) == 0 {
		return nil, fmt.Errorf("%s: %s is empty", fn, name)
	}
	return t, nil
}

// matrix converts argument i of fn to a non-empty rectangular matrix.
func matrix(fn, name string, args []any, i int) ([][]float64, error) {
	var (
		m   [][]float64
		err error
	)
	if rows, ok := args[i].([]any); ok {
		// The common case, converted without normalising a copy first, into
		// one backing array for all the rows.
		total := 0
		for _, row := range rows {
			if l, ok := row.([]any); ok {
				total += len(l)
			}
		}
		buf := make([]float64, 0, total)
		m = make([][]float64, len(rows))
		for r, row := range rows {
			if l, ok := row.([]any); ok {
				start := len(buf)
				for k, e := range l {
					f, err := Float(e)
					if err != nil {
						return nil, fmt.Errorf("%s: %s row %d item %d: %w", fn, name, r+1, k+1, err)
					}
					buf = append(buf, f)
				}
				m[r] = buf[start:len(buf):len(buf)]
				continue
			}
			var k int
			if m[r], k, err = floatList(row); err != nil {
				if k < 0 {
					return nil, fmt.Errorf("%s: %s row %d: %w", fn, name, r+1, err)
				}
				return nil, fmt.Errorf("%s: %s row %d item %d: %w", fn, name, r+1, k+1, err)
			}
		}
	} else if m, err = Matrix(args[i]); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", fn, name, err)
	}
	if len(m) == 0 || len(m[0]) == 0 {
		return nil, fmt.Errorf("%s: %s is empty", fn, name)
	}
	for r, row := range m {
		if len(row) != len(m[0]) {
			return nil, fmt.Errorf("%s: %s row %d has %d columns, row 1 has %d", fn, name, r+1, len(row), len(m[0]))
		}
	}
	return m, nil
}

// vec returns v as a normalised list.
func vec(v []float64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// mat returns m as a normalised list of lists.
func mat(m [][]float64) []any {
	out := make([]any, len(m))
	for i, row := range m {
		out[i] = vec(row)
	}
	return out
}

func minGapRatio(args ...any) (any, error) {
	if err := arity("min_gap_ratio", args, 2); err != nil {
		return nil, err
	}
	l, err := table("min_gap_ratio", "list", args, 0)
	if err != nil {
		return nil, err
	}
	x, err := argFloat("min_gap_ratio", "x", args, 1)
	if err != nil {
		return nil, err
	}
	best := math.Inf(1)
	for i, v := range l {
		if v == 0 {
			return nil, fmt.Errorf("min_gap_ratio: list item %d is 0", i+1)
		}
		best = math.Min(best, math.Abs(v-x)/math.Abs(v))
	}
	return best, nil
}

// maxTableBits bounds the size of generated quantisation tables.
const maxTableBits = 16

func tableBits(fn string, args []any, lo int) (int, error) {
	b, err := argInt(fn, "bits", args, 0)
	if err != nil {
		return 0, err
	}
	if b < lo || b > maxTableBits {
		return 0, fmt.Errorf("%s: bits = %d outside [%d, %d]", fn, b, lo, maxTableBits)
	}
	return b, nil
}

func uniformTable(args ...any) (any, error) {
	if err := arity("uniform_table", args, 3); err != nil {
		return nil, err
	}
	b, err := tableBits("uniform_table", args, 1)
	if err != nil {
		return nil, err
	}
	lo, err := argFloat("uniform_table", "lo", args, 1)
	if err != nil {
		return nil, err
	}
	hi, err := argFloat("uniform_table", "hi", args, 2)
	if err != nil {
		return nil, err
	}
	if !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil, fmt.Errorf("uniform_table: need finite lo < hi, got lo = %v, hi = %v", lo, hi)
	}
	n := 1 << b
	out := make([]any, n)
	for i := range n {
		out[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	out[n-1] = hi
	return out, nil
}

// probit is the quantile function of the standard normal distribution.
func probit(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// NormalTable returns the 2^bits-value quantisation table for normally
// distributed weights normalised to [-1, 1], built as QLoRA builds NF4:
// 2^(bits-1) positive and 2^(bits-1)-1 negative normal quantiles taken at
// evenly spaced probabilities between 1/2 and an offset, plus an exact zero,
// divided by the largest. The offset is the mean of 1-1/(2(n-1)) and
// 1-1/(2n) for n = 2^bits (0.9677083 for 4 bits). Values are exact, in
// increasing order. bits must be in [2, 16].
func NormalTable(bits int) ([]float64, error) {
	if bits < 2 || bits > maxTableBits {
		return nil, fmt.Errorf("normal table: bits = %d outside [2, %d]", bits, maxTableBits)
	}
	n := 1 << bits
	offset := (1 - 1/(2*float64(n-1)) + 1 - 1/(2*float64(n))) / 2
	half := n / 2
	out := make([]float64, n)
	top := probit(offset)
	// Negative side: -probit of linspace(offset, 1/2, half)[:-1], i.e. half-1 values.
	for i := range half - 1 {
		p := offset + (0.5-offset)*float64(i)/float64(half-1)
		out[i] = -probit(p) / top
	}
	out[half-1] = 0
	// Positive side: probit of linspace(offset, 1/2, half+1)[:-1], i.e. half values.
	for i := range half {
		p := offset + (0.5-offset)*float64(i)/float64(half)
		out[n-1-i] = probit(p) / top
	}
	out[0], out[n-1] = -1, 1
	return out, nil
}

func normalTable(args ...any) (any, error) {
	if len(args) != 1 && len(args) != 2 {
		return nil, fmt.Errorf("normal_table: want 1 or 2 arguments, got %d", len(args))
	}
	b, err := tableBits("normal_table", args, 2)
	if err != nil {
		return nil, err
	}
	d := 2
	if len(args) == 2 {
		if d, err = argInt("normal_table", "decimals", args, 1); err != nil {
			return nil, err
		}
		if d < 0 || d > 15 {
			return nil, fmt.Errorf("normal_table: decimals = %d outside [0, 15]", d)
		}
	}
	t, err := NormalTable(b)
	if err != nil {
		return nil, fmt.Errorf("normal_table: %w", err)
	}
	out := make([]any, len(t))
	for i, v := range t {
		out[i] = roundHalf(v, d)
	}
	return out, nil
}

func roundAll(args ...any) (any, error) {
	if err := arity("roundall", args, 2); err != nil {
		return nil, err
	}
	l, err := floats("roundall", "list", args, 0)
	if err != nil {
		return nil, err
	}
	d, err := argInt("roundall", "decimals", args, 1)
	if err != nil {
		return nil, err
	}
	if d < -15 || d > 15 {
		return nil, fmt.Errorf("roundall: decimals = %d outside [-15, 15]", d)
	}
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = roundHalf(v, d)
	}
	return out, nil
}

func permute(args ...any) (any, error) {
	if err := arity("permute", args, 2); err != nil {
		return nil, err
	}
	l, err := list(args[0])
	if err != nil {
		return nil, fmt.Errorf("permute: list: %w", err)
	}
	p, err := list(args[1])
	if err != nil {
		return nil, fmt.Errorf("permute: perm: %w", err)
	}
	if len(p) != len(l) {
		return nil, fmt.Errorf("permute: perm has %d items, list has %d", len(p), len(l))
	}
	seen := make([]bool, len(l))
	out := make([]any, len(l))
	for i, e := range p {
		k, err := Int(e)
		if err != nil {
			return nil, fmt.Errorf("permute: perm item %d: %w", i+1, err)
		}
		if k < 0 || k >= len(l) || seen[k] {
			return nil, fmt.Errorf("permute: perm is not a permutation of 0..%d (item %d is %d)", len(l)-1, i+1, k)
		}
		seen[k] = true
		out[i] = l[k]
	}
	return out, nil
}

// argBest returns the index of the largest (sign 1) or smallest (sign -1)
// number in the list argument.
func argBest(fn string, args []any, sign float64) (any, error) {
	if err := arity(fn, args, 1); err != nil {
		return nil, err
	}
	l, err := table(fn, "list", args, 0)
	if err != nil {
		return nil, err
	}
	best := 0
	for i, v := range l {
		if sign*v > sign*l[best] {
			best = i
		}
	}
	return best, nil
}

func rank(args ...any) (any, error) {
	if err := arity("rank", args, 2); err != nil {
		return nil, err
	}
	labels, err := list(args[0])
	if err != nil {
		return nil, fmt.Errorf("rank: labels: %w", err)
	}
	values, err := floats("rank", "values", args, 1)
	if err != nil {
		return nil, err
	}
	if len(labels) != len(values) {
		return nil, fmt.Errorf("rank: %d labels for %d values", len(labels), len(values))
	}
	for i, v := range values {
		if math.IsNaN(v) {
			return nil, fmt.Errorf("rank: value %d is NaN", i+1)
		}
	}
	order := make([]int, len(values))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return values[order[a]] > values[order[b]] })
	out := make([]any, len(order))
	for i, k := range order {
		out[i] = []any{labels[k], values[k], k}
	}
	return out, nil
}

// list returns v as a list like List, without copying a []any.
func list(v any) ([]any, error) {
	if l, ok := v.([]any); ok {
		return l, nil
	}
	return List(v)
}
