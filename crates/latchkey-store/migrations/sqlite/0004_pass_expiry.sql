-- When the expiry of a pass was written to the audit and sign-in logs (once per pass,
-- whichever server process sees it first).
ALTER TABLE passes ADD COLUMN expiry_recorded_at INTEGER;
