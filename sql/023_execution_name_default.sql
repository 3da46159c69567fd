-- 023_execution_name_default: an execution inserted by hand gets its
-- workflow's name.
--
-- interface.md promises that an INSERT naming only the columns it lists
-- works, and it lists workflow_executions without workflow_name, which is
-- NOT NULL with no default (sql/001): such an INSERT failed. The name (and
-- the version, when not given) now come from the row's workflow_id. The
-- engine always names both, so the trigger's WHEN clause keeps it off the
-- creation path.

CREATE FUNCTION wf_execution_name_default() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    w workflow;
BEGIN
    SELECT * INTO w FROM workflow WHERE id = NEW.workflow_id;
    IF FOUND THEN
        NEW.workflow_name := coalesce(NEW.workflow_name, w.name);
        NEW.workflow_version := coalesce(NEW.workflow_version, w.version);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER workflow_executions_name_default BEFORE INSERT ON workflow_executions
    FOR EACH ROW WHEN (NEW.workflow_name IS NULL OR NEW.workflow_version IS NULL)
    EXECUTE FUNCTION wf_execution_name_default();
