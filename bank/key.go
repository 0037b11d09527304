package bank

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith/grader"
)

// KeyValue returns a part's key as plain JSON values, the way `marksmith
// bank key` prints it: a number; an option label (or labels) as shown in
// this variant; the model answer or first accepted phrasing of a text part;
// a list of tokens; a list of rows; for points a list of
// [chart, label, x, y].
func KeyValue(s *grader.Spec) any {
	switch s.Type {
	case grader.Number, grader.Integer:
		return s.Key
	case grader.Choice:
		id, _ := s.Key.(string)
		return labelOf(s.Options, id)
	case grader.Multi:
		ids, _ := s.Key.([]string)
		out := make([]any, len(ids))
		for i, id := range ids {
			out[i] = labelOf(s.Options, id)
		}
		sortStrings(out)
		return out
	case grader.Text, grader.Essay:
		if k, ok := s.Key.(string); ok && k != "" {
			return k
		}
		if len(s.Accept) > 0 {
			return s.Accept[0]
		}
		return s.Reference
	case grader.Sequence:
		return s.Key
	case grader.Table:
		return s.Key
	case grader.Points:
		charts, _ := s.Key.([]grader.Chart)
		var out []any
		for _, c := range charts {
			for _, p := range c.Points {
				out = append(out, []any{c.ID, p.Label, p.X, p.Y})
			}
		}
		return out
	}
	return s.Key
}

// KeyAnswer returns a part's key written as a student would submit it, so
// that grading it must give full marks.
func KeyAnswer(s *grader.Spec) string {
	switch s.Type {
	case grader.Number, grader.Integer:
		if f, ok := s.Key.(float64); ok {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		if i, ok := s.Key.(int); ok {
			return strconv.Itoa(i)
		}
	case grader.Choice:
		return KeyValue(s).(string)
	case grader.Multi:
		l := KeyValue(s).([]any)
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = x.(string)
		}
		return strings.Join(parts, ",")
	case grader.Text, grader.Essay:
		return KeyValue(s).(string)
	case grader.Sequence:
		toks, _ := s.Key.([]string)
		return strings.Join(toks, " ")
	case grader.Table:
		rows, _ := s.Key.([][]float64)
		lines := make([]string, len(rows))
		for i, row := range rows {
			cells := make([]string, len(row))
			for j, c := range row {
				cells[j] = strconv.FormatFloat(c, 'g', -1, 64)
			}
			lines[i] = strings.Join(cells, ", ")
		}
		return strings.Join(lines, "; ")
	case grader.Points:
		charts, _ := s.Key.([]grader.Chart)
		parts := make([]string, len(charts))
		for i, c := range charts {
			pts := make([]string, len(c.Points))
			for j, p := range c.Points {
				pts[j] = fmt.Sprintf("%s (%s, %s)", p.Label, strconv.FormatFloat(p.X, 'g', -1, 64), strconv.FormatFloat(p.Y, 'g', -1, 64))
			}
			parts[i] = c.ID + ": " + strings.Join(pts, ", ")
		}
		return strings.Join(parts, "; ")
	}
	b, _ := json.Marshal(s.Key)
	return string(b)
}

func labelOf(opts []grader.Option, id string) string {
	for _, o := range opts {
		if o.ID == id {
			return o.Label
		}
	}
	return id
}

func sortStrings(l []any) {
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j].(string) < l[j-1].(string); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}
