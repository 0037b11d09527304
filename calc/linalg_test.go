package calc

import (
	"math"
	"reflect"
	"testing"
)

func TestLinalgValues(t *testing.T) {
	// Self-attention of two orthonormal rows: scores 1/√2 on the diagonal, 0 off it.
	e := math.Exp(1 / math.Sqrt2)
	hi, lo := e/(e+1), 1/(e+1)
	eye := []any{[]any{hi, lo}, []any{lo, hi}}
	runValues(t, []valueCase{
		{"dot([1, 2, 3], [4, 5, 6])", 32.0},
		{"dot([], [])", 0.0},
		{"add([1, 2, 3], [4, 5, 6])", []any{5.0, 7.0, 9.0}},
		{"sub([1, 2], [3, 5])", []any{-2.0, -3.0}},
		{"add([[1, 2], [3, 4]], [[0.5, 0], [0, 0.5]])", []any{[]any{1.5, 2.0}, []any{3.0, 4.5}}},
		{"sub([[1, 2]], [[1, 1]])", []any{[]any{0.0, 1.0}}},
		{"add(x5b, pos) == sub(add(x5b, pos), [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])", true},
		{"scale([1, 2], 0.5)", []any{0.5, 1.0}},
		{"norm([3, 4])", 5.0},
		{"norm([])", 0.0},
		{"softmax([0, 0])", []any{0.5, 0.5}},
		{"softmax([1, 2, 3])", []any{0.09003057317038046, 0.24472847105479764, 0.6652409557748219}},
		{"softmax([1000, 1000])", []any{0.5, 0.5}},
		{"softmax([-1000, 0])", []any{0.0, 1.0}},
		{"matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]])", []any{[]any{19.0, 22.0}, []any{43.0, 50.0}}},
		{"matmul([[1, 2, 3]], [[1], [1], [1]])", []any{[]any{6.0}}},
		{"transpose([[1, 2, 3], [4, 5, 6]])", []any{[]any{1.0, 4.0}, []any{2.0, 5.0}, []any{3.0, 6.0}}},
		{"attention_weights([[1, 0], [0, 1]])", eye},
		{"attend([[1, 0], [0, 1]])", eye},
		{"attention([[1, 0], [0, 1]], [[1, 0], [0, 1]], [[2, 0], [0, 4]])", []any{[]any{2 * hi, 4 * lo}, []any{2 * lo, 4 * hi}}},
		{"attention([[1, 0]], [[1, 0], [0, 1]], [[1], [3]])", []any{[]any{hi + 3*lo}}},
		{"attention(x5b, x5b, x5b) == attend(x5b)", true},
		{"all(attention_weights(x5b), abs(sum(#) - 1) < 1e-12)", true},
		{"attention_weights([[1, 0], [0, 1]], 1)", eye[1]},
		{"attend([[1, 0], [0, 1]], 0)", eye[0]},
		{"attention_weights(x5b, 5) == attention_weights(x5b)[5]", true},
		{"attend(x5b, 5) == attend(x5b)[5]", true},
		// Question 5(c): after self-attention "dog" (row 6) moves towards the
		// others: its first dimension rises from -2.
		{"attend(x5b)[5][0] > -2", true},
		// Question 5(a) and 5(b).
		{"decode_all(x5a, tokens, tok, pos)", []any{"Ann", "like", "#s", "small", "white", "cat", "#s"}},
		{"join(decode_all(x5a, tokens, tok, pos), ' ')", "Ann like #s small white cat #s"},
		{"embed('Bill hate #s big black dog #s', tokens, tok, pos)", paper["x5b"]},
		{"embed(['Ann', 'like'], tokens, tok, pos)", []any{[]any{1.0, 0.0, 0.0, 1.5}, []any{0.0, 0.0, 1.5, 1.0}}},
		{"decode_all(embed('Bill hate #s big black dog #s', tokens, tok, pos), tokens, tok, pos)",
			[]any{"Bill", "hate", "#s", "big", "black", "dog", "#s"}},
		{"decode(x5b[5], tokens, tok, pos, 6)", "dog"},
		{"decode(x5a[0], tokens, tok, pos, 1)", "Ann"},
		{"decode_count(x5b[5], tokens, tok, pos, 6)", 1},
		{"decode_count(x5b[5], tokens, tok, pos, 5)", 0},
		{"decode_count([1, 0], ['a', 'b'], [[1, 0], [1, 0]], [[0, 0]], 1)", 2},
		{"all(0..6, decode_count(x5a[#], tokens, tok, pos, # + 1) == 1)", true},
		{"decodes_uniquely(x5a, tokens, tok, pos)", true},
		{"decodes_uniquely(x5b, tokens, tok, pos)", true},
		{"decodes_uniquely([x5a[1]], tokens, tok, pos)", false}, // row 2 read at position 1
		{"decodes_uniquely([[1, 0]], ['a', 'b'], [[1, 0], [1, 0]], [[0, 0]])", false},
		{"decode([1.0000000000001, 0.5], ['a'], [[1, 0]], [[0, 0.5]], 1)", "a"},
	})
}

// TestMatrixSumKeepsInputs checks that add and sub of matrices write a new
// matrix: a row given as the caller's own []float64 is read, never changed.
func TestMatrixSumKeepsInputs(t *testing.T) {
	row := []float64{3, 4}
	env := map[string]any{"m": []any{[]any{1.0, 2.0}, row}, "f": [][]float64{{1, 1}, {1, 1}}}
	for _, src := range []string{"add(m, m)", "sub(m, f)", "add(f, m)"} {
		p, err := Compile(src, Env(env))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := p.Run(env); err != nil {
				t.Fatalf("%s: %v", src, err)
			}
		}
		if row[0] != 3 || row[1] != 4 {
			t.Fatalf("%s changed the caller's row to %v", src, row)
		}
	}
	p, err := Compile("add(f, m)", Env(env))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Run(env)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{[]any{2.0, 3.0}, []any{4.0, 5.0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("add(f, m) = %v, want %v", got, want)
	}
}

func TestLinalgErrors(t *testing.T) {
	runErrors(t, []errorCase{
		{"dot([1], [1, 2])", "dot: a has 1 elements, b has 2"},
		{"add([1], 'x')", "add: b: x (string) is not a list"},
		{"sub(['a'], [1])", "sub: a item 1: a (string) is not a number"},
		{"scale([1], 'k')", "scale: k: k (string) is not a number"},
		{"norm(3)", "norm: a: 3 (int) is not a list"},
		{"add([[1, 2]], [[1, 2], [3, 4]])", "add: a is 1×2, b is 2×2"},
		{"sub([[1, 2]], [[1]])", "sub: a is 1×2, b is 1×1"},
		{"add([[1, 2]], [1, 2])", "add: b row 1: 1 (int) is not a list"},
		{"add([[1], [2, 3]], [[1], [2]])", "add: a row 2 has 2 columns, row 1 has 1"},
		{"softmax([])", "softmax: v is empty"},
		{"matmul([[1, 2]], [[1, 2]])", "matmul: A is 1×2 but B is 1×2"},
		{"matmul([], [[1]])", "matmul: A is empty"},
		{"transpose([[1, 2], [3]])", "transpose: A row 2 has 1 columns, row 1 has 2"},
		{"transpose([[1], ['x']])", "transpose: A row 2 item 1: x (string) is not a number"},
		{"attention(x5b, x5b, [[1]])", "attention: K has 7 rows, V has 1"},
		{"attention([[1]], x5b, x5b)", "attention: Q has width 1, K has width 4"},
		{"attend([])", "attend: X is empty"},
		{"attend(x5b, 7)", "attend: row 7 is outside X's 7 rows (they count from 0)"},
		{"attention_weights(x5b, -1)", "attention_weights: row -1 is outside X's 7 rows (they count from 0)"},
		{"attention_weights(x5b, 'a')", "attention_weights: row:"},
		{"attend(x5b, 1, 2)", "attend: want 1 or 2 arguments, got 3"},
		{"attention_weights([[1, 2], [3]])", "attention_weights: X row 2 has 1 columns, row 1 has 2"},
		{"decode(x5a[0], tokens, tok, pos, 8)", "decode: position 8 outside [1, 7]"},
		{"decode(x5a[0], tokens, tok, pos, 2)", "decode: [1 0 0 1.5] at position 2 is no token's embedding plus the position's"},
		{"decode([1, 0], ['a', 'b'], [[1, 0], [1, 0]], [[0, 0]], 1)", "decode: [1 0] at position 1 decodes to several tokens (a, b, …)"},
		{"decode([1, 0], tokens, tok, pos, 1)", "decode: vector has 2 elements, embeddings have 4"},
		{"decode(x5a[0], ['a'], tok, pos, 1)", "decode: 1 tokens but 13 token embeddings"},
		{"decode(x5a[0], tokens, tok, [[1]], 1)", "decode: token embeddings have width 4, position embeddings 1"},
		{"decode_count(x5a[0], tokens, tok, pos, 0)", "decode_count: position 0 outside [1, 7]"},
		{"decode_all([[9, 9, 9, 9]], tokens, tok, pos)", "decode_all: [9 9 9 9] at position 1 is no token's embedding"},
		{"embed('Ann owns cat', tokens, tok, pos)", `embed: token 2 "owns" is not in the vocabulary`},
		{"embed('#s #s #s #s #s #s #s #s', tokens, tok, pos)", "embed: sentence has 8 tokens, only 7 positions are embedded"},
		{"embed('', tokens, tok, pos)", "embed: sentence is empty"},
		{"embed(3, tokens, tok, pos)", "embed: sentence:"},
	})
}
