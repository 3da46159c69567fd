/*
 * test_chain.c - a step that moves on stays with the worker that ran it
 * (sql/012_lean_step_path.sql): the round hands it back claimed for its
 * next node, with a new claim counter, the history complete, and its row
 * updated without touching an index; a stopping worker chains nothing; a
 * quarter of every batch is kept for the queue. Nodes a worker ran in line
 * after a step's own (sql/014_hops.sql) are recorded in the same round, or
 * dropped when the execution changed meanwhile.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

static const char *const three =
	"{\"name\":\"three\",\"start\":\"a\",\"nodes\":{"
	"\"a\":{\"type\":\"noop\",\"next\":\"b\"},"
	"\"b\":{\"type\":\"noop\",\"next\":\"c\"},"
	"\"c\":{\"type\":\"noop\"}}}";

static const char *const sql_round =
	"SELECT step_id, claims, node_id, status FROM wf_worker_round($1::bigint, $2::int, 60, $3::jsonb)"
	" ORDER BY step_id";

static char worker[24];

static void register_worker(testdb_t *t)
{
	snprintf(worker, sizeof(worker), "%ld",
		 testdb_long(t, "SELECT wf_worker_register('chain', 1, 0, 1)", 0, NULL));
}

/* One round of the worker: records done (a JSON array), claims up to limit. Caller clears. */
static PGresult *round_of(testdb_t *t, int limit, const char *done)
{
	char lim[16];
	const char *params[3] = { worker, lim, done };

	snprintf(lim, sizeof(lim), "%d", limit);
	return testdb_query(t, sql_round, 3, params);
}

/* The 'next' outcomes of every step in res, each moving on to next (NULL: the end). */
static void next_outcomes(PGresult *res, const char *next, char *out, size_t size)
{
	size_t len = (size_t)snprintf(out, size, "[");

	for (int i = 0; i < PQntuples(res); i++)
		len += (size_t)snprintf(out + len, size - len,
					"%s{\"step\":%s,\"claims\":%s,\"outcome\":\"next\",\"next\":%s%s%s,\"result\":{}}",
					i ? "," : "", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
					next ? "\"" : "", next ? next : "null", next ? "\"" : "");
	snprintf(out + len, size - len, "]");
}

/*
 * A database with n executions of "three" and a registered worker that
 * claimed up to limit of them; done gets their outcomes, all moving on to b.
 */
static testdb_t *claimed_executions(const char *tag, int n, int limit, char *done, size_t size)
{
	testdb_t *t = testdb_new(tag);
	PGresult *res;

	fixture_workflow(t, "three", three);
	fixture_executions(t, "three", n, NULL);
	register_worker(t);
	res = round_of(t, limit, "[]");
	ck_assert_int_eq(PQntuples(res), n < limit ? n : limit);
	next_outcomes(res, "b", done, size);
	PQclear(res);
	return t;
}

START_TEST(a_step_that_moves_on_stays_claimed_by_its_worker)
{
	char done[512], step[24], lease[64], expect[64];
	testdb_t *t = claimed_executions("chain", 1, 4, done, sizeof(done));
	const char *ps[1] = { step };
	PGresult *res;

	snprintf(step, sizeof(step), "%s", testdb_text(t, "SELECT id FROM wf_steps", 0, NULL));
	ck_assert_str_eq(testdb_text(t, "SELECT claims FROM wf_steps", 0, NULL), "1");
	snprintf(lease, sizeof(lease), "%s", testdb_text(t, "SELECT lease_expires_at FROM wf_steps", 0, NULL));

	/* Recorded and handed back in the same round, for node b, under a new claim. */
	testdb_exec(t, "BEGIN");
	res = round_of(t, 4, done);
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), step);
	ck_assert_str_eq(PQgetvalue(res, 0, 1), "2");
	ck_assert_str_eq(PQgetvalue(res, 0, 2), "b");
	ck_assert_str_eq(PQgetvalue(res, 0, 3), "running");
	/* Only unindexed columns changed: a HOT update, no index entry. */
	ck_assert_int_eq(testdb_long(t, "SELECT pg_stat_get_xact_tuples_hot_updated('wf_steps'::regclass)",
				     0, NULL), 1);
	testdb_exec(t, "COMMIT");
	next_outcomes(res, "c", done, sizeof(done));
	PQclear(res);
	snprintf(expect, sizeof(expect), "claimed %s b", worker);
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || claimed_by || ' ' || node_id FROM wf_steps", 0, NULL),
			 expect);
	ck_assert_str_eq(testdb_text(t, "SELECT lease_expires_at FROM wf_steps", 0, NULL), lease);
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || current_node FROM workflow_executions", 0, NULL),
			 "running b");

	/* The claim it had before is spent: a late outcome for node a is refused. */
	ck_assert_str_eq(testdb_text(t, "SELECT wf_step_finish($1::bigint, 1, 'next', 'b')", 1, ps), "stale");

	/* Twice more: c runs chained, then the execution ends and its row goes. */
	res = round_of(t, 4, done);
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 2), "c");
	next_outcomes(res, NULL, done, sizeof(done));
	PQclear(res);
	PQclear(round_of(t, 4, done));
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_executions", 0, NULL), "completed");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	/* Every transition has its history row, in order. */
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(coalesce(node_id, '-') || ':' || to_status, ' ' ORDER BY id)"
				     " FROM workflow_execution_history", 0, NULL),
			 "a:idle a:running a:stepCompleted b:running b:stepCompleted c:running c:stepCompleted"
			 " c:completed");
	testdb_free(t);
}
END_TEST

START_TEST(a_stopping_worker_chains_nothing)
{
	char done[512];
	testdb_t *t = claimed_executions("chainstop", 1, 4, done, sizeof(done));
	PGresult *res;

	/* Its last round claims nothing (limit 0): the step goes back to the queue. */
	res = round_of(t, 0, done);
	ck_assert_int_eq(PQntuples(res), 0);
	PQclear(res);
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || node_id || ' ' || coalesce(claimed_by::text, '-')"
				     " FROM wf_steps", 0, NULL), "ready b -");
	ck_assert_str_eq(testdb_text(t, "SELECT status FROM workflow_executions", 0, NULL), "stepCompleted");
	testdb_free(t);
}
END_TEST

START_TEST(a_quarter_of_every_batch_is_kept_for_the_queue)
{
	char done[2048];
	testdb_t *t = claimed_executions("chainfair", 8, 4, done, sizeof(done));
	PGresult *res;
	int at_a = 0, at_b = 0;

	/* Of four steps moving on, three chain; the fourth slot goes to a waiting execution. */
	res = round_of(t, 4, done);
	ck_assert_int_eq(PQntuples(res), 4);
	for (int i = 0; i < PQntuples(res); i++) {
		at_a += strcmp(PQgetvalue(res, i, 2), "a") == 0;
		at_b += strcmp(PQgetvalue(res, i, 2), "b") == 0;
	}
	PQclear(res);
	ck_assert_int_eq(at_b, 3);
	ck_assert_int_eq(at_a, 1);
	/* The step that did not chain waits in the queue behind the older ones. */
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(node_id, ' ' ORDER BY run_at) FROM wf_steps"
				     " WHERE status = 'ready'", 0, NULL), "a a a b");
	testdb_free(t);
}
END_TEST

START_TEST(a_chained_step_gets_a_fresh_lease_when_its_own_runs_low)
{
	char done[512];
	testdb_t *t = claimed_executions("chainlease", 1, 4, done, sizeof(done));

	/* Less than three quarters of the 60 s lease left: renewed to a full one. */
	testdb_exec(t, "UPDATE wf_steps SET lease_expires_at = now() + interval '10 seconds'");
	PQclear(round_of(t, 4, done));
	ck_assert_int_eq(testdb_long(t, "SELECT extract(epoch FROM lease_expires_at - now())::int FROM wf_steps",
				     0, NULL), 60);
	testdb_free(t);
}
END_TEST

/*
 * A pause that commits while a worker's round is recording the batch: the
 * round sees the execution change under it, records the outcome the way a
 * paused execution wants it (the step held at its next node, nothing
 * chained) and writes nothing twice.
 */
START_TEST(a_pause_landing_while_the_batch_is_recorded_is_respected)
{
	char done[512], lim[16] = "4";
	testdb_t *t = claimed_executions("chainrace", 1, 4, done, sizeof(done));
	const char *params[3] = { worker, lim, done };
	db_t *worker_db;
	PGconn *conn;
	PGresult *res;

	/* The pause takes the execution's row and holds it until it commits. */
	testdb_exec(t, "BEGIN");
	PQclear(testdb_query(t, "SELECT wf_execution_pause(id) FROM workflow_executions", 0, NULL));
	worker_db = fixture_session_waiting_on(t, "chain-worker", sql_round, 3, params);
	conn = db_conn(worker_db);
	testdb_exec(t, "COMMIT");
	res = fixture_result(conn);
	ck_assert_msg(db_ok(res), "round: %s", PQerrorMessage(conn));
	ck_assert_int_eq(PQntuples(res), 0);
	PQclear(res);

	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || status_before_pause FROM workflow_executions", 0, NULL),
			 "paused stepCompleted");
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || node_id || ' ' || claims FROM wf_steps", 0, NULL),
			 "held b 1");
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(coalesce(node_id, '-') || ':' || coalesce(from_status, '-')"
				     " || '>' || to_status, ' ' ORDER BY id) FROM workflow_execution_history", 0, NULL),
			 "a:->idle a:idle>running a:running>paused a:paused>paused");
	db_free(worker_db);
	testdb_free(t);
}
END_TEST

/* The outcome of the one claimed step: a ran, then b and c in line (b sent an email). */
static void in_line_outcome(testdb_t *t, char *out, size_t size)
{
	snprintf(out, size,
		 "[{\"step\":%ld,\"claims\":%ld,\"outcome\":\"next\",\"next\":\"b\",\"result\":{\"n\":\"a\"},"
		 "\"then\":[{\"node\":\"b\",\"next\":\"c\",\"result\":{\"n\":\"b\"},"
		 "\"logs\":[{\"email_log\":{\"recipient\":\"test-b@example.com\",\"subject\":\"B\",\"template\":\"t\"}}]},"
		 "{\"node\":\"c\",\"result\":{\"n\":\"c\"}}]}]",
		 testdb_long(t, "SELECT id FROM wf_steps", 0, NULL), testdb_long(t, "SELECT claims FROM wf_steps", 0, NULL));
}

START_TEST(nodes_run_in_line_are_recorded_in_the_same_round)
{
	char done[512], ignored[512];
	testdb_t *t = claimed_executions("chainhops", 1, 4, ignored, sizeof(ignored));

	in_line_outcome(t, done, sizeof(done));
	PQclear(round_of(t, 4, done));
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || current_node FROM workflow_executions", 0, NULL),
			 "completed c");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	/* Every node's transitions and result, in order, as if each had been a step of its own. */
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(node_id || ':' || to_status || coalesce(':' || (result ->> 'n'), ''),"
				     " ' ' ORDER BY id) FROM workflow_execution_history WHERE from_status IS NOT NULL", 0, NULL),
			 "a:running a:stepCompleted:a b:running b:stepCompleted:b c:running c:stepCompleted:c c:completed");
	/* The email of the node in line, with its node, attempt, and its execution's context by reference. */
	ck_assert_str_eq(testdb_text(t, "SELECT l.node_id || ' ' || l.attempt || ' ' || l.recipient || ' ' || (l.data IS NULL)"
				     " FROM email_logs l JOIN workflow_executions e ON e.id = l.execution_id", 0, NULL),
			 "b 1 test-b@example.com true");
	testdb_free(t);
}
END_TEST

/* Nodes in line are the fast path's only: the careful one (here: a paused execution) records the step's own node. */
START_TEST(nodes_run_in_line_are_dropped_when_the_execution_was_paused)
{
	char done[512], ignored[512];
	testdb_t *t = claimed_executions("chainhopspause", 1, 4, ignored, sizeof(ignored));

	in_line_outcome(t, done, sizeof(done));
	PQclear(testdb_query(t, "SELECT wf_execution_pause(id) FROM workflow_executions", 0, NULL));
	PQclear(round_of(t, 4, done));
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || node_id FROM wf_steps", 0, NULL), "held b");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE node_id IN ('b', 'c')", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM email_logs", 0, NULL), 0);
	testdb_free(t);
}
END_TEST

/* Every field an effect names reaches its channel's row, typed; data it does not name refers to the context. */
START_TEST(audit_rows_keep_every_field_their_step_named)
{
	testdb_t *t = testdb_new("chainlogs");

	fixture_workflow(t, "three", three);
	fixture_executions(t, "three", 1, NULL);
	PQclear(testdb_query(t, "SELECT wf_record_logs_of(ARRAY[id], ARRAY['n'], ARRAY[2], ARRAY['["
			     "{\"email_log\":{\"recipient\":\"test-x@example.com\",\"subject\":\"S\",\"template\":\"t\","
			     "\"data\":{\"k\":1},\"status\":\"failed\",\"mode\":\"smtp\",\"message_id\":\"m\",\"error\":\"e\"}},"
			     "{\"email_log\":{\"recipient\":\"test-y@example.com\",\"data\":null}},"
			     "{\"sms_log\":{\"recipient\":\"+15550100\",\"body\":\"B\",\"provider_status\":503,"
			     "\"status\":\"deferred\",\"mode\":\"http\",\"error\":\"busy\"}},"
			     "{\"webhook_log\":{\"url\":\"http://127.0.0.1/h\",\"method\":\"PUT\",\"request_body\":\"{}\","
			     "\"response_status\":201,\"response_body\":\"ok\",\"duration_ms\":12.5}}]'::jsonb])"
			     " FROM workflow_executions", 0, NULL));
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(concat_ws(' ', node_id, attempt, recipient, quote_literal(subject),"
				     " template, coalesce(data::text, 'context'), status, mode, message_id, error), ' | ' ORDER BY id)"
				     " FROM email_logs", 0, NULL),
			 "n 2 test-x@example.com 'S' t {\"k\": 1} failed smtp m e | n 2 test-y@example.com '' context sent mock");
	ck_assert_str_eq(testdb_text(t, "SELECT concat_ws(' ', node_id, attempt, recipient, body, coalesce(data::text, 'context'),"
				     " status, mode, provider_status, error) FROM sms_logs", 0, NULL),
			 "n 2 +15550100 B context deferred http 503 busy");
	ck_assert_str_eq(testdb_text(t, "SELECT concat_ws(' ', node_id, attempt, url, method, request_body, response_status,"
				     " response_body, duration_ms, status, mode) FROM webhook_logs", 0, NULL),
			 "n 2 http://127.0.0.1/h PUT {} 201 ok 12.5 sent http");
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("chain", 60, a_step_that_moves_on_stays_claimed_by_its_worker, a_stopping_worker_chains_nothing,
	    a_quarter_of_every_batch_is_kept_for_the_queue, a_chained_step_gets_a_fresh_lease_when_its_own_runs_low,
	    a_pause_landing_while_the_batch_is_recorded_is_respected, nodes_run_in_line_are_recorded_in_the_same_round,
	    nodes_run_in_line_are_dropped_when_the_execution_was_paused,
	    audit_rows_keep_every_field_their_step_named)
