-- 027_trigger_rows_checked_per_statement: a trigger row's references to
-- its user and its subscription type are checked once per statement, not
-- once per row.
--
-- dummy_subscriptions.user_id, .subscription_type_id and
-- dummy_newsletters.user_id were foreign keys: each inserted row ran a
-- query per key (SELECT ... FOR KEY SHARE of the referenced row, through
-- SPI). An INSERT of 10,000 subscriptions spent 98 ms in the user's check
-- and 74 ms in the type's, beside 79 ms for the rows themselves, and no
-- execution can start before that INSERT commits (docs/performance.md).
-- The same guarantees now hold one statement at a time:
--
-- - New rows (INSERT): one statement trigger locks every user and type
--   they name (FOR KEY SHARE, as the key's check did, so a concurrent
--   delete of one waits for the commit) and refuses the statement with
--   23503, the key's error, when one does not exist. A delete that came
--   first has its row lock; the lock waits for its commit and then finds
--   the row gone.
-- - Changed references (UPDATE OF user_id or subscription_type_id): the
--   same check, per row; an UPDATE that does not name those columns, as
--   the coordinator's marking of rows processed, runs no trigger at all.
-- - A deleted user or subscription type takes its subscriptions and
--   newsletters with it (ON DELETE CASCADE before), by statement triggers
--   whose DELETE runs after the delete's row locks, so it sees every row
--   whose insert committed meanwhile.
-- - A referenced id cannot change (the keys' NO ACTION on update), and
--   TRUNCATE of dummy_users or dummy_subscription_types is refused while
--   rows still refer to them (truncate them together instead).
--
-- One difference remains: under REPEATABLE READ, a delete of a user whose
-- new subscription committed after the deleting transaction's snapshot
-- leaves that subscription behind, where the key failed the delete with a
-- serialization error (docs/operations.md).

ALTER TABLE dummy_subscriptions
    DROP CONSTRAINT dummy_subscriptions_user_id_fkey,
    DROP CONSTRAINT dummy_subscriptions_subscription_type_id_fkey;
ALTER TABLE dummy_newsletters DROP CONSTRAINT dummy_newsletters_user_id_fkey;

-- Locks the users and subscription types that p_table's new or changed
-- rows name and fails as a foreign key does when one is missing. It runs
-- as the tables' owner, as a key's check did, so a role that may insert
-- trigger rows needs no right to lock users (nor, for the cascades below,
-- to delete rows it cannot see). The
-- count of locked rows settles it in one pass; only a refusal looks for
-- which id is missing. A null id names nothing (a newsletter by email).
CREATE FUNCTION wf_trigger_rows_refer(p_table text, p_users bigint[], p_types bigint[])
RETURNS void LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    wanted bigint[];
    locked bigint;
    missing bigint;
BEGIN
    wanted := ARRAY(SELECT DISTINCT x FROM unnest(p_users) x WHERE x IS NOT NULL);
    IF cardinality(wanted) > 0 THEN
        SELECT count(*) INTO locked
        FROM (SELECT FROM dummy_users u WHERE u.id = ANY (wanted) FOR KEY SHARE) l;
        IF locked < cardinality(wanted) THEN
            SELECT min(x) INTO missing FROM unnest(wanted) x
            WHERE NOT EXISTS (SELECT 1 FROM dummy_users u WHERE u.id = x);
            RAISE EXCEPTION '%.user_id %: no such user in dummy_users', p_table, missing
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;

    wanted := ARRAY(SELECT DISTINCT x FROM unnest(p_types) x WHERE x IS NOT NULL);
    IF cardinality(wanted) > 0 THEN
        SELECT count(*) INTO locked
        FROM (SELECT FROM dummy_subscription_types t WHERE t.id = ANY (wanted) FOR KEY SHARE) l;
        IF locked < cardinality(wanted) THEN
            SELECT min(x) INTO missing FROM unnest(wanted) x
            WHERE NOT EXISTS (SELECT 1 FROM dummy_subscription_types t WHERE t.id = x);
            RAISE EXCEPTION '%.subscription_type_id %: no such type in dummy_subscription_types', p_table, missing
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
END $$;

-- Only through the triggers below: called directly, it would let any
-- role hold users' rows locked.
REVOKE EXECUTE ON FUNCTION wf_trigger_rows_refer(text, bigint[], bigint[]) FROM PUBLIC;

-- New rows, a statement at a time.
CREATE FUNCTION wf_subscriptions_added() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM wf_trigger_rows_refer(TG_TABLE_NAME, ARRAY(SELECT a.user_id FROM added a),
                                  ARRAY(SELECT a.subscription_type_id FROM added a));
    RETURN NULL;
END $$;

CREATE FUNCTION wf_newsletters_added() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM wf_trigger_rows_refer(TG_TABLE_NAME, ARRAY(SELECT a.user_id FROM added a), NULL);
    RETURN NULL;
END $$;

CREATE TRIGGER dummy_subscriptions_refer AFTER INSERT ON dummy_subscriptions
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION wf_subscriptions_added();
CREATE TRIGGER dummy_newsletters_refer AFTER INSERT ON dummy_newsletters
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION wf_newsletters_added();

-- Changed references, row by row: PostgreSQL gives no transition tables to
-- a trigger with a column list, and without one every UPDATE (the
-- coordinator's of 500 rows processed among them) would pay for them.
CREATE FUNCTION wf_trigger_row_repointed() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_TABLE_NAME = 'dummy_subscriptions' THEN
        PERFORM wf_trigger_rows_refer(TG_TABLE_NAME, ARRAY[NEW.user_id], ARRAY[NEW.subscription_type_id]);
    ELSE
        PERFORM wf_trigger_rows_refer(TG_TABLE_NAME, ARRAY[NEW.user_id], NULL);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER dummy_subscriptions_repointed AFTER UPDATE OF user_id, subscription_type_id ON dummy_subscriptions
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id
                       OR OLD.subscription_type_id IS DISTINCT FROM NEW.subscription_type_id)
    EXECUTE FUNCTION wf_trigger_row_repointed();
CREATE TRIGGER dummy_newsletters_repointed AFTER UPDATE OF user_id ON dummy_newsletters
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION wf_trigger_row_repointed();

-- A deleted user takes its subscriptions and newsletters with it; a
-- deleted subscription type its subscriptions.
CREATE FUNCTION wf_users_deleted() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM dummy_subscriptions s USING gone g WHERE s.user_id = g.id;
    DELETE FROM dummy_newsletters n USING gone g WHERE n.user_id = g.id;
    RETURN NULL;
END $$;

CREATE FUNCTION wf_subscription_types_deleted() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM dummy_subscriptions s USING gone g WHERE s.subscription_type_id = g.id;
    RETURN NULL;
END $$;

CREATE TRIGGER dummy_users_deleted AFTER DELETE ON dummy_users
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION wf_users_deleted();
CREATE TRIGGER dummy_subscription_types_deleted AFTER DELETE ON dummy_subscription_types
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION wf_subscription_types_deleted();

-- A referenced id stays as it is.
CREATE FUNCTION wf_referenced_id_changed() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    referred boolean;
BEGIN
    IF TG_TABLE_NAME = 'dummy_users' THEN
        referred := EXISTS (SELECT 1 FROM dummy_subscriptions s WHERE s.user_id = OLD.id)
                    OR EXISTS (SELECT 1 FROM dummy_newsletters n WHERE n.user_id = OLD.id);
    ELSE
        referred := EXISTS (SELECT 1 FROM dummy_subscriptions s WHERE s.subscription_type_id = OLD.id);
    END IF;
    IF referred THEN
        RAISE EXCEPTION '%.id % cannot change: trigger rows refer to it', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER dummy_users_id_changed AFTER UPDATE OF id ON dummy_users
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION wf_referenced_id_changed();
CREATE TRIGGER dummy_subscription_types_id_changed AFTER UPDATE OF id ON dummy_subscription_types
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION wf_referenced_id_changed();

-- TRUNCATE runs no delete trigger: refused while rows refer to the table
-- (checked after every table the statement names is emptied, so truncating
-- the referring tables with it works).
CREATE FUNCTION wf_referenced_truncated() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM dummy_subscriptions)
       OR (TG_TABLE_NAME = 'dummy_users' AND EXISTS (SELECT 1 FROM dummy_newsletters n WHERE n.user_id IS NOT NULL)) THEN
        RAISE EXCEPTION 'cannot truncate % while trigger rows refer to it', TG_TABLE_NAME
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Truncate dummy_subscriptions and dummy_newsletters in the same statement.';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER dummy_users_truncated AFTER TRUNCATE ON dummy_users
    FOR EACH STATEMENT EXECUTE FUNCTION wf_referenced_truncated();
CREATE TRIGGER dummy_subscription_types_truncated AFTER TRUNCATE ON dummy_subscription_types
    FOR EACH STATEMENT EXECUTE FUNCTION wf_referenced_truncated();
