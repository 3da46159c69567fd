-- 013: less work for the server per step and per new execution.
--
-- The throughput bench (bench/throughput.sh) spent about a sixth of the
-- server's time in ANALYZE: the sweeper analyzes the busy tables as they
-- grow (sql/012), and so does autovacuum. An ANALYZE costs its sample
-- (300 rows per unit of statistics target: 30,000 rows of up to a kilobyte
-- each, copied) and the statistics of every column.
--
-- The sweeper's ANALYZE is there for the row counts a plan is chosen by
-- (a table that was empty and is not any more), not for fine histograms:
-- a target of 10 (a 3,000-row sample) does that at a tenth of the cost.
-- Autovacuum's later ANALYZE keeps the full default target; the sweeper
-- only acts on a table modified more than its size since then, that is
-- while it is young.
ALTER FUNCTION wf_analyze_grown_tables() SET default_statistics_target = 10;

-- No statistics for the payloads no query filters on — contexts, rendered
-- data, results, bodies — which are also the widest columns: every
-- ANALYZE, the sweeper's and autovacuum's, skips them. (A planner estimate
-- on them falls back to the defaults, which is what any ad-hoc filter on a
-- JSON path got anyway.)
ALTER TABLE workflow_executions
    ALTER COLUMN context SET STATISTICS 0,
    ALTER COLUMN last_result SET STATISTICS 0,
    ALTER COLUMN last_error SET STATISTICS 0;
ALTER TABLE workflow_execution_history
    ALTER COLUMN result SET STATISTICS 0,
    ALTER COLUMN error SET STATISTICS 0;
ALTER TABLE email_logs
    ALTER COLUMN data SET STATISTICS 0,
    ALTER COLUMN subject SET STATISTICS 0,
    ALTER COLUMN message_id SET STATISTICS 0,
    ALTER COLUMN error SET STATISTICS 0;
ALTER TABLE sms_logs
    ALTER COLUMN data SET STATISTICS 0,
    ALTER COLUMN body SET STATISTICS 0,
    ALTER COLUMN error SET STATISTICS 0;
ALTER TABLE webhook_logs
    ALTER COLUMN request_body SET STATISTICS 0,
    ALTER COLUMN response_body SET STATISTICS 0,
    ALTER COLUMN error SET STATISTICS 0;

-- Executions started by a trigger row or by the API without a key (nearly
-- all) have no idempotency key, yet a plain unique index holds an entry
-- for every NULL. Unique among the keys that exist is all it has to say.
-- wf_execution_create's ON CONFLICT DO NOTHING names no index, so it
-- honours this one just the same.
ALTER TABLE workflow_executions DROP CONSTRAINT workflow_executions_idempotency_key_key;
CREATE UNIQUE INDEX workflow_executions_idempotency_key ON workflow_executions (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Every claim wrote an entry into two partial indexes over the same claimed
-- rows: one by worker, one by lease. The claimed rows are the few that
-- running workers hold (a batch each), so the lease index alone serves the
-- rarer lookups by worker (a pool that died or reconnected), by scanning
-- the claimed rows; one B-tree entry less per claim.
DROP INDEX wf_steps_claimed;

-- The audit rows of a batch in one statement: the batch's effects are
-- unpacked once and each channel's INSERT takes its own. Three separate
-- INSERTs unpacked the whole batch three times, two of them usually for
-- nothing (a batch of emails has no SMS or webhook rows). PL/pgSQL, not
-- SQL: it keeps its plan between calls.
--
-- An email's or SMS's data is the context it was rendered with, which is
-- its execution's (a context never changes once the execution exists).
-- The worker leaves it out of the effect instead of sending the context
-- back with every message (more than half of a round's payload, parsed
-- again here); the row takes it from the execution. An effect that names
-- its data keeps it.
CREATE OR REPLACE FUNCTION wf_record_logs_of(p_executions uuid[], p_nodes text[], p_attempts integer[], p_effects jsonb[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH effect AS (
        SELECT u.e, u.n, u.a, fx
        FROM unnest(p_executions, p_nodes, p_attempts, p_effects) AS u(e, n, a, l),
             jsonb_array_elements(coalesce(u.l, '[]')) AS fx
    ), emails AS (
        INSERT INTO email_logs (execution_id, node_id, attempt, recipient, subject, template,
                                data, status, mode, message_id, error)
        SELECT x.e, x.n, x.a, r.recipient, coalesce(r.subject, ''), r.template,
               coalesce(r.data, (SELECT c.context FROM workflow_executions c WHERE c.id = x.e), '{}'),
               coalesce(r.status, 'sent'), coalesce(r.mode, 'mock'), r.message_id, r.error
        FROM effect x, jsonb_populate_record(NULL::email_logs, x.fx -> 'email_log') AS r
        WHERE x.fx ? 'email_log'
    ), texts AS (
        INSERT INTO sms_logs (execution_id, node_id, attempt, recipient, body, data, status, mode,
                              provider_status, error)
        SELECT x.e, x.n, x.a, r.recipient, coalesce(r.body, ''),
               coalesce(r.data, (SELECT c.context FROM workflow_executions c WHERE c.id = x.e), '{}'),
               coalesce(r.status, 'sent'), coalesce(r.mode, 'mock'), r.provider_status, r.error
        FROM effect x, jsonb_populate_record(NULL::sms_logs, x.fx -> 'sms_log') AS r
        WHERE x.fx ? 'sms_log'
    )
    INSERT INTO webhook_logs (execution_id, node_id, attempt, url, method, request_body,
                              response_status, response_body, duration_ms, status, mode, error)
    SELECT x.e, x.n, x.a, r.url, coalesce(r.method, 'POST'), r.request_body, r.response_status,
           r.response_body, r.duration_ms, coalesce(r.status, 'sent'), coalesce(r.mode, 'http'), r.error
    FROM effect x, jsonb_populate_record(NULL::webhook_logs, x.fx -> 'webhook_log') AS r
    WHERE x.fx ? 'webhook_log';
END $$;
