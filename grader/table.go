package grader

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// shapeMsg explains the shape a table answer must have.
func (p *part) shapeMsg(detail string) string {
	return "Expected a table of " + strconv.Itoa(p.rows) + " rows × " + strconv.Itoa(p.cols) +
		" columns (rows on separate lines or separated by ';', values separated by commas, tabs or spaces); " + detail + "."
}

// cellMsg prefixes a cell's format error with where the cell is.
func cellMsg(row, col int, msg string) string {
	return "Row " + strconv.Itoa(row+1) + ", column " + strconv.Itoa(col+1) + ": " + msg
}

// splitRows calls f with each non-blank row of a table answer.
func splitRows(t string, f func(row string) bool) {
	for t != "" {
		i := strings.IndexAny(t, "\n;")
		row := t
		if i >= 0 {
			row, t = t[:i], t[i+1:]
		} else {
			t = ""
		}
		if r := trimSpace(row); r != "" && !f(r) {
			return
		}
	}
}

// splitCells returns the cells of a row: separated by commas or tabs when
// the row has any (so a cell may be blank), otherwise by runs of spaces.
func splitCells(row string, cells []string) []string {
	if strings.ContainsAny(row, ",\t") {
		for {
			i := strings.IndexAny(row, ",\t")
			if i < 0 {
				return append(cells, trimSpace(row))
			}
			cells = append(cells, trimSpace(row[:i]))
			row = row[i+1:]
		}
	}
	for i := 0; i < len(row); {
		i = skipSpaces(row, i)
		j := i
		for j < len(row) && spaceAt(row, j) == 0 {
			j++
		}
		if j > i {
			cells = append(cells, row[i:j])
		}
		i = j
	}
	return cells
}

// parseTable reads a table of numbers, as text or a JSON array of rows. A
// blank cell is kept (nil) and scores nothing; a table of the wrong shape
// is a format error.
func (p *part) parseTable(raw string) (any, string) {
	t := trimSpace(raw)
	if strings.HasPrefix(t, "[") {
		return p.jsonTable(t)
	}
	out := make([]any, 0, p.rows)
	var msg string
	var cellBuf [16]string
	cells := cellBuf[:0]
	all := make([]any, p.rows*p.cols) // every row's cells, in one allocation
	splitRows(t, func(row string) bool {
		cells = splitCells(row, cells[:0])
		if len(out) == p.rows {
			msg = p.shapeMsg("got more rows")
			return false
		}
		if len(cells) != p.cols {
			if strings.ContainsAny(row, ",\t") && strings.ContainsAny(strings.Join(cells, ""), " ") {
				msg = p.shapeMsg("row " + strconv.Itoa(len(out)+1) + " mixes commas and spaces (in a table a comma separates values and decimals use a point)")
				return false
			}
			msg = p.shapeMsg("row " + strconv.Itoa(len(out)+1) + " has " + strconv.Itoa(len(cells)) + " values")
			return false
		}
		vals := all[len(out)*p.cols : (len(out)+1)*p.cols : (len(out)+1)*p.cols]
		for j, c := range cells {
			if c == "" {
				continue
			}
			f, m := parseNumber(c, &p.num)
			if m != "" {
				if strings.ContainsAny(row, ",\t") && strings.ContainsAny(c, " ") {
					m = "mixes commas and spaces (in a table a comma separates values and decimals use a point)"
				}
				msg = cellMsg(len(out), j, m)
				return false
			}
			vals[j] = f
		}
		out = append(out, vals)
		return true
	})
	if msg != "" {
		return nil, msg
	}
	if len(out) != p.rows {
		return nil, p.shapeMsg("got " + strconv.Itoa(len(out)) + " rows")
	}
	return out, ""
}

// jsonTable reads [[1, 2], [3, null]]; cells may also be strings written
// like numbers.
func (p *part) jsonTable(t string) (any, string) {
	d := json.NewDecoder(strings.NewReader(t))
	d.UseNumber()
	var rows [][]any
	if err := d.Decode(&rows); err != nil || d.More() {
		return nil, p.shapeMsg("could not read it as a JSON list of rows")
	}
	if len(rows) != p.rows {
		return nil, p.shapeMsg("got " + strconv.Itoa(len(rows)) + " rows")
	}
	out := make([]any, len(rows))
	for i, row := range rows {
		if len(row) != p.cols {
			return nil, p.shapeMsg("row " + strconv.Itoa(i+1) + " has " + strconv.Itoa(len(row)) + " values")
		}
		vals := make([]any, p.cols)
		for j, c := range row {
			var s string
			switch x := c.(type) {
			case nil:
				continue
			case json.Number:
				s = x.String()
			case string:
				s = x
			default:
				return nil, cellMsg(i, j, msgNotNumber)
			}
			if trimSpace(s) == "" {
				continue
			}
			f, m := parseNumber(s, &p.num)
			if m != "" {
				return nil, cellMsg(i, j, m)
			}
			vals[j] = f
		}
		out[i] = vals
	}
	return out, ""
}

// rightCells counts the cells of a parsed table within tolerance of key.
func (p *part) rightCells(ans []any, key [][]float64) int {
	n := 0
	for i, row := range key {
		if i >= len(ans) {
			break
		}
		cells, _ := ans[i].([]any)
		for j, k := range row {
			if j >= len(cells) {
				break
			}
			if x, ok := cells[j].(float64); ok && !math.IsNaN(x) && p.tol.judge(x, k, false) != noMatch {
				n++
			}
		}
	}
	return n
}
