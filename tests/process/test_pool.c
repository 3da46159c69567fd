/*
 * test_pool.c - the real wf-worker binary: exactly-once completion with
 * several children, kill -9 of a child holding steps, scaling by signals,
 * draining on SIGTERM, SIGHUP replacement, and waking on time for a step
 * due in two seconds.
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
#include "peers.h"
#include "proc.h"
#include "scratch.h"
#include "runner.h"
#include "testdb.h"

static pid_t start_pool(int processes, const char *extra)
{
	static char procs[32];
	const char *env[] = { procs, "LOG_FORMAT=json", "WORKER_POLL_MS=1000",
			      extra ? extra : "WF_TEST=1", NULL };

	snprintf(procs, sizeof(procs), "WORKER_PROCESSES=%d", processes);
	return proc_start("WF_WORKER", NULL, env, "/tmp/wf-test-pool.log");
}

/* Starts the pool with env (NULL-terminated "NAME=value") as its only settings, logging to log. */
static pid_t start_pool_env(const char *const *env, const char *log)
{
	return proc_start("WF_WORKER", NULL, env, log);
}

static int child_count(pid_t pool)
{
	pid_t kids[512];

	return proc_children(pool, kids, 512);
}

static bool wait_children(pid_t pool, int n, int timeout_ms)
{
	double deadline = proc_now_ms() + timeout_ms;

	while (proc_now_ms() < deadline) {
		if (child_count(pool) == n)
			return true;
		proc_sleep_ms(20);
	}
	return false;
}

static void assert_each_step_once(testdb_t *t, long executions, long steps_each)
{
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'",
				     0, NULL), executions);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE to_status = 'stepCompleted'",
				     0, NULL), executions * steps_each);
	ck_assert_int_eq(testdb_long(t,
				     "SELECT count(*) FROM (SELECT execution_id, node_id FROM workflow_execution_history"
				     " WHERE to_status = 'stepCompleted' GROUP BY 1, 2 HAVING count(*) <> 1) x",
				     0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
}

START_TEST(ten_thousand_steps_each_completed_once_by_four_workers)
{
	testdb_t *t = testdb_new("pool10k");
	pid_t pool;

	fixture_workflow(t, "noop1", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	fixture_executions(t, "noop1", 10000, NULL);
	pool = start_pool(4, NULL);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'",
					   10000, 120000), 10000);
	/* All four children took part. */
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_workers WHERE steps_done > 0", 4, 5000), 4);
	proc_stop(pool);
	assert_each_step_once(t, 10000, 1);
	testdb_free(t);
}
END_TEST

START_TEST(kill_9_of_a_child_holding_steps)
{
	testdb_t *t = testdb_new("kill9");
	pid_t pool, victim;
	double killed_at;

	fixture_workflow(t, "slow", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"sleep_ms\":1500}}}");
	pool = start_pool(2, "WORKER_BATCH=1");
	ck_assert(wait_children(pool, 2, 10000));
	fixture_executions(t, "slow", 6, NULL);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'claimed'", 2, 10000), 2);
	victim = (pid_t)testdb_long(t,
				    "SELECT w.pid FROM wf_steps s JOIN wf_workers w ON w.id = s.claimed_by"
				    " WHERE s.status = 'claimed' LIMIT 1", 0, NULL);
	ck_assert(proc_signal(victim, SIGKILL));
	killed_at = proc_now_ms();
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'",
					   6, 10000), 6);
	ck_assert_msg(proc_now_ms() - killed_at < 10000, "steps of the killed child took too long");
	assert_each_step_once(t, 6, 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'dead'", 0, NULL), 1);
	/* The pool replaced the child it lost. */
	ck_assert(wait_children(pool, 2, 5000));
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

static long running_in_registry(testdb_t *t)
{
	return testdb_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'running'", 0, NULL);
}

static void expect_children(testdb_t *t, pid_t pool, int n)
{
	ck_assert_msg(wait_children(pool, n, 10000), "expected %d children, have %d", n, child_count(pool));
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'running'", n, 10000), n);
}

START_TEST(signals_scale_respawn_and_drain)
{
	testdb_t *t = testdb_new("signals");
	pid_t pool = start_pool(2, NULL);
	pid_t kids[8];

	expect_children(t, pool, 2);
	proc_signal(pool, SIGTTIN);
	expect_children(t, pool, 3);
	proc_signal(pool, SIGTTOU);
	expect_children(t, pool, 2);
	proc_signal(pool, SIGTTOU);
	expect_children(t, pool, 1);
	proc_signal(pool, SIGTTOU); /* never fewer than one */
	proc_sleep_ms(300);
	expect_children(t, pool, 1);

	/* A killed child is reaped and replaced by a new process. */
	ck_assert_int_eq(proc_children(pool, kids, 8), 1);
	proc_signal(kids[0], SIGKILL);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'dead'", 1, 10000), 1);
	expect_children(t, pool, 1);
	ck_assert_int_eq(proc_children(pool, kids + 1, 7), 1);
	ck_assert_int_ne(kids[1], kids[0]);

	proc_stop(pool);
	ck_assert_int_eq(running_in_registry(t), 0);
	testdb_free(t);
}
END_TEST

START_TEST(sighup_replaces_every_child)
{
	testdb_t *t = testdb_new("sighup");
	pid_t pool = start_pool(2, NULL);
	pid_t before[8], after[8];

	expect_children(t, pool, 2);
	ck_assert_int_eq(proc_children(pool, before, 8), 2);
	proc_signal(pool, SIGHUP);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'stopped'", 2, 10000), 2);
	expect_children(t, pool, 2);
	ck_assert_int_eq(proc_children(pool, after, 8), 2);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			ck_assert_int_ne(before[i], after[j]);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

START_TEST(a_step_due_in_two_seconds_starts_on_time)
{
	testdb_t *t = testdb_new("ontime");
	pid_t pool = start_pool(2, "WORKER_POLL_MS=60000");
	double lateness_ms;

	fixture_workflow(t, "wait2", "{\"start\":\"w\",\"nodes\":{\"w\":{\"type\":\"delay\",\"seconds\":2,\"next\":\"a\"},"
				     "\"a\":{\"type\":\"noop\"}}}");
	expect_children(t, pool, 2);
	proc_sleep_ms(200); /* the children are idle, waiting on their 60 s poll */
	fixture_execution(t, "wait2", NULL);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'",
					   1, 10000), 1);
	lateness_ms = (double)testdb_long(t,
		"SELECT (extract(epoch FROM h.created_at - d.resume_at) * 1000)::bigint"
		"  FROM workflow_execution_history h JOIN workflow_delays d USING (execution_id)"
		" WHERE h.from_status = 'delayed' AND h.to_status = 'running'", 0, NULL);
	ck_assert_msg(lateness_ms >= 0 && lateness_ms <= 100, "resumed %.0f ms after its time", lateness_ms);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

START_TEST(sigint_exits_fast_and_returns_the_steps)
{
	testdb_t *t = testdb_new("sigint");
	pid_t pool;
	int status;
	double t0;

	fixture_workflow(t, "slow", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"sleep_ms\":20000}}}");
	pool = start_pool(2, "WORKER_BATCH=1");
	fixture_executions(t, "slow", 2, NULL);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'claimed'", 2, 10000), 2);
	t0 = proc_now_ms();
	proc_signal(pool, SIGINT);
	status = proc_wait(pool, 5000);
	ck_assert_msg(status >= 0, "pool did not exit after SIGINT");
	ck_assert_msg(proc_now_ms() - t0 < 3000, "SIGINT exit took %.0f ms", proc_now_ms() - t0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'ready'", 0, NULL), 2);
	/* A fast exit is no crash: three of them must not dead-letter a step. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps WHERE crashes > 0", 0, NULL), 0);
	/* Nor did the children die: they stopped, as asked. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'stopped' AND stopped_at IS NOT NULL",
				     0, NULL), 2);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_workers", 0, NULL), 2);
	testdb_free(t);
}
END_TEST

START_TEST(three_fast_exits_in_a_row_leave_the_step_to_run)
{
	testdb_t *t = testdb_new("sigint3");
	const char *id;
	char exec_id[64];
	const char *params[1] = { exec_id };

	fixture_workflow(t, "slow", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"sleep_ms\":20000}}}");
	id = fixture_execution(t, "slow", NULL);
	snprintf(exec_id, sizeof(exec_id), "%s", id);
	for (int i = 0; i < 3; i++) {
		pid_t pool = start_pool(1, "WORKER_BATCH=1");
		int status;

		ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'claimed'", 1, 10000), 1);
		proc_signal(pool, SIGINT);
		status = proc_wait(pool, 5000);
		ck_assert_msg(status >= 0, "pool did not exit after SIGINT");
	}
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_executions WHERE id = $1::uuid", 1, params),
			 "running");
	ck_assert_int_eq(testdb_long(t, "SELECT crashes FROM wf_steps", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_dead_letters", 0, NULL), 0);
	testdb_free(t);
}
END_TEST

/*
 * The worker's connection is ended while it is in the middle of a webhook
 * call: recording that step fails, and the batch's two other steps never
 * ran. The child reconnects, gives its claims back and runs them again; it
 * must not crash on the outcomes the unrun steps do not have.
 */
START_TEST(a_lost_connection_while_an_external_step_runs_does_not_crash_the_child)
{
	testdb_t *t = testdb_new("lostconn");
	peer_t *hook = peer_must_start("http_receiver.py", (const char *const[]){ "--slow", "2", NULL });
	char def[512], log[128];
	const char *env[] = { "WORKER_PROCESSES=1", "LOG_FORMAT=json", "WORKER_POLL_MS=1000", NULL };
	pid_t pool, before[4], after[4];

	snprintf(def, sizeof(def),
		 "{\"start\":\"hook\",\"nodes\":{\"hook\":{\"type\":\"webhook\","
		 "\"url\":\"http://127.0.0.1:%d/slow\",\"method\":\"POST\",\"body\":{}}}}", hook->port);
	fixture_workflow(t, "test-lostconn", def);
	/* All three are due before the pool starts: its first round claims them together. */
	fixture_executions(t, "test-lostconn", 3, NULL);
	daemon_log_path(log, sizeof(log), "pool-lostconn");
	pool = start_pool_env(env, log);
	ck_assert(wait_children(pool, 1, 10000));
	ck_assert_int_eq(proc_children(pool, before, 4), 1);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'claimed'", 3, 10000), 3);
	/* The first call has reached the receiver, which answers in 2 s. */
	for (double deadline = proc_now_ms() + 10000; peer_count(hook, "req") < 1;) {
		ck_assert_msg(proc_now_ms() < deadline, "the webhook was never called");
		proc_sleep_ms(20);
	}
	ck_assert_int_eq(testdb_long(t, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
				      " WHERE datname = current_database() AND application_name LIKE 'wf-worker %/%'",
				      0, NULL), 1);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'",
					   3, 30000), 3);
	ck_assert_msg(!daemon_log_has(log, "killed by signal"), "the child died (see %s)", log);
	ck_assert_int_eq(proc_children(pool, after, 4), 1);
	ck_assert_int_eq(after[0], before[0]);
	/* One child all along: no replacement registered itself. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_workers", 0, NULL), 1);
	proc_stop(pool);
	peer_stop(hook);
	testdb_free(t);
}
END_TEST

/*
 * SIGHUP with a template folder the children could not load: the pool
 * keeps its children and its running configuration (as for a bad .env),
 * instead of replacing them with children that die of it and stopping.
 * Once the folder is mended, SIGHUP replaces them.
 */
START_TEST(sighup_with_a_broken_template_keeps_the_running_children)
{
	testdb_t *t = testdb_new("sighuptpl");
	char dir[64], tpl_env[128], log[128];
	const char *env[] = { "WORKER_PROCESSES=2", "LOG_FORMAT=json", "WORKER_POLL_MS=1000", tpl_env, NULL };
	pid_t pool, before[8], after[8];

	scratch_make(dir, sizeof(dir));
	scratch_put(dir, "tpl/hello/subject.hbs", "Hello {{user.name}}", NULL, 0);
	scratch_put(dir, "tpl/hello/text.hbs", "Hi {{user.name}}", NULL, 0);
	scratch_put(dir, "tpl/hello/html.hbs", "<p>Hi {{user.name}}</p>", NULL, 0);
	snprintf(tpl_env, sizeof(tpl_env), "TEMPLATES_DIR=%s/tpl", dir);
	daemon_log_path(log, sizeof(log), "pool-sighuptpl");
	pool = start_pool_env(env, log);
	expect_children(t, pool, 2);
	ck_assert_int_eq(proc_children(pool, before, 8), 2);

	scratch_put(dir, "tpl/hello/text.hbs", "Hi {{#if user.name}}", NULL, 0);
	proc_signal(pool, SIGHUP);
	ck_assert_msg(daemon_log_wait_for(log, "reload failed, keeping the running configuration", 5000),
		      "no refusal in %s", log);
	proc_sleep_ms(1000);
	ck_assert_msg(proc_wait(pool, 0) == -1, "the pool stopped");
	ck_assert_int_eq(proc_children(pool, after, 8), 2);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(after[i], before[i]);

	scratch_put(dir, "tpl/hello/text.hbs", "Hi {{user.name}}", NULL, 0);
	proc_signal(pool, SIGHUP);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'stopped'", 2, 10000), 2);
	expect_children(t, pool, 2);
	ck_assert_int_eq(proc_children(pool, after, 8), 2);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			ck_assert_int_ne(before[i], after[j]);
	proc_stop(pool);
	scratch_remove(dir);
	testdb_free(t);
}
END_TEST

/*
 * A child that waits out a database outage is not stuck: the parent must
 * not kill it after STEP_LEASE_S + 30 s (35 s at the shortest lease). The
 * database here is a port nobody listens on.
 */
START_TEST(a_child_waiting_for_the_database_is_not_killed_as_stuck)
{
	char url[128], log[128];
	const char *env[] = { "WORKER_PROCESSES=1", "LOG_FORMAT=json", "STEP_LEASE_S=5", url, NULL };
	pid_t pool, before[4], after[4];

	snprintf(url, sizeof(url), "DATABASE_URL=postgresql://postgres@127.0.0.1:%d/wf_nowhere", peer_closed_port());
	daemon_log_path(log, sizeof(log), "pool-outage");
	pool = start_pool_env(env, log);
	ck_assert(wait_children(pool, 1, 10000));
	ck_assert_int_eq(proc_children(pool, before, 4), 1);
	proc_sleep_ms(37000);
	ck_assert_msg(!daemon_log_has(log, "shows no progress"), "a waiting child was killed as stuck (see %s)", log);
	ck_assert_int_eq(proc_children(pool, after, 4), 1);
	ck_assert_int_eq(after[0], before[0]);
	proc_stop(pool);
}
END_TEST

/*
 * The other side: a child frozen (SIGSTOP, as a child spinning in a loop
 * or blocked in a call would be) shows no sign of life, and its pool kills
 * it after the 5 s lease and 30 s more, and starts another in its slot.
 */
START_TEST(a_frozen_child_is_killed_and_replaced)
{
	testdb_t *t = testdb_new("frozen");
	char log[128];
	const char *env[] = { "WORKER_PROCESSES=1", "LOG_FORMAT=json", "STEP_LEASE_S=5", "WORKER_POLL_MS=1000", NULL };
	pid_t pool, before[4], after[4];
	double frozen_at;
	char sql[128];

	daemon_log_path(log, sizeof(log), "pool-frozen");
	pool = start_pool_env(env, log);
	ck_assert(wait_children(pool, 1, 10000));
	ck_assert_int_eq(proc_children(pool, before, 4), 1);
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'running'", 1, 10000), 1);
	proc_signal(before[0], SIGSTOP);
	frozen_at = proc_now_ms();
	ck_assert_msg(daemon_log_wait_for(log, "shows no progress", 50000), "the frozen child was not killed (see %s)", log);
	ck_assert_msg(proc_now_ms() - frozen_at >= 33000, "killed after %.0f ms, before its 35 s", proc_now_ms() - frozen_at);
	for (double deadline = proc_now_ms() + 10000; proc_now_ms() < deadline; proc_sleep_ms(50))
		if (proc_children(pool, after, 4) == 1 && after[0] != before[0])
			break;
	ck_assert_int_eq(proc_children(pool, after, 4), 1);
	ck_assert_int_ne(after[0], before[0]);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM wf_workers WHERE status = 'running' AND pid = %d", (int)after[0]);
	ck_assert_int_eq(fixture_wait_long(t, sql, 1, 10000), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM wf_workers WHERE status = 'dead' AND pid = %d", (int)before[0]);
	ck_assert_int_eq(fixture_wait_long(t, sql, 1, 10000), 1);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

/*
 * More children than the pool has slots for: the settings refuse
 * WORKER_PROCESSES above 256 with a one-line error, and SIGTTIN at 256 is
 * refused by the pool, which neither writes past its slots nor dies.
 */
START_TEST(no_more_children_than_slots)
{
	testdb_t *t = testdb_new("slots");
	char log[128];
	const char *over[] = { "WORKER_PROCESSES=300", "LOG_FORMAT=json", "WORKER_POLL_MS=5000", NULL };
	const char *full[] = { "WORKER_PROCESSES=256", "LOG_FORMAT=json", "WORKER_POLL_MS=5000", NULL };
	pid_t pool;
	int status;

	daemon_log_path(log, sizeof(log), "pool-slots");
	pool = start_pool_env(over, log);
	status = proc_wait(pool, 5000);
	ck_assert_msg(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) != 0, "status %d", status);
	ck_assert_msg(daemon_log_has(log, "expected an integer from 0 to 256"), "no word on WORKER_PROCESSES in %s", log);
	pool = start_pool_env(full, log);
	ck_assert_msg(wait_children(pool, 256, 60000), "%d children", child_count(pool));
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM wf_workers WHERE status = 'running'", 256, 60000), 256);
	proc_signal(pool, SIGTTIN);
	ck_assert_msg(daemon_log_wait_for(log, "SIGTTIN asks for 257 workers", 5000), "no word on SIGTTIN in %s", log);
	proc_sleep_ms(1000);
	ck_assert_int_eq(child_count(pool), 256);
	ck_assert_msg(!daemon_log_has(log, "killed by signal") && !daemon_log_has(log, "started worker 256"),
		      "see %s", log);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

/* CPU seconds a process has used, from /proc (user + system). */
static double cpu_seconds(long pid)
{
	char path[64];
	unsigned long utime = 0, stime = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "no %s", path);
	/* Fields 14 and 15; the command in field 2 may hold spaces, so skip past its ')'. */
	ck_assert_int_eq(fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime), 2);
	fclose(f);
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

START_TEST(a_due_step_whose_execution_is_held_elsewhere_is_not_polled_hot)
{
	testdb_t *t = testdb_new("heldrow");
	PGconn *holder = PQconnectdb(t->url);
	pid_t pool;
	long backend;
	double used;

	ck_assert_int_eq(PQstatus(holder), CONNECTION_OK);
	fixture_workflow(t, "noop1", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	fixture_execution(t, "noop1", NULL);
	/* An operator's session holds the execution's row: its step is due, and no round can take it. */
	PQclear(PQexec(holder, "BEGIN"));
	PQclear(PQexec(holder, "SELECT 1 FROM workflow_executions FOR UPDATE"));
	pool = start_pool(1, "WORKER_POLL_MS=60000");
	expect_children(t, pool, 1);
	backend = testdb_long(t, "SELECT pid FROM pg_stat_activity"
			      " WHERE datname = current_database() AND application_name LIKE 'wf-worker %/%'", 0, NULL);
	proc_sleep_ms(500);
	used = cpu_seconds(backend);
	proc_sleep_ms(2000);
	used = cpu_seconds(backend) - used;
	/* Retried every 2 ms, the worker's session spent a third of a core on it; backing off, next to nothing. */
	ck_assert_msg(used < 0.1, "the worker's session used %.2f s of CPU in 2 s polling a held row", used);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'idle'", 0, NULL), 1);
	/* Released, the step runs within the longest pause. */
	PQclear(PQexec(holder, "COMMIT"));
	ck_assert_int_eq(fixture_wait_long(t, "SELECT count(*) FROM workflow_executions WHERE status = 'completed'",
					   1, 1000), 1);
	PQfinish(holder);
	proc_stop(pool);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("pool", 180, ten_thousand_steps_each_completed_once_by_four_workers,
	    kill_9_of_a_child_holding_steps, signals_scale_respawn_and_drain,
	    sighup_replaces_every_child, a_step_due_in_two_seconds_starts_on_time,
	    sigint_exits_fast_and_returns_the_steps, a_due_step_whose_execution_is_held_elsewhere_is_not_polled_hot,
	    three_fast_exits_in_a_row_leave_the_step_to_run,
	    a_lost_connection_while_an_external_step_runs_does_not_crash_the_child,
	    sighup_with_a_broken_template_keeps_the_running_children,
	    a_child_waiting_for_the_database_is_not_killed_as_stuck, a_frozen_child_is_killed_and_replaced,
	    no_more_children_than_slots)
