-- Exam-day controls and the one-statement autosave: accommodations on
-- the roster, each attempt's own grace end and delivery mode, an exam's
-- delivery mode, accounts that must change a one-time password, and
-- throttle counters shared by every server instance. Keep in step with
-- ../postgres/00003_exam_day.sql; TestSchemasMatch compares the two.

-- +goose Up
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE exams ADD COLUMN delivery TEXT NOT NULL DEFAULT 'online' CHECK (delivery IN ('online', 'paper', 'both'));

ALTER TABLE exam_roster ADD COLUMN extra_seconds INTEGER NOT NULL DEFAULT 0 CHECK (extra_seconds >= 0);
ALTER TABLE exam_roster ADD COLUMN closes_at TIMESTAMP;
ALTER TABLE exam_roster ADD COLUMN accommodation_reason TEXT NOT NULL DEFAULT '';

-- When an attempt stops accepting answers: its deadline plus the exam's
-- late grace, moved by accommodations. A save checks it in its one
-- statement.
ALTER TABLE attempts ADD COLUMN grace_until TIMESTAMP;
UPDATE attempts SET grace_until = strftime('%Y-%m-%d %H:%M:%f+00:00', deadline_at,
    '+' || (SELECT late_grace_seconds FROM exams WHERE exams.id = attempts.exam_id) || ' seconds');
ALTER TABLE attempts ADD COLUMN mode TEXT NOT NULL DEFAULT 'online' CHECK (mode IN ('online', 'paper'));

CREATE TABLE throttle (
    key      TEXT      NOT NULL PRIMARY KEY,
    count    INTEGER   NOT NULL,
    reset_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE throttle;
ALTER TABLE attempts DROP COLUMN mode;
ALTER TABLE attempts DROP COLUMN grace_until;
ALTER TABLE exam_roster DROP COLUMN accommodation_reason;
ALTER TABLE exam_roster DROP COLUMN closes_at;
ALTER TABLE exam_roster DROP COLUMN extra_seconds;
ALTER TABLE exams DROP COLUMN delivery;
ALTER TABLE users DROP COLUMN must_change_password;
