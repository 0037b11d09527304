package calc

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// formatFuncs returns the functions that format numbers for prompts.
func formatFuncs() []Func {
	return []Func{
		{Name: "fixed", Doc: "fixed(x, d) — x with exactly d decimals, rounded half away from zero: fixed(0.9, 2) = \"0.90\"; for a list of numbers, a list of texts", Fn: fixed},
		{Name: "thousands", Doc: "thousands(x[, d]) — x with comma thousands separators and d decimals (default 0): thousands(173408256) = \"173,408,256\"", Fn: thousands},
		{Name: "sci", Doc: "sci(x, sig) — x in scientific notation with sig significant figures: sci(173408256, 4) = \"1.734 × 10^8\"", Fn: sci},
		{Name: "grid", Doc: "grid(M, d, cell_sep, row_sep) — the rows of M joined: cells with d decimals (d < 0: as written) separated by cell_sep, rows by row_sep: grid([[1, 0.5]], 1, ' & ', ' \\\\ ') = \"1.0 & 0.5\"", Fn: gridFn},
		{Name: "md_rows", Doc: "md_rows(labels, M, d) — Markdown table rows \"| label | cell | … |\", one per row of M, cells with d decimals (d < 0: as written)", Fn: mdRows},
		{Name: "pct", Doc: "pct(x, d) — the fraction x as a percentage with d decimals: pct(0.125, 1) = \"12.5%\"", Fn: pct},
	}
}

// decimals reads a decimal-places argument in [0, 15].
func decimals(fn string, args []any, i int) (int, error) {
	d, err := argInt(fn, "d", args, i)
	if err != nil {
		return 0, err
	}
	if d < 0 || d > 15 {
		return 0, fmt.Errorf("%s: d = %d outside [0, 15]", fn, d)
	}
	return d, nil
}

// finite reads a finite number argument.
func finite(fn string, args []any, i int) (float64, error) {
	x, err := argFloat(fn, "x", args, i)
	if err != nil {
		return 0, err
	}
	if math.IsInf(x, 0) {
		return 0, fmt.Errorf("%s: x is infinite", fn)
	}
	return x, nil
}

func formatFixed(x float64, d int) string {
	return strconv.FormatFloat(roundHalf(x, d), 'f', d, 64)
}

func fixed(args ...any) (any, error) {
	if err := arity("fixed", args, 2); err != nil {
		return nil, err
	}
	d, err := decimals("fixed", args, 1)
	if err != nil {
		return nil, err
	}
	if l, ok := args[0].([]any); ok {
		out := make([]any, len(l))
		for i, item := range l {
			x, err := Float(item)
			switch {
			case err != nil:
				return nil, fmt.Errorf("fixed: x item %d: %w", i+1, err)
			case math.IsInf(x, 0):
				return nil, fmt.Errorf("fixed: x item %d is infinite", i+1)
			case math.IsNaN(x):
				return nil, fmt.Errorf("fixed: x item %d is NaN", i+1)
			}
			out[i] = formatFixed(x, d)
		}
		return out, nil
	}
	x, err := finite("fixed", args, 0)
	if err != nil {
		return nil, err
	}
	return formatFixed(x, d), nil
}

func thousands(args ...any) (any, error) {
	if len(args) != 1 && len(args) != 2 {
		return nil, fmt.Errorf("thousands: want 1 or 2 arguments, got %d", len(args))
	}
	x, err := finite("thousands", args, 0)
	if err != nil {
		return nil, err
	}
	d := 0
	if len(args) == 2 {
		if d, err = decimals("thousands", args, 1); err != nil {
			return nil, err
		}
	}
	s := formatFixed(x, d)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	b.Grow(len(s) + len(s)/3 + 1)
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String(), nil
}

func sci(args ...any) (any, error) {
	if err := arity("sci", args, 2); err != nil {
		return nil, err
	}
	x, err := finite("sci", args, 0)
	if err != nil {
		return nil, err
	}
	n, err := argInt("sci", "sig", args, 1)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > 17 {
		return nil, fmt.Errorf("sci: sig = %d outside [1, 17]", n)
	}
	// Round first so ties go away from zero, then let strconv lay it out.
	s := strconv.FormatFloat(sigRound(x, n), 'e', n-1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	e, err := strconv.Atoi(exp)
	if err != nil {
		return nil, fmt.Errorf("sci: formatting %v: %w", x, err)
	}
	return mant + " × 10^" + strconv.Itoa(e), nil
}

func pct(args ...any) (any, error) {
	if err := arity("pct", args, 2); err != nil {
		return nil, err
	}
	x, err := finite("pct", args, 0)
	if err != nil {
		return nil, err
	}
	d, err := decimals("pct", args, 1)
	if err != nil {
		return nil, err
	}
	return formatFixed(x*100, d) + "%", nil
}

// appendCell appends one table cell to b: with d decimals, or as written
// when d < 0.
func appendCell(b []byte, fn string, v any, d int) ([]byte, error) {
	if d < 0 {
		switch x := v.(type) {
		case int:
			return strconv.AppendInt(b, int64(x), 10), nil
		case string:
			return append(b, x...), nil
		}
	}
	f, err := Float(v)
	if err != nil {
		return b, fmt.Errorf("%s: %w", fn, err)
	}
	if d >= 0 {
		return strconv.AppendFloat(b, roundHalf(f, d), 'f', d, 64), nil
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendFloat(b, f, 'f', 0, 64), nil
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64), nil
}

// gridArgs reads a matrix and a number of decimals (which may be negative).
func gridArgs(fn string, args []any, mi, di int) ([]any, int, error) {
	rows, err := list(args[mi])
	if err != nil {
		return nil, 0, fmt.Errorf("%s: M: %w", fn, err)
	}
	d, err := argInt(fn, "d", args, di)
	if err != nil {
		return nil, 0, err
	}
	if d > 15 {
		return nil, 0, fmt.Errorf("%s: d = %d above 15", fn, d)
	}
	return rows, d, nil
}

// appendRow appends one row's cells separated by sep.
func appendRow(b []byte, fn string, row any, d int, sep string) ([]byte, error) {
	cells, err := list(row)
	if err != nil {
		return b, fmt.Errorf("%s: row: %w", fn, err)
	}
	for j, c := range cells {
		if j > 0 {
			b = append(b, sep...)
		}
		if b, err = appendCell(b, fn, c, d); err != nil {
			return b, err
		}
	}
	return b, nil
}

func gridFn(args ...any) (any, error) {
	if err := arity("grid", args, 4); err != nil {
		return nil, err
	}
	rows, d, err := gridArgs("grid", args, 0, 1)
	if err != nil {
		return nil, err
	}
	cellSep, ok1 := args[2].(string)
	rowSep, ok2 := args[3].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("grid: the separators must be text")
	}
	b := make([]byte, 0, 64*len(rows))
	for i, row := range rows {
		if i > 0 {
			b = append(b, rowSep...)
		}
		if b, err = appendRow(b, "grid", row, d, cellSep); err != nil {
			return nil, err
		}
	}
	return string(b), nil
}

func mdRows(args ...any) (any, error) {
	if err := arity("md_rows", args, 3); err != nil {
		return nil, err
	}
	labels, err := list(args[0])
	if err != nil {
		return nil, fmt.Errorf("md_rows: labels: %w", err)
	}
	rows, d, err := gridArgs("md_rows", args, 1, 2)
	if err != nil {
		return nil, err
	}
	if len(labels) != len(rows) {
		return nil, fmt.Errorf("md_rows: %d labels for %d rows", len(labels), len(rows))
	}
	b := make([]byte, 0, 64*len(rows))
	for i, row := range rows {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, "| "...)
		if b, err = appendCell(b, "md_rows", labels[i], -1); err != nil {
			return nil, err
		}
		b = append(b, " | "...)
		if b, err = appendRow(b, "md_rows", row, d, " | "); err != nil {
			return nil, err
		}
		b = append(b, " |"...)
	}
	return string(b), nil
}
