package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/bulk"
)

const gradeUsage = `usage: marksmith grade --answers FILE.csv --out FILE.csv [--bank DIR]
       marksmith grade --exam ID --server URL --answers FILE [--replace] [--dry-run] [--results FILE.csv]

Grades a CSV of answers offline. The header names a student column (student), a variant
column (variant: the seed of the student's paper, or canonical) and one column per part,
QUESTION.PART (dasc7606/q6.d, or q6.d when the short name is unambiguous); a column
QUESTION.variant overrides the variant for one question. The results file has each part's
marks, each question's and the paper's total, the parts awaiting review and every format
error. A bad row is reported on its own line and never stops the others.

With --exam it uploads the answers to a published exam on a server instead (marksmith grade
--exam 1 --help for more).`

func runGrade(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	for _, a := range args {
		if a == "--exam" || a == "-exam" || strings.HasPrefix(a, "--exam=") || strings.HasPrefix(a, "-exam=") {
			return runGradeUpload(ctx, args, stdout, stderr, getenv)
		}
	}
	fl := flag.NewFlagSet("grade", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprintln(stderr, gradeUsage) }
	answers := fl.String("answers", "", "CSV of answers (- for standard input)")
	out := fl.String("out", "", "CSV of results (- for standard output)")
	extra := fl.String("bank", "", "folder of extra templates")
	quiet := fl.Bool("quiet", false, "no progress bar")
	if err := fl.Parse(args); err != nil {
		return &exitError{code: 2, err: err}
	}
	if *answers == "" || *out == "" {
		fl.Usage()
		return &exitError{code: 2, err: errors.New("grade: --answers and --out are required")}
	}
	set, err := loadSet(*extra)
	if err != nil {
		return err
	}
	var in io.Reader = stdin
	if *answers != "-" {
		f, err := os.Open(*answers)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		defer f.Close()
		in = f
	}
	sheet, rows, err := bulk.ReadCSV(in, set.finder())
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%s: %w", *answers, err)}
	}
	var w io.Writer = stdout
	var outFile *os.File
	if *out != "-" {
		if outFile, err = os.Create(*out); err != nil {
			return &exitError{code: 2, err: err}
		}
		defer outFile.Close()
		w = outFile
	}
	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && !*quiet && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions(len(rows), progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("grading"), progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish())
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(sheet.Header()); err != nil {
		return err
	}
	g := bulk.NewGrader(sheet)
	bad := 0
	for _, r := range rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := g.Grade(r)
		if res.Err != "" {
			bad++
			fmt.Fprintln(stderr, res.Err)
		}
		if err := cw.Write(sheet.Record(res)); err != nil {
			return err
		}
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if outFile != nil {
		if err := outFile.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "graded %d of %d rows", len(rows)-bad, len(rows))
	if bad > 0 {
		fmt.Fprintf(stderr, "; %d rows could not be graded (listed above, and in the error column)", bad)
	}
	fmt.Fprintln(stderr)
	if bad > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d rows could not be graded", bad)}
	}
	return nil
}

// finder resolves a question name: a full id, or a short name (q6) that
// ends exactly one template's id.
func (s *templateSet) finder() bulk.Finder {
	all := append([]*bank.Template(nil), s.builtin...)
	if s.extra != "" {
		if files, err := templateFiles([]string{s.extra}); err == nil {
			for _, f := range files {
				if data, err := os.ReadFile(f); err == nil {
					if t, err := bank.Load(f, data); err == nil {
						all = append(all, t)
					}
				}
			}
		}
	}
	return func(id string) *bank.Template {
		if t := bank.Find(all, id); t != nil {
			return t
		}
		var found *bank.Template
		for _, t := range all {
			if strings.HasSuffix(t.ID, "/"+id) {
				if found != nil {
					return nil
				}
				found = t
			}
		}
		return found
	}
}
