package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/marksmith/marksmith"
)

func TestNiceTicks(t *testing.T) {
	cases := []struct {
		lo, hi float64
		n      int
		want   string
	}{
		{0, 1, 4, "[0 0.5 1]"}, {0, 1, 5, "[0 0.2 0.4 0.6 0.8 1]"},
		{-1, 1, 4, "[-1 -0.5 0 0.5 1]"},
		{-5, 5, 8, "[-4 -2 0 2 4]"}, {-5, 5, 10, "[-5 -4 -3 -2 -1 0 1 2 3 4 5]"},
		{0, 15, 4, "[0 5 10 15]"},
		{0, 100, 8, "[0 20 40 60 80 100]"},
		{3, 3, 4, "[3]"},
	}
	for _, tc := range cases {
		if got := fmt.Sprint(niceTicks(tc.lo, tc.hi, tc.n)); got != tc.want {
			t.Errorf("niceTicks(%v, %v, %d) = %s, want %s", tc.lo, tc.hi, tc.n, got, tc.want)
		}
	}
}

// TestPlots draws bars to scale, with n beside each, a flag only where
// the row says, and no "-0".
func TestPlots(t *testing.T) {
	half, neg := 0.5, -0.25
	svg := string(barChart([]hbar{{Label: "a", Value: &half, N: 12}, {Label: "b", Value: &neg, N: 3, Flag: true}, {Label: "c"}}, -1, 1, "caption", false))
	for _, want := range []string{`aria-label="caption"`, `class="bar"`, `class="bar flagged"`, "0.50  n=12", "⚑ b", "undefined", `role="img"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("bar chart lacks %q", want)
		}
	}
	pct := string(barChart([]hbar{{Label: "a", Value: &half}}, 0, 1, "c", true))
	if strings.Contains(pct, "-0") || !strings.Contains(pct, ">0%<") || !strings.Contains(pct, ">50%<") {
		t.Errorf("percent axis: %s", pct)
	}
	h := string(histogram(marksmith.Summary{Histogram: []marksmith.Bin{{From: 0, To: 5, Count: 1}, {From: 5, To: 10, Count: 4}}}, "scores"))
	if strings.Count(h, `class="bar"`) != 2 || !strings.Contains(h, "5–10: 4 students") {
		t.Errorf("histogram: %s", h)
	}
	if histogram(marksmith.Summary{}, "none") != "" {
		t.Errorf("a histogram without bins is drawn")
	}
}
