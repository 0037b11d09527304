package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/grader"
	"github.com/marksmith/marksmith/variants"
)

const bankUsage = `usage: marksmith bank COMMAND [flags]

commands:
  validate PATH...                         check template files (or folders of them); exit 1 listing every problem
  preview ID [--seed N | --canonical] [--format text|json]
                                           the rendered question and its key
  key ID... --seed S --count N [--format jsonl]
                                           one JSON object per variant with its answers
  test [ID...] [--count N] [--seed S]      draw N variants per template and check them
  list                                     the templates in the bank

ID is a template id of the built-in bank (dasc7606/q6), a template file, or a template
in the folder given with --bank DIR.`

func runBank(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stdout, bankUsage)
		return nil
	}
	switch args[0] {
	case "validate":
		return bankValidate(args[1:], stdout, stderr)
	case "preview":
		return bankPreview(args[1:], stdout)
	case "key":
		return bankKey(args[1:], stdout)
	case "test":
		return bankTest(args[1:], stdout)
	case "list":
		return bankList(args[1:], stdout)
	}
	fmt.Fprintln(stderr, bankUsage)
	return &exitError{code: 2, err: fmt.Errorf("unknown bank command %q", args[0])}
}

// templateFiles expands paths into template files, walking folders.
func templateFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				if !d.IsDir() {
					out = append(out, path)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func bankValidate(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("bank validate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	if err := fl.Parse(args); err != nil {
		return &exitError{code: 2, err: err}
	}
	if fl.NArg() == 0 {
		return &exitError{code: 2, err: errors.New("bank validate: give one or more template files or folders")}
	}
	files, err := templateFiles(fl.Args())
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	bad := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		if _, err := bank.Load(f, data); err != nil {
			bad++
			var ve *bank.ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					fmt.Fprintln(stdout, p.String())
				}
			} else {
				fmt.Fprintf(stdout, "%s: %v\n", f, err)
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d templates have problems", bad, len(files))
	}
	fmt.Fprintf(stdout, "%d templates, no problems\n", len(files))
	return nil
}

// templateSet is the built-in bank plus any templates named on the command line.
type templateSet struct {
	builtin []*bank.Template
	extra   string // --bank folder
}

func (s *templateSet) find(id string) (*bank.Template, error) {
	if strings.HasSuffix(id, ".yaml") || strings.HasSuffix(id, ".yml") || strings.HasSuffix(id, ".json") {
		data, err := os.ReadFile(id)
		if err != nil {
			return nil, err
		}
		return bank.Load(id, data)
	}
	if s.extra != "" {
		files, err := templateFiles([]string{s.extra})
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			t, err := bank.Load(f, data)
			if err != nil {
				return nil, err
			}
			if t.ID == id {
				return t, nil
			}
		}
	}
	if t := bank.Find(s.builtin, id); t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("no template %q in the bank", id)
}

func loadSet(extra string) (*templateSet, error) {
	b, err := bank.Builtin()
	if err != nil {
		return nil, fmt.Errorf("built-in bank: %w", err)
	}
	return &templateSet{builtin: b, extra: extra}, nil
}

func bankList(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("bank list", flag.ContinueOnError)
	extra := fl.String("bank", "", "folder of extra templates")
	if err := fl.Parse(args); err != nil {
		return &exitError{code: 2, err: err}
	}
	set, err := loadSet(*extra)
	if err != nil {
		return err
	}
	for _, t := range set.builtin {
		fmt.Fprintf(stdout, "%-16s %5g marks  v%d  %s\n", t.ID, t.Marks, t.Version, t.Title)
	}
	return nil
}

// parseSeed reads a variant seed; "canonical" is 0.
func parseSeed(s string) (uint64, error) {
	if s == "canonical" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("seed %q is not a whole number from 0 to %d", s, uint64(1<<64-1))
	}
	return n, nil
}

func bankPreview(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("bank preview", flag.ContinueOnError)
	seed := fl.String("seed", "", "variant seed (0 is the canonical variant)")
	canonical := fl.Bool("canonical", false, "the printed paper's variant")
	format := fl.String("format", "text", "text or json")
	extra := fl.String("bank", "", "folder of extra templates")
	id, rest := splitFirst(args)
	if err := fl.Parse(rest); err != nil {
		return &exitError{code: 2, err: err}
	}
	if id == "" {
		return &exitError{code: 2, err: errors.New("bank preview: give a template id")}
	}
	if *canonical && *seed != "" {
		return &exitError{code: 2, err: errors.New("bank preview: give --seed or --canonical, not both")}
	}
	var s uint64
	if *seed != "" {
		var err error
		if s, err = parseSeed(*seed); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	set, err := loadSet(*extra)
	if err != nil {
		return err
	}
	t, err := set.find(id)
	if err != nil {
		return err
	}
	v, err := t.Variant(s)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		// A short-text part is keyed by its accepted phrasings; show the
		// first, as the text preview does, rather than an empty key.
		for i := range v.Parts {
			if spec := &v.Parts[i].Answer; spec.Key == nil && (spec.Type == grader.Text || spec.Type == grader.Essay) {
				spec.Key = bank.KeyValue(spec)
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "text":
		return v.WriteText(stdout, true)
	}
	return &exitError{code: 2, err: fmt.Errorf("bank preview: unknown format %q (text or json)", *format)}
}

// splitFirst separates a leading positional argument from flags.
func splitFirst(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// parseIDs parses flags that may stand before, after or among template ids,
// and returns the ids.
func parseIDs(fl *flag.FlagSet, args []string) ([]string, error) {
	var ids []string
	for len(args) > 0 {
		for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			ids, args = append(ids, args[0]), args[1:]
		}
		if err := fl.Parse(args); err != nil {
			return nil, &exitError{code: 2, err: err}
		}
		args = fl.Args()
	}
	return ids, nil
}

// keyLine is one line of `bank key --format jsonl`.
type keyLine struct {
	Template string         `json:"template"`
	Variant  uint64         `json:"variant"`
	Params   map[string]any `json:"params"`
	Answers  map[string]any `json:"answers"`
}

func bankKey(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("bank key", flag.ContinueOnError)
	seed := fl.Uint64("seed", 1, "exam seed the variants are drawn from")
	count := fl.Int("count", 1, "variants per template")
	format := fl.String("format", "jsonl", "jsonl")
	extra := fl.String("bank", "", "folder of extra templates")
	ids, err := parseIDs(fl, args)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return &exitError{code: 2, err: errors.New("bank key: give one or more template ids")}
	}
	if *format != "jsonl" {
		return &exitError{code: 2, err: fmt.Errorf("bank key: unknown format %q (jsonl)", *format)}
	}
	if *count < 1 {
		return &exitError{code: 2, err: errors.New("bank key: --count must be 1 or more")}
	}
	set, err := loadSet(*extra)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, id := range ids {
		t, err := set.find(id)
		if err != nil {
			return err
		}
		cohort, err := t.Generator().DrawCohort(*seed, t.ID, studentKeys(*count), 8)
		if err != nil {
			return fmt.Errorf("%s: %w", t.ID, err)
		}
		for _, s := range cohort.Seeds {
			v, err := t.Variant(s)
			if err != nil {
				return err
			}
			line := keyLine{Template: t.ID, Variant: s, Params: v.Params, Answers: map[string]any{}}
			for _, p := range v.Parts {
				line.Answers[p.ID] = bank.KeyValue(&p.Answer)
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
	}
	return nil
}

func studentKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = strconv.Itoa(i + 1)
	}
	return keys
}

func bankTest(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("bank test", flag.ContinueOnError)
	seed := fl.Uint64("seed", 1, "exam seed the variants are drawn from")
	count := fl.Int("count", 100, "variants per template")
	format := fl.String("format", "text", "text or json")
	extra := fl.String("bank", "", "folder of extra templates")
	ids, err := parseIDs(fl, args)
	if err != nil {
		return err
	}
	if *count < 1 {
		return &exitError{code: 2, err: errors.New("bank test: --count must be 1 or more")}
	}
	set, err := loadSet(*extra)
	if err != nil {
		return err
	}
	var ts []*bank.Template
	if len(ids) == 0 {
		ts = set.builtin
	}
	for _, id := range ids {
		t, err := set.find(id)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	if *format != "text" && *format != "json" {
		return &exitError{code: 2, err: fmt.Errorf("bank test: unknown format %q (text or json)", *format)}
	}
	start := time.Now()
	clock := func() int64 { return int64(time.Since(start)) }
	failed := 0
	enc := json.NewEncoder(stdout)
	var reps []*bank.TestReport
	for _, t := range ts {
		rep, err := t.Test(bank.TestOptions{Seed: *seed, Count: *count, Clock: clock})
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL %s: %v\n", t.ID, err)
			continue
		}
		if !rep.OK() {
			failed++
		}
		if *format == "json" {
			if err := enc.Encode(rep); err != nil {
				return err
			}
			continue
		}
		reps = append(reps, rep)
	}
	if *format == "text" {
		writeReports(stdout, reps)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d templates failed their self-test", failed, len(ts))
	}
	return nil
}

// writeReports prints the self-test reports: a table with one row per
// template, then each template's keys, thresholds and failures.
func writeReports(w io.Writer, reps []*bank.TestReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "template\tresult\tvariants\tdistinct\tindependent\tspace ≤\taccepted\test. space\tby repeats\tµs/variant\tp99 µs\t")
	for _, r := range reps {
		status := "ok"
		if !r.OK() {
			status = "FAIL"
		}
		repeats := bigNumber(r.RepeatEstimate)
		if r.RepeatBound {
			repeats = "≥ " + repeats
		}
		med, p99 := "", ""
		if r.Time != nil {
			med, p99 = strconv.FormatFloat(r.Time.Median, 'f', 1, 64), strconv.FormatFloat(r.Time.P99, 'f', 1, 64)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%.1f%%\t%s\t%s\t%s\t%s\t\n", r.Template, status, r.Count, r.Distinct, r.Independent,
			bigNumber(r.SpaceSize), 100*r.Accepted, bigNumber(r.EstimatedSpace), repeats, med, p99)
	}
	tw.Flush()
	for _, r := range reps {
		writeReport(w, r)
	}
}

// bigNumber writes a count: with separators up to ten million, then in
// scientific notation.
func bigNumber(x float64) string {
	if x >= 1e7 {
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
	s := strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// writeReport prints one template's keys, thresholds and failures.
func writeReport(w io.Writer, r *bank.TestReport) {
	status := "ok  "
	if !r.OK() {
		status = "FAIL"
	}
	fmt.Fprintf(w, "\n%s %s v%d: %d variants\n", status, r.Template, r.Version, r.Count)
	for _, f := range r.Failures {
		fmt.Fprintf(w, "     %s\n", f)
	}
	for _, s := range r.Spread {
		switch {
		case len(s.Options) > 0:
			var opts []string
			for _, o := range s.Options {
				opts = append(opts, fmt.Sprintf("%s %.1f%%", o.Value, 100*float64(o.Count)/float64(r.Count)))
			}
			line := fmt.Sprintf("     %-8s %-8s %5d distinct  right: %s", "("+s.Part+")", s.Type, s.Distinct, strings.Join(opts, "  "))
			if s.Type == "choice" {
				line += fmt.Sprintf("  (least/most %.2f)", s.Uniformity)
			}
			fmt.Fprintln(w, line)
		case s.Min != nil:
			fmt.Fprintf(w, "     %-8s %-8s %5d distinct  min %s  median %s  max %s\n", "("+s.Part+")", s.Type, s.Distinct, variants.Format(*s.Min), variants.Format(*s.Median), variants.Format(*s.Max))
		default:
			var top []string
			for _, vc := range s.Top {
				v := vc.Value
				if len(v) > 40 {
					v = v[:37] + "..."
				}
				top = append(top, fmt.Sprintf("%q×%d", v, vc.Count))
			}
			fmt.Fprintf(w, "     %-8s %-8s %5d distinct  %s\n", "("+s.Part+")", s.Type, s.Distinct, strings.Join(top, ", "))
		}
	}
	for _, c := range r.Closest {
		bound := "at least"
		if c.AtMost {
			bound = "at most"
		}
		fmt.Fprintf(w, "     closest to a threshold: %s = %s (%s %s), variant %d\n", c.Measure, strconv.FormatFloat(c.Value, 'g', 4, 64), bound, variants.Format(c.Limit), c.Variant)
	}
}
