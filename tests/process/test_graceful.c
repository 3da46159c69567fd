/*
 * test_graceful.c - SIGTERM on the coordinator while a request is in
 * flight. The request's database work is held up by a row lock the test
 * holds; the signal comes, the coordinator stops accepting connections but
 * waits; the lock goes, and the request still gets its answer, its change
 * is committed, and the coordinator exits 0.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "daemons.h"
#include "fixtures.h"
#include "httpc.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

typedef struct {
	char url[160];
	httpc_reply_t reply;
} call_t;

static void *call_thread(void *arg)
{
	call_t *c = arg;

	httpc_call("POST", c->url, NULL, 0, NULL, &c->reply);
	return NULL;
}

/* Is a coordinator session of this database waiting for a lock? Asked on a connection of its own. */
static bool coordinator_waits_on_lock(db_t *observer)
{
	PGresult *res = db_query(observer,
				 "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
				 " AND application_name = 'wf-coordinator' AND wait_event_type = 'Lock'",
				 0, NULL);
	bool waiting = db_ok(res) && atoi(PQgetvalue(res, 0, 0)) == 1;

	PQclear(res);
	return waiting;
}

START_TEST(sigterm_answers_the_request_in_flight_then_exits_0)
{
	testdb_t *t = testdb_new("graceful");
	const char *env[] = { "PORT=0", "LOG_FORMAT=json", NULL };
	db_t *observer = db_new(&t->cfg, "wf-test observer");
	char log[128], id[64], live[128];
	const char *params[1] = { id };
	call_t call = { 0 };
	pthread_t thread;
	double deadline;
	httpc_reply_t r;
	pid_t coord;
	int status, port;

	fixture_workflow(t, "test-graceful", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "test-graceful", NULL));
	daemon_log_path(log, sizeof(log), "graceful");
	coord = proc_start("WF_COORDINATOR", NULL, env, log);
	port = daemon_api_port(log, 20000);
	ck_assert_int_eq(db_connect(observer), 0);

	/* Hold the execution's row: the pause request will wait for it. */
	testdb_exec(t, "BEGIN");
	PQclear(testdb_query(t, "SELECT 1 FROM workflow_executions WHERE id = $1::uuid FOR UPDATE", 1, params));
	snprintf(call.url, sizeof(call.url), "http://127.0.0.1:%d/workflow/executions/%s/pause", port, id);
	ck_assert_int_eq(pthread_create(&thread, NULL, call_thread, &call), 0);
	deadline = proc_now_ms() + 10000;
	while (!coordinator_waits_on_lock(observer)) {
		ck_assert_msg(proc_now_ms() < deadline, "the request never reached the database");
		proc_sleep_ms(20);
	}

	proc_signal(coord, SIGTERM);
	proc_sleep_ms(500);
	ck_assert_msg(proc_wait(coord, 0) == -1, "the coordinator exited with a request in flight");
	/* It no longer takes new connections. */
	snprintf(live, sizeof(live), "http://127.0.0.1:%d/health/live", port);
	ck_assert_int_eq(httpc_call("GET", live, NULL, 0, NULL, &r), -1);
	httpc_free(&r);

	testdb_exec(t, "COMMIT");
	pthread_join(thread, NULL);
	ck_assert_msg(call.reply.status == 200, "the request in flight got %ld: %s", call.reply.status,
		      call.reply.body);
	ck_assert_ptr_nonnull(strstr(call.reply.body, "paused"));
	httpc_free(&call.reply);
	status = proc_wait(coord, 10000);
	ck_assert_msg(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "coordinator did not exit 0 (status %d)", status);
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_executions WHERE id = $1::uuid", 1, params),
			 "paused");
	db_free(observer);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("graceful", 60, sigterm_answers_the_request_in_flight_then_exits_0)
