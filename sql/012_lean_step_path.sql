-- 012_lean_step_path: fewer writes per step.
--
-- Indexes by time on the append-only tables become BRIN: their rows arrive
-- in time order, so a block range summary answers "the last hour" as well
-- as a B-tree does, and an insert costs next to nothing instead of a B-tree
-- descent per row.
DROP INDEX workflow_execution_history_created;
CREATE INDEX workflow_execution_history_created ON workflow_execution_history USING brin (created_at);
DROP INDEX email_logs_created;
CREATE INDEX email_logs_created ON email_logs USING brin (created_at);

-- History rows are read by execution, in order (execution_id, id); nothing
-- looks one up by id alone. That pair, unique since id is, becomes the
-- primary key, and each row costs one B-tree entry instead of two.
ALTER TABLE workflow_execution_history DROP CONSTRAINT workflow_execution_history_pkey;
DROP INDEX workflow_execution_history_execution;
ALTER TABLE workflow_execution_history ADD PRIMARY KEY (execution_id, id);

-- The log tables keep their execution's id without a foreign key, as the
-- history does (001): the engine writes a log row in the transaction that
-- records its step, and deleting an execution deletes its logs through the
-- trigger below. A foreign key checked every log row with a query whose
-- plan each session keeps: a worker that started on an empty table kept a
-- sequential scan of workflow_executions, and every email it logged read
-- the whole table (a burst of 10,000 first emails took 6 s instead of 2).
ALTER TABLE email_logs DROP CONSTRAINT email_logs_execution_id_fkey;
ALTER TABLE sms_logs DROP CONSTRAINT sms_logs_execution_id_fkey;
ALTER TABLE webhook_logs DROP CONSTRAINT webhook_logs_execution_id_fkey;

CREATE OR REPLACE FUNCTION wf_execution_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM workflow_execution_history h USING gone g WHERE h.execution_id = g.id;
    DELETE FROM email_logs l USING gone g WHERE l.execution_id = g.id;
    DELETE FROM sms_logs l USING gone g WHERE l.execution_id = g.id;
    DELETE FROM webhook_logs l USING gone g WHERE l.execution_id = g.id;
    RETURN NULL;
END $$;

-- An execution's row is rewritten by every step, and a rewrite that fits on
-- its page touches no index (HOT); one that does not fit inserts an entry
-- in each of the table's six indexes. A row is ~700 bytes (its context
-- inline), and a page only gets its dead versions back once no running
-- transaction can still see them, which with several workers is often a
-- round later: at fillfactor 80, 37% of the updates of a benchmark run were
-- HOT; at 50, 80%. The price is a heap 1.6 times the size for the same rows
-- (new pages only: rows already stored stay where they are).
ALTER TABLE workflow_executions SET (fillfactor = 50);
-- The queue's rows are rewritten in place by chained steps (below); free
-- room on each page keeps those rewrites HOT too.
ALTER TABLE wf_steps SET (fillfactor = 50);

-- Chaining: a step that succeeded and moves on to its next node stays with
-- the worker that ran it. Its row keeps its claim (a new claim counter, the
-- lease renewed only when a quarter of it is used up) instead of going back
-- to the queue and being claimed again, and its execution goes running ->
-- stepCompleted -> running in one update, both history rows written. Only
-- non-indexed columns of the step row change, so the update is HOT: no
-- index entry, no dead entry at the head of the queue's index.
--
-- p_chain caps how many steps of the batch chain: the rest of the batch
-- goes back to the queue as before, so ready steps of other executions
-- are claimed in every round, however long the chains. p_chain = 0 (a
-- stopping worker) chains nothing.
DROP FUNCTION wf_steps_finish_next(jsonb);

-- Records the audit rows (email/SMS/webhook attempts) that steps produced:
-- p_effects[i] is step i's list of effects, for execution p_executions[i],
-- node p_nodes[i], attempt p_attempts[i]. One INSERT per channel for a
-- whole batch; wf_record_logs, the one-step form wf_step_finish calls, is
-- this for a batch of one, so both write the same rows.
CREATE FUNCTION wf_record_logs_of(p_executions uuid[], p_nodes text[], p_attempts integer[], p_effects jsonb[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO email_logs (execution_id, node_id, attempt, recipient, subject, template,
                            data, status, mode, message_id, error)
    SELECT u.e, u.n, u.a, r.recipient, coalesce(r.subject, ''), r.template, coalesce(r.data, '{}'),
           coalesce(r.status, 'sent'), coalesce(r.mode, 'mock'), r.message_id, r.error
    FROM unnest(p_executions, p_nodes, p_attempts, p_effects) AS u(e, n, a, l),
         jsonb_array_elements(coalesce(u.l, '[]')) AS fx,
         jsonb_populate_record(NULL::email_logs, fx -> 'email_log') AS r
    WHERE fx ? 'email_log';
    INSERT INTO sms_logs (execution_id, node_id, attempt, recipient, body, data, status, mode,
                          provider_status, error)
    SELECT u.e, u.n, u.a, r.recipient, coalesce(r.body, ''), coalesce(r.data, '{}'),
           coalesce(r.status, 'sent'), coalesce(r.mode, 'mock'), r.provider_status, r.error
    FROM unnest(p_executions, p_nodes, p_attempts, p_effects) AS u(e, n, a, l),
         jsonb_array_elements(coalesce(u.l, '[]')) AS fx,
         jsonb_populate_record(NULL::sms_logs, fx -> 'sms_log') AS r
    WHERE fx ? 'sms_log';
    INSERT INTO webhook_logs (execution_id, node_id, attempt, url, method, request_body,
                              response_status, response_body, duration_ms, status, mode, error)
    SELECT u.e, u.n, u.a, r.url, coalesce(r.method, 'POST'), r.request_body, r.response_status,
           r.response_body, r.duration_ms, coalesce(r.status, 'sent'), coalesce(r.mode, 'http'), r.error
    FROM unnest(p_executions, p_nodes, p_attempts, p_effects) AS u(e, n, a, l),
         jsonb_array_elements(coalesce(u.l, '[]')) AS fx,
         jsonb_populate_record(NULL::webhook_logs, fx -> 'webhook_log') AS r
    WHERE fx ? 'webhook_log';
END $$;

CREATE OR REPLACE FUNCTION wf_record_logs(p_execution uuid, p_node text, p_attempt integer, p_effects jsonb)
RETURNS void LANGUAGE sql AS $$
    SELECT wf_record_logs_of(ARRAY[p_execution], ARRAY[p_node], ARRAY[p_attempt], ARRAY[p_effects])
$$;

-- p_steps: the round's outcomes as wf_worker_round takes them; only the
-- 'next' ones of steps still claimed by the caller, of running executions,
-- are recorded here. Returns those steps with 'ok' (the step row was
-- requeued or, at the end of the execution, deleted) or 'chained' (claimed
-- again by p_worker for its next node). The others are left to
-- wf_step_finish, which knows the rarer cases (rescued, paused, cancelled).
CREATE FUNCTION wf_steps_finish_next(p_steps jsonb, p_worker bigint, p_chain integer, p_lease_s integer)
RETURNS TABLE (step_id bigint, outcome text) LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    claim_counts integer[];
    execs uuid[];
    nodes text[];
    kinds text[];
    attempts integer[];
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
    SELECT array_agg(x.id ORDER BY x.id), array_agg(x.claims ORDER BY x.id),
           array_agg(x.execution_id ORDER BY x.id), array_agg(x.node_id ORDER BY x.id),
           array_agg(x.kind ORDER BY x.id), array_agg(x.attempt ORDER BY x.id),
           array_agg(x.next ORDER BY x.id), array_agg(x.chain ORDER BY x.id),
           array_agg(x.result ORDER BY x.id), array_agg(x.logs ORDER BY x.id)
    INTO ids, claim_counts, execs, nodes, kinds, attempts, nexts, chains, results, logs
    FROM (SELECT s.id, s.claims, s.execution_id, s.node_id, s.kind, s.attempt, i.next, i.result, i.logs,
                 i.next IS NOT NULL AND s.claimed_by = p_worker
                 AND row_number() OVER (PARTITION BY i.next IS NOT NULL ORDER BY s.id) <= p_chain AS chain
          FROM jsonb_to_recordset(p_steps)
               AS i(step bigint, claims integer, outcome text, next text, result jsonb, logs jsonb)
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

    -- running -> stepCompleted, then -> completed at the end, -> running
    -- again when chained: legal by construction (every row is checked
    -- 'running' as it is written), so the history is written here in one
    -- INSERT and the transition trigger stands aside.
    PERFORM set_config('wf.engine', 'on', true);
    UPDATE workflow_executions e
    SET status = CASE WHEN u.nx IS NULL THEN 'completed' WHEN u.ch THEN 'running' ELSE 'stepCompleted' END,
        current_node = CASE WHEN u.ch THEN u.nx ELSE e.current_node END,
        attempt = CASE WHEN u.ch THEN 1 ELSE e.attempt END,
        last_result = CASE WHEN u.nx IS NULL OR u.ch THEN NULL ELSE u.r END, last_error = NULL,
        updated_at = now(), completed_at = CASE WHEN u.nx IS NULL THEN now() END
    FROM unnest(execs, results, nexts, chains) AS u(id, r, nx, ch) WHERE e.id = u.id AND e.status = 'running';
    GET DIAGNOSTICS written = ROW_COUNT;
    IF written <> cardinality(ids) THEN
        RAISE EXCEPTION 'an execution of the batch changed state while it was recorded' USING ERRCODE = 'WF40R';
    END IF;
    INSERT INTO workflow_execution_history (execution_id, node_id, from_status, to_status, attempt, result)
    SELECT u.id, u.n, 'running', 'stepCompleted', u.a, u.r
    FROM unnest(execs, nodes, attempts, results) AS u(id, n, a, r)
    UNION ALL
    SELECT u.id, u.n, 'stepCompleted', 'completed', u.a, NULL
    FROM unnest(execs, nodes, attempts, nexts) AS u(id, n, a, nx) WHERE u.nx IS NULL
    UNION ALL
    SELECT u.id, u.nx, 'stepCompleted', 'running', 1, NULL
    FROM unnest(execs, nexts, chains) AS u(id, nx, ch) WHERE u.ch;
    PERFORM set_config('wf.engine', 'off', true);

    PERFORM wf_record_logs_of(execs, nodes, attempts, logs);

    UPDATE workflow_delays d SET status = 'resumed', resumed_at = now()
    FROM unnest(execs, nodes, kinds) AS u(e, n, k)
    WHERE u.k = 'resume' AND d.execution_id = u.e AND d.node_id = u.n AND d.status = 'waiting';

    PERFORM wf_child_ended(e.id, false)
    FROM workflow_executions e, unnest(execs, nexts) AS u(id, nx)
    WHERE e.id = u.id AND u.nx IS NULL AND e.parent_execution_id IS NOT NULL;

    RETURN QUERY SELECT u.id, CASE WHEN u.ch THEN 'chained' ELSE 'ok' END FROM unnest(ids, chains) AS u(id, ch);
END $$;

-- One round trip of a worker: records the outcomes of its last batch and
-- claims the next one, in one transaction (one commit, one fsync, per
-- batch). The next batch is the steps that chained, then claims from the
-- queue up to p_limit; a quarter of every batch (at least one step) is
-- kept for the queue.
CREATE OR REPLACE FUNCTION wf_worker_round(p_worker bigint, p_limit integer, p_lease_s integer, p_done jsonb)
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    d jsonb;
    handled bigint[];
    chained bigint[];
    room integer;
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
    IF chained IS NOT NULL THEN
        RETURN QUERY
            SELECT s.id, s.claims, s.execution_id, s.node_id, s.kind, s.attempt,
                   e.workflow_id, e.workflow_version, e.status, e.context, e.trigger_table, e.trigger_id
            FROM wf_steps s JOIN workflow_executions e ON e.id = s.execution_id
            WHERE s.id = ANY (chained)
            ORDER BY s.id;
    END IF;
    room := p_limit - coalesce(cardinality(chained), 0);
    IF room > 0 THEN
        RETURN QUERY SELECT * FROM wf_claim_steps(p_worker, room, p_lease_s);
    END IF;
END $$;

-- A trigger row's context, read by primary key only. Written as a join,
-- the planner, holding statistics from before a bulk INSERT (a table of 50
-- rows that now has 10,000), chose a merge join that walks dummy_users
-- from its first row to the subscriber's, for every row of the batch: the
-- intake of 10,000 new subscriptions took 10 s instead of 2. Scalar
-- subqueries on primary keys leave the planner nothing to get wrong.
CREATE OR REPLACE FUNCTION wf_trigger_context(p_table text, p_id bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT CASE p_table
        WHEN 'dummy_subscriptions' THEN (
            SELECT jsonb_build_object(
                'user', (SELECT to_jsonb(u) FROM dummy_users u WHERE u.id = s.user_id),
                'subscription', to_jsonb(s),
                'subscription_type', (SELECT to_jsonb(t) FROM dummy_subscription_types t
                                      WHERE t.id = s.subscription_type_id))
            FROM dummy_subscriptions s WHERE s.id = p_id)
        WHEN 'dummy_newsletters' THEN (
            SELECT jsonb_build_object(
                'user', (SELECT to_jsonb(u) FROM dummy_users u WHERE u.id = n.user_id),
                'newsletter', to_jsonb(n) || jsonb_build_object(
                    'email', coalesce(n.email, (SELECT u.email FROM dummy_users u WHERE u.id = n.user_id))))
            FROM dummy_newsletters n WHERE n.id = p_id)
    END
$$;

-- Statistics that keep up with a burst. Every session caches its plans
-- (PL/pgSQL statements, foreign key checks), planned with the statistics
-- of the moment; a table that was empty then and holds 10,000 rows a few
-- seconds later can be read by a sequential scan planned for an empty one
-- until autovacuum's next ANALYZE, up to a minute on. The coordinator's
-- sweeper calls this every second: a busy table modified more than its
-- size (and 1,000 rows) since its last ANALYZE is analyzed now, which
-- also makes every session plan again. On a table that has grown up, that
-- is rare; autovacuum does the rest. Returns the tables analyzed.
CREATE FUNCTION wf_analyze_grown_tables() RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    analyzed text[] := '{}';
BEGIN
    FOR t IN
        SELECT s.relid FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
        WHERE s.schemaname = 'public'
          AND s.relname IN ('workflow_executions', 'workflow_execution_history', 'wf_steps',
                            'email_logs', 'sms_logs', 'webhook_logs', 'workflow_delays',
                            'dummy_subscriptions', 'dummy_newsletters', 'dummy_users')
          AND s.n_mod_since_analyze > greatest(1000, c.reltuples)
    LOOP
        EXECUTE format('ANALYZE %s', t);
        analyzed := analyzed || t::text;
    END LOOP;
    RETURN analyzed;
END $$;
