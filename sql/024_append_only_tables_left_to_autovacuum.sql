-- 024_append_only_tables_left_to_autovacuum: the sweeper's ANALYZE skips
-- the history and the log tables.
--
-- wf_analyze_grown_tables (sql/012) analyzes a table that grew past its
-- statistics so that no session keeps a plan made while it was empty:
-- the engine's PL/pgSQL statements and foreign-key checks cache theirs.
-- None of those reads the history or a log table: the engine only inserts
-- into them, and an INSERT's plan does not depend on its table's size.
-- Their readers are the API's and the operators' statements, planned at
-- each call, and the trigger that deletes them with their execution
-- (whose cached plan autovacuum's ANALYZE renews as they grow; deleting
-- executions is no burst's work). Yet they are the widest
-- and fastest-growing tables: in a throughput run from empty tables,
-- their ANALYZE was most of the sweeper's 0.2 s of CPU
-- (docs/performance.md). Autovacuum keeps their statistics as before.
CREATE OR REPLACE FUNCTION wf_analyze_grown_tables() RETURNS text[] LANGUAGE plpgsql
SET default_statistics_target = 10 AS $$
DECLARE
    t regclass;
    analyzed text[] := '{}';
BEGIN
    FOR t IN
        SELECT s.relid FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
        WHERE s.schemaname = 'public'
          AND s.relname IN ('workflow_executions', 'wf_steps', 'workflow_delays',
                            'dummy_subscriptions', 'dummy_newsletters', 'dummy_users')
          AND s.n_mod_since_analyze > greatest(1000, c.reltuples)
    LOOP
        EXECUTE format('ANALYZE %s', t);
        analyzed := analyzed || t::text;
    END LOOP;
    RETURN analyzed;
END $$;
