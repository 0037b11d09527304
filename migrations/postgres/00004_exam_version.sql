-- A version number on each exam, raised by every change to its row, so
-- that a server may keep a decoded exam in memory and know, from the
-- version a query returns beside other data, whether it is still the
-- exam's current state. A trigger raises it, so that no code path can
-- change an exam and forget. Keep in step with
-- ../sqlite/00004_exam_version.sql; TestSchemasMatch compares the two.

-- +goose Up
ALTER TABLE exams ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- +goose StatementBegin
CREATE FUNCTION exams_raise_version() RETURNS trigger AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER exams_version BEFORE UPDATE ON exams FOR EACH ROW EXECUTE FUNCTION exams_raise_version();

-- +goose Down
DROP TRIGGER exams_version ON exams;
DROP FUNCTION exams_raise_version();
ALTER TABLE exams DROP COLUMN version;
