-- 002_step_queue: the engine's step queue and worker registry.
--
-- wf_steps holds at most one row per execution: the execution's cursor.
-- A row is 'ready' (claimable once run_at has passed; an execution created
-- but not started waits with run_at = 'infinity'), 'claimed' (a worker holds
-- it under a lease), 'held' (its execution is paused) or 'waiting' (its
-- shared_flow node waits for a child execution to end).
-- When a step finishes, the row is rewritten in place for the next node, and
-- deleted when the execution ends; so the table holds only live work and
-- never accumulates finished steps (history lives in
-- workflow_execution_history, which is append-only and off the hot path).

CREATE TABLE wf_workers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host         text NOT NULL,
    pid          integer NOT NULL,
    slot         integer NOT NULL,
    pool_pid     integer NOT NULL,
    backend_pid  integer,
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'stopped', 'dead')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz,
    steps_done   bigint NOT NULL DEFAULT 0,
    current_step text
);
CREATE INDEX wf_workers_running ON wf_workers (heartbeat_at) WHERE status = 'running';

CREATE TABLE wf_steps (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id     uuid NOT NULL UNIQUE REFERENCES workflow_executions (id) ON DELETE CASCADE,
    node_id          text NOT NULL,
    -- run: execute node_id; resume: a delay of node_id has ended;
    -- child_done / child_failed: the child execution of a shared_flow node ended.
    kind             text NOT NULL DEFAULT 'run' CHECK (kind IN ('run', 'resume', 'child_done', 'child_failed')),
    status           text NOT NULL DEFAULT 'ready' CHECK (status IN ('ready', 'claimed', 'held', 'waiting')),
    run_at           timestamptz NOT NULL DEFAULT now(),
    attempt          integer NOT NULL DEFAULT 1 CHECK (attempt > 0),
    -- The lease: which worker holds the step, and the claim counter that a
    -- completion must present. A rescued step is claimed again with a new
    -- counter, so a late worker's completion matches no row.
    claimed_by       bigint,  -- wf_workers.id; registry rows are never deleted
    claims           integer NOT NULL DEFAULT 0,
    claimed_at       timestamptz,
    lease_expires_at timestamptz,
    -- Times a worker died holding this step; a step that keeps killing
    -- workers is dead-lettered instead of being handed out forever.
    crashes          integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'claimed') = (claimed_at IS NOT NULL))
);
CREATE INDEX wf_steps_ready ON wf_steps (run_at) WHERE status = 'ready';
CREATE INDEX wf_steps_claimed ON wf_steps (claimed_by) WHERE status = 'claimed';
CREATE INDEX wf_steps_lease ON wf_steps (lease_expires_at) WHERE status = 'claimed';

CREATE TABLE wf_dead_letters (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id uuid NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
    node_id      text NOT NULL,
    kind         text NOT NULL DEFAULT 'run',
    attempt      integer NOT NULL,
    reason       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    replayed_at  timestamptz
);
CREATE INDEX wf_dead_letters_open ON wf_dead_letters (created_at) WHERE replayed_at IS NULL;
CREATE INDEX wf_dead_letters_execution ON wf_dead_letters (execution_id);

-- Workers LISTEN on wf_steps. Notifications without a payload are merged by
-- PostgreSQL within a transaction, so an enqueuing transaction sends one,
-- however many rows it inserts.
CREATE FUNCTION wf_steps_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wf_steps', '');
    RETURN NULL;
END $$;

CREATE TRIGGER wf_steps_inserted AFTER INSERT ON wf_steps
    FOR EACH STATEMENT EXECUTE FUNCTION wf_steps_notify();

-- A step that becomes ready (resume, start, a child's end) or falls due
-- earlier also wakes the workers, whoever changed it. Not a step a worker
-- just finished (claimed -> ready): that worker claims again at once itself,
-- and a NOTIFY on the hot path would serialise commits.
CREATE TRIGGER wf_steps_readied AFTER UPDATE OF status, run_at ON wf_steps
    FOR EACH ROW
    WHEN (NEW.status = 'ready' AND (OLD.status NOT IN ('ready', 'claimed') OR NEW.run_at < OLD.run_at))
    EXECUTE FUNCTION wf_steps_notify();

-- Registers a worker child; returns its id, the owner of its leases.
CREATE FUNCTION wf_worker_register(p_host text, p_pid integer, p_slot integer, p_pool_pid integer)
RETURNS bigint LANGUAGE sql AS $$
    INSERT INTO wf_workers (host, pid, slot, pool_pid, backend_pid)
    VALUES (p_host, p_pid, p_slot, p_pool_pid, pg_backend_pid())
    RETURNING id
$$;

-- Claims up to p_limit due steps for worker p_worker. SKIP LOCKED lets
-- concurrent claimers take disjoint rows without waiting on each other.
-- The executions move to 'running' with their history rows written in the
-- same statement, set-based (the transition trigger stands aside for it:
-- only the legal moves to running are made). PL/pgSQL rather than SQL so
-- that the plan is prepared once per session.
CREATE FUNCTION wf_claim_steps(p_worker bigint, p_limit integer, p_lease_s integer)
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('wf.engine', 'on', true);
    RETURN QUERY
    WITH picked AS (
        SELECT s.id FROM wf_steps s
        WHERE s.status = 'ready' AND s.run_at <= now()
        ORDER BY s.run_at
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE wf_steps s
        SET status = 'claimed', claimed_by = p_worker, claims = s.claims + 1,
            claimed_at = now(), lease_expires_at = now() + make_interval(secs => p_lease_s)
        FROM picked WHERE s.id = picked.id
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
    ORDER BY c.run_at;
    PERFORM set_config('wf.engine', 'off', true);
END $$;

-- Ends the database session of a dead worker, if it is still there. The
-- session is recognised by its pid and its start, which came before the
-- worker registered (a pid reused later started later).
CREATE FUNCTION wf_worker_end_backend(p_worker bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    backend integer;
BEGIN
    SELECT a.pid INTO backend
    FROM wf_workers w JOIN pg_stat_activity a ON a.pid = w.backend_pid AND a.backend_start <= w.started_at
    WHERE w.id = p_worker AND a.pid <> pg_backend_pid();
    IF backend IS NOT NULL THEN
        PERFORM pg_terminate_backend(backend, 5000);
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'cannot end the session of dead worker %: %', p_worker, SQLERRM;
END $$;

-- Puts the steps a worker held back in the queue, at once. Called by the pool
-- parent when it reaps a dead child (p_running: the execution the child was
-- running when it died, from its shared-memory slot), and by the sweeper for
-- dead hosts. Only the step in progress is counted against its crash
-- budget: the rest of the batch was merely claimed. A step that has now
-- killed three workers is dead-lettered instead of handed out again.
--
-- A worker killed in the middle of a claim leaves its statement running on
-- the server, where it may still commit; its backend is ended first (and
-- waited for), so that what is released is all it will ever have claimed.
CREATE FUNCTION wf_release_worker_steps(p_worker bigint, p_reason text, p_running uuid DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    released integer := 0;
    s wf_steps;
BEGIN
    PERFORM wf_worker_end_backend(p_worker);
    UPDATE wf_workers SET status = CASE WHEN status = 'running' THEN 'dead' ELSE status END,
                          stopped_at = coalesce(stopped_at, now()), current_step = NULL
    WHERE id = p_worker;
    FOR s IN
        SELECT * FROM wf_steps WHERE claimed_by = p_worker AND status = 'claimed' FOR UPDATE
    LOOP
        PERFORM wf_step_rescue(s, p_reason, s.execution_id = p_running);
        released := released + 1;
    END LOOP;
    RETURN released;
END $$;

-- Rescues one claimed step whose worker is gone (s is the locked row);
-- p_blame: count it as a crash of this step.
CREATE FUNCTION wf_step_rescue(s wf_steps, p_reason text, p_blame boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    exec_status text;
    new_crashes integer := s.crashes + CASE WHEN p_blame THEN 1 ELSE 0 END;
BEGIN
    SELECT status INTO exec_status FROM workflow_executions WHERE id = s.execution_id;
    IF exec_status IN ('completed', 'failed', 'cancelled') THEN
        DELETE FROM wf_steps WHERE id = s.id;
        RETURN;
    END IF;
    IF new_crashes >= 3 THEN
        PERFORM wf_step_finish(s.id, s.claims, 'fail', p_error =>
            format('step lost its worker %s times (last: %s)', new_crashes, p_reason));
        RETURN;
    END IF;
    UPDATE wf_steps
    SET status = CASE WHEN exec_status = 'paused' THEN 'held' ELSE 'ready' END,
        claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL,
        run_at = now(), crashes = new_crashes
    WHERE id = s.id;
    PERFORM pg_notify('wf_steps', '');  -- claimed -> ready is not caught by wf_steps_readied
END $$;

-- The sweeper: pools whose heartbeat is older than p_dead_after are dead;
-- their steps, and any step whose lease has run out, go back to the queue.
-- A NULL p_dead_after skips the heartbeat check (the sweeper passes NULL
-- until its own connection has been up for that long, so that pools get the
-- chance to heartbeat after the database itself was down).
CREATE FUNCTION wf_rescue_steps(p_dead_after interval)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    rescued integer := 0;
    w record;
    s wf_steps;
BEGIN
    FOR w IN
        SELECT id FROM wf_workers
        WHERE p_dead_after IS NOT NULL AND status = 'running' AND heartbeat_at < now() - p_dead_after
        FOR UPDATE SKIP LOCKED
    LOOP
        rescued := rescued + wf_release_worker_steps(w.id, 'worker heartbeat stopped');
    END LOOP;
    FOR s IN
        SELECT * FROM wf_steps
        WHERE status = 'claimed' AND lease_expires_at < now()
        FOR UPDATE SKIP LOCKED
    LOOP
        PERFORM wf_step_rescue(s, 'lease expired', true);
        rescued := rescued + 1;
    END LOOP;
    RETURN rescued;
END $$;

-- A worker that lost its connection puts back what it held: it cannot know
-- whether it still holds the claims, so it gives them up (without counting
-- a crash); a late completion of such a step is refused by its claim check.
CREATE FUNCTION wf_worker_requeue_own(p_worker bigint)
RETURNS integer LANGUAGE sql AS $$
    WITH requeued AS (
        UPDATE wf_steps s
        SET status = CASE WHEN e.status = 'paused' THEN 'held' ELSE 'ready' END,
            claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL, run_at = now()
        FROM workflow_executions e
        WHERE s.claimed_by = p_worker AND s.status = 'claimed' AND e.id = s.execution_id
        RETURNING 1
    )
    SELECT count(*)::integer FROM requeued
$$;
