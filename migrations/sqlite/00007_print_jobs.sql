-- Print jobs: a published exam's papers (or keys) printed as a job, for a
-- class too large for one request. A job is queued here, claimed by one
-- server instance (queued -> running), which writes its progress as it
-- prints and, at the end, the finished file, so that any instance answers
-- for it and serves the file. Keep in step with
-- ../postgres/00007_print_jobs.sql; TestSchemasMatch compares the two.

-- +goose Up
CREATE TABLE print_jobs (
    id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    exam_id      BIGINT    NOT NULL REFERENCES exams (id) ON DELETE CASCADE,
    requested_by BIGINT    NOT NULL REFERENCES users (id),
    student      TEXT      NOT NULL DEFAULT '',
    format       TEXT      NOT NULL CHECK (format IN ('pdf', 'zip')),
    with_keys    BOOLEAN   NOT NULL DEFAULT FALSE,
    status       TEXT      NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    done         INTEGER   NOT NULL DEFAULT 0,
    total        INTEGER   NOT NULL DEFAULT 0,
    pages        INTEGER   NOT NULL DEFAULT 0,
    bytes        BIGINT    NOT NULL DEFAULT 0,
    file_name    TEXT      NOT NULL DEFAULT '',
    error        TEXT      NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    started_at   TIMESTAMP,
    updated_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP
);
CREATE INDEX print_jobs_exam_id_idx ON print_jobs (exam_id);
CREATE INDEX print_jobs_requested_by_idx ON print_jobs (requested_by);
CREATE INDEX print_jobs_status_idx ON print_jobs (status, id);

-- A finished job's file, in pieces of at most 1 MiB in order, so that it
-- is written and read with bounded memory on both databases, whatever
-- its size (a class of 300 is about 40 MB of PDF).
CREATE TABLE print_job_chunks (
    job_id  BIGINT  NOT NULL REFERENCES print_jobs (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- +goose Down
DROP TABLE print_job_chunks;
DROP TABLE print_jobs;
