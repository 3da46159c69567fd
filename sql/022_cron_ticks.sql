-- 022_cron_ticks: which ticks a cron workflow fires.
--
-- What changed: the function of sql/004 that no later migration replaced.
--
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
