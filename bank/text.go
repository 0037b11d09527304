package bank

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith/grader"
)

// WriteText writes the variant as plain text: the question, each part with
// its options and table labels and, with withKey, its key, follow rule,
// rubric and reference answer.
func (v *Variant) WriteText(w io.Writer, withKey bool) error {
	bw := bufio.NewWriter(w)
	which := fmt.Sprintf("variant %d", v.Seed)
	if v.Canonical {
		which = "canonical variant"
	}
	fmt.Fprintf(bw, "%s — %s (%s), version %d, %s\n", v.Template, v.Title, marksText(v.Marks), v.Version, which)
	if v.Stem != "" {
		fmt.Fprintf(bw, "\n%s\n", v.Stem)
	}
	for _, p := range v.Parts {
		if p.Lead != "" {
			fmt.Fprintf(bw, "\n%s\n", p.Lead)
		}
		fmt.Fprintf(bw, "\n(%s) (%s) %s\n", p.ID, marksText(p.Marks), p.Prompt)
		for _, o := range p.Answer.Options {
			fmt.Fprintf(bw, "    %s. %s\n", o.Label, o.Text)
		}
		if len(p.Rows) > 0 {
			fmt.Fprintf(bw, "    rows: %s\n", strings.Join(p.Rows, " | "))
		}
		if len(p.Columns) > 0 {
			fmt.Fprintf(bw, "    columns: %s\n", strings.Join(p.Columns, " | "))
		}
		for i, c := range p.Charts {
			fmt.Fprintf(bw, "    chart %d: %s (x: %s, y: %s)\n", i+1, c.Title, c.XLabel, c.YLabel)
		}
		if !withKey {
			continue
		}
		fmt.Fprintf(bw, "    key (%s): %s\n", p.Answer.Type, KeyText(&p.Answer))
		if p.Answer.Follow != "" {
			fmt.Fprintf(bw, "    error carried forward: %s\n", p.Answer.Follow)
		}
		for _, c := range p.Answer.Rubric {
			fmt.Fprintf(bw, "    rubric [%g] %s\n", c.Marks, c.Text)
		}
		if p.Answer.Reference != "" {
			fmt.Fprintf(bw, "    reference: %s\n", p.Answer.Reference)
		}
	}
	return bw.Flush()
}

// KeyText writes a part's key on one line.
func KeyText(s *grader.Spec) string {
	v := KeyValue(s)
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		if x == "" && s.Type == grader.Essay {
			return "(by rubric)"
		}
		return x
	case nil:
		return "(by rubric)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// marksText writes a number of marks: "1 mark", "2.5 marks".
func marksText(m float64) string {
	if m == 1 {
		return "1 mark"
	}
	return strconv.FormatFloat(m, 'g', -1, 64) + " marks"
}
