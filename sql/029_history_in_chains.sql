-- 029_history_in_chains: the history is stored one row per recorded chain
-- of transitions, and read one row per transition, as before.
--
-- A worker's round records a step with its whole line of quick nodes: for
-- three emails, seven transitions of the state machine (idle -> running,
-- running -> stepCompleted, twice stepCompleted -> running and back, and
-- -> completed). Each was a row of workflow_execution_history with its
-- index entries and WAL record: the largest single statement of a
-- throughput run (docs/performance.md). They are now one row of
-- wf_history, the transitions' fields in arrays, in order; the execution's
-- creation and a claim, which make one transition each, write a chain of
-- one.
--
-- workflow_execution_history becomes a view with the same columns, one row
-- per transition: the API, the operations views and operators' queries
-- read it unchanged. Its ids keep their order: a chain takes 64 ids of the
-- sequence (a chain holds at most 64 transitions; a round's longest is 35)
-- and its n-th transition shows the chain's id + n - 1. The rows already
-- written keep their ids, each as a chain of one.
--
-- Writing one transition through the view still works (INSERT, an INSTEAD
-- OF trigger makes it a chain of one); the rare paths (pause, cancel,
-- retry, a step committed on its own) do so. Rows are deleted from
-- wf_history, a chain at a time (with their execution, by its trigger).
--
-- latest_at is the time of a chain's last transition, so a query for the
-- transitions since a time reads only the chains from then on (BRIN); the
-- two operations views that do are restated to use it.

CREATE SEQUENCE wf_history_id_seq AS bigint INCREMENT BY 64;

CREATE TABLE wf_history (
    execution_id uuid NOT NULL,
    id           bigint NOT NULL DEFAULT nextval('wf_history_id_seq'),
    latest_at    timestamptz NOT NULL,
    node_id      text[] NOT NULL,
    from_status  text[] NOT NULL,
    to_status    text[] NOT NULL,
    attempt      integer[] NOT NULL,
    result       jsonb[] NOT NULL,
    error        text[] NOT NULL,
    created_at   timestamptz[] NOT NULL,
    PRIMARY KEY (execution_id, id),
    CONSTRAINT wf_history_chain_length CHECK (cardinality(to_status) BETWEEN 1 AND 64),
    CONSTRAINT wf_history_to_status CHECK (array_position(to_status, NULL) IS NULL)
);
ALTER SEQUENCE wf_history_id_seq OWNED BY wf_history.id;
CREATE INDEX wf_history_latest ON wf_history USING brin (latest_at);
ALTER TABLE wf_history
    ALTER COLUMN result SET STATISTICS 0,
    ALTER COLUMN error SET STATISTICS 0;

-- The rows written so far, each a chain of one with its id.
INSERT INTO wf_history (execution_id, id, latest_at, node_id, from_status, to_status, attempt, result, error, created_at)
SELECT h.execution_id, h.id, h.created_at, ARRAY[h.node_id], ARRAY[h.from_status], ARRAY[h.to_status],
       ARRAY[h.attempt], ARRAY[h.result], ARRAY[h.error], ARRAY[h.created_at]
FROM workflow_execution_history h
ORDER BY h.id;
SELECT setval('wf_history_id_seq', coalesce((SELECT max(id) FROM wf_history), 0) + 64, false);

DROP VIEW wf_failure_rates;
DROP VIEW wf_throughput;
DROP TABLE workflow_execution_history;

-- Subscripts rather than a many-array unnest: half the planning and a
-- third less execution for the API's read of one execution's history,
-- about what the table cost (docs/performance.md).
CREATE VIEW workflow_execution_history AS
SELECT h.id + n - 1 AS id, h.execution_id, h.node_id[n] AS node_id, h.from_status[n] AS from_status,
       h.to_status[n] AS to_status, h.attempt[n] AS attempt, h.result[n] AS result, h.error[n] AS error,
       h.created_at[n] AS created_at
FROM wf_history h
CROSS JOIN LATERAL generate_subscripts(h.to_status, 1) AS n;
ALTER VIEW workflow_execution_history ALTER COLUMN attempt SET DEFAULT 0;
ALTER VIEW workflow_execution_history ALTER COLUMN created_at SET DEFAULT clock_timestamp();
COMMENT ON VIEW workflow_execution_history IS
    'One row per change of state of an execution, in id order; stored in wf_history, a row per recorded chain';

-- One transition written through the view: a chain of one.
CREATE FUNCTION wf_history_row_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    chain bigint;
BEGIN
    IF NEW.execution_id IS NULL OR NEW.to_status IS NULL THEN
        RAISE EXCEPTION 'a history row needs its execution_id and to_status' USING ERRCODE = 'not_null_violation';
    END IF;
    INSERT INTO wf_history (execution_id, latest_at, node_id, from_status, to_status, attempt, result, error, created_at)
    VALUES (NEW.execution_id, NEW.created_at, ARRAY[NEW.node_id], ARRAY[NEW.from_status], ARRAY[NEW.to_status],
            ARRAY[NEW.attempt], ARRAY[NEW.result], ARRAY[NEW.error], ARRAY[NEW.created_at])
    RETURNING id INTO chain;
    NEW.id := chain;
    RETURN NEW;
END $$;
CREATE TRIGGER workflow_execution_history_insert INSTEAD OF INSERT ON workflow_execution_history
    FOR EACH ROW EXECUTE FUNCTION wf_history_row_inserted();

-- The operations views of sql/008, the same columns, reading only the
-- chains whose last transition falls in their window.
CREATE VIEW wf_throughput AS
WITH minutes AS (
    SELECT generate_series(date_trunc('minute', now()) - interval '59 minutes',
                           date_trunc('minute', now()), interval '1 minute') AS minute
), h AS (
    SELECT date_trunc('minute', t.created_at) AS minute, t.from_status, t.to_status
    FROM wf_history c
    CROSS JOIN LATERAL unnest(c.from_status, c.to_status, c.created_at) AS t(from_status, to_status, created_at)
    WHERE c.latest_at >= date_trunc('minute', now()) - interval '59 minutes'
      AND t.created_at >= date_trunc('minute', now()) - interval '59 minutes'
)
SELECT m.minute,
       count(h.to_status) FILTER (WHERE h.to_status = 'stepCompleted') AS steps_completed,
       count(h.to_status) FILTER (WHERE h.to_status = 'stepFailed') AS steps_failed,
       count(h.to_status) FILTER (WHERE h.to_status = 'retrying') AS retries,
       count(h.to_status) FILTER (WHERE h.to_status = 'completed') AS executions_completed,
       count(h.to_status) FILTER (WHERE h.to_status = 'failed') AS executions_failed,
       count(h.to_status) FILTER (WHERE h.from_status IS NULL) AS executions_started
FROM minutes m
LEFT JOIN h ON h.minute = m.minute
GROUP BY m.minute;

CREATE VIEW wf_failure_rates AS
WITH h AS (
    SELECT c.execution_id, t.to_status
    FROM wf_history c
    CROSS JOIN LATERAL unnest(c.to_status, c.created_at) AS t(to_status, created_at)
    WHERE c.latest_at > now() - interval '24 hours'
      AND t.created_at > now() - interval '24 hours'
)
SELECT e.workflow_name,
       count(*) FILTER (WHERE h.to_status IN ('stepCompleted', 'stepFailed')) AS step_attempts,
       count(*) FILTER (WHERE h.to_status = 'stepFailed') AS step_failures,
       count(*) FILTER (WHERE h.to_status = 'retrying') AS retries,
       count(*) FILTER (WHERE h.to_status = 'failed') AS executions_failed,
       round(count(*) FILTER (WHERE h.to_status = 'stepFailed')::numeric
             / nullif(count(*) FILTER (WHERE h.to_status IN ('stepCompleted', 'stepFailed')), 0), 4)
           AS failure_rate,
       round(count(*) FILTER (WHERE h.to_status = 'retrying')::numeric
             / nullif(count(*) FILTER (WHERE h.to_status IN ('stepCompleted', 'stepFailed')), 0), 4)
           AS retry_rate,
       count(*) FILTER (WHERE h.to_status = 'completed') AS executions_completed,
       round(count(*) FILTER (WHERE h.to_status = 'failed')::numeric
             / nullif(count(*) FILTER (WHERE h.to_status IN ('completed', 'failed')), 0), 4)
           AS execution_failure_rate
FROM h
JOIN workflow_executions e ON e.id = h.execution_id
GROUP BY 1;

-- The writers of the hot paths write chains themselves: the creation's
-- first transition (sql/026), the deletion with the execution (sql/026),
-- a claim's (sql/019) and a round's record of its steps (sql/017), each
-- the same function with its history written to wf_history.
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

    INSERT INTO wf_history (execution_id, latest_at, node_id, from_status, to_status, attempt, result, error, created_at)
    SELECT n.id, t.at, ARRAY[n.current_node], '{NULL}', ARRAY[n.status], '{0}', ARRAY[n.last_result], '{NULL}', ARRAY[t.at]
    FROM created n CROSS JOIN LATERAL (SELECT clock_timestamp() AS at) t;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION wf_execution_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM wf_steps s USING gone g WHERE s.execution_id = g.id;
    DELETE FROM wf_history h USING gone g WHERE h.execution_id = g.id;
    DELETE FROM email_logs l USING gone g WHERE l.execution_id = g.id;
    DELETE FROM sms_logs l USING gone g WHERE l.execution_id = g.id;
    DELETE FROM webhook_logs l USING gone g WHERE l.execution_id = g.id;
    RETURN NULL;
END $$;

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
        INSERT INTO wf_history (execution_id, latest_at, node_id, from_status, to_status, attempt, result, error, created_at)
        SELECT st.id, t.at, ARRAY[st.node_id], ARRAY[st.from_status], '{running}', ARRAY[st.attempt],
               '{NULL}', '{NULL}', ARRAY[t.at]
        FROM started st CROSS JOIN LATERAL (SELECT clock_timestamp() AS at) t
    )
    SELECT c.id, c.claims, c.execution_id, c.node_id, c.kind, c.attempt,
           e.workflow_id, e.workflow_version, e.status, e.context, e.trigger_table, e.trigger_id
    FROM claimed c JOIN workflow_executions e ON e.id = c.execution_id
    ORDER BY c.run_at, c.id;
    PERFORM set_config('wf.engine', 'off', true);
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
    -- same pair for each node in line, -> completed at the end: one row of
    -- wf_history per step, its transitions in the order of the sorted
    -- subquery (grouped by its leading key alone, so that no other sort
    -- comes between; an ORDER BY in each aggregate would sort seven times
    -- a step). The step started running when the round locked it
    -- (wf_worker_round_open noted the time), not when its record is
    -- written; the rest is written as it happens.
    INSERT INTO wf_history (execution_id, latest_at, node_id, from_status, to_status, attempt, result, error, created_at)
    SELECT execs[z.k], max(z.at), array_agg(z.n), array_agg(z.f), array_agg(z.t), array_agg(z.a), array_agg(z.r),
           array_agg(NULL::text), array_agg(z.at)
    FROM (SELECT y.id, y.k, y.n, y.f, y.t, y.a, y.r,
                 CASE WHEN y.seq = 0 THEN coalesce(nullif(current_setting('wf.round_locked_at', true), '')::timestamptz, now())
                      ELSE clock_timestamp() END AS at
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
          ORDER BY y.k, y.seq) z
    GROUP BY z.k
    ORDER BY z.k;
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
