package csvout

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

func ptr[T any](v T) *T { return &v }

func TestGradebook(t *testing.T) {
	sub := time.Date(2026, 5, 19, 9, 0, 0, 0, time.UTC)
	gb := &marksmith.Gradebook{
		ExamID: 1, Title: "Midterm", Max: 23,
		Questions: []marksmith.GradebookQuestion{{Position: 1, Template: "a", Marks: 20}, {Position: 2, Template: "b", Marks: 3}},
		Rows: []marksmith.GradebookRow{
			{Email: "s1@example.org", Name: "S1", StudentKey: "s1@example.org", Status: "submitted", Mode: "online", AttemptID: ptr(int64(7)),
				SubmittedAt: &sub, Scores: []*float64{ptr(20.0), ptr(3.0)}, Total: ptr(23.0), Max: 23, NeedsReview: 1},
			{Email: "=cmd@example.org", Name: "+Mallory", StudentKey: "@k", Status: "closed", Mode: "paper", Late: true,
				Scores: []*float64{ptr(2.0 / 3), nil}, Total: ptr(2.0 / 3), Max: 23},
			{Email: "s3@example.org", Name: "S3", StudentKey: "3035", Status: marksmith.StatusNotStarted, Scores: []*float64{nil, nil}, Max: 23},
		},
	}
	var buf bytes.Buffer
	if err := Gradebook(&buf, gb); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\ufeffemail,name,student_key,status,mode,late,submitted_at,Q1 (20 marks),Q2 (3 marks),total,max,needs_review\r\n") {
		t.Fatalf("CSV starts %q", out[:min(len(out), 140)])
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
	if err != nil || len(recs) != 4 {
		t.Fatalf("CSV: %d records, %v", len(recs), err)
	}
	for i, want := range [][]string{
		{"s1@example.org", "S1", "s1@example.org", "submitted", "online", "false", "2026-05-19T09:00:00Z", "20", "3", "23", "23", "1"},
		{"'=cmd@example.org", "'+Mallory", "'@k", "closed", "paper", "true", "", "0.666666667", "", "0.666666667", "23", "0"},
		{"s3@example.org", "S3", "3035", marksmith.StatusNotStarted, "", "false", "", "", "", "", "23", "0"},
	} {
		if strings.Join(recs[i+1], "|") != strings.Join(want, "|") {
			t.Errorf("row %d %q\nwant %q", i+1, recs[i+1], want)
		}
	}
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{"=SUM(A1)": "'=SUM(A1)", "+1": "'+1", "-x": "'-x", "@a": "'@a", "\tx": "'\tx", "Ada": "Ada", "": ""} {
		if got := safeCell(in); got != want {
			t.Errorf("safeCell(%q) = %q, want %q", in, got, want)
		}
	}
}
