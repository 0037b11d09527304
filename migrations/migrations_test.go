package migrations

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var migrationName = regexp.MustCompile(`^[0-9]{5}_[a-z0-9_]+\.sql$`)

// TestDialectsHaveSameVersions checks that every dialect has the same list of
// migration files, each well named and carrying both goose annotations.
func TestDialectsHaveSameVersions(t *testing.T) {
	var want []string
	for i, d := range Dialects() {
		fsys, err := FS(d)
		if err != nil {
			t.Fatal(err)
		}
		names, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if len(names) == 0 {
			t.Fatalf("%s: no migrations", d)
		}
		for _, n := range names {
			if !migrationName.MatchString(n) {
				t.Errorf("%s/%s: name should look like 00001_what.sql", d, n)
			}
			b, err := fs.ReadFile(fsys, n)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []string{"-- +goose Up", "-- +goose Down"} {
				if !strings.Contains(string(b), a) {
					t.Errorf("%s/%s: missing %q", d, n, a)
				}
			}
		}
		if i == 0 {
			want = names
		} else if !slices.Equal(names, want) {
			t.Errorf("%s has migrations %v, %s has %v", d, names, Dialects()[0], want)
		}
	}
}

func TestFSUnknownDialect(t *testing.T) {
	for _, d := range []string{"", "mysql", "sqlite3"} {
		if _, err := FS(d); err == nil {
			t.Errorf("FS(%q): no error", d)
		}
	}
}
