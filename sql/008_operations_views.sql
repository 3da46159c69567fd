-- 008_operations_views: corrections and additions to the monitoring views
-- of 005_views, after reviewing them against what operators ask
-- (docs/operations.md explains every view).
--
-- What changed, and why:
--   wf_queue_depth          claimed steps were counted as 'due' and a shared
--                           flow's waiting step by a run_at that means
--                           nothing; they now say what they are.
--   wf_throughput           minutes without activity were missing; the view
--                           now has one row for each of the last 60 minutes,
--                           and counts executions started.
--   wf_failure_rates        + executions completed and the execution failure rate.
--   wf_stuck_executions     the silence threshold was a fixed 15 s whatever
--                           WORKER_DEAD_AFTER_S said; a parent waiting on a
--                           child that has ended was not seen; + heartbeat age.
--   wf_delays_due           a paused execution's delay was reported overdue.
--   wf_dead_letter_list     + the step kind and the execution's status (a
--                           replay needs the execution to be 'failed').
--   wf_channel_statistics   + webhook call durations.
--   wf_fleet                + whether a running worker has gone silent.
--   wf_recovery_statistics  + silent workers; paused delays are not overdue.

-- How long a worker may be silent before the coordinators call it dead. The
-- coordinators read WORKER_DEAD_AFTER_S from their environment, which SQL
-- cannot see; an operator who changes it says so to the views with
--   ALTER DATABASE workflow_db SET wf.worker_dead_after_s = '30';
CREATE FUNCTION wf_worker_dead_after() RETURNS interval LANGUAGE sql STABLE AS $$
    SELECT make_interval(secs => coalesce(
        nullif(current_setting('wf.worker_dead_after_s', true), '')::double precision, 15))
$$;

-- Steps in the queue by state and by when they fall due.
CREATE OR REPLACE VIEW wf_queue_depth AS
SELECT status,
       CASE WHEN status = 'claimed' THEN
                CASE WHEN lease_expires_at < now() THEN 'lease expired' ELSE 'in progress' END
            WHEN status = 'waiting' THEN 'waiting for child'
            WHEN run_at = 'infinity' THEN 'not started'
            WHEN run_at <= now() THEN 'due'
            WHEN run_at <= now() + interval '1 minute' THEN 'next minute'
            WHEN run_at <= now() + interval '1 hour' THEN 'next hour'
            ELSE 'later' END AS due,
       count(*) AS steps,
       min(run_at) AS earliest,
       max(now() - run_at) FILTER (WHERE status = 'ready' AND run_at <= now()) AS oldest_wait
FROM wf_steps
GROUP BY 1, 2;

-- Work done in each of the last 60 minutes (the current one included), from
-- the history; a minute without activity is a row of zeros, so a stall shows.
CREATE OR REPLACE VIEW wf_throughput AS
WITH minutes AS (
    SELECT generate_series(date_trunc('minute', now()) - interval '59 minutes',
                           date_trunc('minute', now()), interval '1 minute') AS minute
), h AS (
    SELECT date_trunc('minute', created_at) AS minute, from_status, to_status
    FROM workflow_execution_history
    WHERE created_at >= date_trunc('minute', now()) - interval '59 minutes'
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

-- Failure and retry rates per workflow over the last 24 hours: of step
-- attempts (a step attempt ends in stepCompleted or stepFailed), and of
-- executions that ended.
CREATE OR REPLACE VIEW wf_failure_rates AS
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
FROM workflow_execution_history h
JOIN workflow_executions e ON e.id = h.execution_id
WHERE h.created_at > now() - interval '24 hours'
GROUP BY 1;

-- The two views below change their columns' order, so they are made anew
-- (wf_recovery_statistics reads wf_stuck_executions and goes first).
DROP VIEW wf_recovery_statistics;
DROP VIEW wf_stuck_executions;
DROP VIEW wf_delays_due;

-- Executions that cannot move on by themselves. The sweeper rescues the
-- first three kinds within SWEEP_INTERVAL_MS while a coordinator runs;
-- the last two need an operator (docs/operations.md).
--   worker dead            its step is held by a worker marked dead or gone
--   worker silent          ... by a worker whose heartbeat is older than wf_worker_dead_after()
--   lease expired          ... by a live worker for longer than STEP_LEASE_S
--   no step in the queue   an active execution without its cursor row
--   child execution ended  a shared_flow step waits for children none of which is still active
CREATE VIEW wf_stuck_executions AS
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
                             AND c.status NOT IN ('completed', 'failed', 'cancelled'))));

-- Delays ending within the hour, and overdue ones (their resume is late). A
-- paused execution's delay waits for the resume, so it is never overdue.
CREATE VIEW wf_delays_due AS
SELECT d.execution_id, e.workflow_name, d.node_id, d.resume_at, e.status AS execution_status,
       d.resume_at < now() AND e.status <> 'paused' AS overdue,
       CASE WHEN d.resume_at < now() AND e.status <> 'paused' THEN now() - d.resume_at
            ELSE interval '0' END AS overdue_by,
       d.nominal_seconds, d.scaled_seconds
FROM workflow_delays d
JOIN workflow_executions e ON e.id = d.execution_id
WHERE d.status = 'waiting' AND d.resume_at < now() + interval '1 hour';

-- Dead letters not replayed yet, with their reasons.
CREATE OR REPLACE VIEW wf_dead_letter_list AS
SELECT d.id, d.execution_id, e.workflow_name, d.node_id, d.attempt, d.reason, d.created_at,
       d.kind, e.status AS execution_status
FROM wf_dead_letters d
JOIN workflow_executions e ON e.id = d.execution_id
WHERE d.replayed_at IS NULL;

-- Email, SMS and webhook attempts by channel, status and mode; webhook calls
-- with their durations in milliseconds.
CREATE OR REPLACE VIEW wf_channel_statistics AS
SELECT channel, status, mode, count(*) AS attempts,
       count(*) FILTER (WHERE created_at > now() - interval '1 hour') AS last_hour,
       max(created_at) AS last_at,
       round(avg(duration_ms)::numeric, 3) AS avg_duration_ms,
       round(max(duration_ms)::numeric, 3) AS max_duration_ms
FROM (SELECT 'email' AS channel, status, mode, created_at, NULL::double precision AS duration_ms
      FROM email_logs
      UNION ALL SELECT 'sms', status, mode, created_at, NULL FROM sms_logs
      UNION ALL SELECT 'webhook', status, mode, created_at, duration_ms FROM webhook_logs) x
GROUP BY 1, 2, 3;

-- The worker fleet: every running worker child, and those that stopped or
-- died within the hour. silent: running, but its pool has not heartbeated
-- for wf_worker_dead_after() (a coordinator is about to call it dead).
CREATE OR REPLACE VIEW wf_fleet AS
SELECT host, pool_pid, pid, slot, status, now() - heartbeat_at AS heartbeat_age,
       steps_done, current_step, started_at, stopped_at,
       status = 'running' AND heartbeat_at < now() - wf_worker_dead_after() AS silent
FROM wf_workers
WHERE status = 'running' OR stopped_at > now() - interval '1 hour';

-- One row for the recovery endpoint.
CREATE VIEW wf_recovery_statistics AS
SELECT (SELECT coalesce(jsonb_object_agg(status, n), '{}')
          FROM (SELECT status, count(*) AS n FROM workflow_executions GROUP BY 1) x) AS executions_by_status,
       (SELECT count(*) FROM wf_stuck_executions) AS stuck,
       (SELECT count(*) FROM wf_dead_letters WHERE replayed_at IS NULL) AS dead_lettered,
       (SELECT count(*) FROM wf_steps WHERE status = 'ready' AND run_at <= now()) AS steps_due,
       (SELECT min(resume_at) FROM wf_delays_due WHERE overdue) AS oldest_overdue_delay,
       (SELECT count(*) FROM wf_workers WHERE status = 'running') AS workers_running,
       (SELECT count(*) FROM wf_fleet WHERE silent) AS workers_silent;
