package storage

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/marksmith/marksmith"
)

// describeSchema returns the schema of db's tables (but goose's and
// SQLite's own) as sorted lines, with types and spellings normalised so
// that the two dialects can be compared: columns with type and
// nullability, primary keys, indexes with uniqueness and key expressions,
// and foreign keys with their delete action.
func describeSchema(t *testing.T, db *DB) []string {
	t.Helper()
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	g := db.gorm.WithContext(t.Context())
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("describe %s schema: %v", db.Dialect(), err)
		}
	}
	switch db.Dialect() {
	case DialectPostgres:
		var cols []struct {
			TableName, ColumnName, DataType, IsNullable string
			ColumnDefault                               *string
		}
		check(g.Raw(`SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name <> ?`, gooseTable).Scan(&cols).Error)
		for _, c := range cols {
			add("%s column %s %s%s%s", c.TableName, c.ColumnName, normType(c.DataType), nullText(c.IsNullable == "NO"), defaultText(c.ColumnDefault))
		}
		var idx []struct {
			TableName, IndexName, Columns string
			Unique, Primary               bool
			Predicate                     *string
		}
		check(g.Raw(`SELECT c.relname AS table_name, i.relname AS index_name, ix.indisunique AS "unique", ix.indisprimary AS "primary",
				array_to_string(ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) FROM generate_series(1, ix.indnatts) k ORDER BY k), ',') AS columns,
				pg_get_expr(ix.indpred, ix.indrelid) AS predicate
			FROM pg_index ix
			JOIN pg_class i ON i.oid = ix.indexrelid
			JOIN pg_class c ON c.oid = ix.indrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relname <> ?`, gooseTable).Scan(&idx).Error)
		for _, i := range idx {
			if i.Primary {
				add("%s primary key (%s)", i.TableName, normExpr(i.Columns))
			} else {
				add("%s index %s%s (%s)%s", i.TableName, i.IndexName, uniqueText(i.Unique), normExpr(i.Columns), predicateText(i.Predicate))
			}
		}
		var fks []struct{ TableName, ColumnName, RefTable, RefColumn, OnDelete string }
		check(g.Raw(`SELECT cl.relname AS table_name, a.attname AS column_name, fcl.relname AS ref_table, fa.attname AS ref_column,
				con.confdeltype AS on_delete
			FROM pg_constraint con
			JOIN pg_class cl ON cl.oid = con.conrelid
			JOIN pg_namespace n ON n.oid = cl.relnamespace
			JOIN pg_class fcl ON fcl.oid = con.confrelid
			JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
			JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = con.confkey[1]
			WHERE con.contype = 'f' AND n.nspname = current_schema()`).Scan(&fks).Error)
		actions := map[string]string{"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
		for _, f := range fks {
			add("%s foreign key %s -> %s(%s) on delete %s", f.TableName, f.ColumnName, f.RefTable, f.RefColumn, actions[f.OnDelete])
		}
	case DialectSQLite:
		var tables []string
		check(g.Raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ?`, gooseTable).
			Scan(&tables).Error)
		for _, table := range tables {
			var cols []struct {
				Name, Type string
				Notnull    bool
				Pk         int
				DfltValue  *string
			}
			check(g.Raw(`SELECT name, type, "notnull", pk, dflt_value FROM pragma_table_info(?)`, table).Scan(&cols).Error)
			var pk []string
			for _, c := range cols {
				add("%s column %s %s%s%s", table, c.Name, normType(c.Type), nullText(c.Notnull || c.Pk > 0), defaultText(c.DfltValue))
				if c.Pk > 0 {
					pk = append(pk, fmt.Sprintf("%d:%s", c.Pk, c.Name))
				}
			}
			if len(pk) > 0 {
				slices.Sort(pk)
				for i := range pk {
					_, pk[i], _ = strings.Cut(pk[i], ":")
				}
				add("%s primary key (%s)", table, strings.Join(pk, ","))
			}
			var idx []struct {
				Name   string
				Unique bool
				Origin string
				SQL    *string
			}
			check(g.Raw(`SELECT l.name, l."unique", l.origin, m.sql FROM pragma_index_list(?) l
				LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = l.name`, table).Scan(&idx).Error)
			for _, i := range idx {
				if i.Origin == "pk" {
					continue
				}
				var cols string
				var pred *string
				if i.SQL != nil {
					s := *i.SQL
					if w := strings.Index(strings.ToUpper(s), " WHERE "); w >= 0 {
						p := s[w+len(" WHERE "):]
						s, pred = s[:w], &p
					}
					cols = s[strings.Index(s, "(")+1 : strings.LastIndex(s, ")")]
				} else {
					var names []string
					check(g.Raw(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, i.Name).Scan(&names).Error)
					cols = strings.Join(names, ",")
				}
				add("%s index %s%s (%s)%s", table, i.Name, uniqueText(i.Unique), normExpr(cols), predicateText(pred))
			}
			var fks []struct{ Table, From, To, OnDelete string }
			check(g.Raw(`SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?)`, table).Scan(&fks).Error)
			for _, f := range fks {
				add("%s foreign key %s -> %s(%s) on delete %s", table, f.From, f.Table, f.To, f.OnDelete)
			}
		}
	}
	slices.Sort(lines)
	return lines
}

func normType(t string) string {
	switch strings.ToLower(t) {
	case "integer", "bigint", "int", "int8", "int4":
		return "integer"
	case "text":
		return "text"
	case "boolean":
		return "boolean"
	case "timestamp", "timestamp with time zone":
		return "timestamp"
	case "real", "double precision":
		return "real"
	case "blob", "bytea":
		return "bytes"
	}
	return "unknown type " + t
}

// defaultText writes a column default the same way for both dialects:
// lower-cased, without Postgres's casts ('x'::text) or identity sequence.
func defaultText(d *string) string {
	if d == nil || strings.HasPrefix(*d, "nextval(") {
		return ""
	}
	v := strings.ToLower(*d)
	if i := strings.Index(v, "::"); i >= 0 {
		v = v[:i]
	}
	return " default " + v
}

// normExpr lower-cases a key list and removes spaces.
func normExpr(s string) string { return strings.ReplaceAll(strings.ToLower(s), " ", "") }

// predicateText writes a partial index's condition the same way for both
// dialects: lower-cased, without spaces or parentheses.
func predicateText(p *string) string {
	if p == nil {
		return ""
	}
	return " where " + strings.NewReplacer("(", "", ")", "").Replace(normExpr(*p))
}

func nullText(notNull bool) string {
	if notNull {
		return " not null"
	}
	return " null"
}

func uniqueText(unique bool) string {
	if unique {
		return " unique"
	}
	return ""
}

// TestSchemasMatch applies every migration on both dialects and checks that
// they end at the same schema.
func TestSchemasMatch(t *testing.T) {
	schemas := map[string][]string{}
	for _, d := range []string{DialectSQLite, DialectPostgres} {
		db := openTestDB(t, d)
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("%s: migrate: %v", d, err)
		}
		schemas[d] = describeSchema(t, db)
	}
	lite, pg := schemas[DialectSQLite], schemas[DialectPostgres]
	for _, l := range lite {
		if !slices.Contains(pg, l) {
			t.Errorf("only on sqlite: %s", l)
		}
	}
	for _, l := range pg {
		if !slices.Contains(lite, l) {
			t.Errorf("only on postgres: %s", l)
		}
	}
	// Spot-check that the description sees what matters.
	for _, want := range []string{
		"users index users_email_key unique (lower(email))",
		"users primary key (id)",
		"users column email text not null",
		"users column disabled boolean not null default false",
		"refresh_tokens column used_at timestamp null",
		"refresh_tokens index refresh_tokens_hash_key unique (hash)",
		"refresh_tokens index refresh_tokens_family_idx (family)",
		"refresh_tokens foreign key user_id -> users(id) on delete CASCADE",
		"template_versions primary key (template_id,version)",
		"template_versions column marks real not null",
		"grades index grades_reviewed_by_idx (reviewed_by) where reviewed_byisnotnull",
	} {
		if !slices.Contains(pg, want) {
			t.Errorf("postgres schema lacks %q; it has:\n%s", want, strings.Join(pg, "\n"))
		}
	}
}

// TestMigrateUpDownUp checks the schema status through a full migration,
// a full rollback and a second migration, which must rebuild the same
// schema.
func TestMigrateUpDownUp(t *testing.T) {
	for _, d := range []string{DialectSQLite, DialectPostgres} {
		t.Run(d, func(t *testing.T) {
			db := openTestDB(t, d)
			ctx := t.Context()
			status := func(wantCurrent int64) {
				t.Helper()
				current, latest, err := db.SchemaStatus(ctx)
				if err != nil {
					t.Fatalf("SchemaStatus: %v", err)
				}
				if current != wantCurrent || latest < 1 {
					t.Fatalf("SchemaStatus = %d, %d; want %d, >= 1", current, latest, wantCurrent)
				}
				err = db.CheckSchema(ctx)
				if stale := current != latest; stale != (marksmith.ErrorCode(err) == marksmith.EUNAVAILABLE) {
					t.Fatalf("CheckSchema at %d of %d = %v", current, latest, err)
				}
			}
			status(0)
			st, err := db.MigrationStatus(ctx)
			if err != nil || len(st) == 0 || st[0].Version != 1 || st[0].Name != "00001_init.sql" || st[0].Applied {
				t.Fatalf("MigrationStatus before up = %+v, %v", st, err)
			}
			applied, err := db.MigrateUp(ctx)
			if err != nil {
				t.Fatalf("up: %v", err)
			}
			// Versions need not be contiguous: branches number their
			// migrations ahead of ones still being written elsewhere.
			latest := st[len(st)-1].Version
			if len(applied) != len(st) || applied[len(applied)-1] != latest {
				t.Fatalf("up applied %v, want the %d migrations up to %d", applied, len(st), latest)
			}
			status(latest)
			first := describeSchema(t, db)
			if len(first) < 20 {
				t.Fatalf("schema after up is only:\n%s", strings.Join(first, "\n"))
			}
			again, err := db.MigrateUp(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second up applied %v, %v; want nothing", again, err)
			}
			for i := len(st) - 1; i >= 0; i-- {
				v := st[i].Version
				got, err := db.MigrateDown(ctx)
				if err != nil || got != v {
					t.Fatalf("down = %d, %v; want %d", got, err, v)
				}
			}
			if got, err := db.MigrateDown(ctx); err != nil || got != 0 {
				t.Fatalf("down past the start = %d, %v; want 0, nil", got, err)
			}
			status(0)
			if s := describeSchema(t, db); len(s) != 0 {
				t.Fatalf("schema after down is not empty:\n%s", strings.Join(s, "\n"))
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("up again: %v", err)
			}
			status(latest)
			if second := describeSchema(t, db); !slices.Equal(first, second) {
				t.Fatalf("schema after up/down/up differs:\n%s\nfirst:\n%s", strings.Join(second, "\n"), strings.Join(first, "\n"))
			}
			st, err = db.MigrationStatus(ctx)
			if err != nil || !st[len(st)-1].Applied || st[len(st)-1].AppliedAt.IsZero() {
				t.Fatalf("MigrationStatus after up = %+v, %v", st, err)
			}
		})
	}
}
