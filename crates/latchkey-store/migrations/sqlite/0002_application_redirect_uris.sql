-- Redirect URIs of an application by platform: JSON of latchkey_core::tenant::RedirectUris
-- ({"web": [...], "spa": [...], "publicClient": [...]}). Applications registered before
-- this migration have none. Kept in step with ../postgres/0002_application_redirect_uris.sql.
ALTER TABLE applications ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '{}';
