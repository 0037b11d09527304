package templates

import (
	"context"
	"fmt"
	"io"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/moodle"
)

// ExportMoodle writes Count variants of a template version, drawn as a
// cohort from Seed (distinct where the space allows), as Moodle XML.
func (s *Service) ExportMoodle(ctx context.Context, actor *marksmith.User, id string, version int, opts marksmith.MoodleExport, w io.Writer) error {
	if err := requireStaff(actor); err != nil {
		return err
	}
	if err := opts.Check(); err != nil {
		return err
	}
	tv, err := s.version(ctx, id, version)
	if err != nil {
		return err
	}
	t, err := bank.LoadContext(ctx, tv.TemplateID+"."+tv.Format, []byte(tv.Source), bank.LoadOptions{Limits: s.Limits})
	if err != nil {
		return fmt.Errorf("export %s v%d: load stored source: %w", tv.TemplateID, tv.Version, err)
	}
	t.Version = tv.Version
	cats, err := moodle.FromTemplate(t, uint64(opts.Seed), opts.Count, moodle.Options{Category: opts.Category})
	if err != nil {
		return marksmith.Errorf(marksmith.EUNPROCESSABLE, "Template %s version %d cannot be exported: %v.", tv.TemplateID, tv.Version, err)
	}
	return moodle.Write(w, cats)
}
