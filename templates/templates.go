// Package templates is the question bank service, marksmith.TemplateService:
// listing and reading template versions, uploading a new version after
// validation (only the template's owner or an admin may), and previewing a
// variant with its key.
package templates

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/internal/view"
)

// maxID bounds a template id in a request, as the bank bounds the ids it
// stores.
const maxID = marksmith.MaxTemplateID

// DefaultUploadBudget is how long validating and self-testing one upload
// may take; past it the template is refused, naming the limit.
const DefaultUploadBudget = 10 * time.Second

// Service is the bank service. Create it with New.
type Service struct {
	store marksmith.Store
	now   func() time.Time
	log   *slog.Logger

	// Limits bound an uploaded template (zero fields: bank's defaults);
	// UploadBudget bounds the time its validation takes (0: the default).
	Limits       bank.Limits
	UploadBudget time.Duration
}

var _ marksmith.TemplateService = (*Service)(nil)

// New returns the service over store.
func New(store marksmith.Store, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, now: now, log: logger}
}

// requireStaff refuses anyone but instructors and admins.
func requireStaff(actor *marksmith.User) error {
	if actor == nil || actor.ID == 0 {
		return marksmith.Errorf(marksmith.EUNAUTHORIZED, "Sign in first.")
	}
	if actor.Role != marksmith.RoleAdmin && actor.Role != marksmith.RoleInstructor {
		return marksmith.Errorf(marksmith.EFORBIDDEN, "Only instructors and admins may do this.")
	}
	return nil
}

// checkID records what is wrong with a template id.
func checkID(p *marksmith.Problems, field, id string) {
	if strings.TrimSpace(id) == "" {
		p.Add(field, "is required")
		return
	}
	p.CheckText(field, id, maxID)
}

// FindTemplates lists the latest version of each template, searched by id
// or title and by tag, paginated.
func (s *Service) FindTemplates(ctx context.Context, actor *marksmith.User, f marksmith.TemplateFilter) ([]*marksmith.TemplateVersion, int, error) {
	if err := requireStaff(actor); err != nil {
		return nil, 0, err
	}
	var p marksmith.Problems
	p.CheckText("q", f.Query, maxID)
	p.CheckText("tag", f.Tag, maxID)
	if f.Offset < 0 || f.Limit < 0 {
		p.Add("offset", "offset and limit must not be negative")
	}
	if err := p.Err("query"); err != nil {
		return nil, 0, err
	}
	ts, total, err := s.store.FindTemplates(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list templates: %w", err)
	}
	return ts, total, nil
}

// FindTemplate returns one version of a template (0: the latest) with its
// source, and every version of it.
func (s *Service) FindTemplate(ctx context.Context, actor *marksmith.User, id string, version int) (*marksmith.TemplateVersion, []*marksmith.TemplateVersion, error) {
	if err := requireStaff(actor); err != nil {
		return nil, nil, err
	}
	tv, err := s.version(ctx, id, version)
	if err != nil {
		return nil, nil, err
	}
	versions, err := s.store.FindTemplateVersions(ctx, tv.TemplateID)
	if err != nil {
		return nil, nil, fmt.Errorf("template %s: versions: %w", id, err)
	}
	return tv, versions, nil
}

// version returns a stored version, or ENOTFOUND saying which.
func (s *Service) version(ctx context.Context, id string, version int) (*marksmith.TemplateVersion, error) {
	var p marksmith.Problems
	checkID(&p, "id", id)
	if version < 0 || version > 1<<30 {
		p.Add("version", "must be a whole number from 1 to %d", 1<<30)
	}
	if err := p.Err("template request"); err != nil {
		return nil, err
	}
	tv, err := s.store.FindTemplateVersion(ctx, id, version)
	if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
		if version > 0 {
			return nil, marksmith.Errorf(marksmith.ENOTFOUND, "Template %s has no version %d.", id, version)
		}
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "No template %s.", id)
	} else if err != nil {
		return nil, fmt.Errorf("template %s version %d: %w", id, version, err)
	}
	return tv, nil
}

// UploadTemplate validates a template and stores it as a new version,
// numbered by the server. A template with problems is EUNPROCESSABLE with
// the problems, each with its line, column and field. Only the template's
// owner (who uploaded its first version) or an admin may add a version;
// the built-in bank belongs to the admins. Uploading the latest version's
// exact source again stores nothing and reports unchanged.
func (s *Service) UploadTemplate(ctx context.Context, actor *marksmith.User, in marksmith.TemplateUpload) (*marksmith.TemplateVersion, bool, error) {
	if err := requireStaff(actor); err != nil {
		return nil, false, err
	}
	var name string
	switch in.Format {
	case "yaml":
		name = "upload.yaml"
	case "json":
		name = "upload.json"
	default:
		return nil, false, marksmith.Errorf(marksmith.EINVALID, "A template is YAML or JSON, not %q.", in.Format)
	}
	if len(strings.TrimSpace(string(in.Source))) == 0 {
		return nil, false, marksmith.Errorf(marksmith.EINVALID, "The template is empty; send its source.")
	}
	var p marksmith.Problems
	p.CheckText("source", string(in.Source), 0)
	if err := p.Err("template"); err != nil {
		return nil, false, err
	}
	budget := s.UploadBudget
	if budget <= 0 {
		budget = DefaultUploadBudget
	}
	bctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	t, err := bank.LoadContext(bctx, name, in.Source, bank.LoadOptions{Limits: s.Limits})
	var verr *bank.ValidationError
	switch {
	case errors.As(err, &verr) && errors.Is(err, bank.ErrTooLarge):
		max := s.Limits.MaxBytes
		if max <= 0 {
			max = bank.DefaultLimits().MaxBytes
		}
		return nil, false, &marksmith.Error{Code: marksmith.ETOOLARGE,
			Message: fmt.Sprintf("The template is larger than the %d bytes one may be.", max), Details: verr.Problems}
	case errors.As(err, &verr):
		return nil, false, &marksmith.Error{Code: marksmith.EUNPROCESSABLE,
			Message: fmt.Sprintf("The template has %d problem(s).", len(verr.Problems)), Details: verr.Problems}
	case ctx.Err() != nil:
		return nil, false, ctx.Err()
	case err != nil:
		return nil, false, fmt.Errorf("upload template: load: %w", err)
	}
	versions, err := s.store.FindTemplateVersions(ctx, t.ID)
	if err != nil && marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
		return nil, false, fmt.Errorf("upload template %s: versions: %w", t.ID, err)
	}
	if len(versions) > 0 {
		first, latest := versions[0], versions[len(versions)-1]
		if actor.Role != marksmith.RoleAdmin && (first.CreatedBy == nil || *first.CreatedBy != actor.ID || first.Builtin) {
			return nil, false, marksmith.Errorf(marksmith.EFORBIDDEN,
				"Template %s belongs to someone else; only its owner or an admin may add a version. Upload it under another id.", t.ID)
		}
		if latest.Source == string(t.Source) {
			return latest, true, nil
		}
	}
	uid := actor.ID
	tv := &marksmith.TemplateVersion{
		TemplateID: t.ID, Title: t.Title, Marks: t.Marks, Tags: t.Tags, Format: t.Format,
		Source: string(t.Source), CreatedBy: &uid, CreatedAt: s.now().UTC(),
	}
	if err := s.store.CreateTemplateVersion(ctx, tv); marksmith.ErrorCode(err) == marksmith.ECONFLICT {
		return nil, false, marksmith.Errorf(marksmith.ECONFLICT, "Template %s changed while uploading; try again.", t.ID)
	} else if err != nil {
		return nil, false, fmt.Errorf("upload template %s: %w", t.ID, err)
	}
	s.log.InfoContext(ctx, "template uploaded", "template", tv.TemplateID, "version", tv.Version, "user_id", actor.ID)
	return tv, false, nil
}

// PreviewTemplate draws one variant of a stored version with its key: seed
// 0 is the canonical variant, the printed paper.
func (s *Service) PreviewTemplate(ctx context.Context, actor *marksmith.User, id string, version int, seed marksmith.Seed) (*marksmith.Question, error) {
	if err := requireStaff(actor); err != nil {
		return nil, err
	}
	tv, err := s.version(ctx, id, version)
	if err != nil {
		return nil, err
	}
	t, err := bank.LoadContext(ctx, tv.TemplateID+"."+tv.Format, []byte(tv.Source), bank.LoadOptions{Limits: s.Limits})
	if err != nil {
		// A stored version was valid when stored; failing now means the
		// loader changed under it.
		return nil, fmt.Errorf("preview %s v%d: load stored source: %w", tv.TemplateID, tv.Version, err)
	}
	v, err := t.Variant(uint64(seed))
	if err != nil {
		return nil, marksmith.Errorf(marksmith.EUNPROCESSABLE, "Cannot draw variant %d of %s: %v.", seed, tv.TemplateID, err)
	}
	v.Version = tv.Version
	q := view.Question(v, view.Options{Key: true, Staff: true})
	q.Marks = v.Marks
	return &q, nil
}
