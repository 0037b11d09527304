package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/moodle"
)

const exportUsage = `usage: marksmith export FORMAT [flags]

formats:
  moodle [ID...] [--count N] [--seed S] [--category NAME] [--out FILE]
         Moodle XML for Moodle's question bank: per template, a category of N
         variants (one question each) for "random question from category";
         every built-in template when no ID is given. See docs/export.md.

ID is a template id of the built-in bank (dasc7606/q6), a template file, or a template
in the folder given with --bank DIR.`

func runExport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stdout, exportUsage)
		return nil
	}
	switch args[0] {
	case "moodle":
		return exportMoodle(args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, exportUsage)
	return &exitError{code: 2, err: fmt.Errorf("unknown export format %q (moodle)", args[0])}
}

func exportMoodle(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("export moodle", flag.ContinueOnError)
	fl.SetOutput(stderr)
	count := fl.Int("count", 20, "variants per template")
	seed := fl.Uint64("seed", 1, "exam seed the variants are drawn from")
	category := fl.String("category", "Marksmith", "category below the course's top one that holds a category per template")
	out := fl.String("out", "", "file to write (default: standard output)")
	extra := fl.String("bank", "", "folder of extra templates")
	ids, err := parseIDs(fl, args)
	if err != nil {
		return err
	}
	if *count < 1 {
		return &exitError{code: 2, err: errors.New("export moodle: --count must be 1 or more")}
	}
	set, err := loadSet(*extra)
	if err != nil {
		return err
	}
	ts := set.builtin
	if len(ids) > 0 {
		ts = nil
		for _, id := range ids {
			t, err := set.find(id)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("export moodle: %w", err)}
			}
			ts = append(ts, t)
		}
	}
	cats, err := moodleCategories(ts, *seed, *count, moodle.Options{Category: *category})
	if err != nil {
		return fmt.Errorf("export moodle: %w", err)
	}
	if *out == "" {
		return moodle.Write(stdout, cats)
	}
	// Write beside the target and rename, so a failed export never leaves
	// half a file where a good one was.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".marksmith-export-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := moodle.Write(tmp, cats); err != nil {
		tmp.Close()
		return fmt.Errorf("export moodle: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	questions := 0
	for _, c := range cats {
		questions += len(c.Questions)
	}
	fmt.Fprintf(stdout, "wrote %s: %d templates, %d categories, %d questions\n", *out, len(ts), len(cats), questions)
	return nil
}

func moodleCategories(ts []*bank.Template, seed uint64, count int, opts moodle.Options) ([]moodle.Category, error) {
	var cats []moodle.Category
	for _, t := range ts {
		cs, err := moodle.FromTemplate(t, seed, count, opts)
		if err != nil {
			return nil, err
		}
		cats = append(cats, cs...)
	}
	return cats, nil
}
