package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"github.com/marksmith/marksmith/bank"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCmd runs the command line and returns its output and error.
func runCmd(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
	return out.String(), errb.String(), err
}

func TestBankPreviewCanonical(t *testing.T) {
	out, _, err := runCmd(t, "", "bank", "preview", "dasc7606/q6", "--canonical")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"canonical variant", "$28 \\times 28 \\times 192$", "key (number): 173408256", "key (number): 67436544", "key (number): 105971712", "error carried forward: ans.d - ans.e"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	js, _, err := runCmd(t, "", "bank", "preview", "dasc7606/q6", "--seed", "5", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Template string `json:"template"`
		Variant  uint64 `json:"variant"`
		Parts    []struct {
			ID     string
			Answer struct {
				Type string `json:"type"`
				Key  any    `json:"key"`
			} `json:"answer"`
		}
	}
	if err := json.Unmarshal([]byte(js), &v); err != nil || v.Template != "dasc7606/q6" || v.Variant != 5 || len(v.Parts) != 10 {
		t.Fatalf("json preview = %+v, %v", v, err)
	}
	for _, p := range v.Parts {
		if k, ok := p.Answer.Key.(string); p.Answer.Type == "text" && (!ok || k == "") {
			t.Errorf("json preview: text part %s has key %v; want its first accepted phrasing", p.ID, p.Answer.Key)
		}
	}
	if _, _, err := runCmd(t, "", "bank", "preview", "dasc7606/nope"); err == nil || !strings.Contains(err.Error(), "no template") {
		t.Errorf("unknown template: %v", err)
	}
	if _, _, err := runCmd(t, "", "bank", "preview", "dasc7606/q6", "--seed", "x"); exitCode(err) != 2 {
		t.Errorf("bad seed: exit %d (%v), want 2", exitCode(err), err)
	}
}

func TestBankKeyJSONL(t *testing.T) {
	out, _, err := runCmd(t, "", "bank", "key", "dasc7606/q6", "--seed", "9", "--count", "5", "--format", "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5", len(lines))
	}
	seen := map[uint64]bool{}
	for _, l := range lines {
		var k struct {
			Template string         `json:"template"`
			Variant  uint64         `json:"variant"`
			Params   map[string]any `json:"params"`
			Answers  map[string]any `json:"answers"`
		}
		if err := json.Unmarshal([]byte(l), &k); err != nil {
			t.Fatal(err)
		}
		seen[k.Variant] = true
		hw, cin, cout, kk := k.Params["hw"].(float64), k.Params["cin"].(float64), k.Params["cout"].(float64), k.Params["k"].(float64)
		if got, want := k.Answers["d"].(float64), hw*hw*cin*kk*kk*cout; got != want {
			t.Errorf("variant %d: d = %v, want %v", k.Variant, got, want)
		}
		if tbl, ok := k.Answers["c"].([]any); !ok || len(tbl) != 1 {
			t.Errorf("variant %d: c = %v, want a list of one row", k.Variant, k.Answers["c"])
		}
	}
	if len(seen) != 5 {
		t.Errorf("variants %v are not distinct", seen)
	}
	again, _, _ := runCmd(t, "", "bank", "key", "dasc7606/q6", "--seed", "9", "--count", "5", "--format", "jsonl")
	if again != out {
		t.Error("the same seed gave different keys")
	}
}

func TestBankValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("id: t/a\ntitle: A\nmarks: 1\nparts:\n  - {id: a, marks: 1, prompt: x, answer: {type: integer, value: '1+1'}}\n"), 0o644)
	os.WriteFile(bad, []byte("id: t/b\ntitle: B\nmarks: 2\nwhat: 1\nparts:\n  - {id: a, marks: 1, prompt: x, answer: {type: integer, value: 'y+1'}}\n"), 0o644)
	out, _, err := runCmd(t, "", "bank", "validate", good)
	if err != nil || !strings.Contains(out, "1 templates, no problems") {
		t.Fatalf("good: %q %v", out, err)
	}
	out, _, err = runCmd(t, "", "bank", "validate", dir)
	if exitCode(err) != 1 {
		t.Fatalf("bad: exit %d, want 1", exitCode(err))
	}
	for _, want := range []string{"bad.yaml:4:1: what: unknown field", "bad.yaml:6:", "unknown name y", "part marks add up to 1, but the question is worth 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCmd(t, "", "bank", "validate", "../../bank/dasc7606")
	if err != nil {
		t.Fatalf("the built-in bank does not validate: %v\n%s", err, out)
	}
}

func TestBankTest(t *testing.T) {
	out, _, err := runCmd(t, "", "bank", "test", "dasc7606/q6", "dasc7606/q4", "--count", "200")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(out, "\n")
	header := strings.Fields(lines[0])
	if strings.Join(header, " ") != "template result variants distinct independent space ≤ accepted est. space by repeats µs/variant p99 µs" {
		t.Errorf("table header %q", lines[0])
	}
	for i, id := range []string{"dasc7606/q6", "dasc7606/q4"} {
		row := strings.Fields(lines[1+i])
		// q6's space before constraints: 2 × 3 × 9 × 15 × 13 × 10 = 105,300; q4's 33 × 3 × 2 × 26 × 26 = 133,848.
		space := map[string]string{"dasc7606/q6": "105,300", "dasc7606/q4": "133,848"}[id]
		if len(row) < 11 || row[0] != id || row[1] != "ok" || row[2] != "200" || row[3] != "200" || row[5] != space || !strings.HasSuffix(row[6], "%") {
			t.Errorf("row %d = %q", i+1, lines[1+i])
		}
	}
	for _, want := range []string{"ok   dasc7606/q6 v1: 200 variants", "(d)      number", "(c)      multi", "right: A ",
		"closest to a threshold: min(frac(bound_att), frac(bound_mlp)) = "} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	js, _, err := runCmd(t, "", "bank", "test", "dasc7606/q2", "--count", "300", "--format", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	var rep bank.TestReport
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Template != "dasc7606/q2" || rep.Count != 300 || rep.Distinct != 300 || rep.SpaceSize != 66240 ||
		rep.Accepted <= 0 || rep.Accepted >= 1 || rep.EstimatedSpace != rep.SpaceSize*rep.Accepted || rep.Time == nil || rep.Time.Median <= 0 {
		t.Errorf("json report %+v", rep)
	}
	var c *bank.Spread
	for i := range rep.Spread {
		if rep.Spread[i].Part == "c" {
			c = &rep.Spread[i]
		}
	}
	if c == nil || len(c.Options) != 4 || c.Uniformity <= 0.5 || c.Uniformity > 1 {
		t.Errorf("(c) spread %+v: want four labels each the key about a quarter of the time", c)
	}
	if len(rep.Closest) != 2 || rep.Closest[0].Value < 0.1 || rep.Closest[1].Value < 1.2 {
		t.Errorf("closest %+v", rep.Closest)
	}
	if _, _, err := runCmd(t, "", "bank", "test", "dasc7606/q2", "--format", "xml"); exitCode(err) != 2 {
		t.Errorf("unknown format: exit %d (%v), want 2", exitCode(err), err)
	}
}

func TestGradeCSV(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "answers.csv")
	outPath := filepath.Join(dir, "results.csv")
	// Canonical keys: b 27, 49; d 173408256, e 67436544, f 105971712.
	csvText := "student,variant,q6.b,q6.d,q6.e,q6.f,q6.g\n" +
		"s1,canonical,\"27, 49\",\"173,408,256\",67436544,105971712,skip connections\n" +
		"s2,0,\"27, 81\",100000000,67436544,32563456,batch norm\n" + // d wrong, f follows from the wrong d
		"s3,notaseed,\"27, 49\",1,1,1,x\n" +
		"s4,0,\"27, forty-nine\",1.734e8,6.7e7,1.06e8,residual block\n"
	os.WriteFile(in, []byte(csvText), 0o644)
	_, stderr, err := runCmd(t, "", "grade", "--answers", in, "--out", outPath)
	if exitCode(err) != 1 || !strings.Contains(stderr, "line 4, column 2 (variant)") || !strings.Contains(stderr, "graded 3 of 4 rows") {
		t.Fatalf("exit %d, stderr:\n%s", exitCode(err), stderr)
	}
	f, _ := os.Open(outPath)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	get := func(row int, name string) string { return recs[row][col[name]] }
	if len(recs) != 5 {
		t.Fatalf("%d records, want header + 4", len(recs))
	}
	// s1: b 2, d 3, e 2, f 3, g 3 = 13 of 24.
	if get(1, "dasc7606/q6") != "13" || get(1, "total") != "13" || get(1, "max") != "24" {
		t.Errorf("s1: %v", recs[1])
	}
	// s2: b half right, d wrong, e right, f carried forward from d and e, g to review.
	if get(2, "dasc7606/q6.b") != "1" || get(2, "dasc7606/q6.d") != "0" || get(2, "dasc7606/q6.f") != "3" || get(2, "dasc7606/q6.e") != "2" {
		t.Errorf("s2: %v", recs[2])
	}
	if !strings.Contains(get(2, "needs_review"), "dasc7606/q6.g") {
		t.Errorf("s2 needs_review = %q", get(2, "needs_review"))
	}
	if get(3, "error") == "" || get(3, "total") != "" {
		t.Errorf("s3 (bad seed) = %v", recs[3])
	}
	if !strings.Contains(get(4, "format_errors"), "dasc7606/q6.b") {
		t.Errorf("s4 format errors = %q", get(4, "format_errors"))
	}
	if get(4, "dasc7606/q6.d") != "3" {
		t.Errorf("s4 d (1.734e8 within 0.1%%) = %q", get(4, "dasc7606/q6.d"))
	}

	_, _, err = runCmd(t, "", "grade", "--answers", writeFile(t, dir, "h.csv", "student,variant,q6.z\n"), "--out", outPath)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "column 3") || !strings.Contains(err.Error(), "no part \"z\"") {
		t.Errorf("bad header: %v", err)
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBankKeyFlagsAmongIDs(t *testing.T) {
	out, _, err := runCmd(t, "", "bank", "key", "dasc7606/q8", "--seed", "3", "dasc7606/q4", "--count", "2")
	if err != nil {
		t.Fatal(err)
	}
	var templates []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var k struct{ Template string }
		if err := json.Unmarshal([]byte(l), &k); err != nil {
			t.Fatal(err)
		}
		templates = append(templates, k.Template)
	}
	if strings.Join(templates, " ") != "dasc7606/q8 dasc7606/q8 dasc7606/q4 dasc7606/q4" {
		t.Errorf("templates %v, want two variants each of q8 and q4", templates)
	}
}
