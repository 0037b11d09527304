package bulk

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/marksmith/marksmith/papercode"
)

// cohort writes an upload of n students' answers to 33 parts (the shape
// of the DASC7606 paper) in a format.
func cohort(n int, format Format) []byte {
	var cols []Column
	for q, parts := range []int{5, 3, 4, 4, 3, 8, 3, 3} {
		for p := 0; p < parts; p++ {
			cols = append(cols, Column{q + 1, string(rune('a' + p))})
		}
	}
	var b bytes.Buffer
	switch format {
	case FormatCSV:
		b.WriteString("student,paper_code")
		for _, c := range cols {
			b.WriteString("," + c.String())
		}
		b.WriteString("\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "%d,%s", 3035000000+i, papercode.Code{Exam: 12, Student: int64(i)})
			for j := range cols {
				fmt.Fprintf(&b, ",%d", i*j)
			}
			b.WriteString("\n")
		}
	default:
		if format == FormatJSON {
			b.WriteString("[\n")
		}
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, `{"student": "%d", "paper_code": "%s", "answers": {`, 3035000000+i, papercode.Code{Exam: 12, Student: int64(i)})
			for j, c := range cols {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, `"%s": "%d"`, c, i*j)
			}
			b.WriteString("}}")
			if format == FormatJSON && i < n {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		if format == FormatJSON {
			b.WriteString("]\n")
		}
	}
	return b.Bytes()
}

// BenchmarkRead10000 reads 10,000 students' answers to 33 parts.
func BenchmarkRead10000(b *testing.B) {
	for _, f := range []Format{FormatCSV, FormatJSON, FormatJSONL} {
		data := cohort(10000, f)
		b.Run(string(f), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data), Options{Exam: 12, CheckExam: true})
				if err != nil {
					b.Fatal(err)
				}
				rows := 0
				for {
					s, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if len(s.Problems) > 0 || len(s.Answers) != 33 {
						b.Fatalf("row %d: %v", s.Line, s.Problems)
					}
					rows++
				}
				if _, _, err := r.Sum(); err != nil || rows != 10000 {
					b.Fatal(rows, err)
				}
			}
		})
	}
}
