-- Kept in step with sqlite/0008 (a change counter for SQLite's read cache). PostgreSQL's
-- read cache learns of changes from the notifications of 0007 instead.
SELECT 1;
