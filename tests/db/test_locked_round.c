/*
 * test_locked_round.c - a worker's round locks the due steps without
 * claiming them, runs the quick ones and records them before its commit
 * (sql/017_runs_in_claim.sql): other workers skip a locked step, a round
 * that dies leaves nothing behind, a recorded chain has the history its
 * steps would have had, a step it did not run is claimed the usual way,
 * and a pause waits for the round instead of deadlocking with it.
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

static const char *const sql_open =
	"SELECT step_id, status, locked FROM wf_worker_round_open($1::bigint, $2::int, 60, '[]')";

static const char *const sql_settle =
	"SELECT step_id, status FROM wf_worker_settle($1::bigint, 60, $2::jsonb, $3::bigint[])";

static char worker[24];
static char step[24];

/* A database with n executions of "three" and a registered worker. */
static testdb_t *executions_of_three(const char *tag, int n)
{
	testdb_t *t = testdb_new(tag);

	fixture_workflow(t, "three", three);
	fixture_executions(t, "three", n, NULL);
	snprintf(worker, sizeof(worker), "%ld", testdb_long(t, "SELECT wf_worker_register('locked', 1, 0, 1)", 0, NULL));
	return t;
}

/* Opens a round that locks up to limit steps; step gets the first one's id. Returns how many. */
static int open_round(testdb_t *t, int limit)
{
	char lim[16];
	const char *params[2] = { worker, lim };
	PGresult *res;
	int n;

	snprintf(lim, sizeof(lim), "%d", limit);
	testdb_exec(t, "BEGIN");
	res = testdb_query(t, sql_open, 2, params);
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		ck_assert_str_eq(PQgetvalue(res, i, 1), "idle");
		ck_assert_str_eq(PQgetvalue(res, i, 2), "t");
	}
	if (n > 0)
		snprintf(step, sizeof(step), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* Settles the open round: records ran (a JSON array), claims the ids in claim. Caller clears. */
static PGresult *settle(testdb_t *t, const char *ran, const char *claim)
{
	const char *params[3] = { worker, ran, claim };

	return testdb_query(t, sql_settle, 3, params);
}

/* Records ran, claims nothing (none is left to claim), and commits the round. */
static void record_and_commit(testdb_t *t, const char *ran)
{
	PGresult *res = settle(t, ran, "{}");

	ck_assert_int_eq(PQntuples(res), 0);
	PQclear(res);
	testdb_exec(t, "COMMIT");
}

/* What the worker ran for the locked step: a, then b and c in line (b sent an email). */
static void chain_outcome(char *out, size_t size)
{
	snprintf(out, size,
		 "[{\"step\":%s,\"status\":\"idle\",\"outcome\":\"next\",\"next\":\"b\",\"result\":{\"n\":\"a\"},"
		 "\"then\":[{\"node\":\"b\",\"next\":\"c\",\"result\":{\"n\":\"b\"},"
		 "\"logs\":[{\"email_log\":{\"recipient\":\"test-b@example.com\",\"subject\":\"B\",\"template\":\"t\"}}]},"
		 "{\"node\":\"c\",\"result\":{\"n\":\"c\"}}]}]",
		 step);
}

START_TEST(a_locked_step_is_skipped_by_other_workers_and_left_as_it_was_by_a_dead_round)
{
	testdb_t *t = executions_of_three("lockskip", 2);
	db_t *other = db_new(&t->cfg, "other-worker");
	PGresult *res;

	ck_assert_int_eq(open_round(t, 1), 1);
	ck_assert_int_eq(db_connect(other), 0);
	/* Another worker's claim gets the other execution only, at once. */
	res = db_query(other, "SELECT step_id FROM wf_claim_steps(1, 10, 60)", 0, NULL);
	ck_assert(db_ok(res));
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_ne(PQgetvalue(res, 0, 0), step);
	PQclear(res);
	/* Locked is not claimed: the step is still ready, its execution idle. */
	ck_assert_str_eq(testdb_text(t, "SELECT s.status || ' ' || s.claims || ' ' || e.status FROM wf_steps s"
				     " JOIN workflow_executions e ON e.id = s.execution_id WHERE s.id = $1::bigint",
				     1, (const char *const[]){ step }),
			 "ready 0 idle");
	/* The worker dies: its transaction ends, and the step is due as before. */
	testdb_exec(t, "ROLLBACK");
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || claims FROM wf_steps WHERE id = $1::bigint", 1,
				     (const char *const[]){ step }),
			 "ready 0");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE to_status <> 'idle'"
				      " AND execution_id = (SELECT execution_id FROM wf_steps WHERE id = $1::bigint)", 1,
				      (const char *const[]){ step }),
			 0);
	res = db_query(other, "SELECT step_id FROM wf_claim_steps(1, 10, 60)", 0, NULL);
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), step);
	PQclear(res);
	db_free(other);
	testdb_free(t);
}
END_TEST

START_TEST(a_locked_chain_is_recorded_as_its_steps_would_have_been)
{
	testdb_t *t = executions_of_three("lockchain", 1);
	char ran[1024];

	ck_assert_int_eq(open_round(t, 4), 1);
	proc_sleep_ms(100); /* the worker runs the chain */
	chain_outcome(ran, sizeof(ran));
	record_and_commit(t, ran);
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || current_node || ' ' || (completed_at IS NOT NULL)"
				     " FROM workflow_executions", 0, NULL),
			 "completed c true");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	/* Every transition, in order, from the status it was locked in. */
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(node_id || ':' || from_status || '>' || to_status"
				     " || coalesce(':' || (result ->> 'n'), ''), ' ' ORDER BY id)"
				     " FROM workflow_execution_history WHERE from_status IS NOT NULL", 0, NULL),
			 "a:idle>running a:running>stepCompleted:a b:stepCompleted>running b:running>stepCompleted:b"
			 " c:stepCompleted>running c:running>stepCompleted:c c:stepCompleted>completed");
	/* All of it by the round's one transaction. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(DISTINCT xmin::text) FROM wf_history"
				      " WHERE cardinality(array_remove(from_status, NULL)) > 0", 0, NULL), 1);
	/* In one row of wf_history (sql/029), stamped with its last transition's time. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_history h"
				      " WHERE cardinality(array_remove(from_status, NULL)) > 0"
				      "   AND cardinality(h.to_status) = 7"
				      "   AND h.latest_at = (SELECT max(c) FROM unnest(h.created_at) c)", 0, NULL), 1);
	ck_assert_str_eq(testdb_text(t, "SELECT l.node_id || ' ' || l.attempt || ' ' || l.recipient || ' ' || (l.data IS NULL)"
				     " FROM email_logs l JOIN workflow_executions e ON e.id = l.execution_id", 0, NULL),
			 "b 1 test-b@example.com true");
	/* It started running when the round locked it, and ended when it was recorded. */
	ck_assert_int_ge(testdb_long(t, "SELECT extract(epoch FROM max(created_at) - min(created_at)) * 1000"
				      " FROM workflow_execution_history WHERE from_status IS NOT NULL", 0, NULL), 90);
	ck_assert_int_ge(testdb_long(t, "SELECT extract(epoch FROM l.created_at - h.created_at) * 1000"
				      " FROM email_logs l, workflow_execution_history h WHERE h.to_status = 'running'"
				      " AND h.from_status = 'idle'", 0, NULL), 90);
	testdb_free(t);
}
END_TEST

START_TEST(a_chain_that_stops_short_leaves_its_step_due_at_the_next_node_without_an_index_write)
{
	testdb_t *t = executions_of_three("lockshort", 1);
	char ran[256];

	ck_assert_int_eq(open_round(t, 4), 1);
	snprintf(ran, sizeof(ran), "[{\"step\":%s,\"status\":\"idle\",\"outcome\":\"next\",\"next\":\"b\",\"result\":{}}]",
		 step);
	PQclear(settle(t, ran, "{}"));
	ck_assert_int_eq(testdb_long(t, "SELECT pg_stat_get_xact_tuples_hot_updated('wf_steps'::regclass)", 0, NULL), 1);
	testdb_exec(t, "COMMIT");
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || node_id || ' ' || claims || ' ' || (run_at <= now())"
				     " FROM wf_steps", 0, NULL),
			 "ready b 0 true");
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || current_node FROM workflow_executions", 0, NULL),
			 "stepCompleted a");
	testdb_free(t);
}
END_TEST

/*
 * One round records steps whose lines differ in length: each gets its own
 * history row with its transitions in order (sql/034 numbers them per step).
 */
START_TEST(steps_of_different_lengths_in_one_round_each_get_their_own_transitions)
{
	testdb_t *t = executions_of_three("lockshapes", 3);
	char ids[3][24], ran[1024];
	PGresult *res;

	ck_assert_int_eq(open_round(t, 4), 3);
	res = testdb_query(t, "SELECT id FROM wf_steps ORDER BY id", 0, NULL);
	for (int i = 0; i < 3; i++)
		snprintf(ids[i], sizeof(ids[i]), "%s", PQgetvalue(res, i, 0));
	PQclear(res);
	/* The first ends at a; the second runs b in line and stops before c; the third runs to the end. */
	snprintf(ran, sizeof(ran),
		 "[{\"step\":%s,\"status\":\"idle\",\"outcome\":\"next\",\"result\":{\"n\":\"a1\"}},"
		 "{\"step\":%s,\"status\":\"idle\",\"outcome\":\"next\",\"next\":\"b\",\"result\":{\"n\":\"a2\"},"
		 "\"then\":[{\"node\":\"b\",\"next\":\"c\",\"result\":{\"n\":\"b2\"}}]},"
		 "{\"step\":%s,\"status\":\"idle\",\"outcome\":\"next\",\"next\":\"b\",\"result\":{\"n\":\"a3\"},"
		 "\"then\":[{\"node\":\"b\",\"next\":\"c\"},{\"node\":\"c\",\"result\":{\"n\":\"c3\"}}]}]",
		 ids[0], ids[1], ids[2]);
	record_and_commit(t, ran);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(x.path, ' | ' ORDER BY x.first) FROM ("
				     " SELECT min(h.id) AS first, string_agg(h.node_id || ':' || h.from_status || '>' || h.to_status"
				     "   || coalesce(':' || (h.result ->> 'n'), '') || ':' || h.attempt, ' ' ORDER BY h.id) AS path"
				     " FROM workflow_execution_history h WHERE h.from_status IS NOT NULL"
				     " GROUP BY h.execution_id) x", 0, NULL),
			 "a:idle>running:1 a:running>stepCompleted:a1:1 a:stepCompleted>completed:1"
			 " | a:idle>running:1 a:running>stepCompleted:a2:1 b:stepCompleted>running:1 b:running>stepCompleted:b2:1"
			 " | a:idle>running:1 a:running>stepCompleted:a3:1 b:stepCompleted>running:1 b:running>stepCompleted:1"
			 " c:stepCompleted>running:1 c:running>stepCompleted:c3:1 c:stepCompleted>completed:1");
	/* One row a step, its times in order and its latest_at the last of them. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_history h"
				      " WHERE cardinality(array_remove(from_status, NULL)) > 0"
				      "   AND h.latest_at = h.created_at[cardinality(h.created_at)]"
				      "   AND h.created_at = (SELECT array_agg(c ORDER BY c) FROM unnest(h.created_at) c)"
				      "   AND cardinality(h.error) = cardinality(h.to_status)"
				      "   AND array_position(h.error, NULL) = 1 AND array_remove(h.error, NULL) = '{}'", 0, NULL),
			 3);
	/* The ended ones have no step left; the short one's is due at c. */
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(e.status || ' ' || e.current_node || ' ' || coalesce(s.node_id, '-'),"
				     " ', ' ORDER BY e.status, e.current_node)"
				     " FROM workflow_executions e LEFT JOIN wf_steps s ON s.execution_id = e.id", 0, NULL),
			 "completed a -, completed c -, stepCompleted b c");
	testdb_free(t);
}
END_TEST

/*
 * The round's record is sent an email's log without the fields its result
 * repeats (worker/runner.c): the row takes them from the result, and a
 * field the log does give wins over the result's.
 */
START_TEST(an_email_log_without_its_repeated_fields_takes_them_from_the_result)
{
	testdb_t *t = executions_of_three("lockrepeats", 1);
	char ran[1024];

	ck_assert_int_eq(open_round(t, 4), 1);
	snprintf(ran, sizeof(ran),
		 "[{\"step\":%s,\"status\":\"idle\",\"outcome\":\"next\",\"next\":\"b\","
		 "\"result\":{\"to\":\"test-a@example.com\",\"subject\":\"A\",\"message_id\":\"m-a\"},"
		 "\"logs\":[{\"email_log\":{\"template\":\"t\",\"status\":\"sent\",\"mode\":\"mock\"}}],"
		 "\"then\":[{\"node\":\"b\",\"next\":\"c\","
		 "\"result\":{\"to\":\"test-b@example.com\",\"subject\":\"B\",\"message_id\":\"m-b\"},"
		 "\"logs\":[{\"email_log\":{\"template\":\"t\",\"subject\":\"B, as sent\"}}]}]}]",
		 step);
	record_and_commit(t, ran);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(node_id || ' ' || recipient || ' ' || subject || ' ' || message_id"
				     " || ' ' || template || ' ' || status || ' ' || mode, ' | ' ORDER BY node_id) FROM email_logs",
				     0, NULL),
			 "a test-a@example.com A m-a t sent mock | b test-b@example.com B, as sent m-b t sent mock");
	testdb_free(t);
}
END_TEST

START_TEST(a_locked_step_not_run_is_claimed_and_a_refused_record_becomes_a_claim)
{
	testdb_t *t = executions_of_three("lockclaim", 2);
	char ran[256], claim[64], first[24];
	PGresult *res;

	ck_assert_int_eq(open_round(t, 2), 2);
	snprintf(first, sizeof(first), "%s", step);
	snprintf(claim, sizeof(claim), "{%s}", first);
	/* The other one ran, but its execution was not in the status given: refused. */
	snprintf(ran, sizeof(ran),
		 "[{\"step\":%ld,\"status\":\"stepCompleted\",\"outcome\":\"next\",\"next\":\"b\",\"result\":{}}]",
		 testdb_long(t, "SELECT max(id) FROM wf_steps", 0, NULL));
	res = settle(t, ran, claim);
	testdb_exec(t, "COMMIT");
	/* Both claimed, each with the status it was claimed from, as a claim returns them. */
	ck_assert_int_eq(PQntuples(res), 2);
	for (int i = 0; i < 2; i++)
		ck_assert_str_eq(PQgetvalue(res, i, 1), "idle");
	PQclear(res);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(s.status || ' ' || s.node_id || ' ' || s.claims || ' ' || e.status, ', ')"
				     " FROM wf_steps s JOIN workflow_executions e ON e.id = s.execution_id", 0, NULL),
			 "claimed a 1 running, claimed a 1 running");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE to_status = 'stepCompleted'",
				      0, NULL), 0);
	testdb_free(t);
}
END_TEST

START_TEST(a_pause_waits_for_the_round_and_finds_the_execution_moved_on)
{
	testdb_t *t = executions_of_three("lockpause", 1);
	db_t *api;
	char ran[256];
	PGconn *conn;
	PGresult *res;

	ck_assert_int_eq(open_round(t, 4), 1);
	api = fixture_session_waiting_on(t, "api", "SELECT wf_execution_pause(id) FROM workflow_executions", 0, NULL);
	conn = db_conn(api);
	/* The round records its step while the pause waits: no deadlock. */
	snprintf(ran, sizeof(ran), "[{\"step\":%s,\"status\":\"idle\",\"outcome\":\"next\",\"next\":\"b\",\"result\":{}}]",
		 step);
	record_and_commit(t, ran);
	res = fixture_result(conn);
	ck_assert_msg(db_ok(res), "pause: %s", PQerrorMessage(conn));
	PQclear(res);
	/* The pause came after a: it holds the step at b. */
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || status_before_pause FROM workflow_executions", 0, NULL),
			 "paused stepCompleted");
	ck_assert_str_eq(testdb_text(t, "SELECT status || ' ' || node_id FROM wf_steps", 0, NULL), "held b");
	db_free(api);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("locked_round", 60, a_locked_step_is_skipped_by_other_workers_and_left_as_it_was_by_a_dead_round,
	    a_locked_chain_is_recorded_as_its_steps_would_have_been,
	    a_chain_that_stops_short_leaves_its_step_due_at_the_next_node_without_an_index_write,
	    steps_of_different_lengths_in_one_round_each_get_their_own_transitions,
	    an_email_log_without_its_repeated_fields_takes_them_from_the_result,
	    a_locked_step_not_run_is_claimed_and_a_refused_record_becomes_a_claim,
	    a_pause_waits_for_the_round_and_finds_the_execution_moved_on)
