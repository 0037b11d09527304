-- grades.reviewed_by is set only on the grades a reviewer changed; every
-- other grade (nearly all of them: 360,000 for an upload of 10,000
-- students) had a NULL entry in its index all the same, maintained on
-- every insert. The index serves only the foreign key's ON DELETE SET
-- NULL (reviewed_by = $1, which no NULL matches), so it now holds the
-- reviewed grades alone. Keep in step with
-- ../sqlite/00008_grades_reviewed_by_partial.sql; TestSchemasMatch
-- compares the two.

-- +goose Up
DROP INDEX grades_reviewed_by_idx;
CREATE INDEX grades_reviewed_by_idx ON grades (reviewed_by) WHERE reviewed_by IS NOT NULL;

-- +goose Down
DROP INDEX grades_reviewed_by_idx;
CREATE INDEX grades_reviewed_by_idx ON grades (reviewed_by);
