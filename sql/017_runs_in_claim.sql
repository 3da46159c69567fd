-- 017_runs_in_claim: a quick step runs inside the transaction that locks it.
--
-- Until now every step was claimed first (status 'claimed', a lease, the
-- execution set 'running', one history row), committed, run, and recorded
-- in the worker's next round. For a step whose node stays inside the
-- database (a condition, a no-op, a mock send; see sql/014) the claim and
-- the lease buy nothing: such a node can run again at no cost. So a round
-- now opens a transaction, records the previous batch and locks the due
-- steps (FOR UPDATE SKIP LOCKED) without writing them
-- (wf_worker_round_open). The worker runs the quick ones and their nodes
-- in line while the lock is held, and wf_worker_settle records them and
-- claims the rest, the usual way, before the commit.
--
-- A recorded step writes its execution's row once (not twice), its own row
-- once and without touching an index (not a claim and then a finish), and
-- the same history: from its status -> running, running -> stepCompleted
-- for each node, and -> completed at the end.
--
-- Nothing else changes for anyone else. A locked step is still 'ready':
-- another worker skips it, the sweeper has no lease to rescue. A worker
-- that dies mid-round loses its transaction and the step is due again as
-- it was. A pause or a cancel of the execution waits for the round's
-- commit, and then finds it moved on.

-- wf_worker_round and wf_claim_steps keep their signatures; their bodies
-- move into the two functions below, which the new round shares with them.

-- The round's first half: wf_worker_round's recording of the previous
-- batch, on its own. Returns the steps chained to this worker (claimed).
CREATE FUNCTION wf_worker_record(p_worker bigint, p_limit integer, p_lease_s integer, p_done jsonb)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    d jsonb;
    handled bigint[];
    chained bigint[];
BEGIN
    IF jsonb_typeof(p_done) = 'array' AND jsonb_array_length(p_done) > 0 THEN
        BEGIN
            SELECT array_agg(f.step_id), array_agg(f.step_id) FILTER (WHERE f.outcome = 'chained')
            INTO handled, chained
            FROM wf_steps_finish_next(p_done, p_worker, greatest(p_limit - greatest(p_limit / 4, 1), 0), p_lease_s) f;
        EXCEPTION WHEN SQLSTATE 'WF40R' THEN
            -- Raced by a pause, a cancel or the sweeper: its writes are
            -- undone, and every outcome goes the careful way below.
            handled := NULL;
            chained := NULL;
        END;
        IF coalesce(cardinality(handled), 0) < jsonb_array_length(p_done) THEN
            FOR d IN SELECT x FROM jsonb_array_elements(p_done) x
                     WHERE NOT ((x ->> 'step')::bigint = ANY (coalesce(handled, '{}')))
            LOOP
                PERFORM wf_step_finish((d ->> 'step')::bigint, (d ->> 'claims')::integer, d ->> 'outcome',
                                       d ->> 'next', to_timestamp((d ->> 'run_at')::float8), d -> 'result',
                                       d ->> 'error', d -> 'logs', d -> 'delay', d -> 'child');
            END LOOP;
        END IF;
    END IF;
    RETURN coalesce(chained, '{}');
END $$;

-- Claims the given ready steps (locked by the caller, or to be locked
-- here): the claim of wf_claim_steps, for rows already picked.
CREATE FUNCTION wf_claim_step_ids(p_worker bigint, p_ids bigint[], p_lease_s integer)
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
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

CREATE OR REPLACE FUNCTION wf_claim_steps(p_worker bigint, p_limit integer, p_lease_s integer)
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint)
LANGUAGE sql AS $$
    SELECT * FROM wf_claim_step_ids(p_worker, ARRAY(
        SELECT s.id FROM wf_steps s
        WHERE s.status = 'ready' AND s.run_at <= now()
        ORDER BY s.run_at
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED), p_lease_s)
$$;

-- The steps a round chained, as a claim returns them.
CREATE FUNCTION wf_chained_steps(p_ids bigint[])
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT s.id, s.claims, s.execution_id, s.node_id, s.kind, s.attempt,
           e.workflow_id, e.workflow_version, e.status, e.context, e.trigger_table, e.trigger_id
    FROM wf_steps s JOIN workflow_executions e ON e.id = s.execution_id
    WHERE s.id = ANY (p_ids)
    ORDER BY s.id
$$;

CREATE OR REPLACE FUNCTION wf_worker_round(p_worker bigint, p_limit integer, p_lease_s integer, p_done jsonb)
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    chained bigint[] := wf_worker_record(p_worker, p_limit, p_lease_s, p_done);
    room integer := p_limit - cardinality(chained);
BEGIN
    RETURN QUERY SELECT * FROM wf_chained_steps(chained);
    IF room > 0 THEN
        RETURN QUERY SELECT * FROM wf_claim_steps(p_worker, room, p_lease_s);
    END IF;
END $$;

-- The round's first half, in the worker's open transaction: records the
-- previous batch, returns the steps chained to this worker (locked =
-- false, claimed) and locks up to the rest of p_limit due steps without
-- claiming them (locked = true; still 'ready'), each with its execution's
-- row. A pause or a cancel takes the execution's row first and the step's
-- after, so holding both keeps them waiting for the round's commit (a
-- tenth of a second at most) instead of deadlocking with it; a step whose
-- execution's row is taken is left for a later round.
CREATE FUNCTION wf_worker_round_open(p_worker bigint, p_limit integer, p_lease_s integer, p_done jsonb)
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint, locked boolean)
LANGUAGE plpgsql AS $$
DECLARE
    chained bigint[] := wf_worker_record(p_worker, p_limit, p_lease_s, p_done);
    room integer := p_limit - cardinality(chained);
BEGIN
    RETURN QUERY SELECT c.*, false FROM wf_chained_steps(chained) c;
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

-- Records steps the caller locked (wf_worker_round_open) and ran in this
-- transaction, each with its nodes in line: p_steps = [{"step", "status"
-- (its execution's status when locked), "outcome": "next", "next",
-- "result", "logs", "then"}], the outcome format of wf_steps_finish_next.
-- A step whose execution is no longer in that status (which the row lock
-- of wf_worker_round_open rules out) is left alone. Returns the steps it
-- recorded.
CREATE FUNCTION wf_steps_record_locked(p_steps jsonb)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    execs uuid[];
    froms text[];
    nodes text[];
    attempts integer[];
    firsts jsonb[];
    hops jsonb[];
    nexts text[];
    results jsonb[];
    logs jsonb[];
    recorded uuid[];
BEGIN
    SELECT array_agg(s.id ORDER BY s.id), array_agg(s.execution_id ORDER BY s.id),
           array_agg(i.status ORDER BY s.id), array_agg(s.node_id ORDER BY s.id),
           array_agg(s.attempt ORDER BY s.id), array_agg(i.result ORDER BY s.id),
           array_agg(h.hops ORDER BY s.id), array_agg(h.final_next ORDER BY s.id),
           array_agg(h.final_result ORDER BY s.id), array_agg(i.logs ORDER BY s.id)
    INTO ids, execs, froms, nodes, attempts, firsts, hops, nexts, results, logs
    FROM jsonb_to_recordset(p_steps)
         AS i(step bigint, status text, outcome text, next text, result jsonb, logs jsonb, "then" jsonb)
    CROSS JOIN LATERAL (
        SELECT CASE WHEN jsonb_typeof(i."then") = 'array' AND jsonb_array_length(i."then") > 0
                    THEN i."then" END AS hops) t
    CROSS JOIN LATERAL (
        SELECT t.hops,
               CASE WHEN t.hops IS NULL THEN i.next ELSE t.hops -> -1 ->> 'next' END AS final_next,
               CASE WHEN t.hops IS NULL THEN i.result ELSE t.hops -> -1 -> 'result' END AS final_result) h
    JOIN wf_steps s ON s.id = i.step AND s.status = 'ready'
    WHERE i.outcome = 'next' AND i.status IN ('idle', 'stepCompleted');

    IF ids IS NULL THEN
        RETURN '{}';
    END IF;

    -- The execution first, its status checked again.
    PERFORM set_config('wf.engine', 'on', true);
    WITH written AS (
        UPDATE workflow_executions e
        SET status = CASE WHEN u.nx IS NULL THEN 'completed' ELSE 'stepCompleted' END,
            current_node = coalesce(u.h -> -1 ->> 'node', u.n), attempt = 1,
            last_result = CASE WHEN u.nx IS NULL THEN NULL ELSE u.r END, last_error = NULL,
            updated_at = now(), completed_at = CASE WHEN u.nx IS NULL THEN now() END
        FROM unnest(execs, froms, nodes, results, nexts, hops) AS u(id, f, n, r, nx, h)
        WHERE e.id = u.id AND e.status = u.f
        RETURNING e.id)
    SELECT array_agg(id) INTO recorded FROM written;

    IF recorded IS NULL THEN
        PERFORM set_config('wf.engine', 'off', true);
        RETURN '{}';
    END IF;
    IF cardinality(recorded) < cardinality(ids) THEN
        SELECT array_agg(u.s ORDER BY u.s), array_agg(u.e ORDER BY u.s), array_agg(u.f ORDER BY u.s),
               array_agg(u.n ORDER BY u.s), array_agg(u.a ORDER BY u.s), array_agg(u.r1 ORDER BY u.s),
               array_agg(u.h ORDER BY u.s), array_agg(u.nx ORDER BY u.s), array_agg(u.r ORDER BY u.s),
               array_agg(u.l ORDER BY u.s)
        INTO ids, execs, froms, nodes, attempts, firsts, hops, nexts, results, logs
        FROM unnest(ids, execs, froms, nodes, attempts, firsts, hops, nexts, results, logs)
             AS u(s, e, f, n, a, r1, h, nx, r, l)
        WHERE u.e = ANY (recorded);
    END IF;

    -- The step: gone at the end, else at its next node and due as it was
    -- (run_at and status unchanged: no index entry is written).
    DELETE FROM wf_steps s USING unnest(ids, nexts) AS u(id, nx)
    WHERE s.id = u.id AND u.nx IS NULL;
    UPDATE wf_steps s SET node_id = u.nx, kind = 'run', attempt = 1, crashes = 0
    FROM unnest(ids, nexts) AS u(id, nx)
    WHERE s.id = u.id AND u.nx IS NOT NULL;
    IF FOUND THEN
        PERFORM pg_notify('wf_steps', '');  -- not caught by wf_steps_readied: no status or run_at changed
    END IF;

    -- from -> running and running -> stepCompleted for its own node, the
    -- same pair for each node in line, -> completed at the end. The step
    -- started running when the round locked it (wf_worker_round_open noted
    -- the time), not when its record is written; the rest is written as
    -- it happens.
    INSERT INTO workflow_execution_history (execution_id, node_id, from_status, to_status, attempt, result, created_at)
    SELECT y.id, y.n, y.f, y.t, y.a, y.r, CASE WHEN y.seq = 0 THEN coalesce(nullif(current_setting('wf.round_locked_at', true), '')::timestamptz, now())
                ELSE clock_timestamp() END
    FROM (SELECT u.id, u.k, 0 AS seq, u.n, u.f, 'running' AS t, u.a, NULL::jsonb AS r
          FROM unnest(execs, froms, nodes, attempts) WITH ORDINALITY AS u(id, f, n, a, k)
          UNION ALL
          SELECT u.id, u.k, 1, u.n, 'running', 'stepCompleted', u.a, u.r
          FROM unnest(execs, nodes, attempts, firsts) WITH ORDINALITY AS u(id, n, a, r, k)
          UNION ALL
          SELECT u.id, u.k, 2 * hop.j + pair.p, hop.x ->> 'node', pair.f, pair.t, 1,
                 CASE WHEN pair.p = 1 THEN hop.x -> 'result' END
          FROM unnest(execs, hops) WITH ORDINALITY AS u(id, h, k),
               jsonb_array_elements(u.h) WITH ORDINALITY AS hop(x, j),
               (VALUES (0, 'stepCompleted', 'running'), (1, 'running', 'stepCompleted')) AS pair(p, f, t)
          UNION ALL
          SELECT u.id, u.k, 1000000, coalesce(u.h -> -1 ->> 'node', u.n), 'stepCompleted', 'completed', 1, NULL
          FROM unnest(execs, nodes, nexts, hops) WITH ORDINALITY AS u(id, n, nx, h, k) WHERE u.nx IS NULL) y
    ORDER BY y.k, y.seq;
    PERFORM set_config('wf.engine', 'off', true);

    -- The audit rows: the steps' own, then their hops'.
    PERFORM wf_record_logs_of(execs || array_agg(u.id), nodes || array_agg(hop.x ->> 'node'),
                              attempts || array_agg(1), logs || array_agg(hop.x -> 'logs'))
    FROM unnest(execs, hops) AS u(id, h), jsonb_array_elements(u.h) AS hop(x);

    PERFORM wf_child_ended(e.id, false)
    FROM workflow_executions e, unnest(execs, nexts) AS u(id, nx)
    WHERE e.id = u.id AND u.nx IS NULL AND e.parent_execution_id IS NOT NULL;

    RETURN ids;
END $$;

-- The round's second half: records the locked steps the worker ran
-- (p_ran, as wf_steps_record_locked takes them) and claims the locked
-- steps it did not run (p_claim) and those whose record was refused.
-- Returns the claimed steps, as a claim does.
CREATE FUNCTION wf_worker_settle(p_worker bigint, p_lease_s integer, p_ran jsonb, p_claim bigint[])
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    recorded bigint[] := '{}';
    refused bigint[];
BEGIN
    IF jsonb_typeof(p_ran) = 'array' AND jsonb_array_length(p_ran) > 0 THEN
        recorded := wf_steps_record_locked(p_ran);
    END IF;
    SELECT array_agg((x ->> 'step')::bigint) INTO refused
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_ran) = 'array' THEN p_ran ELSE '[]' END) x
    WHERE NOT ((x ->> 'step')::bigint = ANY (recorded));
    RETURN QUERY SELECT * FROM wf_claim_step_ids(p_worker, coalesce(p_claim, '{}') || coalesce(refused, '{}'),
                                                 p_lease_s);
END $$;

-- A log row is stamped when it is written, as a history row is: a quick
-- send is now written in the transaction of the round that ran it, which
-- began before the send (now() would date the row before it).
ALTER TABLE email_logs ALTER COLUMN created_at SET DEFAULT clock_timestamp();
ALTER TABLE sms_logs ALTER COLUMN created_at SET DEFAULT clock_timestamp();
ALTER TABLE webhook_logs ALTER COLUMN created_at SET DEFAULT clock_timestamp();
