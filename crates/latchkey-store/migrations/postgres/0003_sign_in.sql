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
    created_at              BIGINT NOT NULL,
    expires_at              BIGINT NOT NULL
);

CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    token_digest        TEXT NOT NULL UNIQUE,
    user_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    method              TEXT NOT NULL,
    pass_id             TEXT,
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    registration_until  BIGINT,
    revoked_at          BIGINT
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
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);

CREATE TABLE refresh_tokens (
    digest          TEXT PRIMARY KEY,
    family_id       TEXT NOT NULL,
    session_id      TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL,
    scope           TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE sign_in_throttle (
    user_id         TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    failures        BIGINT NOT NULL,
    lockouts        BIGINT NOT NULL,
    locked_until    BIGINT
);

CREATE TABLE domains (
    id                      TEXT PRIMARY KEY,
    authentication_type     TEXT NOT NULL,
    passive_sign_in_uri     TEXT,
    issuer_uri              TEXT,
    federation_display_name TEXT,
    created_at              BIGINT NOT NULL
);

CREATE TABLE sign_ins (
    seq                 BIGSERIAL PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    created_at          BIGINT NOT NULL,
    user_id             TEXT,
    user_principal_name TEXT NOT NULL,
    app_id              TEXT,
    app_display_name    TEXT,
    ip_address          TEXT,
    correlation_id      TEXT NOT NULL,
    method              TEXT,
    error_code          BIGINT NOT NULL,
    failure_reason      TEXT,
    additional_details  TEXT
);
