package calc

import (
	"fmt"
	"math"
	"strings"
)

// linalgFuncs returns the vector and matrix functions, self-attention, and
// the encoding and decoding of sentences as sums of token and position
// embeddings.
func linalgFuncs() []Func {
	return []Func{
		{Name: "dot", Doc: "dot(a, b) — dot product of two vectors of equal length", Fn: dot},
		{Name: "add", Doc: "add(a, b) — element-wise sum of two vectors of equal length, or of two matrices of one shape", Fn: func(args ...any) (any, error) { return zip("add", args, 1) }},
		{Name: "sub", Doc: "sub(a, b) — element-wise difference a - b of two vectors of equal length, or of two matrices of one shape", Fn: func(args ...any) (any, error) { return zip("sub", args, -1) }},
		{Name: "scale", Doc: "scale(a, k) — vector a with every element multiplied by k", Fn: scale},
		{Name: "norm", Doc: "norm(a) — Euclidean length of vector a", Fn: norm},
		{Name: "softmax", Doc: "softmax(v) — e^v_i / Σ e^v_j for each element of a non-empty vector", Fn: softmaxFn},
		{Name: "matmul", Doc: "matmul(A, B) — matrix product of an m×n and an n×p matrix", Fn: matmul},
		{Name: "transpose", Doc: "transpose(A) — the transpose of matrix A", Fn: transpose},
		{Name: "attention", Doc: "attention(Q, K, V) — scaled dot-product attention softmax(Q Kᵀ / √d) V, d the width of Q and K", Fn: attention},
		{Name: "attention_weights", Doc: "attention_weights(X[, row]) — self-attention weights softmax(X Xᵀ / √d) with the rows of X as queries and keys; row i holds the weights of position i (counting from 0); with row, only that row", Fn: attentionWeights},
		{Name: "attend", Doc: "attend(X[, row]) — self-attention output attention_weights(X) × X: row i is the new embedding of position i (counting from 0); with row, only that row", Fn: attend},
		{Name: "embed", Doc: "embed(sentence, tokens, token_embs, pos_embs) — input matrix of a sentence (a string of space-separated tokens, or a list): row i is the token's embedding plus the embedding of position i+1", Fn: embed},
		{Name: "decode", Doc: "decode(vec, tokens, token_embs, pos_embs, pos) — the token whose embedding plus the embedding of position pos (1-based) equals vec within 1e-9; error when none or several do", Fn: decode},
		{Name: "decode_count", Doc: "decode_count(vec, tokens, token_embs, pos_embs, pos) — how many tokens decode vec at position pos (1 for an unambiguous row)", Fn: decodeCount},
		{Name: "decodes_uniquely", Doc: "decodes_uniquely(X, tokens, token_embs, pos_embs) — whether every row i of X decodes to exactly one token at position i+1", Fn: decodesUniquely},
		{Name: "decode_all", Doc: "decode_all(X, tokens, token_embs, pos_embs) — the tokens of the rows of input matrix X, row i at position i+1", Fn: decodeAll},
	}
}

// pair converts the first two arguments of fn to vectors of equal length.
func pair(fn string, args []any) ([]float64, []float64, error) {
	if err := arity(fn, args, 2); err != nil {
		return nil, nil, err
	}
	a, err := floats(fn, "a", args, 0)
	if err != nil {
		return nil, nil, err
	}
	b, err := floats(fn, "b", args, 1)
	if err != nil {
		return nil, nil, err
	}
	if len(a) != len(b) {
		return nil, nil, fmt.Errorf("%s: a has %d elements, b has %d", fn, len(a), len(b))
	}
	return a, b, nil
}

func dot(args ...any) (any, error) {
	a, b, err := pair("dot", args)
	if err != nil {
		return nil, err
	}
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s, nil
}

// zip adds (sign 1) or subtracts (sign -1) two vectors.
func zip(fn string, args []any, sign float64) (any, error) {
	if isMatrix(args) {
		return zipMatrix(fn, args, sign)
	}
	a, b, err := pair(fn, args)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(a))
	for i := range a {
		out[i] = a[i] + sign*b[i]
	}
	return out, nil
}

// isMatrix reports whether the first argument is a non-empty list of lists.
func isMatrix(args []any) bool {
	if len(args) == 0 {
		return false
	}
	switch x := args[0].(type) {
	case [][]float64:
		return len(x) > 0
	case []any:
		if len(x) == 0 {
			return false
		}
		switch x[0].(type) {
		case []any, []float64:
			return true
		}
	}
	return false
}

// zipMatrix is add or sub of two matrices of one shape. It writes a new
// matrix: a row of either argument may be the caller's own slice.
func zipMatrix(fn string, args []any, sign float64) (any, error) {
	if err := arity(fn, args, 2); err != nil {
		return nil, err
	}
	a, err := matrix(fn, "a", args, 0)
	if err != nil {
		return nil, err
	}
	b, err := matrix(fn, "b", args, 1)
	if err != nil {
		return nil, err
	}
	if len(a) != len(b) || len(a[0]) != len(b[0]) {
		return nil, fmt.Errorf("%s: a is %d×%d, b is %d×%d", fn, len(a), len(a[0]), len(b), len(b[0]))
	}
	out := make([]any, len(a))
	for i, row := range a {
		r := make([]any, len(row))
		for j, x := range row {
			r[j] = x + sign*b[i][j]
		}
		out[i] = r
	}
	return out, nil
}

func scale(args ...any) (any, error) {
	if err := arity("scale", args, 2); err != nil {
		return nil, err
	}
	a, err := floats("scale", "a", args, 0)
	if err != nil {
		return nil, err
	}
	k, err := argFloat("scale", "k", args, 1)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(a))
	for i, x := range a {
		out[i] = x * k
	}
	return out, nil
}

func norm(args ...any) (any, error) {
	if err := arity("norm", args, 1); err != nil {
		return nil, err
	}
	a, err := floats("norm", "a", args, 0)
	if err != nil {
		return nil, err
	}
	s := 0.0
	for _, x := range a {
		s += x * x
	}
	return math.Sqrt(s), nil
}

// softmax writes the softmax of v into out (which may be v).
func softmax(out, v []float64) {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	s := 0.0
	for i, x := range v {
		out[i] = math.Exp(x - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
}

func softmaxFn(args ...any) (any, error) {
	if err := arity("softmax", args, 1); err != nil {
		return nil, err
	}
	v, err := table("softmax", "v", args, 0)
	if err != nil {
		return nil, err
	}
	for i, x := range v {
		if math.IsInf(x, 0) {
			return nil, fmt.Errorf("softmax: element %d is infinite", i+1)
		}
	}
	out := make([]float64, len(v))
	softmax(out, v)
	return vec(out), nil
}

// mul returns A × Bᵀ when bt is true, else A × B; the shapes must agree.
func mul(a, b [][]float64, bt bool) [][]float64 {
	rows, cols := len(b), len(b[0])
	p := cols
	if bt {
		p = rows
	}
	out := make([][]float64, len(a))
	cells := make([]float64, len(a)*p)
	for i, ra := range a {
		out[i] = cells[i*p : (i+1)*p : (i+1)*p]
		for j := range p {
			s := 0.0
			for k, x := range ra {
				if bt {
					s += x * b[j][k]
				} else {
					s += x * b[k][j]
				}
			}
			out[i][j] = s
		}
	}
	return out
}

func matmul(args ...any) (any, error) {
	if err := arity("matmul", args, 2); err != nil {
		return nil, err
	}
	a, err := matrix("matmul", "A", args, 0)
	if err != nil {
		return nil, err
	}
	b, err := matrix("matmul", "B", args, 1)
	if err != nil {
		return nil, err
	}
	if len(a[0]) != len(b) {
		return nil, fmt.Errorf("matmul: A is %d×%d but B is %d×%d", len(a), len(a[0]), len(b), len(b[0]))
	}
	return mat(mul(a, b, false)), nil
}

func transpose(args ...any) (any, error) {
	if err := arity("transpose", args, 1); err != nil {
		return nil, err
	}
	a, err := matrix("transpose", "A", args, 0)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(a[0]))
	for j := range out {
		col := make([]any, len(a))
		for i, row := range a {
			col[i] = row[j]
		}
		out[j] = col
	}
	return out, nil
}

// weights returns softmax(Q Kᵀ / √d) row by row.
func weights(q, k [][]float64) [][]float64 {
	w := mul(q, k, true)
	s := math.Sqrt(float64(len(q[0])))
	for _, row := range w {
		for j := range row {
			row[j] /= s
		}
		softmax(row, row)
	}
	return w
}

func attention(args ...any) (any, error) {
	if err := arity("attention", args, 3); err != nil {
		return nil, err
	}
	q, err := matrix("attention", "Q", args, 0)
	if err != nil {
		return nil, err
	}
	k, err := matrix("attention", "K", args, 1)
	if err != nil {
		return nil, err
	}
	v, err := matrix("attention", "V", args, 2)
	if err != nil {
		return nil, err
	}
	if len(q[0]) != len(k[0]) {
		return nil, fmt.Errorf("attention: Q has width %d, K has width %d", len(q[0]), len(k[0]))
	}
	if len(k) != len(v) {
		return nil, fmt.Errorf("attention: K has %d rows, V has %d", len(k), len(v))
	}
	return mat(mul(weights(q, k), v, false)), nil
}

func attentionWeights(args ...any) (any, error) {
	x, q, row, err := selfAttentionArgs("attention_weights", args)
	if err != nil {
		return nil, err
	}
	w := weights(q, x)
	if row >= 0 {
		return vec(w[0]), nil
	}
	return mat(w), nil
}

func attend(args ...any) (any, error) {
	x, q, row, err := selfAttentionArgs("attend", args)
	if err != nil {
		return nil, err
	}
	out := mul(weights(q, x), x, false)
	if row >= 0 {
		return vec(out[0]), nil
	}
	return mat(out), nil
}

// selfAttentionArgs reads X and the optional row index of a self-attention
// function: q is X itself, or only the row asked for (whose index is
// returned; -1 when every row is wanted), so a template that needs one
// token's weights does not compute all of them.
func selfAttentionArgs(fn string, args []any) (x, q [][]float64, row int, err error) {
	if len(args) != 1 && len(args) != 2 {
		return nil, nil, 0, fmt.Errorf("%s: want 1 or 2 arguments, got %d", fn, len(args))
	}
	if x, err = matrix(fn, "X", args, 0); err != nil {
		return nil, nil, 0, err
	}
	if len(args) == 1 {
		return x, x, -1, nil
	}
	if row, err = argInt(fn, "row", args, 1); err != nil {
		return nil, nil, 0, err
	}
	if row < 0 || row >= len(x) {
		return nil, nil, 0, fmt.Errorf("%s: row %d is outside X's %d rows (they count from 0)", fn, row, len(x))
	}
	return x, x[row : row+1], row, nil
}

// vocab is a token table with token and position embeddings of one width.
type vocab struct {
	tokens []string
	tok    [][]float64
	pos    [][]float64
}

// vocabArgs reads tokens, token_embs and pos_embs from args[i:i+3].
func vocabArgs(fn string, args []any, i int) (vocab, error) {
	tokens, err := strs(args[i])
	if err != nil {
		return vocab{}, fmt.Errorf("%s: tokens: %w", fn, err)
	}
	tok, err := matrix(fn, "token_embs", args, i+1)
	if err != nil {
		return vocab{}, err
	}
	pos, err := matrix(fn, "pos_embs", args, i+2)
	if err != nil {
		return vocab{}, err
	}
	if len(tokens) != len(tok) {
		return vocab{}, fmt.Errorf("%s: %d tokens but %d token embeddings", fn, len(tokens), len(tok))
	}
	if len(tok[0]) != len(pos[0]) {
		return vocab{}, fmt.Errorf("%s: token embeddings have width %d, position embeddings %d", fn, len(tok[0]), len(pos[0]))
	}
	return vocab{tokens: tokens, tok: tok, pos: pos}, nil
}

// decodeEps is how far a decoded row may be from an exact sum of embeddings.
const decodeEps = 1e-9

// matches returns the indices of the tokens that decode v at position pos
// (1-based, already checked), writing into buf.
func (vc vocab) matches(buf []int, v []float64, pos int) []int {
	p := vc.pos[pos-1]
	for t, e := range vc.tok {
		ok := true
		for k := range e {
			if math.Abs(v[k]-p[k]-e[k]) > decodeEps {
				ok = false
				break
			}
		}
		if ok {
			buf = append(buf, t)
		}
	}
	return buf
}

// check checks that vector v of fn can be decoded at position pos.
func (vc vocab) check(fn string, v []float64, pos int) error {
	if len(v) != len(vc.tok[0]) {
		return fmt.Errorf("%s: vector has %d elements, embeddings have %d", fn, len(v), len(vc.tok[0]))
	}
	if pos < 1 || pos > len(vc.pos) {
		return fmt.Errorf("%s: position %d outside [1, %d]", fn, pos, len(vc.pos))
	}
	return nil
}

// decodeOne returns the single token that decodes v at pos.
func (vc vocab) decodeOne(fn string, v []float64, pos int) (string, error) {
	if err := vc.check(fn, v, pos); err != nil {
		return "", err
	}
	var buf [2]int
	m := vc.matches(buf[:0], v, pos)
	switch len(m) {
	case 0:
		return "", fmt.Errorf("%s: %v at position %d is no token's embedding plus the position's", fn, v, pos)
	case 1:
		return vc.tokens[m[0]], nil
	}
	return "", fmt.Errorf("%s: %v at position %d decodes to several tokens (%s, %s, …)", fn, v, pos, vc.tokens[m[0]], vc.tokens[m[1]])
}

// decodeArgs reads the arguments of decode and decode_count.
func decodeArgs(fn string, args []any) (vocab, []float64, int, error) {
	if err := arity(fn, args, 5); err != nil {
		return vocab{}, nil, 0, err
	}
	v, err := floats(fn, "vec", args, 0)
	if err != nil {
		return vocab{}, nil, 0, err
	}
	vc, err := vocabArgs(fn, args, 1)
	if err != nil {
		return vocab{}, nil, 0, err
	}
	pos, err := argInt(fn, "pos", args, 4)
	if err != nil {
		return vocab{}, nil, 0, err
	}
	if err := vc.check(fn, v, pos); err != nil {
		return vocab{}, nil, 0, err
	}
	return vc, v, pos, nil
}

func decode(args ...any) (any, error) {
	vc, v, pos, err := decodeArgs("decode", args)
	if err != nil {
		return nil, err
	}
	return vc.decodeOne("decode", v, pos)
}

func decodeCount(args ...any) (any, error) {
	vc, v, pos, err := decodeArgs("decode_count", args)
	if err != nil {
		return nil, err
	}
	var buf [4]int
	return len(vc.matches(buf[:0], v, pos)), nil
}

// decodesUniquely reports whether every row i of X decodes to exactly one
// token at position i+1: the test of decode_count on each row, with the
// tables converted once.
func decodesUniquely(args ...any) (any, error) {
	if err := arity("decodes_uniquely", args, 4); err != nil {
		return nil, err
	}
	x, err := matrix("decodes_uniquely", "X", args, 0)
	if err != nil {
		return nil, err
	}
	vc, err := vocabArgs("decodes_uniquely", args, 1)
	if err != nil {
		return nil, err
	}
	var buf [4]int
	for i, row := range x {
		if err := vc.check("decodes_uniquely", row, i+1); err != nil {
			return nil, err
		}
		if len(vc.matches(buf[:0], row, i+1)) != 1 {
			return false, nil
		}
	}
	return true, nil
}

func decodeAll(args ...any) (any, error) {
	if err := arity("decode_all", args, 4); err != nil {
		return nil, err
	}
	x, err := matrix("decode_all", "X", args, 0)
	if err != nil {
		return nil, err
	}
	vc, err := vocabArgs("decode_all", args, 1)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(x))
	for i, row := range x {
		t, err := vc.decodeOne("decode_all", row, i+1)
		if err != nil {
			return nil, err // names the position, which is the row number
		}
		out[i] = t
	}
	return out, nil
}

func embed(args ...any) (any, error) {
	if err := arity("embed", args, 4); err != nil {
		return nil, err
	}
	var words []string
	if s, ok := args[0].(string); ok {
		words = strings.Fields(s)
	} else {
		var err error
		if words, err = strs(args[0]); err != nil {
			return nil, fmt.Errorf("embed: sentence: %w", err)
		}
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("embed: sentence is empty")
	}
	vc, err := vocabArgs("embed", args, 1)
	if err != nil {
		return nil, err
	}
	if len(words) > len(vc.pos) {
		return nil, fmt.Errorf("embed: sentence has %d tokens, only %d positions are embedded", len(words), len(vc.pos))
	}
	out := make([]any, len(words))
	for i, w := range words {
		t := -1
		for k, name := range vc.tokens {
			if name == w {
				t = k
				break
			}
		}
		if t < 0 {
			return nil, fmt.Errorf("embed: token %d %q is not in the vocabulary", i+1, w)
		}
		row := make([]any, len(vc.tok[t]))
		for k, e := range vc.tok[t] {
			row[k] = e + vc.pos[i][k]
		}
		out[i] = row
	}
	return out, nil
}

// strs converts a list to []string like Strings, without normalising a copy
// of a []any first.
func strs(v any) ([]string, error) {
	l, ok := v.([]any)
	if !ok {
		return Strings(v)
	}
	out := make([]string, len(l))
	for i, e := range l {
		if s, ok := e.(string); ok {
			out[i] = s
		} else {
			out[i] = fmt.Sprint(e)
		}
	}
	return out, nil
}
