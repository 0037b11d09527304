package grader

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/marksmith/marksmith/calc"
)

const msgPoints = "Write each chart's number, a colon and its points: 1: label (x, y), label (x, y); 2: …"

// chartByID finds a chart of the key by ID, case-insensitively, or by its
// number in the key's order (1 for the first chart), which is how a
// student names a chart: the IDs are the template's.
func (p *part) chartByID(id string) int {
	for i := range p.charts {
		if strings.EqualFold(p.charts[i].ID, id) {
			return i
		}
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(id)), "chart ")); err == nil && n >= 1 && n <= len(p.charts) {
		return n - 1
	}
	return -1
}

// chartName names chart c for a student: its number and, if it has one,
// its title.
func (p *part) chartName(c int) string {
	name := "chart " + strconv.Itoa(c+1)
	if t := p.charts[c].Title; t != "" {
		name += " (" + t + ")"
	}
	return name
}

// pointByLabel finds a point of chart c by label, case-insensitively.
func (p *part) pointByLabel(c int, label string) int {
	pts := p.charts[c].Points
	for i := range pts {
		if strings.EqualFold(pts[i].Label, label) {
			return i
		}
	}
	return -1
}

func (p *part) chartList() string {
	var b strings.Builder
	for i := range p.charts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(i + 1))
	}
	return b.String()
}

func (p *part) labelList(c int) string {
	var b strings.Builder
	for i, pt := range p.charts[c].Points {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pt.Label)
	}
	return b.String()
}

// points collects parsed points by chart and label, in the key's spelling.
type points struct {
	p   *part
	out map[string]map[string][2]float64
}

// add records a point; it returns a message when chart or label is
// unknown or the point is given twice. chart is -1 when the answer did not
// say, which is fine when the label names a point of one chart only.
func (ps *points) add(chart int, label string, x, y float64) string {
	p := ps.p
	label = strings.TrimSpace(label)
	if label == "" {
		return "A point has no label. " + msgPoints
	}
	if chart < 0 {
		for c := range p.charts {
			if p.pointByLabel(c, label) >= 0 {
				if chart >= 0 {
					return "Say which chart point \"" + clip(label) + "\" is on. " + msgPoints
				}
				chart = c
			}
		}
		if chart < 0 {
			return "No chart has a point labelled \"" + clip(label) + "\"; the charts are " + p.chartList() + "."
		}
	}
	i := p.pointByLabel(chart, label)
	if i < 0 {
		return "Chart " + p.chartName(chart)[len("chart "):] + " has no point labelled \"" + clip(label) + "\"; its points are " + p.labelList(chart) + "."
	}
	cid, lab := p.charts[chart].ID, p.charts[chart].Points[i].Label
	m := ps.out[cid]
	if m == nil {
		m = make(map[string][2]float64, len(p.charts[chart].Points))
		ps.out[cid] = m
	}
	if _, dup := m[lab]; dup {
		return "Point \"" + lab + "\" on " + p.chartName(chart) + " is given twice."
	}
	m[lab] = [2]float64{x, y}
	return ""
}

// parsePoints reads labelled points, as JSON {"chart": {"label": [x, y]}}
// (or {"label": [x, y]} when there is one chart) or as text
// "chart: label (x, y), label (x, y); chart2: …".
func (p *part) parsePoints(raw string) (any, string) {
	t := trimSpace(raw)
	ps := points{p: p, out: make(map[string]map[string][2]float64, len(p.charts))}
	var msg string
	if strings.HasPrefix(t, "{") {
		msg = ps.json(t)
	} else {
		msg = ps.text(t)
	}
	if msg != "" {
		return nil, msg
	}
	return ps.out, ""
}

// json reads the JSON form.
func (ps *points) json(t string) string {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(t), &top); err != nil {
		return "Could not read the points as JSON. " + msgPoints
	}
	for _, name := range calc.SortedKeys(top) {
		v := top[name]
		var xy [2]float64
		var xs []float64
		if err := json.Unmarshal(v, &xs); err == nil {
			// {"label": [x, y]}: a point of a chart the label identifies.
			if len(xs) != 2 {
				return "Point \"" + clip(name) + "\" needs two coordinates [x, y]."
			}
			xy[0], xy[1] = xs[0], xs[1]
			if msg := ps.add(-1, name, xy[0], xy[1]); msg != "" {
				return msg
			}
			continue
		}
		c := ps.p.chartByID(name)
		if c < 0 {
			return "Unknown chart \"" + clip(name) + "\"; the charts are " + ps.p.chartList() + "."
		}
		var pts map[string][]float64
		if err := json.Unmarshal(v, &pts); err != nil {
			return "Could not read the points of chart \"" + clip(name) + "\"; give each as \"label\": [x, y]."
		}
		for _, label := range calc.SortedKeys(pts) {
			xs := pts[label]
			if len(xs) != 2 {
				return "Point \"" + clip(label) + "\" needs two coordinates [x, y]."
			}
			if msg := ps.add(c, label, xs[0], xs[1]); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// text reads the text form.
func (ps *points) text(t string) string {
	p := ps.p
	chart := -1
	if len(p.charts) == 1 {
		chart = 0
	}
	i := 0
	for {
		for i < len(t) && (t[i] == ';' || t[i] == ',' || spaceAt(t, i) > 0) {
			i += max(1, spaceAt(t, i))
		}
		if i >= len(t) {
			return ""
		}
		open := strings.IndexByte(t[i:], '(')
		if open < 0 {
			seg := strings.TrimSpace(t[i:])
			if k := strings.LastIndexByte(seg, ':'); k >= 0 && strings.TrimSpace(seg[k+1:]) == "" {
				return "Chart \"" + clip(strings.TrimSpace(seg[:k])) + "\" has no points. " + msgPoints
			}
			return "Could not read \"" + clip(seg) + "\". " + msgPoints
		}
		seg := t[i : i+open]
		if k := strings.LastIndexByte(seg, ':'); k >= 0 {
			name := strings.TrimSpace(strings.Trim(strings.TrimSpace(seg[:k]), ";,"))
			c := p.chartByID(name)
			if c < 0 {
				return "Unknown chart \"" + clip(name) + "\"; the charts are " + p.chartList() + "."
			}
			chart = c
			seg = seg[k+1:]
		}
		close := strings.IndexByte(t[i+open:], ')')
		if close < 0 {
			return "A bracket is not closed. " + msgPoints
		}
		inner := t[i+open+1 : i+open+close]
		x, y, msg := p.coords(inner)
		if msg != "" {
			return "Point \"" + clip(strings.TrimSpace(seg)) + "\": " + msg
		}
		if msg := ps.add(chart, seg, x, y); msg != "" {
			return msg
		}
		i += open + close + 1
	}
}

// coords reads "x, y" (or "x y").
func (p *part) coords(s string) (x, y float64, msg string) {
	var xs, ys string
	if k := strings.IndexByte(s, ','); k >= 0 {
		xs, ys = s[:k], s[k+1:]
	} else {
		f := strings.Fields(s)
		if len(f) != 2 {
			return 0, 0, "give two coordinates (x, y)."
		}
		xs, ys = f[0], f[1]
	}
	var m string
	if x, m = parseNumber(xs, &p.num); m != "" {
		return 0, 0, "x: " + m
	}
	if y, m = parseNumber(ys, &p.num); m != "" {
		return 0, 0, "y: " + m
	}
	return x, y, ""
}

// rightPoints counts the key's points the answer places within tolerance.
func (p *part) rightPoints(ans map[string]map[string][2]float64) int {
	n := 0
	for _, c := range p.charts {
		m := ans[c.ID]
		for _, pt := range c.Points {
			xy, ok := m[pt.Label]
			if ok && p.tol.judge(xy[0], pt.X, false) != noMatch && p.tol.judge(xy[1], pt.Y, false) != noMatch {
				n++
			}
		}
	}
	return n
}
