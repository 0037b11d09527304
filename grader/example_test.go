package grader_test

import (
	"fmt"

	"github.com/marksmith/marksmith/grader"
)

func Example() {
	specs := []grader.Spec{
		{Part: "d", Type: grader.Number, Marks: 3, Key: 173408256.0, Tolerance: grader.Tolerance{Rel: 0.001}},
		{Part: "e", Type: grader.Number, Marks: 3, Key: 15253504.0, Tolerance: grader.Tolerance{Rel: 0.001}},
		{Part: "f", Type: grader.Number, Marks: 3, Key: 158154752.0, Tolerance: grader.Tolerance{Rel: 0.001},
			Follow: "ans.d - ans.e"}, // error carried forward from d and e
		{Part: "g", Type: grader.Multi, Marks: 2, Scheme: grader.RightMinusWrong, Key: []string{"tanh", "sine"},
			Options: []grader.Option{{ID: "sine", Label: "A"}, {ID: "relu", Label: "B"}, {ID: "tanh", Label: "C"}}},
		{Part: "h", Type: grader.Table, Marks: 2, Key: [][]float64{{1, 2}, {3, 4}}},
	}
	q, err := grader.Compile(specs, map[string]any{"hw": 28})
	if err != nil {
		fmt.Println(err)
		return
	}
	results := q.Grade(map[string]string{
		"d": "2 × 10^8",      // wrong
		"e": "15,253,504",    // right
		"f": "1.847465e8",    // wrong, but d − e for this student's own d and e
		"g": "(a), (b), (c)", // two right picks, one wrong
		"h": "1, 2\n3, 5",    // three of four cells
	})
	for _, r := range results {
		fmt.Printf("%s %g/%g %s\n", r.Part, r.Score, r.Max, r.Rule)
	}
	score, max := grader.Total(results)
	fmt.Printf("total %g/%g\n", score, max)

	_, err = grader.Parse(&specs[0], "1,00,0")
	fmt.Println(err)
	// Output:
	// d 0/3 wrong
	// e 3/3 exact
	// f 3/3 error-carried-forward
	// g 1/2 right-minus-wrong
	// h 1.5/2 per-cell
	// total 8.5/13
	// Use a point for decimals and commas only between groups of three digits, for example 1,234,567.5.
}
