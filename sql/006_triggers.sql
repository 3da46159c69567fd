-- 006_triggers: the trigger tables as the product's input.
--
-- An INSERT into dummy_subscriptions or dummy_newsletters wakes the
-- coordinator (NOTIFY wf_triggers); the coordinator claims unprocessed rows
-- with SKIP LOCKED, picks the workflow by the rules of the definitions,
-- creates the execution and marks the row processed in one transaction.

INSERT INTO dummy_subscription_types (name, description) VALUES
    ('united', 'United membership: the premium plan'),
    ('podcast', 'The weekly podcast'),
    ('basic', 'The basic plan'),
    ('family', 'The family plan'),
    ('student', 'The student plan')
ON CONFLICT (name) DO NOTHING;

CREATE FUNCTION wf_triggers_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('wf_triggers', TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE TRIGGER dummy_subscriptions_inserted AFTER INSERT ON dummy_subscriptions
    FOR EACH STATEMENT EXECUTE FUNCTION wf_triggers_notify();
CREATE TRIGGER dummy_newsletters_inserted AFTER INSERT ON dummy_newsletters
    FOR EACH STATEMENT EXECUTE FUNCTION wf_triggers_notify();

-- The trigger context of a row, as rules, templates and exit conditions see it:
-- {"user", "subscription", "subscription_type"} or {"user" (or null), "newsletter"}.
CREATE FUNCTION wf_trigger_context(p_table text, p_id bigint)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT CASE p_table
        WHEN 'dummy_subscriptions' THEN (
            SELECT jsonb_build_object('user', to_jsonb(u), 'subscription', to_jsonb(s),
                                      'subscription_type', to_jsonb(t))
            FROM dummy_subscriptions s
            JOIN dummy_users u ON u.id = s.user_id
            JOIN dummy_subscription_types t ON t.id = s.subscription_type_id
            WHERE s.id = p_id)
        WHEN 'dummy_newsletters' THEN (
            SELECT jsonb_build_object('user', to_jsonb(u),
                                      'newsletter', to_jsonb(n) || jsonb_build_object(
                                          'email', coalesce(n.email, u.email)))
            FROM dummy_newsletters n
            LEFT JOIN dummy_users u ON u.id = n.user_id
            WHERE n.id = p_id)
    END
$$;

-- Unsubscribing cancels that subscriber's newsletter executions at once, in
-- the same transaction: a delay in progress does not get to end first.
CREATE FUNCTION wf_newsletter_unsubscribed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    e uuid;
BEGIN
    FOR e IN
        SELECT x.id FROM workflow_executions x
        JOIN dummy_newsletters n ON x.trigger_table = 'dummy_newsletters' AND x.trigger_id = n.id
        LEFT JOIN dummy_users u ON u.id = n.user_id
        WHERE x.status NOT IN ('completed', 'failed', 'cancelled')
          AND (n.id = NEW.id
               OR (NEW.user_id IS NOT NULL AND n.user_id = NEW.user_id)
               OR (NEW.email IS NOT NULL AND lower(coalesce(n.email, u.email)) = lower(NEW.email)))
        FOR UPDATE OF x
    LOOP
        PERFORM wf_execution_cancel(e, 'unsubscribed');
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER dummy_newsletters_unsubscribed AFTER UPDATE OF unsubscribed_at ON dummy_newsletters
    FOR EACH ROW WHEN (OLD.unsubscribed_at IS NULL AND NEW.unsubscribed_at IS NOT NULL)
    EXECUTE FUNCTION wf_newsletter_unsubscribed();

-- Cron: one row per workflow and tick that has fired. Its key is what makes
-- a tick fire once, however many coordinators see it.
CREATE TABLE wf_cron_ticks (
    workflow_id  bigint NOT NULL REFERENCES workflow (id) ON DELETE CASCADE,
    tick         timestamptz NOT NULL,
    execution_id uuid,
    fired_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, tick)
);

-- Deletes the rows made for tests, and only those: everything named or
-- addressed with the "test-" prefix, and what hangs off it. Children first.
CREATE FUNCTION wf_clear_test_data()
RETURNS TABLE (what text, removed bigint) LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    CREATE TEMP TABLE wf_test_executions ON COMMIT DROP AS
    SELECT e.id FROM workflow_executions e
    WHERE e.workflow_name LIKE 'test-%'
       OR e.idempotency_key LIKE 'test-%'
       OR (e.trigger_table = 'dummy_subscriptions' AND e.trigger_id IN (
               SELECT s.id FROM dummy_subscriptions s
               JOIN dummy_users u ON u.id = s.user_id
               JOIN dummy_subscription_types t ON t.id = s.subscription_type_id
               WHERE u.email LIKE 'test-%' OR t.name LIKE 'test-%'))
       OR (e.trigger_table = 'dummy_newsletters' AND e.trigger_id IN (
               SELECT n.id FROM dummy_newsletters n LEFT JOIN dummy_users u ON u.id = n.user_id
               WHERE coalesce(n.email, u.email) LIKE 'test-%'));
    -- Children of test executions are test executions too.
    INSERT INTO wf_test_executions
    WITH RECURSIVE kids AS (
        SELECT e.id FROM workflow_executions e JOIN wf_test_executions t ON e.parent_execution_id = t.id
        UNION
        SELECT e.id FROM workflow_executions e JOIN kids k ON e.parent_execution_id = k.id)
    SELECT id FROM kids EXCEPT SELECT id FROM wf_test_executions;

    DELETE FROM workflow_executions WHERE id IN (SELECT id FROM wf_test_executions);
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'workflow_executions (with their history, steps, delays and logs)'; removed := n; RETURN NEXT;

    DELETE FROM email_logs WHERE recipient LIKE 'test-%';
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'email_logs'; removed := n; RETURN NEXT;
    DELETE FROM sms_logs WHERE data ->> 'test' = 'true' OR recipient LIKE 'test-%';
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'sms_logs'; removed := n; RETURN NEXT;

    DELETE FROM dummy_newsletters n USING dummy_users u
    WHERE u.id = n.user_id AND u.email LIKE 'test-%';
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM dummy_newsletters WHERE email LIKE 'test-%';
    GET DIAGNOSTICS removed = ROW_COUNT;
    what := 'dummy_newsletters'; removed := removed + n; RETURN NEXT;

    DELETE FROM dummy_subscriptions s USING dummy_users u, dummy_subscription_types t
    WHERE u.id = s.user_id AND t.id = s.subscription_type_id
      AND (u.email LIKE 'test-%' OR t.name LIKE 'test-%');
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'dummy_subscriptions'; removed := n; RETURN NEXT;

    DELETE FROM dummy_users WHERE email LIKE 'test-%';
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'dummy_users'; removed := n; RETURN NEXT;

    DELETE FROM dummy_subscription_types WHERE name LIKE 'test-%';
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'dummy_subscription_types'; removed := n; RETURN NEXT;

    DELETE FROM visual_workflow WHERE name LIKE 'test-%';
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'visual_workflow'; removed := n; RETURN NEXT;

    DELETE FROM workflow WHERE name LIKE 'test-%'
      AND NOT EXISTS (SELECT 1 FROM workflow_executions e WHERE e.workflow_id = workflow.id);
    GET DIAGNOSTICS n = ROW_COUNT;
    what := 'workflow'; removed := n; RETURN NEXT;
END $$;
