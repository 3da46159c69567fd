-- 011_queue_maintenance: keep the step queue's index free of dead entries.
--
-- Every claim and every finish rewrites a wf_steps row, leaving a dead entry
-- at the head of wf_steps_ready, exactly where the next claim starts
-- scanning; unvacuumed, each claim wades through more of them. The
-- coordinator's sweeper vacuums the table every SWEEP_INTERVAL_MS; these
-- settings make autovacuum do it often too, for when no coordinator runs.
ALTER TABLE wf_steps SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0,
    autovacuum_analyze_scale_factor = 0.05
);
