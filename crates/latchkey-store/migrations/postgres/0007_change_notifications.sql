-- Every change to a table the server's read cache copies from sends a notification on
-- channel latchkey_changes when its transaction commits, so every `latchkey serve`
-- process (and only changes that matter: not sessions, codes or logs) drops its copies.
-- Statement-level triggers: one notification per statement, and PostgreSQL folds
-- identical notifications within a transaction into one.
CREATE FUNCTION latchkey_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('latchkey_changes', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION latchkey_notify_change();
CREATE TRIGGER directory_groups_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON directory_groups
    FOR EACH STATEMENT EXECUTE FUNCTION latchkey_notify_change();
CREATE TRIGGER group_members_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON group_members
    FOR EACH STATEMENT EXECUTE FUNCTION latchkey_notify_change();
CREATE TRIGGER role_assignments_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON role_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION latchkey_notify_change();
CREATE TRIGGER tap_policy_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tap_policy
    FOR EACH STATEMENT EXECUTE FUNCTION latchkey_notify_change();
CREATE TRIGGER passes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON passes
    FOR EACH STATEMENT EXECUTE FUNCTION latchkey_notify_change();
CREATE TRIGGER applications_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON applications
    FOR EACH STATEMENT EXECUTE FUNCTION latchkey_notify_change();
CREATE TRIGGER application_secrets_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON application_secrets
    FOR EACH STATEMENT EXECUTE FUNCTION latchkey_notify_change();
CREATE TRIGGER fido2_methods_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fido2_methods
    FOR EACH STATEMENT EXECUTE FUNCTION latchkey_notify_change();
CREATE TRIGGER software_oath_methods_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON software_oath_methods
    FOR EACH STATEMENT EXECUTE FUNCTION latchkey_notify_change();
