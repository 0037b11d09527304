package bank

import (
	"embed"
	"errors"
	"io/fs"
	"path"
	"sort"
)

//go:embed dasc7606/*.yaml
var builtinFS embed.FS

// Builtin loads the built-in bank embedded in the binary, sorted by ID.
func Builtin() ([]*Template, error) {
	names, err := fs.Glob(builtinFS, "*/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []*Template
	var errs []error
	for _, name := range names {
		data, err := builtinFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		t, err := Load(path.Join("bank", name), data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Find returns the template with id from ts, or nil.
func Find(ts []*Template, id string) *Template {
	for _, t := range ts {
		if t.ID == id {
			return t
		}
	}
	return nil
}
