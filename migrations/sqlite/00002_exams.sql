-- Exams: rosters, the papers generated at publish, attempts, autosaved
-- answers, grades and the audit log. Keep in step with
-- ../postgres/00002_exams.sql; TestSchemasMatch compares the two.

-- +goose Up
CREATE TABLE exams (
    id                     INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    title                  TEXT        NOT NULL CHECK (title <> ''),
    seed                   BIGINT      NOT NULL, -- the uint64 seed, bit for bit
    questions              TEXT        NOT NULL, -- JSON array of marksmith.ExamQuestion
    opens_at               TIMESTAMP   NOT NULL,
    closes_at              TIMESTAMP   NOT NULL,
    time_limit_seconds     INTEGER     NOT NULL CHECK (time_limit_seconds >= 0),
    late_grace_seconds     INTEGER     NOT NULL CHECK (late_grace_seconds >= 0),
    shuffle_questions      BOOLEAN     NOT NULL DEFAULT FALSE,
    shuffle_options        BOOLEAN     NOT NULL DEFAULT FALSE,
    feedback_after_submit  TEXT        NOT NULL,
    feedback_after_release TEXT        NOT NULL,
    status                 TEXT        NOT NULL CHECK (status IN ('draft', 'published')),
    released               BOOLEAN     NOT NULL DEFAULT FALSE,
    created_by             BIGINT      NOT NULL REFERENCES users (id),
    created_at             TIMESTAMP   NOT NULL,
    updated_at             TIMESTAMP   NOT NULL,
    published_at           TIMESTAMP,
    released_at            TIMESTAMP
);
CREATE INDEX exams_created_by_idx ON exams (created_by);
CREATE INDEX exams_status_idx ON exams (status);

CREATE TABLE exam_roster (
    exam_id BIGINT NOT NULL REFERENCES exams (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (exam_id, user_id)
);
CREATE INDEX exam_roster_user_id_idx ON exam_roster (user_id);

-- One student's stored variant of one question, written once at publish.
CREATE TABLE papers (
    exam_id     BIGINT  NOT NULL REFERENCES exams (id) ON DELETE CASCADE,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    question    INTEGER NOT NULL CHECK (question > 0),
    ord         INTEGER NOT NULL CHECK (ord > 0),
    template_id TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    seed        BIGINT  NOT NULL,
    variant     TEXT    NOT NULL, -- JSON of bank.Variant, key included
    PRIMARY KEY (exam_id, user_id, question)
);
CREATE INDEX papers_user_id_idx ON papers (user_id);

CREATE TABLE attempts (
    id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    exam_id      BIGINT           NOT NULL REFERENCES exams (id) ON DELETE CASCADE,
    user_id      BIGINT           NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT             NOT NULL CHECK (status IN ('open', 'submitted', 'closed')),
    started_at   TIMESTAMP         NOT NULL,
    deadline_at  TIMESTAMP         NOT NULL,
    submitted_at TIMESTAMP,
    late         BOOLEAN          NOT NULL DEFAULT FALSE,
    score        REAL,
    max_score    REAL             NOT NULL
);
CREATE UNIQUE INDEX attempts_exam_user_key ON attempts (exam_id, user_id);
CREATE INDEX attempts_user_id_idx ON attempts (user_id);

-- The latest autosaved answer of each part; seq is the client's sequence number.
CREATE TABLE answers (
    attempt_id   BIGINT      NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    question     INTEGER     NOT NULL,
    part         TEXT        NOT NULL,
    raw          TEXT        NOT NULL,
    seq          BIGINT      NOT NULL,
    format_error TEXT        NOT NULL DEFAULT '',
    saved_at     TIMESTAMP   NOT NULL,
    PRIMARY KEY (attempt_id, question, part)
);

CREATE TABLE grades (
    attempt_id       BIGINT           NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    question         INTEGER          NOT NULL,
    part             TEXT             NOT NULL,
    score            REAL             NOT NULL,
    max_score        REAL             NOT NULL,
    rule             TEXT             NOT NULL,
    feedback         TEXT             NOT NULL DEFAULT '',
    needs_review     BOOLEAN          NOT NULL DEFAULT FALSE,
    template_version INTEGER          NOT NULL,
    graded_at        TIMESTAMP         NOT NULL,
    suggested        REAL,
    reviewed_by      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    review_reason    TEXT             NOT NULL DEFAULT '',
    reviewed_at      TIMESTAMP,
    PRIMARY KEY (attempt_id, question, part)
);
CREATE INDEX grades_reviewed_by_idx ON grades (reviewed_by);

CREATE TABLE audit_log (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    exam_id     BIGINT      NOT NULL REFERENCES exams (id) ON DELETE CASCADE,
    actor       BIGINT      NOT NULL REFERENCES users (id),
    action      TEXT        NOT NULL,
    target      TEXT        NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    reason      TEXT        NOT NULL DEFAULT '',
    at          TIMESTAMP   NOT NULL
);
CREATE INDEX audit_log_exam_id_idx ON audit_log (exam_id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE grades;
DROP TABLE answers;
DROP TABLE attempts;
DROP TABLE papers;
DROP TABLE exam_roster;
DROP TABLE exams;
