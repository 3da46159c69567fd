-- 022_cron_ticks: which ticks a cron workflow fires.
--
-- What changed: the table wf_cron_ticks of sql/006, and the function of
-- sql/004 that no later migration replaced.
--
--   wf_cron_ticks           was keyed by the UTC minute of a tick only, and
--                           the job walked UTC minutes: across a DST change
--                           a local time that happens twice ("30 2 * * *" in
--                           Europe/Paris on the last Sunday of October) fired
--                           twice, and one that is skipped never fired. A
--                           fixed-time tick now also records the zone and the
--                           local wall-clock minute it stands for, unique per
--                           workflow, so the repeated 02:30 conflicts with the
--                           first one (as another coordinator's attempt does
--                           with the primary key). Wildcard schedules and rows
--                           from before this migration leave both NULL, which
--                           never conflict (coordinator/cron_job.c).
--   wf_workflow_versioning  moved updated_at only when the definition
--                           changed. The cron job looks for ticks from
--                           updated_at (or the last tick) on, and an inactive
--                           workflow is not looked at, so turning a cron
--                           workflow back on fired the newest tick of the
--                           time it was off (up to 7 days back). A change of
--                           "active" now moves updated_at as well; the version
--                           still moves with the definition only.

CREATE OR REPLACE FUNCTION wf_workflow_versioning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.definition IS NOT DISTINCT FROM OLD.definition THEN
            -- Turned on or off: what was due meanwhile is not due now.
            IF NEW.active IS DISTINCT FROM OLD.active THEN
                NEW.updated_at := now();
            END IF;
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

ALTER TABLE wf_cron_ticks
    ADD COLUMN timezone   text,
    ADD COLUMN local_tick timestamp;

CREATE UNIQUE INDEX wf_cron_ticks_local ON wf_cron_ticks (workflow_id, timezone, local_tick);
