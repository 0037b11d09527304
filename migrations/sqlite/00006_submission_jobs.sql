-- Bulk uploads of a cohort's answers, run as jobs: each job's receipt and
-- progress, and the outcome of each row of its upload (the results file
-- and the per-row errors), so that any server instance can answer for a
-- job. Attempts already say online or paper (attempts.mode, 00003). Keep
-- in step with ../postgres/00006_submission_jobs.sql; TestSchemasMatch
-- compares the two.

-- +goose Up
CREATE TABLE submission_jobs (
    id             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    exam_id        BIGINT    NOT NULL REFERENCES exams (id) ON DELETE CASCADE,
    actor          BIGINT    NOT NULL REFERENCES users (id),
    status         TEXT      NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    format         TEXT      NOT NULL,
    replace_graded BOOLEAN   NOT NULL DEFAULT FALSE,
    dry_run        BOOLEAN   NOT NULL DEFAULT FALSE,
    sha256         TEXT      NOT NULL DEFAULT '',
    bytes          BIGINT    NOT NULL DEFAULT 0,
    rows_read      INTEGER   NOT NULL DEFAULT 0,
    rows_graded    INTEGER   NOT NULL DEFAULT 0,
    rows_unchanged INTEGER   NOT NULL DEFAULT 0,
    rows_rejected  INTEGER   NOT NULL DEFAULT 0,
    error          TEXT      NOT NULL DEFAULT '',
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP
);
CREATE INDEX submission_jobs_exam_id_idx ON submission_jobs (exam_id);
CREATE INDEX submission_jobs_actor_idx ON submission_jobs (actor);

-- One row of an upload: its outcome, its problems (JSON array of
-- {line, column, field, message}) and its line of the results file.
CREATE TABLE submission_rows (
    job_id  BIGINT  NOT NULL REFERENCES submission_jobs (id) ON DELETE CASCADE,
    line    INTEGER NOT NULL,
    status  TEXT    NOT NULL CHECK (status IN ('graded', 'unchanged', 'rejected')),
    errors  TEXT    NOT NULL DEFAULT '',
    result  TEXT    NOT NULL,
    PRIMARY KEY (job_id, line)
);

-- +goose Down
DROP TABLE submission_rows;
DROP TABLE submission_jobs;
