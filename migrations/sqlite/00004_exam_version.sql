-- A version number on each exam, raised by every change to its row, so
-- that a server may keep a decoded exam in memory and know, from the
-- version a query returns beside other data, whether it is still the
-- exam's current state. A trigger raises it, so that no code path can
-- change an exam and forget. Keep in step with
-- ../postgres/00004_exam_version.sql; TestSchemasMatch compares the two.

-- +goose Up
ALTER TABLE exams ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- +goose StatementBegin
CREATE TRIGGER exams_version AFTER UPDATE ON exams FOR EACH ROW WHEN NEW.version = OLD.version
BEGIN
    UPDATE exams SET version = OLD.version + 1 WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER exams_version;
ALTER TABLE exams DROP COLUMN version;
