-- 025_trigger_start_refuses_a_changed_route: a trigger row whose workflow
-- changed after the coordinator routed it is routed again, not dropped.
--
-- wf_trigger_rows_start (sql/020) started only the named workflows that
-- were active and valid, and marked every row of the batch processed. The
-- coordinator checks its routes after claiming the rows (routes_hold in
-- coordinator/triggers.c), but this function's statement reads the
-- workflows again, later, with a snapshot of its own: a definition changed
-- by plain SQL and committed in between (valid is then NULL until checked)
-- made the join drop the row, which was still marked processed. Its
-- workflow never started (process_triggers's
-- a_row_committed_with_its_workflows_new_definition_starts_that_workflow
-- lost 3 of its 10 rows in two local runs of six).
--
-- Now a named workflow that is not active and valid when the executions
-- are inserted (in the same statement, so with the same snapshot) makes
-- the function insert nothing and raise WF40R ("raced"): the coordinator
-- rolls the batch back, validates the pending definitions and routes the
-- rows again. A row the coordinator routes to no workflow is marked
-- processed, as before.
--
-- The rows are also marked by key (= ANY) rather than by a semi-join,
-- which the planner ran as a hash join over the whole trigger table.
CREATE OR REPLACE FUNCTION wf_trigger_rows_start(p_table text, p_rows jsonb)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    created integer;
    changed text;
BEGIN
    IF p_table NOT IN ('dummy_subscriptions', 'dummy_newsletters') THEN
        RAISE EXCEPTION 'unknown trigger table "%"', p_table USING ERRCODE = 'WF422';
    END IF;
    WITH chosen AS (
        SELECT x.id, x.workflow, w.id AS workflow_id, w.name, w.version, w.definition ->> 'start' AS start_node
        FROM jsonb_to_recordset(p_rows) AS x(workflow text, id bigint)
        LEFT JOIN workflow w ON w.name = x.workflow AND w.active AND w.valid
        WHERE x.workflow IS NOT NULL
    ), made AS (
        INSERT INTO workflow_executions
            (workflow_id, workflow_name, workflow_version, current_node, context, trigger_table, trigger_id)
        SELECT c.workflow_id, c.name, c.version, c.start_node,
               CASE p_table
                   WHEN 'dummy_subscriptions' THEN
                       (SELECT s.context FROM wf_subscription_contexts s WHERE s.id = c.id)
                   ELSE (SELECT n.context FROM wf_newsletter_contexts n WHERE n.id = c.id)
               END,
               p_table, c.id
        FROM chosen c
        WHERE c.workflow_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM chosen g WHERE g.workflow_id IS NULL)
        ON CONFLICT DO NOTHING
        RETURNING id, current_node
    ), queued AS (
        INSERT INTO wf_steps (execution_id, node_id) SELECT id, current_node FROM made
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM queued), (SELECT min(c.workflow) FROM chosen c WHERE c.workflow_id IS NULL)
    INTO created, changed;
    IF changed IS NOT NULL THEN
        RAISE EXCEPTION 'workflow "%" is not active and valid any more: route the batch again', changed
            USING ERRCODE = 'WF40R';
    END IF;

    IF p_table = 'dummy_subscriptions' THEN
        UPDATE dummy_subscriptions SET processed = true, processed_at = now()
        WHERE id = ANY (ARRAY(SELECT (r ->> 'id')::bigint FROM jsonb_array_elements(p_rows) r));
    ELSE
        UPDATE dummy_newsletters SET processed = true, processed_at = now()
        WHERE id = ANY (ARRAY(SELECT (r ->> 'id')::bigint FROM jsonb_array_elements(p_rows) r));
    END IF;
    RETURN created;
END $$;
