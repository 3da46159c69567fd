-- 021_awaited_child: a shared_flow step is woken by the child it waits for
-- only, a child started while its parent is paused is paused too, and the
-- control functions' cascade to children holds up against a child that ends
-- meanwhile.
--
-- What changed: functions of sql/004 that no later migration replaced, and
-- the monitoring view of sql/008, which now reads the new column.
--
--   wf_child_ended       woke whatever step of the parent was 'waiting'. A
--                        parent and its failed child replayed from their dead
--                        letters run side by side: the parent's replay starts
--                        a second child, and the end of the first one woke the
--                        parent, which moved on while the second child still
--                        ran its flow. The step now records the child it waits
--                        for (wf_steps.child_id), and only that child wakes it.
--   wf_step_finish       records that child where the 'wait' outcome starts it.
--                        And a step of a paused parent that started its child
--                        (the step was in flight when the pause came) left the
--                        child running, so its emails and webhooks went out
--                        while the parent was paused. The child is now paused
--                        with it; the parent's resume resumes it.
--   wf_execution_pause,  picked the children to cascade to by their status in
--   _resume, _cancel     a snapshot taken before waiting for their locks, so a
--                        child that ended while the parent waited raised WF409
--                        (an illegal transition from 'completed') and failed
--                        the parent's legal pause. The children are now
--                        locked by the query that picks them, which checks
--                        their status again after the wait, and the parent's
--                        own step is held (or released) after the children,
--                        so that the wake of a child that ended meanwhile is
--                        not left ready on a paused parent (or held on a
--                        resumed one, for good).
--   wf_stuck_executions  a waiting step is stuck when the child it waits for
--                        has ended (sql/008 asked whether any child was active).

-- The child execution a 'waiting' step waits for. A step that was already
-- waiting when this migration ran has none recorded: any child of its
-- execution wakes it, as before.
ALTER TABLE wf_steps ADD COLUMN child_id uuid;
COMMENT ON COLUMN wf_steps.child_id IS
    'the child execution a waiting shared_flow step waits for (NULL: any child, for steps waiting before sql/021)';

-- A child execution has ended: wake its parent's shared_flow step if that
-- step waits for this child.
CREATE OR REPLACE FUNCTION wf_child_ended(p_child uuid, p_failed boolean)
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
        run_at = now(), child_id = NULL
    FROM workflow_executions e
    WHERE s.execution_id = parent AND s.status = 'waiting' AND e.id = parent
      AND (s.child_id = p_child OR s.child_id IS NULL);
END $$;

-- wf_step_finish (sql/004) as it was, but for its 'wait' outcome, which
-- records the child it starts on the step, and starts it paused when the
-- execution is paused.
CREATE OR REPLACE FUNCTION wf_step_finish(
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
    child uuid;
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
        SELECT c.execution_id INTO child
        FROM wf_execution_create(p_child ->> 'workflow', coalesce(p_child -> 'context', e.context),
                                 NULL, e.id, s.node_id) c;
        INSERT INTO workflow_execution_history
            (execution_id, node_id, from_status, to_status, attempt, result)
        VALUES (e.id, s.node_id, e.status, e.status, s.attempt,
                coalesce(p_result, '{}') || jsonb_build_object('child_execution_id', child));
        UPDATE wf_steps
        SET status = 'waiting', child_id = child,
            claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL
        WHERE id = s.id;
        -- The parent was paused while this step ran: its child must not run
        -- ahead of it. The parent's resume cascades to the child.
        IF paused THEN
            PERFORM wf_execution_pause(child);
        END IF;
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

-- The three control functions below lock the children they cascade to in
-- the query that picks them (FOR UPDATE): a child that ended while the
-- query waited for its lock is checked again and left out.

-- Pauses before the next step; a step in flight finishes and is recorded.
CREATE OR REPLACE FUNCTION wf_execution_pause(p_id uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    e workflow_executions := wf_execution_lock(p_id);
    child uuid;
BEGIN
    PERFORM wf_assert_transition(p_id, e.status, 'paused');
    UPDATE workflow_executions SET status = 'paused', status_before_pause = e.status WHERE id = p_id;
    FOR child IN SELECT id FROM workflow_executions
                 WHERE parent_execution_id = p_id AND status NOT IN ('completed', 'failed', 'cancelled', 'paused', 'stepFailed')
                 FOR UPDATE
    LOOP
        PERFORM wf_execution_pause(child);
    END LOOP;
    -- After the children: a child that ended while the loop waited for it
    -- has woken this execution's step (as ready, having read this row
    -- before the pause), and this statement sees that.
    UPDATE wf_steps SET status = 'held' WHERE execution_id = p_id AND status = 'ready';
    RETURN 'paused';
END $$;

CREATE OR REPLACE FUNCTION wf_execution_resume(p_id uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    e workflow_executions := wf_execution_lock(p_id);
    child uuid;
BEGIN
    IF e.status <> 'paused' THEN
        RAISE EXCEPTION 'execution % is %, not paused', p_id, e.status USING ERRCODE = 'WF409';
    END IF;
    UPDATE workflow_executions SET status = e.status_before_pause, status_before_pause = NULL
    WHERE id = p_id;
    FOR child IN SELECT id FROM workflow_executions WHERE parent_execution_id = p_id AND status = 'paused'
                 FOR UPDATE
    LOOP
        PERFORM wf_execution_resume(child);
    END LOOP;
    -- After the children: a child that ended while the loop waited for it
    -- has woken this execution's step as held (it read this row before
    -- the resume), and this statement sees that.
    UPDATE wf_steps SET status = 'ready' WHERE execution_id = p_id AND status = 'held';
    RETURN e.status_before_pause;
END $$;

-- Ends an execution now: pending steps and delays go in the same transaction.
-- A step in flight finishes, and its logs are kept, but nothing follows it.
CREATE OR REPLACE FUNCTION wf_execution_cancel(p_id uuid, p_reason text DEFAULT 'cancelled')
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
                 FOR UPDATE
    LOOP
        PERFORM wf_execution_cancel(child, p_reason);
    END LOOP;
    -- A parent waiting for this execution must not wait forever: to it, the
    -- child failed (its shared_flow node's retry policy decides what next).
    PERFORM wf_child_ended(p_id, true);
    RETURN 'cancelled';
END $$;

-- wf_stuck_executions (sql/008) as it was, but a waiting step is stuck when
-- the child it waits for is no longer active, whatever its other children
-- (a replayed one, say) do.
CREATE OR REPLACE VIEW wf_stuck_executions AS
SELECT e.id AS execution_id, e.workflow_name, e.status, e.current_node,
       s.status AS step_status, s.lease_expires_at,
       w.host, w.pid, w.slot, w.status AS worker_status, w.heartbeat_at,
       CASE WHEN s.id IS NULL THEN 'no step in the queue'
            WHEN s.status = 'waiting' THEN 'child execution ended'
            WHEN w.id IS NULL OR w.status <> 'running' THEN 'worker dead'
            WHEN w.heartbeat_at < now() - wf_worker_dead_after() THEN 'worker silent'
            ELSE 'lease expired' END AS reason,
       now() - w.heartbeat_at AS heartbeat_age,
       e.updated_at
FROM workflow_executions e
LEFT JOIN wf_steps s ON s.execution_id = e.id
LEFT JOIN wf_workers w ON w.id = s.claimed_by
WHERE e.status NOT IN ('completed', 'failed', 'cancelled')
  AND (s.id IS NULL
       OR (s.status = 'claimed'
           AND (s.lease_expires_at < now() OR w.id IS NULL OR w.status <> 'running'
                OR w.heartbeat_at < now() - wf_worker_dead_after()))
       OR (s.status = 'waiting'
           AND NOT EXISTS (SELECT 1 FROM workflow_executions c
                           WHERE c.parent_execution_id = e.id
                             AND (s.child_id IS NULL OR c.id = s.child_id)
                             AND c.status NOT IN ('completed', 'failed', 'cancelled'))));
