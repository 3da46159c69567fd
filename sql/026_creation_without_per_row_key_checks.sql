-- 026_creation_without_per_row_key_checks: an execution's creation no
-- longer runs two foreign-key checks per row.
--
-- workflow_executions.workflow_id -> workflow and wf_steps.execution_id ->
-- workflow_executions each ran a query per inserted row (SELECT ... FOR KEY
-- SHARE of the referenced row, through SPI): 756 against 668 ms of CPU for
-- 10,000 trigger rows started in one session, with them and with this
-- migration (the means of eight alternated runs; docs/performance.md). What
-- they guaranteed now holds a statement at a time:
--
-- - A step is inserted only with its new execution, in the same statement,
--   or for an execution whose row the inserting transaction holds locked
--   (wf_dead_letter_replay). A delete of that execution waits for the lock
--   and then, by the trigger below, deletes the step with the execution's
--   history and logs, as the cascade did.
-- - The statement trigger that writes new executions' first history rows
--   also locks their workflows' rows (FOR KEY SHARE, once per workflow, not
--   per row) and refuses the statement, as the key did (23503), when one
--   is gone. A workflow deleted meanwhile waits for the creating
--   transaction's commit and its trigger then sets workflow_id to null on
--   every execution, the new ones included (ON DELETE SET NULL before);
--   a creation that comes second finds the workflow gone and fails.

ALTER TABLE wf_steps DROP CONSTRAINT wf_steps_execution_id_fkey;
ALTER TABLE workflow_executions DROP CONSTRAINT workflow_executions_workflow_id_fkey;

-- An execution's step, history and logs go with it.
CREATE OR REPLACE FUNCTION wf_execution_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM wf_steps s USING gone g WHERE s.execution_id = g.id;
    DELETE FROM workflow_execution_history h USING gone g WHERE h.execution_id = g.id;
    DELETE FROM email_logs l USING gone g WHERE l.execution_id = g.id;
    DELETE FROM sms_logs l USING gone g WHERE l.execution_id = g.id;
    DELETE FROM webhook_logs l USING gone g WHERE l.execution_id = g.id;
    RETURN NULL;
END $$;

-- New executions: their workflows held until commit, then their first
-- history rows (sql/003). The second statement has a snapshot of its own,
-- taken after the lock: a workflow deleted before the lock was taken is
-- missing from it.
CREATE OR REPLACE FUNCTION wf_execution_created() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    PERFORM FROM workflow w WHERE w.id IN (SELECT n.workflow_id FROM created n) FOR KEY SHARE;
    SELECT min(c.workflow_id) INTO missing
    FROM (SELECT DISTINCT n.workflow_id FROM created n WHERE n.workflow_id IS NOT NULL) c
    WHERE NOT EXISTS (SELECT 1 FROM workflow w WHERE w.id = c.workflow_id);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'workflow % does not exist (deleted meanwhile?)', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;

    INSERT INTO workflow_execution_history (execution_id, node_id, from_status, to_status, attempt, result)
    SELECT n.id, n.current_node, NULL, n.status, 0, n.last_result FROM created n;
    RETURN NULL;
END $$;

-- Executions keep their history when their workflow is deleted, with no
-- workflow_id (workflow_executions_workflow serves the lookup).
CREATE FUNCTION wf_workflow_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workflow_executions e SET workflow_id = NULL
    FROM gone g WHERE e.workflow_id = g.id;
    RETURN NULL;
END $$;

CREATE TRIGGER workflow_deleted AFTER DELETE ON workflow
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION wf_workflow_deleted();
