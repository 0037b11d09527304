package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/marksmith/marksmith"
)

// templateVersionRow is a row of template_versions. Tags are a JSON array.
type templateVersionRow struct {
	TemplateID string `gorm:"primaryKey;autoIncrement:false"`
	Version    int    `gorm:"primaryKey;autoIncrement:false"`
	Title      string
	Marks      float64
	Tags       string
	Format     string
	Source     string
	Builtin    bool
	CreatedBy  *int64
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
}

func (templateVersionRow) TableName() string { return "template_versions" }

func (r *templateVersionRow) toDomain() (*marksmith.TemplateVersion, error) {
	var tags []string
	if err := json.Unmarshal([]byte(r.Tags), &tags); err != nil {
		return nil, fmt.Errorf("template %s version %d: stored tags %q: %w", r.TemplateID, r.Version, r.Tags, err)
	}
	return &marksmith.TemplateVersion{
		TemplateID: r.TemplateID,
		Version:    r.Version,
		Title:      r.Title,
		Marks:      r.Marks,
		Tags:       tags,
		Format:     r.Format,
		Source:     r.Source,
		Builtin:    r.Builtin,
		CreatedBy:  r.CreatedBy,
		CreatedAt:  r.CreatedAt.UTC(),
	}, nil
}

func templateFromDomain(t *marksmith.TemplateVersion) (*templateVersionRow, error) {
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	b, err := json.Marshal(tags)
	if err != nil {
		return nil, fmt.Errorf("template %s: encode tags: %w", t.TemplateID, err)
	}
	return &templateVersionRow{
		TemplateID: t.TemplateID,
		Version:    t.Version,
		Title:      t.Title,
		Marks:      t.Marks,
		Tags:       string(b),
		Format:     t.Format,
		Source:     t.Source,
		Builtin:    t.Builtin,
		CreatedBy:  t.CreatedBy,
		CreatedAt:  dbTime(t.CreatedAt),
	}, nil
}

func templatesToDomain(rows []templateVersionRow) ([]*marksmith.TemplateVersion, error) {
	out := make([]*marksmith.TemplateVersion, len(rows))
	for i := range rows {
		t, err := rows[i].toDomain()
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// TemplateStore stores template versions. It implements
// marksmith.TemplateStore. A stored version is never changed.
type TemplateStore struct{ db *DB }

var _ marksmith.TemplateStore = (*TemplateStore)(nil)

// NewTemplateStore returns the template service of db.
func NewTemplateStore(db *DB) *TemplateStore { return &TemplateStore{db: db} }

// latestOnly keeps the latest version of each template; the table is
// aliased t.
const latestOnly = "t.version = (SELECT MAX(v.version) FROM template_versions v WHERE v.template_id = t.template_id)"

// FindTemplates returns the latest version of each template matching
// filter, ordered by ID, and how many match in all (ignoring Offset and
// Limit). Limit 0 means no limit. Query matches a substring of the ID or
// the latest title, and Tag one of the latest version's tags, both
// ignoring ASCII case.
func (s *TemplateStore) FindTemplates(ctx context.Context, filter marksmith.TemplateFilter) ([]*marksmith.TemplateVersion, int, error) {
	where := func(tx *gorm.DB) *gorm.DB {
		q := tx.Table("template_versions AS t").Where(latestOnly)
		if filter.Query != "" {
			p := likePattern(filter.Query)
			q = q.Where(`(lower(t.template_id) LIKE ? ESCAPE '\' OR lower(t.title) LIKE ? ESCAPE '\')`, p, p)
		}
		if filter.Tag != "" {
			// Tags are a JSON array of strings: match the quoted element.
			b, _ := json.Marshal(filter.Tag)
			q = q.Where(`lower(t.tags) LIKE ? ESCAPE '\'`, likePattern(string(b)))
		}
		return q
	}
	var (
		rows  []templateVersionRow
		total int64
	)
	db := s.db.gorm.WithContext(ctx)
	err := where(db).Count(&total).Error
	if err == nil {
		err = page(where(db), filter.Offset, filter.Limit).Select("t.*").Order("t.template_id").Find(&rows).Error
	}
	if err != nil {
		return nil, 0, translate(err, "find templates")
	}
	out, err := templatesToDomain(rows)
	if err != nil {
		return nil, 0, err
	}
	return out, int(total), nil
}

// FindTemplateVersions returns every version of the template, oldest
// first, or ENOTFOUND when it has none.
func (s *TemplateStore) FindTemplateVersions(ctx context.Context, id string) ([]*marksmith.TemplateVersion, error) {
	var rows []templateVersionRow
	if err := s.db.gorm.WithContext(ctx).Where("template_id = ?", id).Order("version").Find(&rows).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("template %q", id))
	}
	if len(rows) == 0 {
		return nil, marksmith.Errorf(marksmith.ENOTFOUND, "template %q not found", id)
	}
	return templatesToDomain(rows)
}

// FindTemplateVersion returns one version of the template; version 0
// means the latest. ENOTFOUND when there is no such version.
func (s *TemplateStore) FindTemplateVersion(ctx context.Context, id string, version int) (*marksmith.TemplateVersion, error) {
	var r templateVersionRow
	q := s.db.gorm.WithContext(ctx).Where("template_id = ?", id)
	what := fmt.Sprintf("template %q", id)
	if version > 0 {
		q = q.Where("version = ?", version)
		what = fmt.Sprintf("template %q version %d", id, version)
	} else {
		q = q.Order("version DESC")
	}
	if err := q.Take(&r).Error; err != nil {
		return nil, translate(err, what)
	}
	return r.toDomain()
}

// CreateTemplateVersion stores a new version of a template and sets t's
// Version and CreatedAt. With Version 0 it is numbered one past the latest
// stored version (1 for a new template); a Version already stored is
// ECONFLICT. A zero CreatedAt defaults to the DB's clock.
func (s *TemplateStore) CreateTemplateVersion(ctx context.Context, t *marksmith.TemplateVersion) error {
	if err := validateTemplate(t); err != nil {
		return err
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.db.now()
	}
	// Two concurrent auto-numbered creations may pick the same number; the
	// loser tries again with the next one.
	for attempt := 0; ; attempt++ {
		r, err := s.createTemplateVersion(ctx, t)
		if err == nil {
			out, err := r.toDomain()
			if err != nil {
				return err
			}
			*t = *out
			return nil
		}
		if t.Version != 0 || attempt == 4 || marksmith.ErrorCode(err) != marksmith.ECONFLICT {
			return err
		}
	}
}

func (s *TemplateStore) createTemplateVersion(ctx context.Context, t *marksmith.TemplateVersion) (*templateVersionRow, error) {
	r, err := templateFromDomain(t)
	if err != nil {
		return nil, err
	}
	err = s.db.transaction(ctx, func(tx *gorm.DB) error {
		if r.Version == 0 {
			var latest sql.NullInt64
			err := tx.Raw("SELECT MAX(version) FROM template_versions WHERE template_id = ?", r.TemplateID).
				Row().Scan(&latest)
			if err != nil {
				return err
			}
			r.Version = int(latest.Int64) + 1
		}
		return tx.Create(r).Error
	})
	if err != nil {
		return nil, translate(err, fmt.Sprintf("template %q version %d", r.TemplateID, r.Version))
	}
	return r, nil
}

func validateTemplate(t *marksmith.TemplateVersion) error {
	var problems []string
	if t.TemplateID == "" {
		problems = append(problems, "missing id")
	}
	if t.Version < 0 {
		problems = append(problems, fmt.Sprintf("version %d is negative", t.Version))
	}
	if t.Format != "yaml" && t.Format != "json" {
		problems = append(problems, fmt.Sprintf("format %q is not yaml or json", t.Format))
	}
	if t.Source == "" {
		problems = append(problems, "missing source")
	}
	if t.Marks < 0 {
		problems = append(problems, fmt.Sprintf("marks %g are negative", t.Marks))
	}
	if len(problems) > 0 {
		return marksmith.Errorf(marksmith.EINVALID, "template %q: %s", t.TemplateID, strings.Join(problems, "; "))
	}
	return nil
}
