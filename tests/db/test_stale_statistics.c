/*
 * test_stale_statistics.c - the engine under statistics taken before a
 * burst of rows (sql/012): a trigger row's context is read by primary key
 * whatever the planner believes (written as a join, it got a merge join
 * that walked dummy_users from the start for every row), and the sweeper's
 * wf_analyze_grown_tables() analyzes a table that outgrew its statistics,
 * so that no session keeps a plan made for an empty table; and a step
 * looked up by id never scans one status's partial index (sql/028).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "runner.h"
#include "testdb.h"

/* Statistics reach the shared counters when a session reports them; make it now. */
static void report_statistics(testdb_t *t)
{
	testdb_exec(t, "SELECT pg_stat_force_next_flush()");
	testdb_exec(t, "SELECT 1");
}

START_TEST(a_context_costs_a_few_buffers_even_after_a_bulk_insert)
{
	testdb_t *t = testdb_new("trigctx");
	long hits;

	/* Statistics from when the table was small; then the bulk arrives. */
	testdb_exec(t, "ALTER TABLE dummy_subscriptions SET (autovacuum_enabled = false)");
	testdb_exec(t, "INSERT INTO dummy_users (email) SELECT 'test-ctx-' || g || '@example.com'"
		       " FROM generate_series(1, 6000) g");
	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		       " SELECT g, 1 FROM generate_series(1, 50) g");
	testdb_exec(t, "ANALYZE");
	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		       " SELECT g, 1 FROM generate_series(51, 6000) g");

	/* Once to warm the catalog caches, whose reads are not the point. */
	testdb_buffers(t, "SELECT wf_trigger_context('dummy_subscriptions', 5989)");
	hits = testdb_buffers(t, "SELECT wf_trigger_context('dummy_subscriptions', 5990)");
	ck_assert_msg(hits < 30, "one subscription's context read %ld buffers", hits);
	ck_assert_str_eq(testdb_text(t, "SELECT wf_trigger_context('dummy_subscriptions', 5990)"
				     " #>> '{user,email}'", 0, NULL), "test-ctx-5990@example.com");

	/* The coordinator's claim of a batch, contexts and all (sql/016): a few buffers a row. */
	testdb_exec(t, "UPDATE dummy_subscriptions SET processed = true WHERE id < 5000");
	hits = testdb_buffers(t, "SELECT id, context FROM wf_subscription_contexts WHERE NOT processed"
				 " ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED");
	ck_assert_msg(hits < 1600, "claiming 200 subscriptions read %ld buffers", hits);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_subscription_contexts c WHERE c.id > 5900"
				     " AND c.context = wf_trigger_context('dummy_subscriptions', c.id)", 0, NULL), 100);

	testdb_exec(t, "INSERT INTO dummy_newsletters (user_id) SELECT g FROM generate_series(1, 50) g");
	testdb_exec(t, "ANALYZE dummy_newsletters");
	testdb_exec(t, "INSERT INTO dummy_newsletters (user_id) SELECT g FROM generate_series(51, 6000) g");
	testdb_exec(t, "INSERT INTO dummy_newsletters (email) VALUES ('test-ctx-guest@example.com')");
	testdb_buffers(t, "SELECT wf_trigger_context('dummy_newsletters', 5989)");
	hits = testdb_buffers(t, "SELECT wf_trigger_context('dummy_newsletters', 5990)");
	ck_assert_msg(hits < 30, "one newsletter's context read %ld buffers", hits);
	ck_assert_str_eq(testdb_text(t, "SELECT wf_trigger_context('dummy_newsletters', 5990)"
				     " #>> '{newsletter,email}'", 0, NULL), "test-ctx-5990@example.com");
	/* A newsletter without a user: no user, its own address. */
	ck_assert_str_eq(testdb_text(t, "SELECT wf_trigger_context('dummy_newsletters', 6001)::text", 0, NULL),
			 testdb_text(t, "SELECT jsonb_build_object('user', NULL, 'newsletter', to_jsonb(n))::text"
				     " FROM dummy_newsletters n WHERE id = 6001", 0, NULL));
	testdb_free(t);
}
END_TEST

START_TEST(a_table_that_outgrew_its_statistics_is_analyzed)
{
	testdb_t *t = testdb_new("grown");

	testdb_exec(t, "ANALYZE");
	testdb_exec(t, "INSERT INTO dummy_users (email) SELECT 'test-grown-' || g || '@example.com'"
		       " FROM generate_series(1, 500) g");
	report_statistics(t);
	/* 500 rows changed: under the 1,000-row floor, nothing to do. */
	ck_assert_str_eq(testdb_text(t, "SELECT wf_analyze_grown_tables()::text", 0, NULL), "{}");

	testdb_exec(t, "INSERT INTO dummy_users (email) SELECT 'test-grown-' || g || '@example.com'"
		       " FROM generate_series(501, 3000) g");
	report_statistics(t);
	ck_assert_str_eq(testdb_text(t, "SELECT wf_analyze_grown_tables()::text", 0, NULL), "{dummy_users}");
	ck_assert_int_eq(testdb_long(t, "SELECT reltuples::bigint FROM pg_class WHERE relname = 'dummy_users'",
				     0, NULL), 3000);
	/* Analyzed now, so not again at the next sweep. */
	report_statistics(t);
	ck_assert_str_eq(testdb_text(t, "SELECT wf_analyze_grown_tables()::text", 0, NULL), "{}");
	testdb_free(t);
}
END_TEST

/*
 * The history and the log tables only grow under the engine, which never
 * reads them through a cached plan: they are left to autovacuum (sql/024).
 */
START_TEST(append_only_tables_are_left_to_autovacuum)
{
	testdb_t *t = testdb_new("appendonly");

	testdb_exec(t, "ANALYZE");
	testdb_exec(t, "INSERT INTO workflow_execution_history (execution_id, to_status)"
		       " SELECT gen_random_uuid(), 'idle' FROM generate_series(1, 3000)");
	testdb_exec(t, "INSERT INTO email_logs (execution_id, node_id, recipient, subject)"
		       " SELECT gen_random_uuid(), 'n', 'test-append@example.com', 's' FROM generate_series(1, 3000)");
	testdb_exec(t, "INSERT INTO dummy_users (email) SELECT 'test-append-' || g || '@example.com'"
		       " FROM generate_series(1, 3000) g");
	report_statistics(t);
	ck_assert_str_eq(testdb_text(t, "SELECT wf_analyze_grown_tables()::text", 0, NULL), "{dummy_users}");
	testdb_free(t);
}
END_TEST

/*
 * The sweeper's ANALYZE is a light one (sql/013, sql/032): a sample of 300
 * rows gives the row counts plans are chosen by; and no ANALYZE spends time on
 * the payload columns no query filters on.
 */
START_TEST(the_sweepers_analyze_is_light)
{
	testdb_t *t = testdb_new("lightstats");
	long estimate;

	testdb_exec(t, "ANALYZE");
	testdb_exec(t, "INSERT INTO dummy_users (email) SELECT 'test-light-' || g || '@example.com'"
		       " FROM generate_series(1, 20000) g");
	report_statistics(t);
	ck_assert_str_eq(testdb_text(t, "SELECT wf_analyze_grown_tables()::text", 0, NULL), "{dummy_users}");
	estimate = testdb_long(t, "SELECT reltuples::bigint FROM pg_class WHERE relname = 'dummy_users'", 0, NULL);
	ck_assert_msg(estimate > 18000 && estimate < 22000, "20,000 rows estimated as %ld", estimate);
	/* Target 1 (sql/032): two histogram bounds at most, where the default gives 101. */
	ck_assert_int_le(testdb_long(t, "SELECT cardinality(histogram_bounds::text::text[]) FROM pg_stats"
				     " WHERE tablename = 'dummy_users' AND attname = 'email'", 0, NULL), 2);

	testdb_exec(t, "INSERT INTO email_logs (execution_id, node_id, recipient, subject, data)"
		       " SELECT gen_random_uuid(), 'n', 'test-light@example.com', 's' || g, jsonb_build_object('g', g)"
		       " FROM generate_series(1, 100) g");
	testdb_exec(t, "ANALYZE email_logs");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM pg_stats WHERE tablename = 'email_logs'"
				     " AND attname IN ('execution_id', 'node_id', 'recipient')", 0, NULL), 3);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM pg_stats WHERE tablename = 'email_logs'"
				     " AND attname IN ('data', 'subject')", 0, NULL), 0);
	testdb_free(t);
}
END_TEST

/*
 * The queue's partial indexes (sql/028) serve the queries that read them by
 * their column (the claim by run_at, the sweeper by lease), never a lookup
 * by id and status: when the queue was last analyzed empty, the planner
 * took such an index for one row and scanned it whole for every step a
 * round recorded. With sequential scans priced out, a query naming only
 * the status shows whether an index can answer it.
 */
START_TEST(a_status_alone_never_picks_the_queues_partial_indexes)
{
	testdb_t *t = testdb_new("queuestats");
	static const struct {
		const char *sql;
		const char *index;	/* the index its plan must use, or NULL: neither may */
	} plans[] = {
		{ "SELECT id FROM wf_steps WHERE status = 'ready'", NULL },
		{ "SELECT id FROM wf_steps WHERE status = 'claimed'", NULL },
		{ "SELECT id FROM wf_steps WHERE status = 'ready' AND run_at <= now() ORDER BY run_at LIMIT 80",
		  "wf_steps_ready" },
		{ "SELECT min(run_at) FROM wf_steps WHERE status = 'ready' AND run_at < 'infinity'", "wf_steps_ready" },
		{ "SELECT id FROM wf_steps WHERE status = 'claimed' AND lease_expires_at < now()", "wf_steps_lease" },
		{ "SELECT id FROM wf_steps WHERE claimed_by = 1 AND status = 'claimed' AND lease_expires_at IS NOT NULL",
		  "wf_steps_lease" },
	};

	testdb_exec(t, "SET enable_seqscan = off");
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		char explain[512];
		const char *plan;

		snprintf(explain, sizeof(explain), "EXPLAIN (FORMAT JSON) %s", plans[i].sql);
		plan = testdb_text(t, explain, 0, NULL);
		if (plans[i].index)
			ck_assert_msg(strstr(plan, plans[i].index) != NULL, "%s: %s", plans[i].sql, plan);
		else
			ck_assert_msg(strstr(plan, "wf_steps_ready") == NULL && strstr(plan, "wf_steps_lease") == NULL,
				      "%s: %s", plans[i].sql, plan);
	}
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("stale_statistics", 60, a_context_costs_a_few_buffers_even_after_a_bulk_insert,
	    a_table_that_outgrew_its_statistics_is_analyzed, append_only_tables_are_left_to_autovacuum,
	    the_sweepers_analyze_is_light, a_status_alone_never_picks_the_queues_partial_indexes)
