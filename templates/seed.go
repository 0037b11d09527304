package templates

import (
	"context"
	"fmt"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
)

// SeedBuiltin stores each template of the built-in bank whose source differs
// from the latest built-in version stored (or that has none) as a new
// version. It numbers it with the template's own version when that is
// free and higher than any stored, else one past the latest. Stored
// versions are never changed.
func (s *Service) SeedBuiltin(ctx context.Context) error {
	builtin, err := bank.Builtin()
	if err != nil {
		return fmt.Errorf("built-in bank: %w", err)
	}
	added := 0
	for _, t := range builtin {
		stored, err := s.seed(ctx, t, s.now().UTC())
		if err != nil {
			return fmt.Errorf("store built-in template %s: %w", t.ID, err)
		}
		if stored != nil {
			added++
			s.log.Info("stored built-in template", "template", t.ID, "version", stored.Version)
		}
	}
	s.log.Info("built-in bank ready", "templates", len(builtin), "new_versions", added)
	return nil
}

// seed stores t unless the latest built-in version stored has
// the same source, and returns what it stored (nil when nothing). When
// another instance stores the same version first, that is not an error.
func (s *Service) seed(ctx context.Context, t *bank.Template, now time.Time) (*marksmith.TemplateVersion, error) {
	for attempt := 0; ; attempt++ {
		versions, err := s.store.FindTemplateVersions(ctx, t.ID)
		if err != nil && marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
			return nil, err
		}
		latest := 0
		var builtin *marksmith.TemplateVersion
		for _, v := range versions {
			latest = max(latest, v.Version)
			if v.Builtin {
				builtin = v
			}
		}
		if builtin != nil && builtin.Source == string(t.Source) {
			return nil, nil
		}
		tv := &marksmith.TemplateVersion{
			TemplateID: t.ID,
			Title:      t.Title,
			Marks:      t.Marks,
			Tags:       t.Tags,
			Format:     t.Format,
			Source:     string(t.Source),
			Builtin:    true,
			CreatedAt:  now,
		}
		if t.Version > latest {
			tv.Version = t.Version
		}
		err = s.store.CreateTemplateVersion(ctx, tv)
		if err == nil {
			return tv, nil
		}
		if marksmith.ErrorCode(err) != marksmith.ECONFLICT || attempt == 2 {
			return nil, err
		}
	}
}
