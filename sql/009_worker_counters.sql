-- 009_worker_counters: what each worker child has done, for /metrics.
--
-- The pool parent copies its children's counters (kept in shared memory)
-- into the registry with every heartbeat; the sums over all rows, dead and
-- stopped ones included, only ever grow, as Prometheus counters must.

ALTER TABLE wf_workers
    ADD COLUMN steps_completed bigint NOT NULL DEFAULT 0,
    ADD COLUMN steps_failed bigint NOT NULL DEFAULT 0,
    ADD COLUMN steps_retried bigint NOT NULL DEFAULT 0;

COMMENT ON COLUMN wf_workers.steps_done IS 'steps claimed by this worker';
COMMENT ON COLUMN wf_workers.steps_completed IS 'steps that succeeded (moved on, delayed or started a child)';
COMMENT ON COLUMN wf_workers.steps_failed IS 'steps that failed for good (dead-lettered)';
COMMENT ON COLUMN wf_workers.steps_retried IS 'failed attempts scheduled for another try';
