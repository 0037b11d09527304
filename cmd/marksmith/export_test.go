package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exported is what the tests read of an exported file: each question's
// type, and the categories' paths.
type exported struct {
	Questions []struct {
		Type     string `xml:"type,attr"`
		Category struct {
			Text string `xml:"text"`
		} `xml:"category"`
		IDNumber string `xml:"idnumber"`
	} `xml:"question"`
}

func readExport(t *testing.T, data []byte) (types map[string]int, categories []string, ids []string) {
	t.Helper()
	var e exported
	if err := xml.Unmarshal(data, &e); err != nil {
		t.Fatalf("not XML: %v\n%.400s", err, data)
	}
	types = map[string]int{}
	for _, q := range e.Questions {
		types[q.Type]++
		if q.Type == "category" {
			categories = append(categories, q.Category.Text)
		} else {
			ids = append(ids, q.IDNumber)
		}
	}
	return types, categories, ids
}

func TestExportMoodle(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "q8.xml")
	out, _, err := runCmd(t, "", "export", "moodle", "dasc7606/q8", "--count", "3", "--seed", "7", "--out", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "wrote "+file+": 1 templates, 1 categories, 3 questions") {
		t.Errorf("output %q", out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	types, cats, ids := readExport(t, data)
	if types["cloze"] != 3 || types["category"] != 1 || len(cats) != 1 || cats[0] != "$course$/top/Marksmith/dasc7606/q8 Recurrent Neural Networks" {
		t.Errorf("types %v, categories %v", types, cats)
	}
	// The same seed gives the same variants; another seed others.
	again, _, _ := runCmd(t, "", "export", "moodle", "dasc7606/q8", "--count", "3", "--seed", "7")
	if again != string(data) {
		t.Error("the export to standard output differs from the file written with the same seed")
	}
	other, _, _ := runCmd(t, "", "export", "moodle", "dasc7606/q8", "--count", "3", "--seed", "8")
	if _, _, otherIDs := readExport(t, []byte(other)); strings.Join(otherIDs, " ") == strings.Join(ids, " ") {
		t.Error("seeds 7 and 8 give the same variants")
	}

	// Every built-in template, with its essays beside it, under another category.
	all, _, err := runCmd(t, "", "export", "moodle", "--count", "1", "--category", "DASC7606/2025")
	if err != nil {
		t.Fatal(err)
	}
	types, cats, _ = readExport(t, []byte(all))
	if len(cats) != 13 || types["cloze"] != 8 || types["essay"] != 5 || !strings.HasPrefix(cats[0], "$course$/top/DASC7606/2025/dasc7606/q1 ") ||
		cats[1] != "$course$/top/DASC7606/2025/dasc7606/q1 Activation Functions (written parts)" {
		t.Errorf("types %v, categories %q", types, cats)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "moodle", "dasc7606/nope"}, `no template "dasc7606/nope"`},
		{[]string{"export", "moodle", "dasc7606/q8", "--count", "0"}, "--count must be 1 or more"},
		{[]string{"export", "moodle", "--colour", "red"}, "flag provided but not defined"},
		{[]string{"export", "csv"}, `unknown export format "csv"`},
	} {
		_, _, err := runCmd(t, "", tc.args...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: exit %d, %v; want 2 and %q", tc.args, exitCode(err), err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "nothing.xml")); err == nil {
		t.Error("a failed export left a file")
	}
}
