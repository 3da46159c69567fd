-- 014_hops: a worker runs an execution's quick nodes one after another.
--
-- A step that succeeded and moves on to a node the worker can run at once
-- and without the outside world (a condition, a mock send, a no-op) runs
-- that node too, in memory, and the one after, until a node that waits,
-- talks to the outside world, fails or is last. The round records them all
-- at once: one history pair and one log row per node as before, but the
-- execution's row and the step's row are written once per chain instead
-- of once per node, and the chain costs no claim and no re-read.
--
-- An outcome may carry them as "then": the nodes run after its own, in
-- order, each {"node", "result", "logs", "next"}; the step ends at the
-- last one's "next". Only this fast path reads "then": an outcome that
-- goes the careful way (wf_step_finish: the execution was paused or
-- cancelled meanwhile, its step rescued) records its own node alone and
-- its next node runs again later. That is why only nodes without effects
-- outside the database are run this way: dropping one costs nothing.
CREATE OR REPLACE FUNCTION wf_steps_finish_next(p_steps jsonb, p_worker bigint, p_chain integer, p_lease_s integer)
RETURNS TABLE (step_id bigint, outcome text) LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    claim_counts integer[];
    execs uuid[];
    nodes text[];
    kinds text[];
    attempts integer[];
    firsts jsonb[];
    hops jsonb[];
    nexts text[];
    chains boolean[];
    results jsonb[];
    logs jsonb[];
    written integer;
    moved integer := 0;
BEGIN
    -- Read without locking; each write below re-checks what was read and
    -- takes its row's lock by writing it, step rows before execution rows
    -- (the order of wf_step_finish and the sweeper). A row that changed in
    -- between (rescued step, paused or cancelled execution) raises WF40R,
    -- and the caller records the batch through wf_step_finish instead.
    -- nexts and results are where the step ends (after its last hop);
    -- firsts is its own node's result.
    SELECT array_agg(x.id ORDER BY x.id), array_agg(x.claims ORDER BY x.id),
           array_agg(x.execution_id ORDER BY x.id), array_agg(x.node_id ORDER BY x.id),
           array_agg(x.kind ORDER BY x.id), array_agg(x.attempt ORDER BY x.id),
           array_agg(x.result ORDER BY x.id), array_agg(x.hops ORDER BY x.id),
           array_agg(x.final_next ORDER BY x.id), array_agg(x.chain ORDER BY x.id),
           array_agg(x.final_result ORDER BY x.id), array_agg(x.logs ORDER BY x.id)
    INTO ids, claim_counts, execs, nodes, kinds, attempts, firsts, hops, nexts, chains, results, logs
    FROM (SELECT s.id, s.claims, s.execution_id, s.node_id, s.kind, s.attempt, i.result, i.logs, h.hops,
                 h.final_next, h.final_result,
                 h.final_next IS NOT NULL AND s.claimed_by = p_worker
                 AND row_number() OVER (PARTITION BY h.final_next IS NOT NULL ORDER BY s.id) <= p_chain AS chain
          FROM jsonb_to_recordset(p_steps)
               AS i(step bigint, claims integer, outcome text, next text, result jsonb, logs jsonb, "then" jsonb)
          CROSS JOIN LATERAL (
              SELECT CASE WHEN jsonb_typeof(i."then") = 'array' AND jsonb_array_length(i."then") > 0
                          THEN i."then" END AS hops) t
          CROSS JOIN LATERAL (
              SELECT t.hops,
                     CASE WHEN t.hops IS NULL THEN i.next ELSE t.hops -> -1 ->> 'next' END AS final_next,
                     CASE WHEN t.hops IS NULL THEN i.result ELSE t.hops -> -1 -> 'result' END AS final_result) h
          JOIN wf_steps s ON s.id = i.step AND s.claims = i.claims AND s.status = 'claimed'
          JOIN workflow_executions e ON e.id = s.execution_id AND e.status = 'running'
          WHERE i.outcome = 'next') x;

    IF ids IS NULL THEN
        RETURN;
    END IF;

    UPDATE wf_steps s
    SET node_id = u.nx, kind = 'run', attempt = 1, claims = s.claims + 1, claimed_at = now(), crashes = 0,
        lease_expires_at = CASE WHEN s.lease_expires_at < now() + make_interval(secs => p_lease_s * 0.75)
                                THEN now() + make_interval(secs => p_lease_s)
                                ELSE s.lease_expires_at END
    FROM unnest(ids, claim_counts, nexts, chains) AS u(id, c, nx, ch)
    WHERE s.id = u.id AND s.claims = u.c AND s.status = 'claimed' AND u.ch;
    GET DIAGNOSTICS written = ROW_COUNT;
    moved := moved + written;
    UPDATE wf_steps s
    SET node_id = u.nx, kind = 'run', attempt = 1, run_at = now(), status = 'ready',
        claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL, crashes = 0
    FROM unnest(ids, claim_counts, nexts, chains) AS u(id, c, nx, ch)
    WHERE s.id = u.id AND s.claims = u.c AND s.status = 'claimed' AND u.nx IS NOT NULL AND NOT u.ch;
    GET DIAGNOSTICS written = ROW_COUNT;
    moved := moved + written;
    DELETE FROM wf_steps s USING unnest(ids, claim_counts, nexts) AS u(id, c, nx)
    WHERE s.id = u.id AND s.claims = u.c AND s.status = 'claimed' AND u.nx IS NULL;
    GET DIAGNOSTICS written = ROW_COUNT;
    IF moved + written <> cardinality(ids) THEN
        RAISE EXCEPTION 'a step of the batch changed hands while it was recorded' USING ERRCODE = 'WF40R';
    END IF;

    -- running -> stepCompleted, then -> running for each hop and its own
    -- -> stepCompleted, then -> completed at the end, -> running again when
    -- chained: legal by construction (every row is checked 'running' as it
    -- is written), so the history is written here in one INSERT, in that
    -- order (ids follow the ORDER BY), and the transition trigger stands aside.
    PERFORM set_config('wf.engine', 'on', true);
    UPDATE workflow_executions e
    SET status = CASE WHEN u.nx IS NULL THEN 'completed' WHEN u.ch THEN 'running' ELSE 'stepCompleted' END,
        current_node = CASE WHEN u.ch THEN u.nx
                            WHEN u.h IS NOT NULL THEN u.h -> -1 ->> 'node'
                            ELSE e.current_node END,
        attempt = CASE WHEN u.ch OR u.h IS NOT NULL THEN 1 ELSE e.attempt END,
        last_result = CASE WHEN u.nx IS NULL OR u.ch THEN NULL ELSE u.r END, last_error = NULL,
        updated_at = now(), completed_at = CASE WHEN u.nx IS NULL THEN now() END
    FROM unnest(execs, results, nexts, chains, hops) AS u(id, r, nx, ch, h) WHERE e.id = u.id AND e.status = 'running';
    GET DIAGNOSTICS written = ROW_COUNT;
    IF written <> cardinality(ids) THEN
        RAISE EXCEPTION 'an execution of the batch changed state while it was recorded' USING ERRCODE = 'WF40R';
    END IF;
    INSERT INTO workflow_execution_history (execution_id, node_id, from_status, to_status, attempt, result)
    SELECT y.id, y.n, y.f, y.t, y.a, y.r
    FROM (SELECT u.id, u.k, 0 AS seq, u.n, 'running' AS f, 'stepCompleted' AS t, u.a, u.r
          FROM unnest(execs, nodes, attempts, firsts) WITH ORDINALITY AS u(id, n, a, r, k)
          UNION ALL
          SELECT u.id, u.k, 2 * hop.j - 1 + pair.p, hop.x ->> 'node', pair.f, pair.t, 1,
                 CASE WHEN pair.p = 1 THEN hop.x -> 'result' END
          FROM unnest(execs, hops) WITH ORDINALITY AS u(id, h, k),
               jsonb_array_elements(u.h) WITH ORDINALITY AS hop(x, j),
               (VALUES (0, 'stepCompleted', 'running'), (1, 'running', 'stepCompleted')) AS pair(p, f, t)
          UNION ALL
          SELECT u.id, u.k, 1000000, coalesce(u.h -> -1 ->> 'node', u.n), 'stepCompleted', 'completed', 1, NULL
          FROM unnest(execs, nodes, nexts, hops) WITH ORDINALITY AS u(id, n, nx, h, k) WHERE u.nx IS NULL
          UNION ALL
          SELECT u.id, u.k, 1000000, u.nx, 'stepCompleted', 'running', 1, NULL
          FROM unnest(execs, nexts, chains) WITH ORDINALITY AS u(id, nx, ch, k) WHERE u.ch) y
    ORDER BY y.k, y.seq;
    PERFORM set_config('wf.engine', 'off', true);

    -- The audit rows: the steps' own, then their hops'.
    PERFORM wf_record_logs_of(execs || array_agg(u.id), nodes || array_agg(hop.x ->> 'node'),
                              attempts || array_agg(1), logs || array_agg(hop.x -> 'logs'))
    FROM unnest(execs, hops) AS u(id, h), jsonb_array_elements(u.h) AS hop(x);

    UPDATE workflow_delays d SET status = 'resumed', resumed_at = now()
    FROM unnest(execs, nodes, kinds) AS u(e, n, k)
    WHERE u.k = 'resume' AND d.execution_id = u.e AND d.node_id = u.n AND d.status = 'waiting';

    PERFORM wf_child_ended(e.id, false)
    FROM workflow_executions e, unnest(execs, nexts) AS u(id, nx)
    WHERE e.id = u.id AND u.nx IS NULL AND e.parent_execution_id IS NOT NULL;

    RETURN QUERY SELECT u.id, CASE WHEN u.ch THEN 'chained' ELSE 'ok' END FROM unnest(ids, chains) AS u(id, ch);
END $$;
