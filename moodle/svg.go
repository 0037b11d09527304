package moodle

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith/grader"
)

// chartSVG draws the empty chart a points part asks the student to plot
// on: axes with their titles, a grid and tick labels. It shows none of the
// points. Its range covers the key's points and the origin, widened to
// whole units and one more on each side, so that it hints at nothing the
// question's own table does not show.
func chartSVG(c grader.Chart, number int) []byte {
	xlo, xhi, ylo, yhi := 0.0, 0.0, 0.0, 0.0
	for _, p := range c.Points {
		xlo, xhi = math.Min(xlo, p.X), math.Max(xhi, p.X)
		ylo, yhi = math.Min(ylo, p.Y), math.Max(yhi, p.Y)
	}
	xlo, xhi = math.Floor(xlo)-1, math.Ceil(xhi)+1
	ylo, yhi = math.Floor(ylo)-1, math.Ceil(yhi)+1
	const size, pad = 300.0, 40.0
	sx := size / (xhi - xlo)
	sy := size / (yhi - ylo)
	px := func(x float64) float64 { return pad + (x-xlo)*sx }
	py := func(y float64) float64 { return pad + (yhi-y)*sy }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	var b strings.Builder
	w, h := size+2*pad, size+2*pad
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="11">`, f(w), f(h), f(w), f(h))
	title := c.Title
	if title == "" {
		title = "Chart " + strconv.Itoa(number)
	}
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString("Chart "+strconv.Itoa(number)+": "+title))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%s" height="%s" fill="white"/>`, f(w), f(h))
	step := 0.5
	if xhi-xlo > 12 || yhi-ylo > 12 {
		step = 1
	}
	for x := xlo; x <= xhi+1e-9; x += step {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#ddd"/>`, f(px(x)), f(py(ylo)), f(px(x)), f(py(yhi)))
		if x == math.Trunc(x) {
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, f(px(x)), f(py(ylo)+14), strconv.FormatFloat(x, 'f', -1, 64))
		}
	}
	for y := ylo; y <= yhi+1e-9; y += step {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#ddd"/>`, f(px(xlo)), f(py(y)), f(px(xhi)), f(py(y)))
		if y == math.Trunc(y) {
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, f(px(xlo)-4), f(py(y)+4), strconv.FormatFloat(y, 'f', -1, 64))
		}
	}
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/>`, f(px(xlo)), f(py(0)), f(px(xhi)), f(py(0)))
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/>`, f(px(0)), f(py(ylo)), f(px(0)), f(py(yhi)))
	fmt.Fprintf(&b, `<text x="%s" y="16" text-anchor="middle" font-size="13">%s</text>`, f(w/2), html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, f(w/2), f(h-6), html.EscapeString(c.XLabel))
	fmt.Fprintf(&b, `<text x="12" y="%s" text-anchor="middle" transform="rotate(-90 12 %s)">%s</text>`, f(h/2), f(h/2), html.EscapeString(c.YLabel))
	b.WriteString(`</svg>`)
	return []byte(b.String())
}
