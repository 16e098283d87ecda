-- latchkey schema, PostgreSQL. Times are Unix milliseconds (UTC); flags are 0/1 integers, so
-- the same queries run on SQLite (see ../sqlite/0001_initial.sql, kept in step). The user
-- list's sort key (upn_normalized, lower-cased by latchkey) uses the "C" collation so
-- users page in byte order, as on SQLite, whatever the database's locale.

CREATE TABLE tenant (
    singleton          BIGINT PRIMARY KEY CHECK (singleton = 1),
    id                 TEXT NOT NULL,
    primary_domain     TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    master_key_check   TEXT NOT NULL,
    created_at         BIGINT NOT NULL
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    upn                 TEXT NOT NULL,
    upn_normalized      TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name        TEXT NOT NULL,
    mail                TEXT,
    user_type           TEXT NOT NULL,
    origin              TEXT NOT NULL,
    account_enabled     BIGINT NOT NULL,
    password_hash       TEXT,
    password_set_at     BIGINT,
    created_at          BIGINT NOT NULL
);
CREATE INDEX users_display_name ON users (lower(display_name));

CREATE TABLE directory_groups (
    id              TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    description     TEXT,
    mail_nickname   TEXT,
    created_at      BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE role_assignments (
    id              TEXT PRIMARY KEY,
    principal_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_template   TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (principal_id, role_template)
);

CREATE TABLE tap_policy (
    singleton   BIGINT PRIMARY KEY CHECK (singleton = 1),
    body        TEXT NOT NULL
);

-- One pass per user: user_id is unique, and a new pass replaces the row.
CREATE TABLE passes (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_at          BIGINT NOT NULL,
    start_at            BIGINT NOT NULL,
    lifetime_minutes    BIGINT NOT NULL,
    is_usable_once      BIGINT NOT NULL,
    used_at             BIGINT,
    code_hash           TEXT NOT NULL
);

CREATE TABLE applications (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    permissions     TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE application_secrets (
    key_id          TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES applications (app_id) ON DELETE CASCADE,
    display_name    TEXT,
    hint            TEXT NOT NULL,
    digest          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX application_secrets_app ON application_secrets (app_id);

CREATE TABLE signing_keys (
    kid                 TEXT PRIMARY KEY,
    algorithm           TEXT NOT NULL,
    sealed_private_key  TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    retired_at          BIGINT
);

CREATE TABLE audit_log (
    seq                 BIGSERIAL PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    activity_at         BIGINT NOT NULL,
    activity            TEXT NOT NULL,
    category            TEXT NOT NULL,
    logged_by_service   TEXT NOT NULL,
    operation_type      TEXT NOT NULL,
    result              TEXT NOT NULL,
    result_reason       TEXT NOT NULL,
    initiated_by        TEXT NOT NULL,
    target_resources    TEXT NOT NULL
);
