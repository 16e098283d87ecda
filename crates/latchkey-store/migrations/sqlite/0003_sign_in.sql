-- Sign-in state: pending authorization requests, sessions, authorization codes, refresh
-- tokens, wrong-code counters, federated domains and the sign-in log. High-entropy
-- secrets (session cookies, codes, refresh tokens) are kept as SHA-256 digests only.

CREATE TABLE auth_requests (
    id                      TEXT PRIMARY KEY,
    client_id               TEXT NOT NULL,
    redirect_uri            TEXT NOT NULL,
    scope                   TEXT NOT NULL,
    state                   TEXT,
    nonce                   TEXT,
    code_challenge          TEXT,
    response_mode           TEXT NOT NULL,
    login_hint              TEXT,
    created_at              INTEGER NOT NULL,
    expires_at              INTEGER NOT NULL
);

CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    token_digest        TEXT NOT NULL UNIQUE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    method              TEXT NOT NULL,
    pass_id             TEXT,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    registration_until  INTEGER,
    revoked_at          INTEGER
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE authorization_codes (
    digest          TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    session_id      TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    scope           TEXT NOT NULL,
    nonce           TEXT,
    code_challenge  TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
);

CREATE TABLE refresh_tokens (
    digest          TEXT PRIMARY KEY,
    family_id       TEXT NOT NULL,
    session_id      TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL,
    scope           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER,
    revoked_at      INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE sign_in_throttle (
    user_id         TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    failures        INTEGER NOT NULL,
    lockouts        INTEGER NOT NULL,
    locked_until    INTEGER
);

CREATE TABLE domains (
    id                      TEXT PRIMARY KEY,
    authentication_type     TEXT NOT NULL,
    passive_sign_in_uri     TEXT,
    issuer_uri              TEXT,
    federation_display_name TEXT,
    created_at              INTEGER NOT NULL
);

CREATE TABLE sign_ins (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    id                  TEXT NOT NULL UNIQUE,
    created_at          INTEGER NOT NULL,
    user_id             TEXT,
    user_principal_name TEXT NOT NULL,
    app_id              TEXT,
    app_display_name    TEXT,
    ip_address          TEXT,
    correlation_id      TEXT NOT NULL,
    method              TEXT,
    error_code          INTEGER NOT NULL,
    failure_reason      TEXT,
    additional_details  TEXT
);
