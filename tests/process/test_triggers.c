/*
 * test_triggers.c - trigger rows inserted by plain SQL start the right
 * workflow exactly once: with the coordinator running, after it was down,
 * when it is killed mid-batch, with two coordinators at once, committed
 * together with a change to the workflow's definition, while that
 * workflow is being deleted; unsubscribing
 * and exit conditions stop executions before their next step; cron ticks
 * fire once with two coordinators; clear-test-data keeps non-test rows.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fixtures.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

#define PROCESSED_SUBS "SELECT count(*) FROM dummy_subscriptions WHERE processed"

/* Coordinators of this test's database that are up (their LISTEN session is open). */
#define LISTENING "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()" \
		  " AND application_name = 'wf-coordinator listen'"

static pid_t start_coordinator(const char *extra)
{
	const char *env[] = { "PORT=0", "LOG_FORMAT=json", "BATCH_INTERVAL_MS=60000",
			      extra ? extra : "WF_TEST=1", NULL };

	return proc_start("WF_COORDINATOR", NULL, env, "/tmp/wf-test-triggers.log");
}

static pid_t start_pool(void)
{
	const char *env[] = { "WORKER_PROCESSES=2", "LOG_FORMAT=json", "DELAY_SCALE=86400", NULL };

	return proc_start("WF_WORKER", NULL, env, "/tmp/wf-test-triggers.log");
}

/* n test users, subscribed to the seed types in turn. */
static void insert_subscriptions(testdb_t *t, int from, int n)
{
	char a[16], b[16];
	const char *params[2] = { a, b };

	snprintf(a, sizeof(a), "%d", from);
	snprintf(b, sizeof(b), "%d", from + n - 1);
	PQclear(testdb_query(t,
		"WITH u AS (INSERT INTO dummy_users (email, name)"
		"           SELECT 'test-user-' || g || '@example.com', 'User ' || g"
		"           FROM generate_series($1::int, $2::int) g RETURNING id)"
		" INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		" SELECT u.id, (SELECT id FROM dummy_subscription_types"
		"               WHERE name IN ('united', 'podcast', 'basic', 'family', 'student')"
		"               ORDER BY id OFFSET u.id % 5 LIMIT 1) FROM u", 2, params));
}

static void assert_routed_once(testdb_t *t, long rows)
{
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE trigger_table = 'dummy_subscriptions'",
				     0, NULL), rows);
	ck_assert_int_eq(testdb_long(t, "SELECT count(DISTINCT trigger_id) FROM workflow_executions", 0, NULL), rows);
	/* The right workflow for each type, by the shipped rules. */
	ck_assert_int_eq(testdb_long(t,
		"SELECT count(*) FROM workflow_executions e JOIN dummy_subscriptions s ON s.id = e.trigger_id"
		" JOIN dummy_subscription_types ty ON ty.id = s.subscription_type_id"
		" WHERE e.workflow_name <> CASE ty.name WHEN 'united' THEN 'united_welcome'"
		"                                       WHEN 'podcast' THEN 'podcast_welcome'"
		"                                       ELSE 'generic_welcome' END", 0, NULL), 0);
}

START_TEST(a_thousand_subscriptions_each_start_the_right_workflow_once)
{
	testdb_t *t = testdb_new("subs");
	pid_t coord = start_coordinator(NULL);
	double t0;

	ck_assert_int_eq(fixture_wait_long(t, LISTENING, 1, 10000), 1);
	t0 = proc_now_ms();
	for (int i = 0; i < 10; i++)
		insert_subscriptions(t, i * 100 + 1, 100);
	ck_assert_int_eq(fixture_wait_long(t, PROCESSED_SUBS, 1000, 20000), 1000);
	/* NOTIFY, not the 60 s poll, did it. */
	ck_assert_msg(proc_now_ms() - t0 < 20000, "took %.0f ms", proc_now_ms() - t0);
	assert_routed_once(t, 1000);
	ck_assert_int_eq(testdb_long(t, "SELECT count(DISTINCT workflow_name) FROM workflow_executions", 0, NULL), 3);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(killed_mid_batch_and_two_coordinators_still_exactly_once)
{
	testdb_t *t = testdb_new("twocoord");
	char restarted[256];
	pid_t a, b;

	insert_subscriptions(t, 1, 5000);
	a = start_coordinator(NULL);
	b = start_coordinator(NULL);
	/*
	 * Kill one while it is in the middle of its batches (as soon as the
	 * first batch is in: waiting for a count of exactly 1 waited out the
	 * whole run), then bring it back.
	 */
	ck_assert_int_eq(fixture_wait_long(t, "SELECT least(count(*), 1) FROM workflow_executions", 1, 10000), 1);
	proc_kill(a);
	ck_assert_int_lt(testdb_long(t, PROCESSED_SUBS, 0, NULL), 5000);
	/*
	 * The new one is up when a LISTEN session opened after its start: the
	 * killed one's may linger a moment, and counting it let the SIGTERM
	 * below reach the new one before it ran (it died of it).
	 */
	snprintf(restarted, sizeof(restarted), LISTENING " AND backend_start > '%s'",
		 testdb_text(t, "SELECT clock_timestamp()::text", 0, NULL));
	a = start_coordinator(NULL);
	ck_assert_int_eq(fixture_wait_long(t, PROCESSED_SUBS, 5000, 60000), 5000);
	ck_assert_int_eq(fixture_wait_long(t, restarted, 1, 10000), 1);
	ck_assert_int_eq(fixture_wait_long(t, LISTENING, 2, 10000), 2);
	assert_routed_once(t, 5000);
	proc_stop(a);
	proc_stop(b);
	testdb_free(t);
}
END_TEST

START_TEST(a_row_inserted_while_no_coordinator_runs_starts_when_one_comes_back)
{
	testdb_t *t = testdb_new("later");
	pid_t coord;

	insert_subscriptions(t, 1, 3);
	PQclear(testdb_query(t, "INSERT INTO dummy_newsletters (email) VALUES ('test-reader@example.com')", 0, NULL));
	proc_sleep_ms(300);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 0);
	coord = start_coordinator(NULL);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions", 4, 10000), 4);
	ck_assert_str_eq(testdb_text(t, "SELECT workflow_name FROM workflow_executions WHERE trigger_table = 'dummy_newsletters'",
				     0, NULL), "newsletter_welcome");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_newsletters WHERE processed", 0, NULL), 1);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

/*
 * A definition changed by plain SQL waits for validation; a trigger row
 * committed with the change (or right after it) must still start that
 * workflow, not a lower-priority one and not nothing.
 */
START_TEST(a_row_committed_with_its_workflows_new_definition_starts_that_workflow)
{
	testdb_t *t = testdb_new("pending");
	pid_t coord = start_coordinator(NULL);

	ck_assert_int_eq(fixture_wait_long(t, LISTENING, 1, 10000), 1);
	for (int i = 1; i <= 5; i++) {
		char description[32], email[64];
		const char *params[2] = { description, email };

		snprintf(description, sizeof(description), "\"change %d\"", i);
		snprintf(email, sizeof(email), "test-pending-%d@example.com", i);
		testdb_exec(t, "BEGIN");
		PQclear(testdb_query(t, "UPDATE workflow SET definition = jsonb_set(definition, '{description}', $1::jsonb)"
				     " WHERE name IN ('newsletter_welcome', 'united_welcome')", 1, params));
		PQclear(testdb_query(t,
			"WITH u AS (INSERT INTO dummy_users (email, name) VALUES ($1, 'P') RETURNING id),"
			" s AS (INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
			"       SELECT u.id, ty.id FROM u, dummy_subscription_types ty WHERE ty.name = 'united')"
			" INSERT INTO dummy_newsletters (user_id) SELECT id FROM u", 1, params + 1));
		testdb_exec(t, "COMMIT");
	}
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions", 10, 10000), 10);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE trigger_table = 'dummy_newsletters'"
				     " AND workflow_name = 'newsletter_welcome'", 0, NULL), 5);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE trigger_table = 'dummy_subscriptions'"
				     " AND workflow_name = 'united_welcome'", 0, NULL), 5);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

/*
 * A workflow deleted while the coordinator starts it: the batch routed a
 * row to united_welcome, then waits on that workflow's row (sql/026), which
 * a delete holds. Once the delete commits, the batch is refused (23503) and
 * routed again at once, to what is left: generic_welcome. Nothing refers
 * to the deleted workflow.
 */
START_TEST(a_workflow_deleted_under_a_starting_batch_sends_its_rows_to_the_next_route)
{
	testdb_t *t = testdb_new("deleted_route");
	db_t *inserter = db_new(&t->cfg, "test-inserter");
	pid_t coord = start_coordinator(NULL);

	ck_assert_int_eq(fixture_wait_long(t, LISTENING, 1, 10000), 1);
	ck_assert_int_eq(db_connect(inserter), 0);
	testdb_exec(t, "BEGIN");
	testdb_exec(t, "DELETE FROM workflow WHERE name = 'united_welcome'");
	PQclear(db_query(inserter,
		"WITH u AS (INSERT INTO dummy_users (email, name) VALUES ('test-deleted-route@example.com', 'D') RETURNING id)"
		" INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		" SELECT u.id, ty.id FROM u, dummy_subscription_types ty WHERE ty.name = 'united'", 0, NULL));
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
					   " AND application_name = 'wf-coordinator' AND wait_event_type = 'Lock'", 1, 10000), 1);
	testdb_exec(t, "COMMIT");
	ck_assert_int_eq(fixture_wait_long(t, PROCESSED_SUBS, 1, 10000), 1);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(workflow_name, ',') FROM workflow_executions", 0, NULL),
			 "generic_welcome");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions"
				     " WHERE workflow_id IS NULL OR workflow_id NOT IN (SELECT id FROM workflow)", 0, NULL), 0);
	db_free(inserter);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(unsubscribe_in_the_middle_of_a_delay_cancels_before_the_next_email)
{
	testdb_t *t = testdb_new("unsub");
	pid_t coord = start_coordinator(NULL);
	pid_t pool = start_pool();

	PQclear(testdb_query(t, "INSERT INTO dummy_newsletters (email, name) VALUES ('test-reader@example.com', 'Reader')", 0, NULL));
	/* newsletter_welcome: welcome email, then three days (three seconds at DELAY_SCALE=86400). */
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'delayed'", 1, 15000), 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs", 0, NULL), 1);
	PQclear(testdb_query(t, "UPDATE dummy_newsletters SET unsubscribed_at = now()", 0, NULL));
	/* At once, in the same transaction as the unsubscribe. */
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || last_error FROM workflow_executions", 0, NULL),
			 "cancelled unsubscribed");
	proc_sleep_ms(4500);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs", 0, NULL), 1);
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_delays", 0, NULL), "cancelled");
	proc_stop(pool);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(exit_condition_on_fresh_trigger_data_is_checked_before_every_step)
{
	testdb_t *t = testdb_new("exit");
	pid_t coord, pool;

	testdb_exec(t, "INSERT INTO dummy_subscription_types (name) VALUES ('test-exit-type')");
	fixture_workflow(t, "test-exit",
		"{\"trigger\":{\"source\":\"subscription\",\"priority\":100,"
		"  \"rule\":{\"==\":[{\"var\":\"subscription_type.name\"},\"test-exit-type\"]}},"
		" \"exit_when\":{\"==\":[{\"var\":\"subscription.status\"},\"cancelled\"]},"
		" \"start\":\"hello\",\"nodes\":{"
		"  \"hello\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":\"wait\"},"
		"  \"wait\":{\"type\":\"delay\",\"seconds\":172800,\"next\":\"again\"},"
		"  \"again\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"engagement_nudge\"}}}");
	coord = start_coordinator(NULL);
	pool = start_pool();
	testdb_exec(t, "INSERT INTO dummy_users (email) VALUES ('test-quitter@example.com')");
	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		       " SELECT u.id, ty.id FROM dummy_users u, dummy_subscription_types ty WHERE ty.name = 'test-exit-type'");
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'delayed'", 1, 15000), 1);
	testdb_exec(t, "UPDATE dummy_subscriptions SET status = 'cancelled'");
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'cancelled'", 1, 10000), 1);
	ck_assert_str_eq(testdb_text(t, "SELECT last_error FROM workflow_executions", 0, NULL),
			 "exit condition met before \"wait\"");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs", 0, NULL), 1);
	proc_stop(pool);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(cron_fires_once_per_tick_with_two_coordinators)
{
	testdb_t *t = testdb_new("cron");
	pid_t a, b;
	long first;

	fixture_workflow(t, "test-cron", "{\"trigger\":{\"source\":\"cron\",\"schedule\":\"* * * * *\",\"timezone\":\"Europe/Paris\"},"
					 "\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	/* Saved an hour ago and never fired: sixty ticks were missed; one is caught up. */
	testdb_exec(t, "UPDATE workflow SET updated_at = now() - interval '1 hour' WHERE name = 'test-cron'");
	a = start_coordinator(NULL);
	b = start_coordinator(NULL);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions", 1, 10000), 1);
	proc_sleep_ms(2500);
	first = testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL);
	ck_assert_int_eq(first, testdb_long(t, "SELECT count(*) FROM wf_cron_ticks", 0, NULL));
	ck_assert_int_le(first, 2); /* the catch-up, and the current minute if it turned meanwhile */
	/* The next minute brings exactly one more, whichever coordinator fires it. */
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions", first + 1, 65000), first + 1);
	proc_sleep_ms(3000);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), first + 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(DISTINCT tick) FROM wf_cron_ticks", 0, NULL), first + 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_cron_ticks WHERE extract(second FROM tick) <> 0", 0, NULL), 0);
	ck_assert_str_eq(testdb_text(t, "SELECT context #>> '{cron,timezone}' FROM workflow_executions LIMIT 1", 0, NULL),
			 "Europe/Paris");
	proc_stop(a);
	proc_stop(b);
	testdb_free(t);
}
END_TEST

START_TEST(clear_test_data_removes_only_test_rows)
{
	testdb_t *t = testdb_new("clear");
	const char *args[] = { "clear-test-data", NULL };
	char out[2048];
	const char *survivors =
		"SELECT (SELECT count(*) FROM dummy_users) || '/' || (SELECT count(*) FROM dummy_subscriptions) || '/' ||"
		" (SELECT count(*) FROM dummy_newsletters) || '/' || (SELECT count(*) FROM workflow_executions) || '/' ||"
		" (SELECT count(*) FROM email_logs) || '/' || (SELECT count(*) FROM workflow WHERE name LIKE 'test-%') || '/' ||"
		" (SELECT count(*) FROM dummy_subscription_types)";
	long types;

	fixture_workflow(t, "test-flow", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	fixture_workflow(t, "keep-flow", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	testdb_exec(t, "INSERT INTO dummy_users (email) VALUES ('test-a@example.com'), ('real@example.com')");
	testdb_exec(t, "INSERT INTO dummy_subscription_types (name) VALUES ('test-type')");
	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		       " SELECT u.id, ty.id FROM dummy_users u, dummy_subscription_types ty WHERE ty.name IN ('united', 'test-type')");
	testdb_exec(t, "INSERT INTO dummy_newsletters (email) VALUES ('test-n@example.com'), ('reader@example.com')");
	testdb_exec(t, "SELECT wf_execute('test-flow'), wf_execute('keep-flow')");
	testdb_exec(t, "SELECT wf_execution_create('keep-flow', '{}', 'test-key-1')");
	testdb_exec(t, "INSERT INTO email_logs (recipient) VALUES ('test-x@example.com'), ('someone@example.com')");
	types = testdb_long(t, "SELECT count(*) FROM dummy_subscription_types", 0, NULL);
	ck_assert_int_eq(proc_run("WF_COORDINATOR", args, NULL, NULL, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "removed 2 rows from workflow_executions") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "removed 1 row from dummy_users") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "removed 3 rows from dummy_subscriptions") != NULL, "%s", out);
	/* Left: the real user, its united subscription, the real reader, keep-flow's plain execution,
	 * the real email log, no test- workflow, every type but test-type. */
	{
		char expect[64];

		snprintf(expect, sizeof(expect), "1/1/1/1/1/0/%ld", types - 1);
		ck_assert_str_eq(testdb_text(t, survivors, 0, NULL), expect);
	}
	ck_assert_str_eq(testdb_text(t, "SELECT email FROM dummy_users", 0, NULL), "real@example.com");
	ck_assert_str_eq(testdb_text(t, "SELECT workflow_name FROM workflow_executions", 0, NULL), "keep-flow");
	/* Twice is fine: nothing left to remove. */
	ck_assert_int_eq(proc_run("WF_COORDINATOR", args, NULL, NULL, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "removed 0 test rows in all") != NULL, "%s", out);
	/* A report that cannot be written is a failure, as for the other subcommands. */
	{
		char cmd[1200];
		int status;

		snprintf(cmd, sizeof(cmd), "'%s' clear-test-data >/dev/full 2>/dev/null", getenv("WF_COORDINATOR"));
		status = system(cmd);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
	}
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("triggers", 240, a_thousand_subscriptions_each_start_the_right_workflow_once,
	    killed_mid_batch_and_two_coordinators_still_exactly_once,
	    a_row_inserted_while_no_coordinator_runs_starts_when_one_comes_back,
	    a_row_committed_with_its_workflows_new_definition_starts_that_workflow,
	    a_workflow_deleted_under_a_starting_batch_sends_its_rows_to_the_next_route,
	    unsubscribe_in_the_middle_of_a_delay_cancels_before_the_next_email,
	    exit_condition_on_fresh_trigger_data_is_checked_before_every_step,
	    cron_fires_once_per_tick_with_two_coordinators, clear_test_data_removes_only_test_rows)
