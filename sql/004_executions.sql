-- 004_executions: definitions' versions, creating executions, finishing
-- steps, and the control functions (start, stop, pause, resume, cancel).
--
-- Each function is one atomic change of state; callers run it inside their
-- transaction. Errors use SQLSTATE WF404 (unknown id), WF409 (illegal in the
-- current state) and WF422 (unusable input), which the API maps to HTTP.

-- Versioning: a changed definition gets the next version and a snapshot.
-- A definition written by plain SQL is marked not validated (valid = NULL)
-- until the coordinator has checked it; the engine, which validates before it
-- writes, says so with SET LOCAL wf.validated = 'on'.
CREATE FUNCTION wf_workflow_versioning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.definition IS NOT DISTINCT FROM OLD.definition THEN
            RETURN NEW;
        END IF;
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
    END IF;
    IF coalesce(current_setting('wf.validated', true), '') <> 'on' THEN
        NEW.valid := NULL;
        NEW.errors := NULL;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER workflow_versioning BEFORE INSERT OR UPDATE ON workflow
    FOR EACH ROW EXECUTE FUNCTION wf_workflow_versioning();

CREATE FUNCTION wf_workflow_snapshot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO workflow_versions (workflow_id, version, definition)
    VALUES (NEW.id, NEW.version, NEW.definition)
    ON CONFLICT (workflow_id, version) DO NOTHING;
    IF NEW.valid IS NULL THEN
        PERFORM pg_notify('wf_workflows', NEW.id::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workflow_snapshot AFTER INSERT OR UPDATE ON workflow
    FOR EACH ROW EXECUTE FUNCTION wf_workflow_snapshot();

-- Creates an execution of the current version of a valid, active workflow,
-- with its first step. The same idempotency key, or the same trigger row,
-- returns the existing execution with created = false.
CREATE FUNCTION wf_execution_create(
    p_workflow text,
    p_context jsonb DEFAULT '{}',
    p_idempotency_key text DEFAULT NULL,
    p_parent uuid DEFAULT NULL,
    p_parent_node text DEFAULT NULL,
    p_trigger_table text DEFAULT NULL,
    p_trigger_id bigint DEFAULT NULL,
    p_start boolean DEFAULT true)
RETURNS TABLE (execution_id uuid, created boolean, status text)
LANGUAGE plpgsql AS $$
DECLARE
    w workflow;
    start_node text;
    new_id uuid;
BEGIN
    SELECT * INTO w FROM workflow WHERE name = p_workflow;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'workflow "%" not found', p_workflow USING ERRCODE = 'WF404';
    END IF;
    IF NOT w.active THEN
        RAISE EXCEPTION 'workflow "%" is not active', p_workflow USING ERRCODE = 'WF409';
    END IF;
    IF w.valid IS DISTINCT FROM true THEN
        RAISE EXCEPTION 'workflow "%" is %', p_workflow,
            CASE WHEN w.valid IS NULL THEN 'not validated yet' ELSE 'invalid' END
            USING ERRCODE = 'WF409';
    END IF;
    IF jsonb_typeof(p_context) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'context must be a JSON object' USING ERRCODE = 'WF422';
    END IF;
    start_node := w.definition ->> 'start';

    INSERT INTO workflow_executions AS e
        (workflow_id, workflow_name, workflow_version, current_node, context,
         parent_execution_id, parent_node_id, trigger_table, trigger_id, idempotency_key)
    VALUES (w.id, w.name, w.version, start_node, p_context,
            p_parent, p_parent_node, p_trigger_table, p_trigger_id, p_idempotency_key)
    ON CONFLICT DO NOTHING
    RETURNING e.id INTO new_id;

    IF new_id IS NULL THEN
        RETURN QUERY
            SELECT e.id, false, e.status FROM workflow_executions e
            WHERE (p_idempotency_key IS NOT NULL AND e.idempotency_key = p_idempotency_key)
               OR (p_trigger_table IS NOT NULL AND e.trigger_table = p_trigger_table
                   AND e.trigger_id = p_trigger_id AND e.workflow_id = w.id);
        RETURN;
    END IF;

    INSERT INTO wf_steps (execution_id, node_id, run_at)
    VALUES (new_id, start_node, CASE WHEN p_start THEN now() ELSE 'infinity' END);
    RETURN QUERY SELECT new_id, true, 'idle'::text;
END $$;

-- Creates executions for many trigger rows at once (the coordinator's
-- batches): p_rows = [{"workflow", "context", "id"}] of trigger table
-- p_table. Set-based, so a batch of 500 costs a few statements; rows
-- already started (the unique trigger key) are skipped. Only valid, active
-- workflows start. Returns how many executions it created.
CREATE FUNCTION wf_executions_create_for(p_table text, p_rows jsonb)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    created integer;
BEGIN
    WITH made AS (
        INSERT INTO workflow_executions
            (workflow_id, workflow_name, workflow_version, current_node, context, trigger_table, trigger_id)
        SELECT w.id, w.name, w.version, w.definition ->> 'start', x.context, p_table, x.id
        FROM jsonb_to_recordset(p_rows) AS x(workflow text, context jsonb, id bigint)
        JOIN workflow w ON w.name = x.workflow AND w.active AND w.valid
        ON CONFLICT DO NOTHING
        RETURNING id, current_node)
    INSERT INTO wf_steps (execution_id, node_id) SELECT id, current_node FROM made;
    GET DIAGNOSTICS created = ROW_COUNT;
    RETURN created;
END $$;

-- psql shorthand: SELECT wf_execute('united_welcome', '{"user": {...}}');
CREATE FUNCTION wf_execute(p_workflow text, p_context jsonb DEFAULT '{}')
RETURNS uuid LANGUAGE sql AS $$
    SELECT execution_id FROM wf_execution_create(p_workflow, p_context)
$$;

-- Moves an execution to p_status, writing p_result/p_error into its history.
-- While the execution is paused the state is remembered for resume instead,
-- and the step's outcome still gets its history row.
CREATE FUNCTION wf_execution_set(p_id uuid, p_status text, p_result jsonb, p_error text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    e workflow_executions;
BEGIN
    SELECT * INTO e FROM workflow_executions WHERE id = p_id;
    IF e.status = 'paused' AND p_status NOT IN ('completed', 'failed') THEN
        UPDATE workflow_executions
        SET status_before_pause = p_status, last_result = p_result, last_error = p_error
        WHERE id = p_id;
        INSERT INTO workflow_execution_history
            (execution_id, node_id, from_status, to_status, attempt, result, error)
        VALUES (p_id, e.current_node, 'paused', 'paused', e.attempt, p_result, p_error);
        RETURN;
    END IF;
    UPDATE workflow_executions
    SET status = p_status, last_result = p_result, last_error = p_error
    WHERE id = p_id;
END $$;

-- A child execution has ended: wake its parent's waiting shared_flow step.
CREATE FUNCTION wf_child_ended(p_child uuid, p_failed boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    parent uuid;
BEGIN
    SELECT parent_execution_id INTO parent FROM workflow_executions WHERE id = p_child;
    IF parent IS NULL THEN
        RETURN;
    END IF;
    UPDATE wf_steps s
    SET kind = CASE WHEN p_failed THEN 'child_failed' ELSE 'child_done' END,
        status = CASE WHEN e.status = 'paused' THEN 'held' ELSE 'ready' END,
        run_at = now()
    FROM workflow_executions e
    WHERE s.execution_id = parent AND s.status = 'waiting' AND e.id = parent;
END $$;

CREATE FUNCTION wf_step_delete(p_step bigint) RETURNS void LANGUAGE sql AS $$
    DELETE FROM wf_steps WHERE id = p_step
$$;

-- Points the step row at its next piece of work and hands it back to the queue.
CREATE FUNCTION wf_step_requeue(p_step bigint, p_node text, p_kind text, p_attempt integer,
                                p_run_at timestamptz, p_paused boolean)
RETURNS void LANGUAGE sql AS $$
    UPDATE wf_steps
    SET node_id = p_node, kind = p_kind, attempt = p_attempt, run_at = coalesce(p_run_at, now()),
        status = CASE WHEN p_paused THEN 'held' ELSE 'ready' END,
        claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL, crashes = 0
    WHERE id = p_step
$$;

-- Records the audit rows a step produced (email/SMS/webhook attempts). They
-- are facts about the outside world, kept even when the execution was
-- cancelled while the step ran.
CREATE FUNCTION wf_record_logs(p_execution uuid, p_node text, p_attempt integer, p_effects jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    fx jsonb;
BEGIN
    FOR fx IN SELECT value FROM jsonb_array_elements(coalesce(p_effects, '[]'))
    LOOP
        IF fx ? 'email_log' THEN
            INSERT INTO email_logs (execution_id, node_id, attempt, recipient, subject, template,
                                    data, status, mode, message_id, error)
            SELECT p_execution, p_node, p_attempt, r.recipient, coalesce(r.subject, ''), r.template,
                   coalesce(r.data, '{}'), coalesce(r.status, 'sent'), coalesce(r.mode, 'mock'),
                   r.message_id, r.error
            FROM jsonb_populate_record(NULL::email_logs, fx -> 'email_log') r;
        ELSIF fx ? 'sms_log' THEN
            INSERT INTO sms_logs (execution_id, node_id, attempt, recipient, body, data, status,
                                  mode, provider_status, error)
            SELECT p_execution, p_node, p_attempt, r.recipient, coalesce(r.body, ''),
                   coalesce(r.data, '{}'), coalesce(r.status, 'sent'), coalesce(r.mode, 'mock'),
                   r.provider_status, r.error
            FROM jsonb_populate_record(NULL::sms_logs, fx -> 'sms_log') r;
        ELSIF fx ? 'webhook_log' THEN
            INSERT INTO webhook_logs (execution_id, node_id, attempt, url, method, request_body,
                                      response_status, response_body, duration_ms, status, mode, error)
            SELECT p_execution, p_node, p_attempt, r.url, coalesce(r.method, 'POST'), r.request_body,
                   r.response_status, r.response_body, r.duration_ms, coalesce(r.status, 'sent'),
                   coalesce(r.mode, 'http'), r.error
            FROM jsonb_populate_record(NULL::webhook_logs, fx -> 'webhook_log') r;
        END IF;
    END LOOP;
END $$;

-- Finishes a claimed step: records its logs, moves the execution on, and
-- requeues or deletes the step row, all in the caller's transaction.
--
-- p_outcome:
--   next   the node succeeded; continue at p_next_node (NULL: the execution completed)
--   delay  a delay node: resume this node at p_run_at (p_delay: the delay row)
--   wait   a shared_flow node started child execution p_child; wait for it
--   retry  the attempt failed; run the node again at p_run_at
--   defer  not now (a rate limit): run the node again at p_run_at, same attempt
--   fail   the node failed for good: dead-letter it and fail the execution
--   hold   the execution was paused before the step ran: park the step as it is
--   exit   the definition's exit condition holds: cancel the execution (p_error: why)
--   drop   the execution is no longer running (cancelled meanwhile): discard
--
-- Returns 'stale' when the caller's claim is no longer the step's current one
-- (the step was rescued from it): then nothing at all is written.
CREATE FUNCTION wf_step_finish(
    p_step bigint,
    p_claims integer,
    p_outcome text,
    p_next_node text DEFAULT NULL,
    p_run_at timestamptz DEFAULT NULL,
    p_result jsonb DEFAULT NULL,
    p_error text DEFAULT NULL,
    p_logs jsonb DEFAULT NULL,
    p_delay jsonb DEFAULT NULL,
    p_child jsonb DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s wf_steps;
    e workflow_executions;
    paused boolean;
    child_id uuid;
BEGIN
    SELECT * INTO s FROM wf_steps
    WHERE id = p_step AND claims = p_claims AND status = 'claimed'
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'stale';
    END IF;
    SELECT * INTO e FROM workflow_executions WHERE id = s.execution_id FOR UPDATE;
    PERFORM wf_record_logs(e.id, s.node_id, s.attempt, p_logs);

    IF p_outcome = 'drop' OR e.status NOT IN ('running', 'paused') THEN
        PERFORM wf_step_delete(s.id);
        RETURN 'dropped';
    END IF;
    paused := e.status = 'paused';
    IF p_outcome = 'exit' THEN
        PERFORM wf_execution_cancel(e.id, coalesce(p_error, 'exit condition met'));
        PERFORM wf_step_delete(s.id);
        RETURN 'exited';
    END IF;
    IF p_outcome = 'hold' THEN
        PERFORM wf_step_requeue(s.id, s.node_id, s.kind, s.attempt, s.run_at, true);
        RETURN 'held';
    END IF;
    IF s.kind = 'resume' THEN
        UPDATE workflow_delays SET status = 'resumed', resumed_at = now()
        WHERE execution_id = e.id AND node_id = s.node_id AND status = 'waiting';
    END IF;

    CASE p_outcome
    WHEN 'next' THEN
        PERFORM wf_execution_set(e.id, 'stepCompleted', p_result, NULL);
        IF p_next_node IS NULL THEN
            UPDATE workflow_executions SET status = 'completed' WHERE id = e.id;
            PERFORM wf_step_delete(s.id);
            PERFORM wf_child_ended(e.id, false);
        ELSE
            PERFORM wf_step_requeue(s.id, p_next_node, 'run', 1, NULL, paused);
        END IF;
    WHEN 'delay' THEN
        INSERT INTO workflow_delays (execution_id, node_id, resume_at, nominal_seconds, scaled_seconds)
        VALUES (e.id, s.node_id, p_run_at,
                coalesce((p_delay ->> 'nominal_seconds')::double precision, 0),
                coalesce((p_delay ->> 'scaled_seconds')::double precision, 0))
        ON CONFLICT (execution_id, node_id) DO UPDATE
            SET resume_at = EXCLUDED.resume_at, status = 'waiting', resumed_at = NULL,
                nominal_seconds = EXCLUDED.nominal_seconds, scaled_seconds = EXCLUDED.scaled_seconds;
        PERFORM wf_execution_set(e.id, 'delayed', p_result, NULL);
        PERFORM wf_step_requeue(s.id, s.node_id, 'resume', s.attempt, p_run_at, paused);
    WHEN 'wait' THEN
        SELECT c.execution_id INTO child_id
        FROM wf_execution_create(p_child ->> 'workflow', coalesce(p_child -> 'context', e.context),
                                 NULL, e.id, s.node_id) c;
        INSERT INTO workflow_execution_history
            (execution_id, node_id, from_status, to_status, attempt, result)
        VALUES (e.id, s.node_id, e.status, e.status, s.attempt,
                coalesce(p_result, '{}') || jsonb_build_object('child_execution_id', child_id));
        UPDATE wf_steps
        SET status = 'waiting', claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL
        WHERE id = s.id;
    WHEN 'defer' THEN
        PERFORM wf_execution_set(e.id, 'delayed', p_result, NULL);
        PERFORM wf_step_requeue(s.id, s.node_id, s.kind, s.attempt, p_run_at, paused);
    WHEN 'retry' THEN
        PERFORM wf_execution_set(e.id, 'stepFailed', p_result, p_error);
        PERFORM wf_execution_set(e.id, 'retrying', NULL, p_error);
        PERFORM wf_step_requeue(s.id, s.node_id, 'run', s.attempt + 1, p_run_at, paused);
    WHEN 'fail' THEN
        IF NOT paused THEN
            PERFORM wf_execution_set(e.id, 'stepFailed', p_result, p_error);
        END IF;
        PERFORM wf_execution_set(e.id, 'failed', NULL, p_error);
        INSERT INTO wf_dead_letters (execution_id, node_id, kind, attempt, reason)
        VALUES (e.id, s.node_id, s.kind, s.attempt, coalesce(p_error, 'failed'));
        PERFORM wf_step_delete(s.id);
        PERFORM wf_child_ended(e.id, true);
    ELSE
        RAISE EXCEPTION 'unknown step outcome "%"', p_outcome USING ERRCODE = 'WF422';
    END CASE;
    RETURN 'ok';
END $$;

-- Control ---------------------------------------------------------------

CREATE FUNCTION wf_execution_lock(p_id uuid) RETURNS workflow_executions
LANGUAGE plpgsql AS $$
DECLARE
    e workflow_executions;
BEGIN
    SELECT * INTO e FROM workflow_executions WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'execution % not found', p_id USING ERRCODE = 'WF404';
    END IF;
    RETURN e;
END $$;

-- Starts an execution created with p_start = false.
CREATE FUNCTION wf_execution_start(p_id uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    e workflow_executions := wf_execution_lock(p_id);
BEGIN
    IF e.status <> 'idle' OR NOT EXISTS (
        SELECT 1 FROM wf_steps WHERE execution_id = p_id AND run_at = 'infinity') THEN
        RAISE EXCEPTION 'execution % is % and already started', p_id, e.status USING ERRCODE = 'WF409';
    END IF;
    UPDATE wf_steps SET run_at = now() WHERE execution_id = p_id;
    RETURN 'idle';
END $$;

-- Pauses before the next step; a step in flight finishes and is recorded.
CREATE FUNCTION wf_execution_pause(p_id uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    e workflow_executions := wf_execution_lock(p_id);
    child uuid;
BEGIN
    PERFORM wf_assert_transition(p_id, e.status, 'paused');
    UPDATE workflow_executions SET status = 'paused', status_before_pause = e.status WHERE id = p_id;
    UPDATE wf_steps SET status = 'held' WHERE execution_id = p_id AND status = 'ready';
    FOR child IN SELECT id FROM workflow_executions
                 WHERE parent_execution_id = p_id AND status NOT IN ('completed', 'failed', 'cancelled', 'paused', 'stepFailed')
    LOOP
        PERFORM wf_execution_pause(child);
    END LOOP;
    RETURN 'paused';
END $$;

CREATE FUNCTION wf_execution_resume(p_id uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    e workflow_executions := wf_execution_lock(p_id);
    child uuid;
BEGIN
    IF e.status <> 'paused' THEN
        RAISE EXCEPTION 'execution % is %, not paused', p_id, e.status USING ERRCODE = 'WF409';
    END IF;
    UPDATE workflow_executions SET status = e.status_before_pause, status_before_pause = NULL
    WHERE id = p_id;
    UPDATE wf_steps SET status = 'ready' WHERE execution_id = p_id AND status = 'held';
    FOR child IN SELECT id FROM workflow_executions WHERE parent_execution_id = p_id AND status = 'paused'
    LOOP
        PERFORM wf_execution_resume(child);
    END LOOP;
    RETURN e.status_before_pause;
END $$;

-- Ends an execution now: pending steps and delays go in the same transaction.
-- A step in flight finishes, and its logs are kept, but nothing follows it.
CREATE FUNCTION wf_execution_cancel(p_id uuid, p_reason text DEFAULT 'cancelled')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    e workflow_executions := wf_execution_lock(p_id);
    child uuid;
BEGIN
    PERFORM wf_assert_transition(p_id, e.status, 'cancelled');
    UPDATE workflow_executions SET status = 'cancelled', last_error = p_reason, last_result = NULL
    WHERE id = p_id;
    DELETE FROM wf_steps WHERE execution_id = p_id AND status <> 'claimed';
    UPDATE workflow_delays SET status = 'cancelled' WHERE execution_id = p_id AND status = 'waiting';
    FOR child IN SELECT id FROM workflow_executions
                 WHERE parent_execution_id = p_id AND status NOT IN ('completed', 'failed', 'cancelled')
    LOOP
        PERFORM wf_execution_cancel(child, p_reason);
    END LOOP;
    -- A parent waiting for this execution must not wait forever: to it, the
    -- child failed (its shared_flow node's retry policy decides what next).
    PERFORM wf_child_ended(p_id, true);
    RETURN 'cancelled';
END $$;

-- Stop is cancel by an operator: the execution ends as cancelled, reason "stopped".
CREATE FUNCTION wf_execution_stop(p_id uuid) RETURNS text LANGUAGE sql AS $$
    SELECT wf_execution_cancel(p_id, 'stopped')
$$;

-- Replays a dead-lettered step: the failed execution retries its node.
CREATE FUNCTION wf_dead_letter_replay(p_id bigint) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    d wf_dead_letters;
    e workflow_executions;
BEGIN
    SELECT * INTO d FROM wf_dead_letters WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'dead letter % not found', p_id USING ERRCODE = 'WF404';
    END IF;
    IF d.replayed_at IS NOT NULL THEN
        RAISE EXCEPTION 'dead letter % was already replayed', p_id USING ERRCODE = 'WF409';
    END IF;
    e := wf_execution_lock(d.execution_id);
    UPDATE workflow_executions SET status = 'retrying', current_node = d.node_id, attempt = 1,
                                   last_error = NULL, last_result = jsonb_build_object('replay_of', p_id)
    WHERE id = e.id;
    INSERT INTO wf_steps (execution_id, node_id, kind) VALUES (e.id, d.node_id, 'run');
    UPDATE wf_dead_letters SET replayed_at = now() WHERE id = p_id;
    RETURN e.id;
END $$;

-- Finishes, set-based, a batch of claimed steps that succeeded and move on
-- ('next' outcomes): a handful of statements for the whole batch instead of
-- a handful per step, which is most of a worker's throughput. p_steps:
-- [{"step", "claims", "next", "result", "logs"}]. Only steps still claimed
-- by the caller, of running executions, are handled here ('ok'); every
-- other one comes back 'unhandled' for wf_step_finish, which knows the
-- rarer cases (rescued, paused, cancelled).
CREATE FUNCTION wf_steps_finish_next(p_steps jsonb)
RETURNS TABLE (step_id bigint, outcome text) LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    execs uuid[];
    nodes text[];
    kinds text[];
    attempts integer[];
    nexts text[];
    results jsonb[];
    logs jsonb[];
BEGIN
    SELECT array_agg(x.id), array_agg(x.execution_id), array_agg(x.node_id), array_agg(x.kind),
           array_agg(x.attempt), array_agg(x.next), array_agg(x.result), array_agg(x.logs)
    INTO ids, execs, nodes, kinds, attempts, nexts, results, logs
    FROM (SELECT s.id, s.execution_id, s.node_id, s.kind, s.attempt, i.next, i.result, i.logs
          FROM jsonb_to_recordset(p_steps) AS i(step bigint, claims integer, next text, result jsonb, logs jsonb)
          JOIN wf_steps s ON s.id = i.step AND s.claims = i.claims AND s.status = 'claimed'
          JOIN workflow_executions e ON e.id = s.execution_id AND e.status = 'running'
          ORDER BY s.id
          FOR UPDATE OF s, e) x;

    IF ids IS NOT NULL THEN
        INSERT INTO email_logs (execution_id, node_id, attempt, recipient, subject, template,
                                data, status, mode, message_id, error)
        SELECT u.e, u.n, u.a, r.recipient, coalesce(r.subject, ''), r.template, coalesce(r.data, '{}'),
               coalesce(r.status, 'sent'), coalesce(r.mode, 'mock'), r.message_id, r.error
        FROM unnest(execs, nodes, attempts, logs) AS u(e, n, a, l),
             jsonb_array_elements(coalesce(u.l, '[]')) AS fx,
             jsonb_populate_record(NULL::email_logs, fx -> 'email_log') AS r
        WHERE fx ? 'email_log';
        INSERT INTO sms_logs (execution_id, node_id, attempt, recipient, body, data, status, mode,
                              provider_status, error)
        SELECT u.e, u.n, u.a, r.recipient, coalesce(r.body, ''), coalesce(r.data, '{}'),
               coalesce(r.status, 'sent'), coalesce(r.mode, 'mock'), r.provider_status, r.error
        FROM unnest(execs, nodes, attempts, logs) AS u(e, n, a, l),
             jsonb_array_elements(coalesce(u.l, '[]')) AS fx,
             jsonb_populate_record(NULL::sms_logs, fx -> 'sms_log') AS r
        WHERE fx ? 'sms_log';
        INSERT INTO webhook_logs (execution_id, node_id, attempt, url, method, request_body,
                                  response_status, response_body, duration_ms, status, mode, error)
        SELECT u.e, u.n, u.a, r.url, coalesce(r.method, 'POST'), r.request_body, r.response_status,
               r.response_body, r.duration_ms, coalesce(r.status, 'sent'), coalesce(r.mode, 'http'), r.error
        FROM unnest(execs, nodes, attempts, logs) AS u(e, n, a, l),
             jsonb_array_elements(coalesce(u.l, '[]')) AS fx,
             jsonb_populate_record(NULL::webhook_logs, fx -> 'webhook_log') AS r
        WHERE fx ? 'webhook_log';

        UPDATE workflow_delays d SET status = 'resumed', resumed_at = now()
        FROM unnest(execs, nodes, kinds) AS u(e, n, k)
        WHERE u.k = 'resume' AND d.execution_id = u.e AND d.node_id = u.n AND d.status = 'waiting';

        -- running -> stepCompleted (-> completed): legal by construction (every
        -- row was checked 'running' above), so the history is written here in
        -- one INSERT and the transition trigger stands aside.
        PERFORM set_config('wf.engine', 'on', true);
        UPDATE workflow_executions e
        SET status = CASE WHEN u.nx IS NULL THEN 'completed' ELSE 'stepCompleted' END,
            last_result = CASE WHEN u.nx IS NULL THEN NULL ELSE u.r END, last_error = NULL,
            updated_at = now(), completed_at = CASE WHEN u.nx IS NULL THEN now() END
        FROM unnest(execs, results, nexts) AS u(id, r, nx) WHERE e.id = u.id;
        INSERT INTO workflow_execution_history (execution_id, node_id, from_status, to_status, attempt, result)
        SELECT u.id, u.n, 'running', 'stepCompleted', u.a, u.r
        FROM unnest(execs, nodes, attempts, results) AS u(id, n, a, r)
        UNION ALL
        SELECT u.id, u.n, 'stepCompleted', 'completed', u.a, NULL
        FROM unnest(execs, nodes, attempts, nexts) AS u(id, n, a, nx) WHERE u.nx IS NULL;
        PERFORM set_config('wf.engine', 'off', true);

        UPDATE wf_steps s
        SET node_id = u.nx, kind = 'run', attempt = 1, run_at = now(), status = 'ready',
            claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL, crashes = 0
        FROM unnest(ids, nexts) AS u(id, nx) WHERE s.id = u.id AND u.nx IS NOT NULL;
        DELETE FROM wf_steps s USING unnest(ids, nexts) AS u(id, nx) WHERE s.id = u.id AND u.nx IS NULL;

        PERFORM wf_child_ended(e.id, false)
        FROM workflow_executions e, unnest(execs, nexts) AS u(id, nx)
        WHERE e.id = u.id AND u.nx IS NULL AND e.parent_execution_id IS NOT NULL;
    END IF;

    RETURN QUERY
        SELECT i.step, CASE WHEN i.step = ANY(coalesce(ids, '{}')) THEN 'ok' ELSE 'unhandled' END
        FROM jsonb_to_recordset(p_steps) AS i(step bigint);
END $$;

-- One round trip of a worker: records the outcomes of its last batch and
-- claims the next one, in one transaction (one commit, one fsync, per
-- batch). p_done: [{"step", "claims", "outcome", "next", "run_at", "result",
-- "error", "logs", "delay", "child"}] as wf_step_finish takes them; 'next'
-- outcomes go through the set-based wf_steps_finish_next.
CREATE FUNCTION wf_worker_round(p_worker bigint, p_limit integer, p_lease_s integer, p_done jsonb)
RETURNS TABLE (step_id bigint, claims integer, execution_id uuid, node_id text, kind text,
               attempt integer, workflow_id bigint, workflow_version integer,
               status text, context jsonb, trigger_table text, trigger_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    d jsonb;
    handled bigint[];
BEGIN
    IF jsonb_typeof(p_done) = 'array' AND jsonb_array_length(p_done) > 0 THEN
        SELECT array_agg(f.step_id) INTO handled
        FROM wf_steps_finish_next((SELECT jsonb_agg(x) FROM jsonb_array_elements(p_done) x
                                   WHERE x ->> 'outcome' = 'next')) f
        WHERE f.outcome = 'ok';
        FOR d IN SELECT x FROM jsonb_array_elements(p_done) x
                 WHERE NOT ((x ->> 'step')::bigint = ANY (coalesce(handled, '{}')))
        LOOP
            PERFORM wf_step_finish((d ->> 'step')::bigint, (d ->> 'claims')::integer, d ->> 'outcome',
                                   d ->> 'next', to_timestamp((d ->> 'run_at')::float8), d -> 'result',
                                   d ->> 'error', d -> 'logs', d -> 'delay', d -> 'child');
        END LOOP;
    END IF;
    IF p_limit > 0 THEN
        RETURN QUERY SELECT * FROM wf_claim_steps(p_worker, p_limit, p_lease_s);
    END IF;
END $$;
