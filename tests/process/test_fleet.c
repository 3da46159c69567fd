/*
 * test_fleet.c - several worker pools against one database, as on several
 * hosts: a second pool shows in the registry under its own WORKER_HOST; a
 * pool frozen whole (SIGSTOP of the parent and its children: its heartbeats
 * stop, as when a host dies) is declared dead by the coordinator's sweeper
 * and the steps it held are finished by the other pool; and a rolling
 * restart of two pools during 5,000 executions loses nothing and does
 * nothing twice.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemons.h"
#include "fixtures.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

#define COMPLETED "SELECT count(*) FROM workflow_executions WHERE status = 'completed'"

/* A pool named host with n children; extra is one more NAME=value (may be NULL). */
static pid_t start_pool(const char *host, int n, const char *extra)
{
	char name[64], procs[32];
	const char *env[] = { name, procs, "LOG_FORMAT=json", "WORKER_POLL_MS=1000",
			      "WORKER_DEAD_AFTER_S=2", extra ? extra : "WF_TEST=1", NULL };
	char log[128];

	snprintf(name, sizeof(name), "WORKER_HOST=%s", host);
	snprintf(procs, sizeof(procs), "WORKER_PROCESSES=%d", n);
	snprintf(log, sizeof(log), "/tmp/wf-test-fleet-%d.log", (int)getpid());
	/* proc_start's child copies env before this frame is gone: it execs at once. */
	return proc_start("WF_WORKER", NULL, env, log);
}

static pid_t start_coordinator(const char *dead_after)
{
	const char *env[] = { "PORT=0", "LOG_FORMAT=json", "SWEEP_INTERVAL_MS=200", dead_after, NULL };
	char log[128];

	snprintf(log, sizeof(log), "/tmp/wf-test-fleet-%d.log", (int)getpid());
	return proc_start("WF_COORDINATOR", NULL, env, log);
}

static long workers_of(testdb_t *t, const char *host, const char *status)
{
	const char *params[2] = { host, status };

	return testdb_long(t, "SELECT count(*) FROM wf_workers WHERE host = $1 AND status = $2", 2, params);
}

static bool wait_workers(testdb_t *t, const char *host, const char *status, long n, int timeout_ms)
{
	double deadline = proc_now_ms() + timeout_ms;

	while (proc_now_ms() < deadline) {
		if (workers_of(t, host, status) == n)
			return true;
		proc_sleep_ms(20);
	}
	return false;
}

/* Waits until a one-value query reaches at least n; returns the last value. */
static long wait_at_least(testdb_t *t, const char *sql, long n, int timeout_ms)
{
	double deadline = proc_now_ms() + timeout_ms;
	long v;

	while ((v = testdb_long(t, sql, 0, NULL)) < n && proc_now_ms() < deadline)
		proc_sleep_ms(20);
	return v;
}

static void assert_each_step_once(testdb_t *t, long executions, long steps_each)
{
	ck_assert_int_eq(testdb_long(t, COMPLETED, 0, NULL), executions);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history"
				      " WHERE to_status = 'stepCompleted'", 0, NULL), executions * steps_each);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM (SELECT execution_id, node_id"
				      " FROM workflow_execution_history WHERE to_status = 'stepCompleted'"
				      " GROUP BY 1, 2 HAVING count(*) <> 1) x", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
}

START_TEST(a_second_pool_shows_under_its_host)
{
	testdb_t *t = testdb_new("fleet2");
	pid_t a = start_pool("test-host-a", 2, NULL);
	pid_t b = start_pool("test-host-b", 1, NULL);
	char pa[16], pb[16];
	const char *params[2] = { pa, pb };

	ck_assert(wait_workers(t, "test-host-a", "running", 2, 10000));
	ck_assert(wait_workers(t, "test-host-b", "running", 1, 10000));
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(host || ':' || n, ',' ORDER BY host) FROM"
				       " (SELECT host, count(*) AS n FROM wf_fleet WHERE status = 'running'"
				       "  GROUP BY host) x", 0, NULL), "test-host-a:2,test-host-b:1");
	/* Each row names its pool's parent; the registry and the fleet view agree. */
	snprintf(pa, sizeof(pa), "%d", (int)a);
	snprintf(pb, sizeof(pb), "%d", (int)b);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_fleet WHERE pool_pid ="
				      " CASE host WHEN 'test-host-a' THEN $1::int ELSE $2::int END", 2, params), 3);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_fleet WHERE silent", 0, NULL), 0);
	proc_stop(b);
	ck_assert_int_eq(workers_of(t, "test-host-b", "stopped"), 1);
	ck_assert_int_eq(workers_of(t, "test-host-a", "running"), 2);
	proc_stop(a);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_fleet WHERE status = 'stopped'", 0, NULL), 3);
	testdb_free(t);
}
END_TEST

START_TEST(a_frozen_pool_is_declared_dead_and_its_steps_finished_elsewhere)
{
	testdb_t *t = testdb_new("fleetdead");
	pid_t coord = start_coordinator("WORKER_DEAD_AFTER_S=2");
	pid_t a = start_pool("test-host-a", 2, "WORKER_BATCH=1");
	pid_t b, kids[8];
	int nkids;
	double frozen_at;

	fixture_workflow(t, "test-slow", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"sleep_ms\":3000}}}");
	ck_assert(wait_workers(t, "test-host-a", "running", 2, 10000));
	fixture_executions(t, "test-slow", 4, NULL);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'claimed'", 2, 10000), 2);

	/* The whole pool stops at once, as a host that dies: no heartbeat, no exit. */
	nkids = proc_children(a, kids, 8);
	ck_assert_int_eq(nkids, 2);
	proc_signal(a, SIGSTOP);
	for (int i = 0; i < nkids; i++)
		proc_signal(kids[i], SIGSTOP);
	frozen_at = proc_now_ms();
	b = start_pool("test-host-b", 2, "WORKER_BATCH=1");

	ck_assert_msg(wait_workers(t, "test-host-a", "dead", 2, 10000), "the frozen pool was not declared dead");
	ck_assert_int_eq(fixture_wait_long(t, COMPLETED, 4, 15000), 4);
	ck_assert_msg(proc_now_ms() - frozen_at < 12000, "took %.0f ms", proc_now_ms() - frozen_at);
	/* Everything was done by the live pool, once; it was never taken for dead. */
	assert_each_step_once(t, 4, 1);
	/* steps_done comes with the next heartbeat. */
	ck_assert_int_eq(fixture_wait_long(t, "SELECT sum(steps_done) FROM wf_workers WHERE host = 'test-host-b'",
					   4, 5000), 4);
	ck_assert_int_eq(workers_of(t, "test-host-b", "dead"), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_stuck_executions", 0, NULL), 0);

	for (int i = 0; i < nkids; i++)
		proc_signal(kids[i], SIGKILL);
	proc_kill(a);
	proc_stop(b);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

/*
 * Small batches keep the run long enough (a few seconds even without
 * sanitizers) for both restarts to land in the middle of it.
 */
#define ROLL_BATCH "WORKER_BATCH=8"

/* A pool stops (SIGTERM: it drains) and starts again; returns the new pool. */
static pid_t restart(testdb_t *t, pid_t pool, const char *host)
{
	proc_stop(pool);
	ck_assert_int_eq(workers_of(t, host, "running"), 0);
	return start_pool(host, 2, ROLL_BATCH);
}

START_TEST(rolling_restart_during_five_thousand_executions)
{
	testdb_t *t = testdb_new("fleetroll");
	pid_t coord = start_coordinator("WORKER_DEAD_AFTER_S=2");
	pid_t a = start_pool("test-host-a", 2, ROLL_BATCH);
	pid_t b = start_pool("test-host-b", 2, ROLL_BATCH);
	long done_at_a, done_at_b;

	fixture_workflow(t, "test-roll", "{\"start\":\"hello\",\"nodes\":{"
		"\"hello\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":\"mid\"},"
		"\"mid\":{\"type\":\"noop\",\"next\":\"end\"},\"end\":{\"type\":\"noop\"}}}");
	ck_assert(wait_workers(t, "test-host-a", "running", 2, 10000));
	ck_assert(wait_workers(t, "test-host-b", "running", 2, 10000));
	fixture_executions(t, "test-roll", 5000, "{\"user\":{\"email\":\"test-roll@example.com\",\"name\":\"Ada\"}}");

	ck_assert_int_ge(wait_at_least(t, COMPLETED, 500, 60000), 500);
	a = restart(t, a, "test-host-a");
	done_at_a = testdb_long(t, COMPLETED, 0, NULL);
	ck_assert_int_ge(wait_at_least(t, COMPLETED, done_at_a + 500, 60000), done_at_a + 500);
	b = restart(t, b, "test-host-b");
	done_at_b = testdb_long(t, COMPLETED, 0, NULL);
	printf("completed after restarting a: %ld, after restarting b: %ld of 5000\n", done_at_a, done_at_b);
	/* Both restarts came while work was left, or the test proved nothing. */
	ck_assert_msg(done_at_b < 5000, "all was done before the second restart");
	ck_assert_int_eq(wait_at_least(t, COMPLETED, 5000, 60000), 5000);

	assert_each_step_once(t, 5000, 3);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs", 0, NULL), 5000);
	ck_assert_int_eq(testdb_long(t, "SELECT count(DISTINCT (execution_id, node_id)) FROM email_logs", 0, NULL),
			 5000);
	/* Stopping is not dying: the sweeper rescued nothing and declared no one dead. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'dead'", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'stopped'", 0, NULL), 4);
	proc_stop(a);
	proc_stop(b);
	proc_stop(coord);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("fleet", 120, a_second_pool_shows_under_its_host,
	    a_frozen_pool_is_declared_dead_and_its_steps_finished_elsewhere,
	    rolling_restart_during_five_thousand_executions)
