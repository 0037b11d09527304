package paper

import (
	"fmt"

	"strconv"
	"testing"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/internal/view"
)

// The tests print the built-in bank's paper, turned into views as the
// exam service turns stored variants into views.

// question returns the view of a variant, with keys when key is set.
func question(v *bank.Variant, position, order int, key bool) marksmith.Question {
	q := view.Question(v, view.Options{Key: key})
	q.Position, q.Order, q.Marks = position, order, v.Marks
	return q
}

// class returns n students with the built-in paper, each with their own
// variants (student i draws seed i for every question; student 0 the
// canonical paper) and, every other student, the questions in reverse
// order.
func class(t testing.TB, n int, key bool) []Student {
	t.Helper()
	ts, err := bank.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var out []Student
	for i := 0; i < n; i++ {
		s := Student{UserID: int64(100 + i), Name: fmt.Sprintf("Student %c. Lee-%d", 'A'+i%26, i), Number: strconv.Itoa(3035000000 + i)}
		for pos, tm := range ts {
			v, err := tm.Variant(uint64(i))
			if err != nil {
				t.Fatal(err)
			}
			order := pos + 1
			if i%2 == 1 {
				order = len(ts) - pos
			}
			s.Questions = append(s.Questions, question(v, pos+1, order, key))
		}
		if i%2 == 1 {
			for a, b := 0, len(s.Questions)-1; a < b; a, b = a+1, b-1 {
				s.Questions[a], s.Questions[b] = s.Questions[b], s.Questions[a]
			}
		}
		out = append(out, s)
	}
	return out
}
