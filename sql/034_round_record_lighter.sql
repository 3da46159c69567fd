-- 034_round_record_lighter: a round writes its history rows without
-- sorting their transitions, sorts its steps once, and is sent its email
-- logs without the fields their results repeat.
--
-- A step recorded by a worker's round becomes one row of wf_history, its
-- transitions in arrays (029). They were built as rows, a union of four
-- kinds (the step's own two, two a node in line, the end), sorted by step
-- and order, and aggregated: for three emails a step, 143,000 instructions
-- a step, the sort's comparisons of tuples that hold nulls the costliest
-- part. Each step's arrays are now aggregated over a series of its
-- transitions' numbers, each element picked by its number: 87,000.
-- The lock time of the round is read once a round instead of once a step.
-- The rows are the same, ids included (compared over 255 steps of three
-- emails; docs/performance.md).
--
-- The outcomes of the round were put in ten arrays by ten aggregates, each
-- sorting the steps by id on its own; they now aggregate one sorted
-- subquery, as the history did. The whole round records a step of three
-- emails in 537,000 instructions against 603,000 (callgrind on a
-- single-user server, rounds of 85 steps).
--
-- Parsing the round's outcomes (jsonb) cost 110,000 of those a step, and an
-- email's log row repeats its result's recipient, subject and message id:
-- 35% of the bytes. The worker now leaves those out of the round's record
-- when they equal the result's (worker/runner.c), and wf_record_logs_of,
-- given each log's step result, fills in what a log leaves out; every
-- other path sends its logs whole and calls it with four arguments, as
-- before. The same email rows are written, in 514,000 instructions a step.
DROP FUNCTION wf_record_logs_of(uuid[], text[], integer[], jsonb[]);
CREATE FUNCTION wf_record_logs_of(p_executions uuid[], p_nodes text[], p_attempts integer[], p_effects jsonb[],
                                  p_results jsonb[] DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH effect AS (
        SELECT u.e, u.n, u.a, u.r, fx -> 'email_log' AS mail, fx -> 'sms_log' AS sms, fx -> 'webhook_log' AS hook
        FROM unnest(p_executions, p_nodes, p_attempts, p_effects, p_results) AS u(e, n, a, l, r),
             jsonb_array_elements(coalesce(u.l, '[]')) AS fx
    ), emails AS (
        INSERT INTO email_logs (execution_id, node_id, attempt, recipient, subject, template,
                                data, status, mode, message_id, error)
        SELECT x.e, x.n, x.a, coalesce(x.mail ->> 'recipient', x.r ->> 'to'),
               coalesce(x.mail ->> 'subject', x.r ->> 'subject', ''), x.mail ->> 'template',
               nullif(x.mail -> 'data', 'null'), coalesce(x.mail ->> 'status', 'sent'),
               coalesce(x.mail ->> 'mode', 'mock'), coalesce(x.mail ->> 'message_id', x.r ->> 'message_id'),
               x.mail ->> 'error'
        FROM effect x
        WHERE x.mail IS NOT NULL
    ), texts AS (
        INSERT INTO sms_logs (execution_id, node_id, attempt, recipient, body, data, status, mode,
                              provider_status, error)
        SELECT x.e, x.n, x.a, x.sms ->> 'recipient', coalesce(x.sms ->> 'body', ''),
               nullif(x.sms -> 'data', 'null'), coalesce(x.sms ->> 'status', 'sent'),
               coalesce(x.sms ->> 'mode', 'mock'), (x.sms ->> 'provider_status')::integer, x.sms ->> 'error'
        FROM effect x
        WHERE x.sms IS NOT NULL
    )
    INSERT INTO webhook_logs (execution_id, node_id, attempt, url, method, request_body,
                              response_status, response_body, duration_ms, status, mode, error)
    SELECT x.e, x.n, x.a, x.hook ->> 'url', coalesce(x.hook ->> 'method', 'POST'), x.hook ->> 'request_body',
           (x.hook ->> 'response_status')::integer, x.hook ->> 'response_body',
           (x.hook ->> 'duration_ms')::double precision, coalesce(x.hook ->> 'status', 'sent'),
           coalesce(x.hook ->> 'mode', 'http'), x.hook ->> 'error'
    FROM effect x
    WHERE x.hook IS NOT NULL;
END $$;

CREATE OR REPLACE FUNCTION wf_steps_record_locked(p_steps jsonb)
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
    locked_at timestamptz := coalesce(nullif(current_setting('wf.round_locked_at', true), '')::timestamptz, now());
BEGIN
    -- The steps in the order of their ids, sorted once for the ten arrays.
    SELECT array_agg(q.id), array_agg(q.execution_id), array_agg(q.status), array_agg(q.node_id),
           array_agg(q.attempt), array_agg(q.result), array_agg(q.hops), array_agg(q.final_next),
           array_agg(q.final_result), array_agg(q.logs)
    INTO ids, execs, froms, nodes, attempts, firsts, hops, nexts, results, logs
    FROM (SELECT s.id, s.execution_id, i.status, s.node_id, s.attempt, i.result, h.hops, h.final_next,
                 h.final_result, i.logs
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
          WHERE i.outcome = 'next' AND i.status IN ('idle', 'stepCompleted')
          ORDER BY s.id) q;

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
    -- same pair for each node in line, -> completed at the end: one row of
    -- wf_history per step. Its transitions are numbered 1, 2, then two a
    -- node in line, then the end; each array is aggregated over that
    -- series, whose function scan gives them in order. The step started
    -- running when the round locked it (wf_worker_round_open noted the
    -- time), not when its record is written; the rest is written as it
    -- happens.
    -- The lateral subquery's columns are the table's, in its order.
    INSERT INTO wf_history (execution_id, latest_at, node_id, from_status, to_status, attempt, result, error, created_at)
    SELECT u.id, c.*
    FROM unnest(execs, froms, nodes, attempts, firsts, hops, nexts) AS u(id, f, n, a, r, h, nx)
    CROSS JOIN LATERAL (
        SELECT max(x.at) AS latest_at,
               array_agg(CASE WHEN x.i <= 2 THEN u.n
                              WHEN x.i <= x.in_line THEN u.h -> ((x.i - 3) / 2) ->> 'node'
                              ELSE coalesce(u.h -> -1 ->> 'node', u.n) END) AS node_id,
               array_agg(CASE WHEN x.i = 1 THEN u.f
                              WHEN x.i > x.in_line OR x.i % 2 = 1 THEN 'stepCompleted'
                              ELSE 'running' END) AS from_status,
               array_agg(CASE WHEN x.i > x.in_line THEN 'completed'
                              WHEN x.i % 2 = 0 THEN 'stepCompleted'
                              ELSE 'running' END) AS to_status,
               array_agg(CASE WHEN x.i <= 2 THEN u.a ELSE 1 END) AS attempt,
               array_agg(CASE WHEN x.i = 2 THEN u.r
                              WHEN x.i <= x.in_line AND x.i % 2 = 0 THEN u.h -> ((x.i - 3) / 2) -> 'result' END) AS result,
               array_agg(NULL::text) AS error,
               array_agg(x.at) AS created_at
        FROM (SELECT g.i, l.in_line, CASE WHEN g.i = 1 THEN locked_at ELSE clock_timestamp() END AS at
              FROM (SELECT 2 + 2 * coalesce(jsonb_array_length(u.h), 0) AS in_line) l
              CROSS JOIN LATERAL generate_series(1, l.in_line + (u.nx IS NULL)::integer) AS g(i)) x
    ) c;
    PERFORM set_config('wf.engine', 'off', true);

    -- The audit rows: the steps' own, then their hops', each beside its result.
    PERFORM wf_record_logs_of(execs || array_agg(u.id), nodes || array_agg(hop.x ->> 'node'),
                              attempts || array_agg(1), logs || array_agg(hop.x -> 'logs'),
                              firsts || array_agg(hop.x -> 'result'))
    FROM unnest(execs, hops) AS u(id, h), jsonb_array_elements(u.h) AS hop(x);

    PERFORM wf_child_ended(e.id, false)
    FROM workflow_executions e, unnest(execs, nexts) AS u(id, nx)
    WHERE e.id = u.id AND u.nx IS NULL AND e.parent_execution_id IS NOT NULL;

    RETURN ids;
END $$;
