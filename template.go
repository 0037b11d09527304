package marksmith

import (
	"context"
	"time"
)

// MaxTemplateID is the longest template id, in characters. The bank
// refuses to store a longer one (bank.MaxIDLength is the same), and every
// route that takes a template id refuses one.
const MaxTemplateID = 200

// TemplateVersion is one stored version of a question template. A stored
// version never changes; a correction is a new version.
type TemplateVersion struct {
	TemplateID string    `json:"id"`
	Version    int       `json:"version"`
	Title      string    `json:"title"`
	Marks      float64   `json:"marks"`
	Tags       []string  `json:"tags,omitempty"`
	Format     string    `json:"format"` // "yaml" or "json"
	Source     string    `json:"source,omitempty"`
	Builtin    bool      `json:"builtin"`
	CreatedBy  *int64    `json:"created_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// TemplateFilter selects templates.
type TemplateFilter struct {
	Query  string // substring of id or title
	Tag    string
	Offset int
	Limit  int
}

// TemplateStore stores template versions.
type TemplateStore interface {
	// FindTemplates returns the latest version of each matching template and the total count.
	FindTemplates(ctx context.Context, filter TemplateFilter) ([]*TemplateVersion, int, error)
	// FindTemplateVersions returns every version of one template, oldest first.
	FindTemplateVersions(ctx context.Context, id string) ([]*TemplateVersion, error)
	// FindTemplateVersion returns one version; version 0 means the latest.
	FindTemplateVersion(ctx context.Context, id string, version int) (*TemplateVersion, error)
	// CreateTemplateVersion stores a new version. With Version 0 it is
	// numbered one past the latest; an existing number is ECONFLICT.
	CreateTemplateVersion(ctx context.Context, t *TemplateVersion) error
}
