/*
 * test_control.c - start, stop, pause, resume and cancel as SQL functions,
 * the outcome of a step that finishes after its execution was paused or
 * cancelled, and the replay of a dead letter.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"
#include "runner.h"
#include "testdb.h"

static const char *const delay_flow =
	"{\"start\":\"w\",\"nodes\":{\"w\":{\"type\":\"delay\",\"seconds\":60,\"next\":\"a\"},\"a\":{\"type\":\"noop\"}}}";

static long worker(testdb_t *t)
{
	return testdb_long(t, "SELECT wf_worker_register('test', 1, 0, 1)", 0, NULL);
}

/* Claims the execution's step as a worker would; returns "step_id claims". */
static void claim(testdb_t *t, long w, char *step, char *claims)
{
	char wt[24];
	const char *params[1] = { wt };
	PGresult *res;

	snprintf(wt, sizeof(wt), "%ld", w);
	res = testdb_query(t, "SELECT step_id, claims FROM wf_claim_steps($1::bigint, 1, 60)", 1, params);
	ck_assert_int_eq(PQntuples(res), 1);
	strcpy(step, PQgetvalue(res, 0, 0));
	strcpy(claims, PQgetvalue(res, 0, 1));
	PQclear(res);
}

static const char *status_of(testdb_t *t, const char *id)
{
	const char *params[1] = { id };

	return testdb_text(t, "SELECT status FROM workflow_executions WHERE id = $1::uuid", 1, params);
}

/* Claims the ready step of one execution (others may be due too); returns "step_id claims". */
static void claim_of(testdb_t *t, long w, const char *execution, char *step, char *claims)
{
	char wt[24];
	const char *params[2] = { wt, execution };
	PGresult *res;

	snprintf(wt, sizeof(wt), "%ld", w);
	res = testdb_query(t, "SELECT step_id, claims FROM wf_claim_step_ids($1::bigint, ARRAY("
			      "SELECT id FROM wf_steps WHERE execution_id = $2::uuid AND status = 'ready'), 60)",
			   2, params);
	ck_assert_int_eq(PQntuples(res), 1);
	strcpy(step, PQgetvalue(res, 0, 0));
	strcpy(claims, PQgetvalue(res, 0, 1));
	PQclear(res);
}

/* Finishes a claimed step with outcome and the given extra arguments (SQL text after the outcome). */
static const char *finish(testdb_t *t, const char *step, const char *claims, const char *rest)
{
	char sql[256];
	const char *p[2] = { step, claims };

	snprintf(sql, sizeof(sql), "SELECT wf_step_finish($1::bigint, $2::int, %s)", rest);
	return testdb_text(t, sql, 2, p);
}

/* The step of an execution as "status kind", or "" when it has none. */
static const char *step_of(testdb_t *t, const char *id)
{
	const char *params[1] = { id };

	return testdb_text(t, "SELECT (SELECT status || ' ' || kind FROM wf_steps WHERE execution_id = $1::uuid)", 1, params);
}

static const char *const kid_flow = "{\"start\":\"k\",\"nodes\":{\"k\":{\"type\":\"noop\"}}}";
static const char *const parent_flow =
	"{\"start\":\"p\",\"nodes\":{\"p\":{\"type\":\"shared_flow\",\"workflow\":\"test-kid\",\"next\":\"q\"},"
	"\"q\":{\"type\":\"noop\"}}}";
static const char *const wait_for_kid = "'wait', p_child => '{\"workflow\":\"test-kid\"}'";

/* Creates the parent workflow and its child's, starts a parent, and claims its step. */
static void start_parent(testdb_t *t, long w, char parent[64], char *step, char *claims)
{
	fixture_workflow(t, "test-kid", kid_flow);
	fixture_workflow(t, "test-parent", parent_flow);
	snprintf(parent, 64, "%s", fixture_execution(t, "test-parent", NULL));
	claim_of(t, w, parent, step, claims);
}

START_TEST(start_runs_an_execution_created_unstarted)
{
	testdb_t *t = testdb_new("start");
	char id[64];
	const char *params[1] = { id };

	fixture_workflow(t, "noop1", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	snprintf(id, sizeof(id), "%s",
		 testdb_text(t, "SELECT execution_id FROM wf_execution_create('noop1', p_start => false)", 0, NULL));
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_claim_steps(1, 10, 60)", 0, NULL), 0);
	PQclear(testdb_query(t, "SELECT wf_execution_start($1::uuid)", 1, params));
	ck_assert_str_eq(testdb_error(t, "SELECT wf_execution_start($1::uuid)", 1, params), "WF409");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps WHERE run_at <= now()", 0, NULL), 1);
	ck_assert_str_eq(testdb_error(t, "SELECT wf_execution_start('00000000-0000-0000-0000-000000000000')", 0, NULL),
			 "WF404");
	testdb_free(t);
}
END_TEST

START_TEST(pause_and_resume_in_the_middle_of_a_delay)
{
	testdb_t *t = testdb_new("pause");
	char id[64], step[24], claims[16];
	const char *pid[1] = { id };
	long w = worker(t);

	fixture_workflow(t, "wait", delay_flow);
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "wait", NULL));
	claim(t, w, step, claims);
	{
		const char *p[3] = { step, claims, NULL };

		ck_assert_str_eq(testdb_text(t, "SELECT wf_step_finish($1::bigint, $2::int, 'delay', NULL,"
					       " now() + interval '60 seconds', NULL, NULL, NULL,"
					       " '{\"nominal_seconds\":60,\"scaled_seconds\":60}')", 2, p), "ok");
	}
	ck_assert_str_eq(status_of(t, id), "delayed");
	PQclear(testdb_query(t, "SELECT wf_execution_pause($1::uuid)", 1, pid));
	ck_assert_str_eq(status_of(t, id), "paused");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'held'", 0, NULL), 1);
	ck_assert_str_eq(testdb_error(t, "SELECT wf_execution_pause($1::uuid)", 1, pid), "WF409");
	PQclear(testdb_query(t, "SELECT wf_execution_resume($1::uuid)", 1, pid));
	ck_assert_str_eq(status_of(t, id), "delayed");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'ready' AND kind = 'resume'"
				     " AND run_at > now() + interval '50 seconds'", 0, NULL), 1);
	ck_assert_str_eq(testdb_error(t, "SELECT wf_execution_resume($1::uuid)", 1, pid), "WF409");
	testdb_free(t);
}
END_TEST

START_TEST(cancel_removes_pending_steps_and_delays_at_once)
{
	testdb_t *t = testdb_new("cancel");
	char id[64], step[24], claims[16];
	const char *pid[1] = { id };
	long w = worker(t);

	fixture_workflow(t, "wait", delay_flow);
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "wait", NULL));
	claim(t, w, step, claims);
	{
		const char *p[2] = { step, claims };

		testdb_text(t, "SELECT wf_step_finish($1::bigint, $2::int, 'delay', NULL, now() + interval '60 s')", 2, p);
	}
	PQclear(testdb_query(t, "SELECT wf_execution_cancel($1::uuid, 'unsubscribed')", 1, pid));
	ck_assert_str_eq(status_of(t, id), "cancelled");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_delays", 0, NULL), "cancelled");
	ck_assert_str_eq(testdb_text(t, "SELECT last_error FROM workflow_executions", 0, NULL), "unsubscribed");
	testdb_free(t);
}
END_TEST

START_TEST(stop_ends_as_cancelled_with_reason_stopped)
{
	testdb_t *t = testdb_new("stop");
	char id[64];
	const char *pid[1] = { id };

	fixture_workflow(t, "wait", delay_flow);
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "wait", NULL));
	PQclear(testdb_query(t, "SELECT wf_execution_stop($1::uuid)", 1, pid));
	ck_assert_str_eq(status_of(t, id), "cancelled");
	ck_assert_str_eq(testdb_text(t, "SELECT last_error FROM workflow_executions", 0, NULL), "stopped");
	testdb_free(t);
}
END_TEST

START_TEST(a_step_in_flight_when_paused_is_recorded_and_its_successor_held)
{
	testdb_t *t = testdb_new("inflight");
	char id[64], step[24], claims[16];
	const char *pid[1] = { id };
	long w = worker(t);

	fixture_workflow(t, "two", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"next\":\"b\"},\"b\":{\"type\":\"noop\"}}}");
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "two", NULL));
	claim(t, w, step, claims);
	ck_assert_str_eq(status_of(t, id), "running");
	PQclear(testdb_query(t, "SELECT wf_execution_pause($1::uuid)", 1, pid));
	{
		const char *p[2] = { step, claims };

		ck_assert_str_eq(testdb_text(t, "SELECT wf_step_finish($1::bigint, $2::int, 'next', 'b')", 2, p), "ok");
	}
	ck_assert_str_eq(status_of(t, id), "paused");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'held' AND node_id = 'b'", 0, NULL), 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history"
				     " WHERE from_status = 'paused' AND to_status = 'paused' AND node_id = 'a'", 0, NULL), 1);
	PQclear(testdb_query(t, "SELECT wf_execution_resume($1::uuid)", 1, pid));
	ck_assert_str_eq(status_of(t, id), "stepCompleted");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps WHERE status = 'ready' AND node_id = 'b'", 0, NULL), 1);
	testdb_free(t);
}
END_TEST

START_TEST(a_step_finishing_after_cancel_keeps_its_logs_and_nothing_follows)
{
	testdb_t *t = testdb_new("cancelflight");
	char id[64], step[24], claims[16];
	const char *pid[1] = { id };
	long w = worker(t);

	fixture_workflow(t, "two", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"next\":\"b\"},\"b\":{\"type\":\"noop\"}}}");
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "two", NULL));
	claim(t, w, step, claims);
	PQclear(testdb_query(t, "SELECT wf_execution_cancel($1::uuid)", 1, pid));
	{
		const char *p[2] = { step, claims };

		ck_assert_str_eq(testdb_text(t, "SELECT wf_step_finish($1::bigint, $2::int, 'next', 'b', NULL, NULL, NULL,"
					       " '[{\"email_log\":{\"recipient\":\"a@example.com\",\"subject\":\"hi\"}}]')", 2, p),
				 "dropped");
	}
	ck_assert_str_eq(status_of(t, id), "cancelled");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs WHERE node_id = 'a'", 0, NULL), 1);
	testdb_free(t);
}
END_TEST

START_TEST(a_dead_letter_is_replayed)
{
	testdb_t *t = testdb_new("replay");
	char id[64], step[24], claims[16], dl[24];
	const char *pdl[1] = { dl };
	long w = worker(t);

	fixture_workflow(t, "noop1", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "noop1", NULL));
	claim(t, w, step, claims);
	{
		const char *p[2] = { step, claims };

		testdb_text(t, "SELECT wf_step_finish($1::bigint, $2::int, 'fail', p_error => 'receiver said 400')", 2, p);
	}
	ck_assert_str_eq(status_of(t, id), "failed");
	snprintf(dl, sizeof(dl), "%s", testdb_text(t, "SELECT id FROM wf_dead_letters WHERE reason = 'receiver said 400'", 0, NULL));
	PQclear(testdb_query(t, "SELECT wf_dead_letter_replay($1::bigint)", 1, pdl));
	ck_assert_str_eq(status_of(t, id), "retrying");
	ck_assert_str_eq(testdb_error(t, "SELECT wf_dead_letter_replay($1::bigint)", 1, pdl), "WF409");
	claim(t, w, step, claims);
	{
		const char *p[2] = { step, claims };

		testdb_text(t, "SELECT wf_step_finish($1::bigint, $2::int, 'next')", 2, p);
	}
	ck_assert_str_eq(status_of(t, id), "completed");
	testdb_free(t);
}
END_TEST

START_TEST(idempotency_key_returns_the_same_execution)
{
	testdb_t *t = testdb_new("idem");
	char first[64];

	fixture_workflow(t, "noop1", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	snprintf(first, sizeof(first), "%s",
		 testdb_text(t, "SELECT execution_id::text || created::text FROM wf_execution_create('noop1', '{}', 'key-1')", 0, NULL));
	ck_assert_int_eq((int)strlen(first), 36 + 4);
	ck_assert_str_eq(testdb_text(t, "SELECT created::text FROM wf_execution_create('noop1', '{}', 'key-1')", 0, NULL), "false");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 1);
	ck_assert_str_eq(testdb_error(t, "SELECT wf_execute('nope')", 0, NULL), "WF404");
	ck_assert_str_eq(testdb_error(t, "SELECT wf_execute('noop1', '[1]')", 0, NULL), "WF422");
	testdb_free(t);
}
END_TEST

START_TEST(cancelling_a_child_wakes_its_waiting_parent)
{
	testdb_t *t = testdb_new("childcancel");
	char parent[64], step[24], claims[16], child[64];
	const char *pp[1] = { parent }, *pc[1] = { child };
	long w = worker(t);

	fixture_workflow(t, "test-kid", "{\"start\":\"k\",\"nodes\":{\"k\":{\"type\":\"noop\"}}}");
	fixture_workflow(t, "test-parent", "{\"start\":\"p\",\"nodes\":{\"p\":{\"type\":\"shared_flow\",\"workflow\":\"test-kid\"}}}");
	snprintf(parent, sizeof(parent), "%s", fixture_execution(t, "test-parent", NULL));
	claim(t, w, step, claims);
	{
		const char *p[2] = { step, claims };

		testdb_text(t, "SELECT wf_step_finish($1::bigint, $2::int, 'wait', p_child => '{\"workflow\":\"test-kid\"}')", 2, p);
	}
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM wf_steps WHERE execution_id = $1::uuid", 1, pp), "waiting");
	snprintf(child, sizeof(child), "%s", testdb_text(t, "SELECT id FROM workflow_executions WHERE parent_execution_id = $1::uuid", 1, pp));
	PQclear(testdb_query(t, "SELECT wf_execution_cancel($1::uuid)", 1, pc));
	/* The parent's step is due again, to learn that its child failed. */
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || kind FROM wf_steps WHERE execution_id = $1::uuid", 1, pp),
			 "ready child_failed");
	testdb_free(t);
}
END_TEST

/*
 * A failed child and its parent, both dead-lettered, are replayed: the
 * parent's replay starts a second child and waits for it, while the first
 * child runs again. The first child's end must not wake the parent, which
 * would move on while the second child still runs the shared flow.
 */
START_TEST(a_replayed_old_child_does_not_wake_a_parent_waiting_for_a_newer_one)
{
	testdb_t *t = testdb_new("childreplay");
	char parent[64], child1[64], child2[64], step[24], claims[16];
	const char *pp[1] = { parent };
	long w = worker(t);

	start_parent(t, w, parent, step, claims);
	ck_assert_str_eq(finish(t, step, claims, wait_for_kid), "ok");
	snprintf(child1, sizeof(child1), "%s",
		 testdb_text(t, "SELECT id FROM workflow_executions WHERE parent_execution_id = $1::uuid", 1, pp));
	claim_of(t, w, child1, step, claims);
	ck_assert_str_eq(finish(t, step, claims, "'fail', p_error => 'kid failed'"), "ok");
	ck_assert_str_eq(step_of(t, parent), "ready child_failed");
	claim_of(t, w, parent, step, claims);
	ck_assert_str_eq(finish(t, step, claims, "'fail', p_error => 'child failed'"), "ok");

	/* The operator replays every open dead letter, the parent's first. */
	PQclear(testdb_query(t, "SELECT wf_dead_letter_replay(d.id) FROM wf_dead_letters d"
			      " JOIN workflow_executions e ON e.id = d.execution_id"
			      " ORDER BY e.parent_execution_id NULLS FIRST", 0, NULL));
	claim_of(t, w, parent, step, claims);
	ck_assert_str_eq(finish(t, step, claims, wait_for_kid), "ok");
	snprintf(child2, sizeof(child2), "%s",
		 testdb_text(t, "SELECT id FROM workflow_executions WHERE parent_execution_id = $1::uuid AND id <> $2::uuid",
			     2, (const char *const[]){ parent, child1 }));

	/* The first child ends: the parent goes on waiting for the second. */
	claim_of(t, w, child1, step, claims);
	ck_assert_str_eq(finish(t, step, claims, "'next', NULL"), "ok");
	ck_assert_str_eq(status_of(t, child1), "completed");
	ck_assert_str_eq(step_of(t, parent), "waiting run");

	/* The second child ends: now the parent moves on. */
	claim_of(t, w, child2, step, claims);
	ck_assert_str_eq(finish(t, step, claims, "'next', NULL"), "ok");
	ck_assert_str_eq(step_of(t, parent), "ready child_done");
	testdb_free(t);
}
END_TEST

/* A step that waited before the child was recorded (sql/021) is woken by any child, as before. */
START_TEST(a_step_waiting_without_a_recorded_child_is_woken_by_any_child)
{
	testdb_t *t = testdb_new("childlegacy");
	char parent[64], child[64], step[24], claims[16];
	const char *pp[1] = { parent };
	long w = worker(t);

	start_parent(t, w, parent, step, claims);
	ck_assert_str_eq(finish(t, step, claims, wait_for_kid), "ok");
	snprintf(child, sizeof(child), "%s",
		 testdb_text(t, "SELECT child_id FROM wf_steps WHERE execution_id = $1::uuid", 1, pp));
	ck_assert_str_eq(child, testdb_text(t, "SELECT id FROM workflow_executions WHERE parent_execution_id = $1::uuid",
					    1, pp));
	PQclear(testdb_query(t, "UPDATE wf_steps SET child_id = NULL WHERE execution_id = $1::uuid", 1, pp));
	claim_of(t, w, child, step, claims);
	ck_assert_str_eq(finish(t, step, claims, "'next', NULL"), "ok");
	ck_assert_str_eq(step_of(t, parent), "ready child_done");
	testdb_free(t);
}
END_TEST

/*
 * A control function on a parent whose child a worker's round finishes
 * meanwhile: the round holds the child's row, the control call waits for
 * it, and then finds the child completed. It must leave the child alone,
 * not fail the parent's legal request with WF409; and the parent's step,
 * which the child's end woke, must follow the parent's new state.
 * control is the call ($1 = the parent); parent_paused pauses the parent
 * (and the child) first; outcome is the child's step's (the JSON members
 * after step and claims), which must end the child with a single write of
 * its row: a second one would lock the parent's row (the foreign key)
 * and keep the control call from starting; child_after, parent_after and
 * step_after are what the child, the parent and its step are then.
 */
static void control_while_a_child_ends(const char *tag, const char *control, bool parent_paused,
				       const char *outcome, const char *child_after, const char *parent_after,
				       const char *step_after)
{
	testdb_t *t = testdb_new(tag);
	db_t *api;
	char parent[64], child[64], step[24], claims[16], done[256];
	const char *pp[1] = { parent };
	long w = worker(t);
	PGconn *conn;
	PGresult *res;

	start_parent(t, w, parent, step, claims);
	ck_assert_str_eq(finish(t, step, claims, wait_for_kid), "ok");
	snprintf(child, sizeof(child), "%s",
		 testdb_text(t, "SELECT id FROM workflow_executions WHERE parent_execution_id = $1::uuid", 1, pp));
	claim_of(t, w, child, step, claims);
	if (parent_paused)
		PQclear(testdb_query(t, "SELECT wf_execution_pause($1::uuid)", 1, pp));

	/* The worker's round finishes the child and has not committed yet. */
	snprintf(done, sizeof(done), "[{\"step\":%s,\"claims\":%s,%s}]", step, claims, outcome);
	testdb_exec(t, "BEGIN");
	{
		char wt[24];

		snprintf(wt, sizeof(wt), "%ld", w);
		PQclear(testdb_query(t, "SELECT * FROM wf_worker_round($1::bigint, 0, 60, $2::jsonb)", 2,
				     (const char *const[]){ wt, done }));
	}
	api = fixture_session_waiting_on(t, "api", control, 1, pp);
	conn = db_conn(api);
	testdb_exec(t, "COMMIT");
	res = fixture_result(conn);
	ck_assert_msg(db_ok(res), "%s: %s", control, PQerrorMessage(conn));
	PQclear(res);
	ck_assert_str_eq(status_of(t, child), child_after);
	ck_assert_str_eq(status_of(t, parent), parent_after);
	ck_assert_str_eq(step_of(t, parent), step_after);
	db_free(api);
	testdb_free(t);
}

static const char *const next_null = "\"outcome\":\"next\",\"next\":null";

START_TEST(pausing_a_parent_whose_child_ends_meanwhile_succeeds)
{
	control_while_a_child_ends("childpause", "SELECT wf_execution_pause($1::uuid)", false, next_null, "completed", "paused",
				  "held child_done");
}
END_TEST

START_TEST(resuming_a_parent_whose_child_ends_meanwhile_succeeds)
{
	control_while_a_child_ends("childresume", "SELECT wf_execution_resume($1::uuid)", true,
				  "\"outcome\":\"fail\",\"error\":\"kid failed\"", "failed", "running", "ready child_failed");
}
END_TEST

START_TEST(cancelling_a_parent_whose_child_ends_meanwhile_succeeds)
{
	control_while_a_child_ends("childcancel2", "SELECT wf_execution_cancel($1::uuid)", false, next_null, "completed",
				  "cancelled", "");
}
END_TEST

/*
 * The parent is paused while its shared_flow step is in flight; the step
 * then starts the child. The child must be paused with its parent, not run
 * its flow (and send its emails) meanwhile, and run when the parent resumes.
 */
START_TEST(a_child_started_by_a_paused_parent_is_paused_too)
{
	testdb_t *t = testdb_new("childpaused");
	char parent[64], child[64], step[24], claims[16];
	const char *pp[1] = { parent };
	long w = worker(t);

	start_parent(t, w, parent, step, claims);
	PQclear(testdb_query(t, "SELECT wf_execution_pause($1::uuid)", 1, pp));
	ck_assert_str_eq(finish(t, step, claims, wait_for_kid), "ok");
	snprintf(child, sizeof(child), "%s",
		 testdb_text(t, "SELECT id FROM workflow_executions WHERE parent_execution_id = $1::uuid", 1, pp));
	ck_assert_str_eq(status_of(t, parent), "paused");
	ck_assert_str_eq(status_of(t, child), "paused");
	ck_assert_str_eq(step_of(t, child), "held run");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_claim_steps(1, 10, 60)", 0, NULL), 0);

	PQclear(testdb_query(t, "SELECT wf_execution_resume($1::uuid)", 1, pp));
	ck_assert_str_eq(status_of(t, child), "idle");
	ck_assert_str_eq(step_of(t, child), "ready run");
	ck_assert_str_eq(step_of(t, parent), "waiting run");
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("control", 120, start_runs_an_execution_created_unstarted,
	    pause_and_resume_in_the_middle_of_a_delay, cancel_removes_pending_steps_and_delays_at_once,
	    stop_ends_as_cancelled_with_reason_stopped,
	    a_step_in_flight_when_paused_is_recorded_and_its_successor_held,
	    a_step_finishing_after_cancel_keeps_its_logs_and_nothing_follows, a_dead_letter_is_replayed,
	    idempotency_key_returns_the_same_execution, cancelling_a_child_wakes_its_waiting_parent,
	    a_replayed_old_child_does_not_wake_a_parent_waiting_for_a_newer_one,
	    a_step_waiting_without_a_recorded_child_is_woken_by_any_child,
	    pausing_a_parent_whose_child_ends_meanwhile_succeeds, resuming_a_parent_whose_child_ends_meanwhile_succeeds,
	    cancelling_a_parent_whose_child_ends_meanwhile_succeeds, a_child_started_by_a_paused_parent_is_paused_too)
