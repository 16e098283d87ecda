-- Kept in step with postgres/0007 (change notifications for the read cache). SQLite needs
-- no triggers: the server reads PRAGMA data_version, which SQLite itself changes whenever
-- any connection, in any process, commits to the file.
SELECT 1;
