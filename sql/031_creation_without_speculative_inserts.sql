-- 031_creation_without_speculative_inserts: a batch of trigger rows starts
-- its executions with plain inserts, and a subscription's context is built
-- by one to_jsonb.
--
-- Measured by instructions (callgrind on a single-user server, the same
-- four batches of 500 subscriptions each time; docs/performance.md):
--
-- - ON CONFLICT DO NOTHING made every execution a speculative insert: a
--   speculative lock taken and released, the unique key probed, and the
--   heap tuple confirmed by a WAL record of its own. About 30,000 of the
--   368,000 instructions a row cost. A conflict happens only when a row
--   that already started is marked unprocessed again by hand. So the batch
--   now inserts plainly; on a violation of the trigger key, which rolls
--   back that one statement (the exception block's subtransaction, once
--   per batch), the rows that have started already are left out and the
--   rest is inserted again. Those rows are still marked processed, and
--   nothing starts twice, as before. Probing the key row by row instead
--   cost more than the speculative insert did.
-- - wf_subscription_contexts built the context from three to_jsonb values
--   nested into a fourth object by jsonb_build_object, which unpacked and
--   packed each of them again: 109,000 instructions a row. One to_jsonb
--   over a row of the three records builds the same object (every context
--   compared equal, a missing user or plan still null) in 88,000. The
--   lookups stay scalar subqueries on primary keys (sql/016).

CREATE OR REPLACE VIEW wf_subscription_contexts AS
SELECT s.id, s.processed, to_jsonb(r) AS context
FROM dummy_subscriptions s
CROSS JOIN LATERAL (
    SELECT (SELECT u FROM dummy_users u WHERE u.id = s.user_id) AS "user",
           s AS subscription,
           (SELECT t FROM dummy_subscription_types t WHERE t.id = s.subscription_type_id) AS subscription_type) r;

CREATE OR REPLACE FUNCTION wf_trigger_rows_start(p_table text, p_rows jsonb)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    created integer;
    changed text;
    pending jsonb := p_rows;
    left_out integer;
    violated text;
BEGIN
    IF p_table NOT IN ('dummy_subscriptions', 'dummy_newsletters') THEN
        RAISE EXCEPTION 'unknown trigger table "%"', p_table USING ERRCODE = 'WF422';
    END IF;
    LOOP
        BEGIN
            WITH chosen AS (
                SELECT x.id, x.workflow, w.id AS workflow_id, w.name, w.version,
                       w.definition ->> 'start' AS start_node
                FROM jsonb_to_recordset(pending) AS x(workflow text, id bigint)
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
                RETURNING id, current_node
            ), queued AS (
                INSERT INTO wf_steps (execution_id, node_id) SELECT id, current_node FROM made
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM queued), (SELECT min(c.workflow) FROM chosen c WHERE c.workflow_id IS NULL)
            INTO created, changed;
            EXIT;
        EXCEPTION WHEN unique_violation THEN
            GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
            IF violated IS DISTINCT FROM 'workflow_executions_trigger_table_trigger_id_workflow_id_key' THEN
                RAISE;
            END IF;
            -- A row started before: leave out every such row and insert the rest.
            SELECT coalesce(jsonb_agg(r), '[]'), jsonb_array_length(pending) - count(r)
            INTO pending, left_out
            FROM jsonb_array_elements(pending) r
            WHERE NOT EXISTS (
                SELECT 1 FROM workflow_executions e JOIN workflow w ON w.id = e.workflow_id
                WHERE e.trigger_table = p_table AND e.trigger_id = (r ->> 'id')::bigint
                  AND w.name = r ->> 'workflow');
            IF left_out = 0 THEN
                RAISE;  -- not a row of this batch: nothing to leave out
            END IF;
        END;
    END LOOP;
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
