/*
 * test_chaos.c - nothing lost, nothing twice, whatever dies: worker
 * children killed with SIGKILL every second through a 20,000-execution
 * run, PostgreSQL itself crashed and restarted in the middle of a run, and
 * a coordinator killed in the middle of its trigger batches. After each,
 * every execution has completed, every email node logged exactly one email,
 * and the queue is empty.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fixtures.h"
#include "pgcluster.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

#define COMPLETED "SELECT count(*) FROM workflow_executions WHERE status = 'completed'"

static const char *const two_emails =
	"{\"trigger\":{\"source\":\"subscription\",\"priority\":1000},\"start\":\"a\",\"nodes\":{"
	"\"a\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":\"b\"},"
	"\"b\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"value_highlight\"}}}";

static pid_t start_coordinator(void)
{
	const char *env[] = { "PORT=0", "LOG_FORMAT=json", "BATCH_INTERVAL_MS=1000", "WORKER_DEAD_AFTER_S=5", NULL };

	return proc_start("WF_COORDINATOR", NULL, env, "/tmp/wf-test-chaos.log");
}

static pid_t start_pool(int processes)
{
	static char procs[32];
	const char *env[] = { procs, "LOG_FORMAT=json", "WORKER_POLL_MS=500", NULL };

	snprintf(procs, sizeof(procs), "WORKER_PROCESSES=%d", processes);
	return proc_start("WF_WORKER", NULL, env, "/tmp/wf-test-chaos.log");
}

/* n test users, each subscribed once (one INSERT of n rows). */
static void subscribe(testdb_t *t, int n)
{
	char count[16];
	const char *params[1] = { count };

	snprintf(count, sizeof(count), "%d", n);
	PQclear(testdb_query(t, "INSERT INTO dummy_users (email) SELECT 'test-chaos-' || g || '@example.com'"
				" FROM generate_series(1, $1::int) g", 1, params));
	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		       " SELECT u.id, (SELECT id FROM dummy_subscription_types WHERE name = 'basic') FROM dummy_users u");
}

static void assert_exactly_once(testdb_t *t, long executions)
{
	ck_assert_int_eq(testdb_long(t, COMPLETED, 0, NULL), executions);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), executions);
	ck_assert_int_eq(testdb_long(t, "SELECT count(DISTINCT trigger_id) FROM workflow_executions", 0, NULL), executions);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs", 0, NULL), executions * 2);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM (SELECT 1 FROM email_logs GROUP BY execution_id, node_id"
				     " HAVING count(*) > 1) x", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM (SELECT 1 FROM workflow_execution_history"
				     " WHERE to_status = 'stepCompleted' GROUP BY execution_id, node_id HAVING count(*) > 1) x",
				     0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_dead_letters", 0, NULL), 0);
}

START_TEST(kill_9_of_random_children_every_second_through_20000_executions)
{
	testdb_t *t = testdb_new("chaoskill");
	pid_t coord, pool;
	double deadline;
	int kills = 0;

	fixture_workflow(t, "test-chaos", two_emails);
	coord = start_coordinator();
	pool = start_pool(4);
	subscribe(t, 20000);
	deadline = proc_now_ms() + 280000;
	while (testdb_long(t, COMPLETED, 0, NULL) < 20000 && proc_now_ms() < deadline) {
		pid_t kids[16];
		int n = proc_children(pool, kids, 16);

		if (n > 0) {
			proc_signal(kids[random() % n], SIGKILL);
			kills++;
		}
		proc_sleep_ms(1000);
	}
	ck_assert_int_ge(kills, 3);
	assert_exactly_once(t, 20000);
	proc_stop(pool);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

START_TEST(postgresql_crashes_and_restarts_mid_run)
{
	pgcluster_t cluster = { 0 };
	testdb_t *t;
	pid_t coord, pool;

	pgcluster_start(&cluster);
	t = testdb_new("chaospg");
	fixture_workflow(t, "test-chaos", two_emails);
	coord = start_coordinator();
	pool = start_pool(2);
	subscribe(t, 5000);
	ck_assert_int_gt(fixture_wait_long(t, "SELECT least(count(*), 1) FROM email_logs", 1, 30000), 0);
	/* The server dies as in a crash and comes back; clients are cut off. */
	pgcluster_restart(&cluster, 1);
	db_connect(t->db);
	ck_assert_int_eq(fixture_wait_long(t, COMPLETED, 5000, 120000), 5000);
	assert_exactly_once(t, 5000);
	proc_stop(pool);
	proc_stop(coord);
	testdb_free(t);
	pgcluster_destroy(&cluster);
}
END_TEST

START_TEST(coordinator_killed_mid_trigger_batch)
{
	testdb_t *t = testdb_new("chaoscoord");
	pid_t coord, pool;

	fixture_workflow(t, "test-chaos", two_emails);
	pool = start_pool(2);
	subscribe(t, 20000);
	coord = start_coordinator();
	/* Some batches committed, the one in hand not: kill it there. */
	ck_assert_int_gt(fixture_wait_long(t, "SELECT least(count(*), 1) FROM workflow_executions", 1, 30000), 0);
	proc_kill(coord);
	ck_assert_int_lt(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions WHERE processed", 0, NULL), 20000);
	coord = start_coordinator();
	ck_assert_int_eq(fixture_wait_long(t, COMPLETED, 20000, 280000), 20000);
	assert_exactly_once(t, 20000);
	proc_stop(pool);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("chaos", 300, kill_9_of_random_children_every_second_through_20000_executions,
	    postgresql_crashes_and_restarts_mid_run, coordinator_killed_mid_trigger_batch)
