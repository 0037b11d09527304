package api

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/internal/testenv"
	"github.com/marksmith/marksmith/paper"
	"github.com/marksmith/marksmith/papercode"
)

// TestPaperExamEndToEnd sits a whole paper exam through the API, on SQLite
// and on Postgres: it prints the class's papers of the full DASC7606 exam
// with Chromium, reads each student's paper code back from the PDF's
// text, types up a CSV in which every part of every student is answered
// right, wrong or unreadably (a format error), seeded with bad rows,
// uploads it, and checks every grade against the key, the receipt's
// counts, each bad row's error, and that uploading the same file again
// changes nothing.
func TestPaperExamEndToEnd(t *testing.T) {
	testenv.Tools(t, "apt-get install chromium poppler-utils", "chromium", "pdftotext")
	printer := paper.NewOnDemand(paper.PrinterOptions{})
	t.Cleanup(func() { printer.Close() })
	for _, db := range []struct {
		name string
		opt  harnessOption
	}{{"sqlite", func(*harnessConfig) {}}, {"postgres", onPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			h := newHarness(t, withBank, db.opt, func(c *harnessConfig) { c.wrap = func(d *Deps) { d.Printer = printer } })
			paperExamEndToEnd(t, h)
		})
	}
}

// answerKind is how a test answers one part.
type answerKind int

const (
	answerRight answerKind = iota
	answerWrong
	answerUnreadable
)

func (k answerKind) String() string { return [...]string{"right", "wrong", "unreadable"}[k] }

// typedAnswer is one cell of the typed-up CSV and what it must earn.
type typedAnswer struct {
	column string // 6.d
	raw    string
	kind   answerKind
	marks  float64 // the part's marks
}

func paperExamEndToEnd(t *testing.T, h *harness) {
	const class = 6
	ctx := context.Background()
	prof := h.tokenFor(h.instructor)

	// The class and the exam: all eight questions, each student's in their
	// own order.
	var emails []string
	numbers := map[int64]string{} // user id → student number
	for i := range class {
		email := fmt.Sprintf("paper%d@example.edu", i)
		h.call("POST", "/api/v1/users", prof, map[string]any{"email": email, "name": fmt.Sprintf("Paper Student %d", i),
			"student_key": fmt.Sprintf("30359000%02d", i), "password": testPassword}, 201, nil)
		emails = append(emails, email)
	}
	var questions []map[string]any
	for q := 1; q <= 8; q++ {
		questions = append(questions, map[string]any{"template": fmt.Sprintf("dasc7606/q%d", q)})
	}
	start := h.clock.Now()
	var e marksmith.Exam
	h.call("POST", "/api/v1/exams", prof, map[string]any{
		"title": "DASC7606 final, on paper", "seed": "20261204", "delivery": marksmith.DeliveryPaper, "shuffle_questions": true,
		"questions": questions, "opens_at": start, "closes_at": start.Add(3 * time.Hour), "roster": emails,
	}, 201, &e)
	h.call("POST", fmt.Sprintf("/api/v1/exams/%d/publish", e.ID), prof, nil, 200, nil)
	var roster struct {
		Students []*marksmith.User `json:"students"`
	}
	h.call("GET", fmt.Sprintf("/api/v1/exams/%d/roster", e.ID), prof, nil, 200, &roster)
	for _, u := range roster.Students {
		numbers[u.ID] = u.StudentKey
	}
	if len(numbers) != class {
		t.Fatalf("roster %+v", roster.Students)
	}

	// Print the class's papers and read each paper code back from the
	// PDF's text: one per student, on every page of their paper.
	resp := h.call("GET", fmt.Sprintf("/api/v1/exams/%d/papers?format=pdf", e.ID), prof, nil, 200, nil)
	text := pdfText(t, resp.body)
	codeOf := map[int64]string{} // user id → the code as printed
	for _, m := range regexp.MustCompile(`\bE\d+-S\d+-\d\b`).FindAllString(text, -1) {
		c, err := papercode.Parse(m)
		if err != nil {
			t.Fatalf("the PDF prints %q, which does not read: %v", m, err)
		}
		if c.Exam != e.ID || numbers[c.Student] == "" {
			t.Fatalf("the PDF prints %q: exam %d student %d, not of this class", m, c.Exam, c.Student)
		}
		codeOf[c.Student] = m
	}
	if len(codeOf) != class {
		t.Fatalf("the PDF prints %d students' paper codes, want %d", len(codeOf), class)
	}
	for id, code := range codeOf {
		if !strings.Contains(text, numbers[id]) {
			t.Errorf("the PDF lacks student number %s (code %s)", numbers[id], code)
		}
	}

	// The keys, as the markers' copy prints them.
	keys, err := h.exams.Papers(ctx, h.instructor, e.ID, marksmith.PaperQuery{Key: true, Max: class})
	if err != nil {
		t.Fatal(err)
	}
	var columns []string
	typed := map[int64][]typedAnswer{}
	for si, sp := range keys.Students {
		j := 0
		for _, q := range sortedByPosition(sp.Questions) {
			for _, p := range q.Parts {
				col := fmt.Sprintf("%d.%s", q.Position, p.ID)
				if si == 0 {
					columns = append(columns, col)
				}
				kind := answerKind((si + j) % 3)
				j++
				raw, kind := typeAnswer(t, p, kind)
				typed[sp.UserID] = append(typed[sp.UserID], typedAnswer{column: col, raw: raw, kind: kind, marks: p.Marks})
			}
		}
	}
	if len(columns) < 30 {
		t.Fatalf("the paper has %d answer columns, want the whole paper's", len(columns))
	}
	kinds := map[answerKind]int{}
	for _, as := range typed {
		for _, a := range as {
			kinds[a.kind]++
		}
	}
	if kinds[answerRight] == 0 || kinds[answerWrong] == 0 || kinds[answerUnreadable] == 0 {
		t.Fatalf("answers typed: %v", kinds)
	}

	// The CSV, as a spreadsheet writes it: good rows naming the student by
	// paper code, student number or both, and bad rows among them.
	var buf strings.Builder
	w := csv.NewWriter(&buf)
	w.Write(append([]string{"student", "paper_code"}, columns...))
	ids := make([]int64, 0, class)
	for _, sp := range keys.Students {
		ids = append(ids, sp.UserID)
	}
	row := func(student, code string, as []typedAnswer) []string {
		r := []string{student, code}
		for _, c := range columns {
			cell := ""
			for _, a := range as {
				if a.column == c {
					cell = a.raw
				}
			}
			r = append(r, cell)
		}
		return r
	}
	line := 1
	badLines := map[int]string{} // line → the field its error must name
	for i, id := range ids {
		student, code := numbers[id], codeOf[id]
		switch i % 3 {
		case 1:
			student = ""
		case 2:
			code = ""
		}
		w.Write(row(student, code, typed[id]))
		line++
		switch i {
		case 0: // a student not on the roster
			w.Write(row("3035999999", "", typed[id]))
			line++
			badLines[line] = "student"
		case 1: // one student's number with another's paper code
			w.Write(row(numbers[ids[2]], codeOf[ids[3]], typed[ids[2]]))
			line++
			badLines[line] = "paper_code"
		case 2: // a mistyped paper code: its check digit is off
			c := codeOf[ids[4]]
			d := (c[len(c)-1]-'0'+1)%10 + '0'
			w.Write(row("", c[:len(c)-1]+string(rune(d)), typed[ids[4]]))
			line++
			badLines[line] = "paper_code"
		case 3: // the same student twice
			w.Write(row(numbers[ids[0]], "", typed[ids[0]]))
			line++
			badLines[line] = "student"
		}
	}
	w.Flush()
	file := buf.String()
	sum := sha256.Sum256([]byte(file))

	// Upload it and wait for the job.
	base := fmt.Sprintf("/api/v1/exams/%d/submissions", e.ID)
	upload := func() marksmith.SubmissionJob {
		t.Helper()
		resp := h.do(request{method: "POST", path: base, token: prof, contentType: "text/csv", body: []byte(file)})
		if resp.status != 202 {
			t.Fatalf("upload: %d %s", resp.status, resp.body)
		}
		var job marksmith.SubmissionJob
		resp.decode(t, &job)
		h.exams.WaitJobs()
		h.call("GET", fmt.Sprintf("%s/%d", base, job.ID), prof, nil, 200, &job)
		if job.Status != marksmith.JobDone {
			t.Fatalf("job %+v", job)
		}
		return job
	}
	job := upload()
	if job.RowsRead != class+len(badLines) || job.Graded != class || job.Rejected != len(badLines) || job.Unchanged != 0 ||
		job.SHA256 != hex.EncodeToString(sum[:]) || job.Bytes != int64(len(file)) {
		t.Fatalf("receipt %+v; want %d rows, %d graded, %d rejected, sha256 %x, %d bytes",
			job, class+len(badLines), class, len(badLines), sum, len(file))
	}
	gotBad := map[int]string{}
	for _, re := range job.Errors {
		gotBad[re.Line] = re.Field
		if re.Message == "" {
			t.Errorf("line %d: an error without a message", re.Line)
		}
	}
	if fmt.Sprint(gotBad) != fmt.Sprint(badLines) {
		t.Errorf("row errors %+v; want lines and fields %v", job.Errors, badLines)
	}

	// Every grade, against the key.
	var gb marksmith.Gradebook
	h.call("GET", fmt.Sprintf("/api/v1/exams/%d/gradebook", e.ID), prof, nil, 200, &gb)
	if len(gb.Rows) != class {
		t.Fatalf("gradebook has %d rows", len(gb.Rows))
	}
	views := map[int64]string{}
	for _, r := range gb.Rows {
		if r.Mode != marksmith.DeliveryPaper || r.Status != string(marksmith.AttemptSubmitted) || r.AttemptID == nil || r.Total == nil {
			t.Fatalf("gradebook row %+v", r)
		}
		view := h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", *r.AttemptID), prof, nil, 200, nil)
		var v marksmith.AttemptView
		view.decode(t, &v)
		views[r.UserID] = attemptState(v)
		answers, grades := map[string]marksmith.Answer{}, map[string]marksmith.Grade{}
		for _, q := range v.Questions {
			for _, a := range q.Answers {
				answers[fmt.Sprintf("%d.%s", a.Position, a.Part)] = a
			}
			for _, g := range q.Grades {
				grades[fmt.Sprintf("%d.%s", g.Position, g.Part)] = g
			}
		}
		want := 0.0
		for _, a := range typed[r.UserID] {
			got, ok := answers[a.column]
			g, graded := grades[a.column]
			if !ok || !graded || got.Raw != a.raw {
				t.Errorf("%s %s: stored %q (graded %v), typed %q", r.StudentKey, a.column, got.Raw, graded, a.raw)
				continue
			}
			switch a.kind {
			case answerRight:
				want += a.marks
				if g.Score != a.marks || got.FormatError != "" {
					t.Errorf("%s %s right answer %q: %v of %v (%s), format error %q", r.StudentKey, a.column, a.raw, g.Score, a.marks, g.Rule, got.FormatError)
				}
			case answerWrong:
				if g.Score != 0 || got.FormatError != "" {
					t.Errorf("%s %s wrong answer %q: %v of %v (%s), format error %q", r.StudentKey, a.column, a.raw, g.Score, a.marks, g.Rule, got.FormatError)
				}
			case answerUnreadable:
				if g.Score != 0 || got.FormatError == "" {
					t.Errorf("%s %s unreadable answer %q: %v of %v (%s), no format error", r.StudentKey, a.column, a.raw, g.Score, a.marks, g.Rule)
				}
			}
		}
		if d := *r.Total - want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: total %v, want %v", r.StudentKey, *r.Total, want)
		}
	}

	// The results file: a line a row, each good one graded.
	res := h.call("GET", fmt.Sprintf("%s/%d/results.csv", base, job.ID), prof, nil, 200, nil)
	results, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for _, r := range results[1:] {
		statuses[r[slices.Index(results[0], "status")]]++
	}
	if len(results) != 1+class+len(badLines) || statuses["graded"] != class || statuses["rejected"] != len(badLines) {
		t.Errorf("results file: %d lines, statuses %v", len(results), statuses)
	}

	// The same file again changes nothing: every good row unchanged, the
	// bad rows rejected as before, and the stored answers and grades as
	// they were.
	var audit struct {
		Entries []marksmith.AuditEntry `json:"entries"`
	}
	h.call("GET", fmt.Sprintf("/api/v1/exams/%d/audit", e.ID), prof, nil, 200, &audit)
	again := upload()
	if again.SHA256 != job.SHA256 || again.RowsRead != job.RowsRead || again.Graded != 0 || again.Unchanged != class || again.Rejected != len(badLines) {
		t.Errorf("second upload's receipt %+v", again)
	}
	var gb2 marksmith.Gradebook
	h.call("GET", fmt.Sprintf("/api/v1/exams/%d/gradebook", e.ID), prof, nil, 200, &gb2)
	for _, r := range gb2.Rows {
		view := h.call("GET", fmt.Sprintf("/api/v1/attempts/%d", *r.AttemptID), prof, nil, 200, nil)
		var v marksmith.AttemptView
		view.decode(t, &v)
		if attemptState(v) != views[r.UserID] {
			t.Errorf("%s: the second upload changed the attempt:\n%s\nwas\n%s", r.StudentKey, attemptState(v), views[r.UserID])
		}
	}
	var audit2 struct {
		Entries []marksmith.AuditEntry `json:"entries"`
	}
	h.call("GET", fmt.Sprintf("/api/v1/exams/%d/audit", e.ID), prof, nil, 200, &audit2)
	if len(audit.Entries) == 0 || len(audit2.Entries) != len(audit.Entries) {
		t.Errorf("audit entries: %d before the second upload, %d after", len(audit.Entries), len(audit2.Entries))
	}
}

// sortedByPosition returns questions in the exam's order, whatever order
// the student's paper has them in.
func sortedByPosition(qs []marksmith.Question) []marksmith.Question {
	out := slices.Clone(qs)
	slices.SortFunc(out, func(a, b marksmith.Question) int { return a.Position - b.Position })
	return out
}

// attemptState is what an upload may change of an attempt: its status,
// score and submission time, and every answer and grade.
func attemptState(v marksmith.AttemptView) string {
	var b strings.Builder
	a := v.Attempt
	fmt.Fprintf(&b, "attempt %d %s %s score %v/%v submitted %v\n", a.ID, a.Status, a.Mode, deref(a.Score), a.Max, a.SubmittedAt)
	for _, q := range sortedByPosition(v.Questions) {
		for _, x := range q.Answers {
			fmt.Fprintf(&b, "answer %d.%s %q seq %d %q %v\n", x.Position, x.Part, x.Raw, x.Seq, x.FormatError, x.SavedAt)
		}
		for _, g := range q.Grades {
			fmt.Fprintf(&b, "grade %d.%s %v/%v %s %v\n", g.Position, g.Part, g.Score, g.Max, g.Rule, g.GradedAt)
		}
	}
	return b.String()
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// typeAnswer writes a part's answer of the kind asked: the key as printed
// for the markers, a wrong answer of the right form, or one that cannot
// be read as the part's answer type. An essay or a free-text part reads
// any text, so its unreadable answer is a wrong one.
func typeAnswer(t *testing.T, p marksmith.Part, kind answerKind) (string, answerKind) {
	t.Helper()
	if p.Key == nil || p.Key.Answer == "" {
		t.Fatalf("part %s has no key", p.ID)
	}
	if kind == answerRight {
		return p.Key.Answer, kind
	}
	switch p.Type {
	case marksmith.TypeNumber, marksmith.TypeInteger:
		if kind == answerUnreadable {
			return "about twelve", kind
		}
		return "-987654", kind
	case marksmith.TypeChoice:
		if kind == answerUnreadable {
			return "Z9", kind
		}
		for _, o := range p.Options {
			if o.Label != p.Key.Answer {
				return o.Label, kind
			}
		}
	case marksmith.TypeMulti:
		if kind == answerUnreadable {
			return "Z9", kind
		}
		var rest []string
		for _, o := range p.Options {
			if !slices.Contains(strings.Split(strings.ReplaceAll(p.Key.Answer, " ", ""), ","), o.Label) {
				rest = append(rest, o.Label)
			}
		}
		if len(rest) > 0 {
			return strings.Join(rest, ", "), kind
		}
	case marksmith.TypeText, marksmith.TypeEssay:
		return "I do not know.", answerWrong
	case marksmith.TypeSequence:
		if kind == answerUnreadable {
			return "[]", kind
		}
		return strings.TrimSpace(strings.Repeat("zz ", p.Length)), kind
	case marksmith.TypeTable:
		if kind == answerUnreadable {
			return "1, 2; 3", kind
		}
		rows := make([]string, p.Height)
		for i := range rows {
			rows[i] = strings.TrimSuffix(strings.Repeat("-4242, ", p.Width), ", ")
		}
		return strings.Join(rows, "; "), kind
	case marksmith.TypePoints:
		if kind == answerUnreadable {
			return "a point somewhere", kind
		}
		// Every point half the chart's width and height away from the
		// key's, wrapped back onto the chart.
		shift := func(v, lo, hi float64) float64 {
			if v += (hi - lo) / 2; v > hi {
				v -= hi - lo
			}
			return v
		}
		var charts []string
		for _, c := range p.Charts {
			var pts []string
			for _, k := range p.Key.Points {
				if k.Chart == c.ID {
					pts = append(pts, fmt.Sprintf("%s (%.3g, %.3g)", k.Label, shift(k.X, c.XMin, c.XMax), shift(k.Y, c.YMin, c.YMax)))
				}
			}
			charts = append(charts, c.ID+": "+strings.Join(pts, ", "))
		}
		return strings.Join(charts, "; "), kind
	}
	t.Fatalf("part %s (%s): no %s answer to type", p.ID, p.Type, kind)
	return "", kind
}
