-- 020_contexts_stay_in_the_database: a batch of trigger rows starts its
-- executions with contexts read where they are built, instead of
-- contexts sent to the coordinator and back.
--
-- The coordinator's claim returned every row's context as text (jsonb
-- built, then printed), the coordinator parsed and printed each one again
-- into the batch it sent to wf_executions_create_for, and the server parsed
-- that batch back into jsonb: perf over a 10,000 x 3 throughput run put
-- about a sixth of the coordinator's session in that round trip (json_lex,
-- escape_json, appendStringInfoChar, the key sorting of jsonb). The
-- coordinator needs a context only to test trigger rules, and most
-- workflows have none; so it now claims ids (with contexts only when a
-- rule needs them), sends back which workflow each row starts, and this
-- function reads each context from the table's context view, a scalar
-- subquery on the primary key as in sql/016.
--
-- It also marks the batch's rows processed, those that start nothing
-- included, which was a statement of its own. The caller holds the rows
-- locked (the claim's FOR UPDATE), so every context is read from the row
-- the claim returned; the user row behind it may have changed in between,
-- as it may at any moment after the execution starts.
--
-- wf_executions_create_for stays: a coordinator of the previous version,
-- still running while a rolling restart reaches its host, calls it.

-- p_rows = [{"id": trigger row id, "workflow": name or null}], every row the
-- caller claimed from trigger table p_table. Starts the named workflows
-- (only valid, active ones; a row already started is skipped by the unique
-- trigger key), marks every row processed, and returns how many
-- executions it created.
CREATE FUNCTION wf_trigger_rows_start(p_table text, p_rows jsonb)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    created integer;
BEGIN
    IF p_table NOT IN ('dummy_subscriptions', 'dummy_newsletters') THEN
        RAISE EXCEPTION 'unknown trigger table "%"', p_table USING ERRCODE = 'WF422';
    END IF;
    WITH made AS (
        INSERT INTO workflow_executions
            (workflow_id, workflow_name, workflow_version, current_node, context, trigger_table, trigger_id)
        SELECT w.id, w.name, w.version, w.definition ->> 'start',
               CASE p_table
                   WHEN 'dummy_subscriptions' THEN
                       (SELECT c.context FROM wf_subscription_contexts c WHERE c.id = x.id)
                   ELSE (SELECT c.context FROM wf_newsletter_contexts c WHERE c.id = x.id)
               END,
               p_table, x.id
        FROM jsonb_to_recordset(p_rows) AS x(workflow text, id bigint)
        JOIN workflow w ON w.name = x.workflow AND w.active AND w.valid
        ON CONFLICT DO NOTHING
        RETURNING id, current_node)
    INSERT INTO wf_steps (execution_id, node_id) SELECT id, current_node FROM made;
    GET DIAGNOSTICS created = ROW_COUNT;

    IF p_table = 'dummy_subscriptions' THEN
        UPDATE dummy_subscriptions SET processed = true, processed_at = now()
        WHERE id IN (SELECT (r ->> 'id')::bigint FROM jsonb_array_elements(p_rows) r);
    ELSE
        UPDATE dummy_newsletters SET processed = true, processed_at = now()
        WHERE id IN (SELECT (r ->> 'id')::bigint FROM jsonb_array_elements(p_rows) r);
    END IF;
    RETURN created;
END $$;
