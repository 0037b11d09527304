-- Users, refresh tokens and question template versions. Keep in step with
-- ../postgres/00001_init.sql; TestSchemasMatch compares the two.

-- +goose Up
CREATE TABLE users (
    id            INTEGER   NOT NULL PRIMARY KEY AUTOINCREMENT,
    email         TEXT      NOT NULL CHECK (email <> ''),
    name          TEXT      NOT NULL,
    role          TEXT      NOT NULL CHECK (role IN ('admin', 'instructor', 'student')),
    student_key   TEXT      NOT NULL,
    password_hash TEXT      NOT NULL,
    disabled      BOOLEAN   NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_role_idx ON users (role);

CREATE TABLE refresh_tokens (
    id          INTEGER   NOT NULL PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family      TEXT      NOT NULL,
    hash        TEXT      NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP,
    replaced_by INTEGER REFERENCES refresh_tokens (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);

CREATE TABLE template_versions (
    template_id TEXT      NOT NULL CHECK (template_id <> ''),
    version     INTEGER   NOT NULL CHECK (version > 0),
    title       TEXT      NOT NULL,
    marks       REAL      NOT NULL,
    tags        TEXT      NOT NULL,
    format      TEXT      NOT NULL CHECK (format IN ('yaml', 'json')),
    source      TEXT      NOT NULL,
    builtin     BOOLEAN   NOT NULL DEFAULT FALSE,
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (template_id, version)
);
CREATE INDEX template_versions_created_by_idx ON template_versions (created_by);

-- +goose Down
DROP TABLE template_versions;
DROP TABLE refresh_tokens;
DROP TABLE users;
