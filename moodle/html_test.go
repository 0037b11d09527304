package moodle

import "testing"

func TestToHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Cost of a $3 \\times 3$ filter?", `<p>Cost of a \(3 \times 3\) filter?</p>`},
		{"$$x_1 * y_2 < z$$", `<p>\[x_1 * y_2 &lt; z\]</p>`},
		{"**bold** and $a_b$ and _c_", `<p><strong>bold</strong> and \(a_b\) and <em>c</em></p>`},
		{"| a | $|s|$ |\n|---|---|\n| 1 | 2 |", "<table border=\"1\" cellpadding=\"4\">\n<thead>\n<tr>\n<th>a</th>\n<th>\\(|s|\\)</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>"},
		{"a price of 5$ only", `<p>a price of 5$ only</p>`},
		{"- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"},
		{"<script>alert(1)</script> x", "<!-- raw HTML omitted -->"},
	}
	for _, tc := range tests {
		if got := toHTML(tc.in); got != tc.want {
			t.Errorf("toHTML(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := inlineHTML("$V$"); got != `\(V\)` {
		t.Errorf("inlineHTML($V$) = %q", got)
	}
}

func TestWholeWeights(t *testing.T) {
	tests := []struct {
		in    []float64
		scale int
		want  []int
	}{
		{[]float64{1, 1.5, 3}, 2, []int{2, 3, 6}},
		{[]float64{3.0 / 7, 0.25}, 28, []int{12, 7}},
		{[]float64{2}, 1, []int{2}},
		{[]float64{1.0 / 3, 0.5}, 6, []int{2, 3}},
	}
	for _, tc := range tests {
		scale, got := wholeWeights(tc.in)
		if scale != tc.scale || len(got) != len(tc.want) {
			t.Fatalf("wholeWeights(%v) = %d, %v; want %d, %v", tc.in, scale, got, tc.scale, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("wholeWeights(%v) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}
