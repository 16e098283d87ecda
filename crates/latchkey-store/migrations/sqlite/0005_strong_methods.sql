-- Passkeys and authenticator apps registered on My Security Info, and the short-lived
-- server-side state of WebAuthn ceremonies and TOTP enrolments (single use).

CREATE TABLE fido2_methods (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    display_name    TEXT NOT NULL,
    aaguid          TEXT,
    model           TEXT,
    -- base64url WebAuthn credential id: unique across the tenant (WebAuthn §6.1).
    credential_id   TEXT NOT NULL UNIQUE,
    -- webauthn-rs's credential (public key and signature counter), as JSON.
    passkey         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX fido2_methods_user ON fido2_methods (user_id);

CREATE TABLE software_oath_methods (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The TOTP seed sealed under the master key (AES-256-GCM), never in clear.
    sealed_secret   TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    -- The last accepted TOTP time step: a code is accepted once.
    last_used_step  INTEGER
);
CREATE INDEX software_oath_methods_user ON software_oath_methods (user_id);

CREATE TABLE ceremonies (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id  TEXT,
    state       TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX ceremonies_expiry ON ceremonies (expires_at);
