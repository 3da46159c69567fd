-- 019_empty_batches: a round's statements that have nothing to do are not
-- run, so they are not planned either.
--
-- pg_stat_statements with track_planning over a 10,000 x 3 run: the
-- claim inside wf_claim_step_ids was planned in 86 of its 126 calls, 0.76
-- ms each, although a round of quick steps claims none (its ids are
-- empty); the steps chained to the worker, read at the start of every
-- round, were planned in all of its 131 calls, 0.47 ms each, and there
-- were nearly always none. A plan PL/pgSQL keeps for a statement is made
-- again after an ANALYZE of a table it reads, or, while PostgreSQL still
-- tries custom plans for it, at every call. Together 126 ms of the
-- server's time per run, and the statements' own work besides. Both functions
-- are sql/017's, each with its guard (wf_worker_round, which also reads
-- the chained steps, is left as it is: only a stopping worker calls it).

CREATE OR REPLACE FUNCTION wf_claim_step_ids(p_worker bigint, p_ids bigint[], p_lease_s integer)
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(cardinality(p_ids), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM set_config('wf.engine', 'on', true);
    RETURN QUERY
    WITH claimed AS (
        UPDATE wf_steps s
        SET status = 'claimed', claimed_by = p_worker, claims = s.claims + 1,
            claimed_at = now(), lease_expires_at = now() + make_interval(secs => p_lease_s)
        WHERE s.id = ANY (p_ids) AND s.status = 'ready'
        RETURNING s.*
    ), started AS (
        -- Runs to completion although only the history reads it (data-modifying CTE).
        UPDATE workflow_executions e
        SET status = 'running', current_node = c.node_id, attempt = c.attempt,
            last_result = NULL, last_error = NULL, updated_at = now()
        FROM claimed c JOIN workflow_executions before ON before.id = c.execution_id
        WHERE e.id = c.execution_id AND before.status IN ('idle', 'stepCompleted', 'retrying', 'delayed')
        RETURNING e.id, before.status AS from_status, c.node_id, c.attempt
    ), history AS (
        INSERT INTO workflow_execution_history (execution_id, node_id, from_status, to_status, attempt)
        SELECT st.id, st.node_id, st.from_status, 'running', st.attempt FROM started st
    )
    SELECT c.id, c.claims, c.execution_id, c.node_id, c.kind, c.attempt,
           e.workflow_id, e.workflow_version, e.status, e.context, e.trigger_table, e.trigger_id
    FROM claimed c JOIN workflow_executions e ON e.id = c.execution_id
    ORDER BY c.run_at, c.id;
    PERFORM set_config('wf.engine', 'off', true);
END $$;

CREATE OR REPLACE FUNCTION wf_worker_round_open(p_worker bigint, p_limit integer, p_lease_s integer, p_done jsonb)
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint, locked boolean)
LANGUAGE plpgsql AS $$
DECLARE
    chained bigint[] := wf_worker_record(p_worker, p_limit, p_lease_s, p_done);
    room integer := p_limit - cardinality(chained);
BEGIN
    IF cardinality(chained) > 0 THEN
        RETURN QUERY SELECT c.*, false FROM wf_chained_steps(chained) c;
    END IF;
    IF room > 0 THEN
        PERFORM set_config('wf.round_locked_at', clock_timestamp()::text, true);
        RETURN QUERY
            SELECT s.id, s.claims, s.execution_id, s.node_id, s.kind, s.attempt,
                   e.workflow_id, e.workflow_version, e.status, e.context, e.trigger_table, e.trigger_id, true
            FROM (SELECT l.* FROM wf_steps l
                  WHERE l.status = 'ready' AND l.run_at <= now()
                  ORDER BY l.run_at
                  LIMIT room
                  FOR UPDATE SKIP LOCKED) s
            CROSS JOIN LATERAL (
                SELECT x.* FROM workflow_executions x WHERE x.id = s.execution_id
                FOR NO KEY UPDATE SKIP LOCKED) e
            ORDER BY s.run_at, s.id;
    END IF;
END $$;
