-- The OAuth 2.0 device authorization grant (RFC 8628): codes a device polls with while a
-- person approves it at /devicelogin. Both codes are kept as SHA-256 digests only; the
-- approving browser session is recorded, and the device's tokens are bound to it.

CREATE TABLE device_codes (
    device_code_digest  TEXT PRIMARY KEY,
    user_code_digest    TEXT NOT NULL UNIQUE,
    client_id           TEXT NOT NULL,
    scope               TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    interval_seconds    INTEGER NOT NULL,
    last_polled_at      INTEGER,
    status              TEXT NOT NULL,
    session_id          TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    decided_at          INTEGER,
    redeemed_at         INTEGER
);
