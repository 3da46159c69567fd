-- 028_queue_lookups_by_id: a step looked up by its id is found through the
-- primary key, never by scanning one status's partial index.
--
-- wf_steps_ready (run_at) and wf_steps_lease (lease_expires_at) were
-- partial indexes WHERE status = 'ready' and WHERE status = 'claimed'. A
-- statement that looks steps up by id and checks their status as well
-- (s.id = i.step AND s.status = 'ready' when a worker records a round;
-- the same with 'claimed' on the claimed path) could use them, and when
-- the queue's last ANALYZE had seen it empty (the sweeper's or
-- autovacuum's, at any idle moment) the planner took the partial index for
-- a one-row scan and ran it, whole, once for every step looked up: a
-- round's record of 80 steps with 5,000 steps queued took 6.6 ms instead of
-- 0.3 ms. The throughput run on a database that had run 1,000,000
-- executions spent 80 µs an execution there instead of 11 on a fresh one,
-- until the sweeper's next ANALYZE (docs/performance.md).
--
-- Each predicate now also asks for its column to be set. Every query that
-- reads an index by that column implies it (run_at <= now(), run_at <
-- 'infinity', lease_expires_at < now(): strict comparisons), a lookup by id
-- and status does not, so it takes the primary key. The rows indexed are
-- the same: run_at is NOT NULL, and a claim always sets the lease.
DROP INDEX wf_steps_ready;
CREATE INDEX wf_steps_ready ON wf_steps (run_at) WHERE status = 'ready' AND run_at IS NOT NULL;
DROP INDEX wf_steps_lease;
CREATE INDEX wf_steps_lease ON wf_steps (lease_expires_at)
    WHERE status = 'claimed' AND lease_expires_at IS NOT NULL;

-- A worker's own claimed steps, found through wf_steps_lease as before (a
-- queue holding a million delayed steps is not scanned for them).
CREATE OR REPLACE FUNCTION wf_release_worker_steps(p_worker bigint, p_reason text, p_running uuid DEFAULT NULL)
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
        SELECT * FROM wf_steps
        WHERE claimed_by = p_worker AND status = 'claimed' AND lease_expires_at IS NOT NULL
        FOR UPDATE
    LOOP
        PERFORM wf_step_rescue(s, p_reason, s.execution_id = p_running);
        released := released + 1;
    END LOOP;
    RETURN released;
END $$;

CREATE OR REPLACE FUNCTION wf_worker_requeue_own(p_worker bigint)
RETURNS integer LANGUAGE sql AS $$
    WITH requeued AS (
        UPDATE wf_steps s
        SET status = CASE WHEN e.status = 'paused' THEN 'held' ELSE 'ready' END,
            claimed_by = NULL, claimed_at = NULL, lease_expires_at = NULL, run_at = now()
        FROM workflow_executions e
        WHERE s.claimed_by = p_worker AND s.status = 'claimed' AND s.lease_expires_at IS NOT NULL
          AND e.id = s.execution_id
        RETURNING 1
    )
    SELECT count(*)::integer FROM requeued
$$;
