/*
 * test_reconnect.c - the coordinator after the server ended its threadpool
 * sessions (pg_terminate_backend here; a server restart does the same to
 * them): the API answers at once instead of 503 on each ended connection,
 * and a trigger row starts its workflow within a couple of seconds even
 * when the poll interval is ten minutes.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "daemons.h"
#include "fixtures.h"
#include "httpc.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

#define POOLED "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()" \
	       " AND application_name = 'wf-coordinator'"
#define LISTENING "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()" \
		  " AND application_name = 'wf-coordinator listen'"

/*
 * Ends the session of the coordinator's one threadpool thread once its
 * start-up runs (validation, trigger catch-up) are done, and waits until
 * it is gone: then the test's own request or trigger row is the first to
 * meet the ended session (the cron job, once a second, is the only other
 * user of the thread).
 */
static void terminate_after_start_up(testdb_t *t)
{
	ck_assert_int_eq(fixture_wait_long(t, POOLED, 1, 10000), 1);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow WHERE valid IS NULL", 0, 10000), 0);
	proc_sleep_ms(300);
	ck_assert_int_eq(testdb_long(t, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
				     " WHERE datname = current_database() AND application_name = 'wf-coordinator'",
				     0, NULL), 1);
	/* Gone from pg_stat_activity: the backend has sent its FATAL and closed the socket. */
	ck_assert_int_eq(fixture_wait_long(t, POOLED, 0, 5000), 0);
}

START_TEST(api_answers_at_once_after_the_server_ended_the_pool_sessions)
{
	testdb_t *t = testdb_new("reconnect_api");
	/* One thread, so that the calls meet the ended session. */
	const char *env[] = { "PORT=0", "LOG_FORMAT=json", "BATCH_INTERVAL_MS=600000", "UV_THREADPOOL_SIZE=1", NULL };
	char log[256], url[128];
	pid_t coord;

	daemon_log_path(log, sizeof(log), "reconnect-api");
	coord = proc_start("WF_COORDINATOR", NULL, env, log);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/workflow/triggers/subscription-types",
		 daemon_api_port(log, 15000));
	terminate_after_start_up(t);
	for (int i = 0; i < 6; i++) {
		httpc_reply_t r;

		httpc_call("GET", url, NULL, 0, NULL, &r);
		ck_assert_msg(r.status == 200, "call %d: %ld %s", i, r.status, r.body ? r.body : "");
		httpc_free(&r);
	}
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(a_trigger_row_starts_soon_after_the_server_ended_the_pool_sessions)
{
	testdb_t *t = testdb_new("reconnect_trigger");
	/* One thread, so that the trigger job meets the ended session. */
	const char *env[] = { "PORT=0", "LOG_FORMAT=json", "BATCH_INTERVAL_MS=600000", "UV_THREADPOOL_SIZE=1", NULL };
	char log[256];
	pid_t coord;
	double t0;

	daemon_log_path(log, sizeof(log), "reconnect-trigger");
	coord = proc_start("WF_COORDINATOR", NULL, env, log);
	ck_assert_int_eq(fixture_wait_long(t, LISTENING, 1, 10000), 1);
	terminate_after_start_up(t);
	t0 = proc_now_ms();
	PQclear(testdb_query(t,
		"WITH u AS (INSERT INTO dummy_users (email, name) VALUES ('test-user-1@example.com', 'User 1')"
		"           RETURNING id)"
		" INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		" SELECT u.id, (SELECT id FROM dummy_subscription_types WHERE name = 'united') FROM u", 0, NULL));
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions", 1, 3000), 1);
	ck_assert_msg(proc_now_ms() - t0 < 3000, "took %.0f ms", proc_now_ms() - t0);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("reconnect", 120, api_answers_at_once_after_the_server_ended_the_pool_sessions,
	    a_trigger_row_starts_soon_after_the_server_ended_the_pool_sessions)
