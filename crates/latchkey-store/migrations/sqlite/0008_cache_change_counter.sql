-- A counter that moves with every change to a table the server's read cache copies from,
-- in the same transaction. PRAGMA data_version (postgres/0007's counterpart on SQLite)
-- moves with every commit, including sessions, codes and logs written by each sign-in;
-- the server reads this counter when data_version moves and keeps its copies unless it
-- moved too, so sign-in traffic does not empty the cache.
CREATE TABLE cache_changes (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    counter INTEGER NOT NULL
);
INSERT INTO cache_changes (singleton, counter) VALUES (1, 0);

CREATE TRIGGER users_insert_counted AFTER INSERT ON users BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER users_update_counted AFTER UPDATE ON users BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER users_delete_counted AFTER DELETE ON users BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER directory_groups_insert_counted AFTER INSERT ON directory_groups BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER directory_groups_update_counted AFTER UPDATE ON directory_groups BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER directory_groups_delete_counted AFTER DELETE ON directory_groups BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER group_members_insert_counted AFTER INSERT ON group_members BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER group_members_update_counted AFTER UPDATE ON group_members BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER group_members_delete_counted AFTER DELETE ON group_members BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER role_assignments_insert_counted AFTER INSERT ON role_assignments BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER role_assignments_update_counted AFTER UPDATE ON role_assignments BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER role_assignments_delete_counted AFTER DELETE ON role_assignments BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER tap_policy_insert_counted AFTER INSERT ON tap_policy BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER tap_policy_update_counted AFTER UPDATE ON tap_policy BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER tap_policy_delete_counted AFTER DELETE ON tap_policy BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER passes_insert_counted AFTER INSERT ON passes BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER passes_update_counted AFTER UPDATE ON passes BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER passes_delete_counted AFTER DELETE ON passes BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER applications_insert_counted AFTER INSERT ON applications BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER applications_update_counted AFTER UPDATE ON applications BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER applications_delete_counted AFTER DELETE ON applications BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER application_secrets_insert_counted AFTER INSERT ON application_secrets BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER application_secrets_update_counted AFTER UPDATE ON application_secrets BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER application_secrets_delete_counted AFTER DELETE ON application_secrets BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER fido2_methods_insert_counted AFTER INSERT ON fido2_methods BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER fido2_methods_update_counted AFTER UPDATE ON fido2_methods BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER fido2_methods_delete_counted AFTER DELETE ON fido2_methods BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER software_oath_methods_insert_counted AFTER INSERT ON software_oath_methods BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER software_oath_methods_update_counted AFTER UPDATE ON software_oath_methods BEGIN UPDATE cache_changes SET counter = counter + 1; END;
CREATE TRIGGER software_oath_methods_delete_counted AFTER DELETE ON software_oath_methods BEGIN UPDATE cache_changes SET counter = counter + 1; END;
