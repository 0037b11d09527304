package exams

import (
	"context"
	"fmt"
	"io"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/moodle"
)

// ExportMoodle writes an exam's questions as Moodle XML, a category per
// question: a published exam's variants as issued to its students (the
// first opts.Count of each question, in student order), a draft's
// opts.Count variants of each question drawn from the exam's seed.
func (s *Service) ExportMoodle(ctx context.Context, actor *marksmith.User, id int64, opts marksmith.MoodleExport, w io.Writer) error {
	e, err := s.managedExam(ctx, actor, id)
	if err != nil {
		return err
	}
	if err := opts.Check(); err != nil {
		return err
	}
	mo := moodle.Options{Category: opts.Category}
	var all []moodle.Category
	for _, q := range e.Questions {
		var cats []moodle.Category
		if e.Status == marksmith.ExamPublished {
			papers, err := s.store.FindExamPapers(ctx, id, q.Position)
			if err != nil {
				return fmt.Errorf("export exam %d question %d: %w", id, q.Position, err)
			}
			var vs []*bank.Variant
			seen := map[marksmith.Seed]bool{}
			for _, p := range papers {
				if len(vs) == opts.Count {
					break
				}
				if seen[p.Seed] {
					continue // students who share a variant export it once
				}
				seen[p.Seed] = true
				v, err := decodeVariant(p)
				if err != nil {
					return err
				}
				vs = append(vs, v)
			}
			if cats, err = moodle.FromVariants(vs, mo); err != nil {
				return marksmith.Errorf(marksmith.EUNPROCESSABLE, "Question %d cannot be exported: %v.", q.Position, err)
			}
		} else {
			t, err := s.loadTemplate(ctx, q.TemplateID, q.Version)
			if err != nil {
				return err
			}
			if cats, err = moodle.FromTemplate(t, uint64(e.Seed), opts.Count, mo); err != nil {
				return marksmith.Errorf(marksmith.EUNPROCESSABLE, "Question %d cannot be exported: %v.", q.Position, err)
			}
		}
		all = append(all, cats...)
	}
	return moodle.Write(w, all)
}
