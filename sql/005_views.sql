-- 005_views: what an operator asks of the engine in psql. Every view is
-- explained, with what to do when a figure looks wrong, in
-- docs/operations.md.

-- Steps in the queue by state and by when they fall due.
CREATE VIEW wf_queue_depth AS
SELECT status,
       CASE WHEN run_at = 'infinity' THEN 'not started'
            WHEN run_at <= now() THEN 'due'
            WHEN run_at <= now() + interval '1 minute' THEN 'next minute'
            WHEN run_at <= now() + interval '1 hour' THEN 'next hour'
            ELSE 'later' END AS due,
       count(*) AS steps,
       min(run_at) AS earliest,
       max(now() - run_at) FILTER (WHERE status = 'ready' AND run_at <= now()) AS oldest_wait
FROM wf_steps
GROUP BY 1, 2;

-- Executions per workflow and state.
CREATE VIEW wf_executions_by_workflow AS
SELECT workflow_name, status, count(*) AS executions, max(created_at) AS last_created
FROM workflow_executions
GROUP BY 1, 2;

-- Work done per minute over the last hour, from the history.
CREATE VIEW wf_throughput AS
SELECT date_trunc('minute', created_at) AS minute,
       count(*) FILTER (WHERE to_status = 'stepCompleted') AS steps_completed,
       count(*) FILTER (WHERE to_status = 'stepFailed') AS steps_failed,
       count(*) FILTER (WHERE to_status = 'retrying') AS retries,
       count(*) FILTER (WHERE to_status = 'completed') AS executions_completed,
       count(*) FILTER (WHERE to_status = 'failed') AS executions_failed
FROM workflow_execution_history
WHERE created_at > now() - interval '1 hour'
GROUP BY 1;

-- Failure and retry rates per workflow over the last 24 hours.
CREATE VIEW wf_failure_rates AS
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
           AS retry_rate
FROM workflow_execution_history h
JOIN workflow_executions e ON e.id = h.execution_id
WHERE h.created_at > now() - interval '24 hours'
GROUP BY 1;

-- Executions that cannot move on by themselves: a step whose lease ran out
-- or whose worker is gone or silent (the sweeper rescues these within
-- SWEEP_INTERVAL_MS), or an active execution with no step at all.
CREATE VIEW wf_stuck_executions AS
SELECT e.id AS execution_id, e.workflow_name, e.status, e.current_node,
       s.status AS step_status, s.lease_expires_at,
       w.host, w.pid, w.slot, w.status AS worker_status, w.heartbeat_at,
       CASE WHEN s.id IS NULL THEN 'no step in the queue'
            WHEN s.lease_expires_at < now() THEN 'lease expired'
            WHEN w.id IS NULL OR w.status <> 'running' THEN 'worker gone'
            ELSE 'worker silent' END AS reason
FROM workflow_executions e
LEFT JOIN wf_steps s ON s.execution_id = e.id
LEFT JOIN wf_workers w ON w.id = s.claimed_by
WHERE e.status NOT IN ('completed', 'failed', 'cancelled')
  AND (s.id IS NULL
       OR (s.status = 'claimed'
           AND (s.lease_expires_at < now() OR w.id IS NULL OR w.status <> 'running'
                OR w.heartbeat_at < now() - interval '15 seconds')));

-- Delays ending within the hour, and overdue ones (their resume is late).
CREATE VIEW wf_delays_due AS
SELECT d.execution_id, e.workflow_name, d.node_id, d.resume_at,
       d.resume_at < now() AS overdue,
       greatest(now() - d.resume_at, interval '0') AS overdue_by,
       d.nominal_seconds, d.scaled_seconds
FROM workflow_delays d
JOIN workflow_executions e ON e.id = d.execution_id
WHERE d.status = 'waiting' AND d.resume_at < now() + interval '1 hour';

-- Dead letters not replayed yet, with their reasons.
CREATE VIEW wf_dead_letter_list AS
SELECT d.id, d.execution_id, e.workflow_name, d.node_id, d.attempt, d.reason, d.created_at
FROM wf_dead_letters d
JOIN workflow_executions e ON e.id = d.execution_id
WHERE d.replayed_at IS NULL;

-- Email, SMS and webhook attempts by channel, status and mode.
CREATE VIEW wf_channel_statistics AS
SELECT channel, status, mode, count(*) AS attempts,
       count(*) FILTER (WHERE created_at > now() - interval '1 hour') AS last_hour,
       max(created_at) AS last_at
FROM (SELECT 'email' AS channel, status, mode, created_at FROM email_logs
      UNION ALL SELECT 'sms', status, mode, created_at FROM sms_logs
      UNION ALL SELECT 'webhook', status, mode, created_at FROM webhook_logs) x
GROUP BY 1, 2, 3;

-- The worker fleet.
CREATE VIEW wf_fleet AS
SELECT host, pool_pid, pid, slot, status, now() - heartbeat_at AS heartbeat_age,
       steps_done, current_step, started_at, stopped_at
FROM wf_workers
WHERE status = 'running' OR stopped_at > now() - interval '1 hour';

-- One row for the recovery endpoint.
CREATE VIEW wf_recovery_statistics AS
SELECT (SELECT coalesce(jsonb_object_agg(status, n), '{}')
          FROM (SELECT status, count(*) AS n FROM workflow_executions GROUP BY 1) x) AS executions_by_status,
       (SELECT count(*) FROM wf_stuck_executions) AS stuck,
       (SELECT count(*) FROM wf_dead_letters WHERE replayed_at IS NULL) AS dead_lettered,
       (SELECT count(*) FROM wf_steps WHERE status = 'ready' AND run_at <= now()) AS steps_due,
       (SELECT min(resume_at) FROM workflow_delays WHERE status = 'waiting' AND resume_at < now())
           AS oldest_overdue_delay,
       (SELECT count(*) FROM wf_workers WHERE status = 'running') AS workers_running;
