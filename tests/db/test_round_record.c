/*
 * test_round_record.c - the record of a round's locked steps in arrays
 * (worker/round_record.c, sql/035_round_record_in_arrays.sql): it writes
 * what the jsonb record of sql/017 and sql/034 writes, reads back any text
 * as it was sent, and a malformed one is refused without a trace.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"
#include "json.h"
#include "round_record.h"
#include "runner.h"
#include "testdb.h"

static const char *const three =
	"{\"name\":\"three\",\"start\":\"a\",\"nodes\":{"
	"\"a\":{\"type\":\"noop\",\"next\":\"b\"},"
	"\"b\":{\"type\":\"noop\",\"next\":\"c\"},"
	"\"c\":{\"type\":\"noop\"}}}";

static const char *const sql_settle_ran =
	"SELECT step_id, status FROM wf_worker_settle_ran($1::bigint, 60, $2::bigint[], $3::text[], $4::int[],"
	" $5::int[], $6::text[], $7::text[], $8::jsonb[], $9::jsonb[], $10::text[], $11::text[], $12::text[],"
	" $13::text[], $14::text[], $15::text[], $16::text[], $17::bigint[])";

static char worker[24];

/* A database with n executions of "three", a registered worker, and a round open on them. */
static testdb_t *round_on_three(const char *tag, int n)
{
	testdb_t *t = testdb_new(tag);

	fixture_workflow(t, "three", three);
	fixture_executions(t, "three", n, NULL);
	snprintf(worker, sizeof(worker), "%ld", testdb_long(t, "SELECT wf_worker_register('arrays', 1, 0, 1)", 0, NULL));
	testdb_exec(t, "BEGIN");
	PQclear(testdb_query(t, "SELECT * FROM wf_worker_round_open($1::bigint, 10, 60, '[]')", 1,
			     (const char *const[]){ worker }));
	return t;
}

/* The id of the step of the n-th execution (from 0, by id). */
static const char *step_of(testdb_t *t, int n)
{
	static char ids[4][24];
	char offset[16];

	snprintf(offset, sizeof(offset), "%d", n);
	snprintf(ids[n], sizeof(ids[n]), "%s",
		 testdb_text(t, "SELECT s.id FROM wf_steps s ORDER BY s.execution_id OFFSET $1::int LIMIT 1", 1,
			     (const char *const[]){ offset }));
	return ids[n];
}

/* Sends rec as the round's record, as the worker does, claiming nothing; returns what it claimed (the refused). Caller clears. */
static PGresult *settle_ran(testdb_t *t, round_record_t *rec)
{
	const char *params[1 + RR_ARRAYS + 1] = { worker };
	int lengths[1 + RR_ARRAYS + 1] = { 0 }, formats[1 + RR_ARRAYS + 1] = { 0 };
	PGresult *res;

	round_record_params(rec, params + 1, lengths + 1);
	for (int i = 1; i <= RR_ARRAYS; i++)
		formats[i] = 1;
	params[1 + RR_ARRAYS] = "{}";
	res = PQexecParams(db_conn(t->db), sql_settle_ran, 1 + RR_ARRAYS + 1, NULL, params, lengths, formats, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
	return res;
}

/* One of rec's arrays as the server reads it, in its text form ("NULL" for none). */
static const char *array_as_read(testdb_t *t, round_record_t *rec, int which)
{
	static char text[1024];
	const char *params[RR_ARRAYS];
	int lengths[RR_ARRAYS], format = 1;
	PGresult *res;

	round_record_params(rec, params, lengths);
	if (params[which] == NULL)
		return "NULL";
	res = PQexecParams(db_conn(t->db), which == RR_STEPS ? "SELECT $1::bigint[]::text"
				: which == RR_FIRSTS || which == RR_LASTS ? "SELECT $1::int[]::text"
				: which == RR_RESULTS || which == RR_LOGS ? "SELECT $1::jsonb[]::text"
				: "SELECT $1::text[]::text",
			   1, NULL, &params[which], &lengths[which], &format, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
	snprintf(text, sizeof(text), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return text;
}

/* An outcome from JSON: next node, result and logs as the executors make them. */
static void outcome(exec_outcome_t *out, const char *next, const char *result, const char *logs)
{
	exec_outcome_init(out);
	out->status = EXEC_NEXT;
	out->next_node = next;
	out->result = result ? cJSON_Parse(result) : NULL;
	out->logs = logs ? cJSON_Parse(logs) : NULL;
}

/* Records a step that ran nodes a, b and c with these outcomes. */
static void record_abc(round_record_t *rec, const char *step_id, const exec_outcome_t out[3])
{
	static const char *const nodes[3] = { "a", "b", "c" };

	round_record_step(rec, step_id, "idle");
	for (int i = 0; i < 3; i++)
		round_record_node(rec, nodes[i], &out[i]);
}

/* Lets go of a test's outcomes, record and database. */
static void done_with(exec_outcome_t out[3], round_record_t *rec, testdb_t *t)
{
	for (int i = 0; i < 3; i++)
		exec_outcome_clear(&out[i]);
	round_record_free(rec);
	testdb_free(t);
}

/* The chain both records below send: a, then b (an email) and c (an SMS) in line. */
#define MAIL_B "{\"recipient\":\"test-b@example.com\",\"subject\":\"Say \\\"hi\\\", \\\\ {b} NULL\"," \
	       "\"template\":\"t\",\"status\":\"sent\",\"mode\":\"mock\",\"message_id\":\"m-b\"}"
#define RESULT_B "{\"to\":\"test-b@example.com\",\"subject\":\"Say \\\"hi\\\", \\\\ {b} NULL\",\"message_id\":\"m-b\"}"
#define SMS_C "{\"recipient\":\"+15550100\",\"body\":\"C\",\"status\":\"sent\",\"mode\":\"mock\"}"

/* What the record of a step came to: its execution's transitions, audit rows and status. */
static const char *written_for(testdb_t *t, const char *step_id)
{
	return testdb_text(t,
			   "SELECT (SELECT string_agg(h.node_id || ':' || h.from_status || '>' || h.to_status || ':'"
			   "          || h.attempt || ':' || coalesce(h.result::text, '-'), ' ' ORDER BY h.id)"
			   "        FROM workflow_execution_history h WHERE h.execution_id = x.e AND h.from_status IS NOT NULL)"
			   " || ' | ' || (SELECT string_agg(concat_ws(',', l.node_id, l.attempt, l.recipient, l.subject,"
			   "          l.template, l.data IS NULL, l.status, l.mode, l.message_id, l.error), ' ' ORDER BY l.id)"
			   "        FROM email_logs l WHERE l.execution_id = x.e)"
			   " || ' | ' || (SELECT string_agg(concat_ws(',', m.node_id, m.recipient, m.body, m.status, m.mode), ' ')"
			   "        FROM sms_logs m WHERE m.execution_id = x.e)"
			   " || ' | ' || (SELECT e.status || ' ' || e.current_node FROM workflow_executions e WHERE e.id = x.e)"
			   " FROM (SELECT execution_id AS e FROM steps_of_round WHERE step_id = $1::bigint) x",
			   1, (const char *const[]){ step_id });
}

START_TEST(a_record_in_arrays_writes_what_the_jsonb_record_writes)
{
	testdb_t *t = round_on_three("arrayssame", 2);
	round_record_t *rec = round_record_new();
	exec_outcome_t out[3];
	char ran[2048], first[24], second[24];
	PGresult *res;
	char seen[2][4096];

	/* Which execution each step belongs to, kept before the steps are gone. */
	testdb_exec(t, "CREATE TEMP TABLE steps_of_round AS SELECT id AS step_id, execution_id FROM wf_steps");
	snprintf(first, sizeof(first), "%s", step_of(t, 0));
	snprintf(second, sizeof(second), "%s", step_of(t, 1));
	/* The first execution's chain as the jsonb record (sql/017) takes it... */
	snprintf(ran, sizeof(ran),
		 "[{\"step\":%s,\"status\":\"idle\",\"outcome\":\"next\",\"next\":\"b\",\"result\":{\"n\":\"a\"},"
		 "\"then\":[{\"node\":\"b\",\"next\":\"c\",\"result\":" RESULT_B ",\"logs\":[{\"email_log\":" MAIL_B "}]},"
		 "{\"node\":\"c\",\"logs\":[{\"sms_log\":" SMS_C "}]}]}]",
		 first);
	PQclear(testdb_query(t, "SELECT * FROM wf_worker_settle($1::bigint, 60, $2::jsonb, '{}')", 2,
			     (const char *const[]){ worker, ran }));
	/* ...and the second's, the same, in arrays. */
	outcome(&out[0], "b", "{\"n\":\"a\"}", NULL);
	outcome(&out[1], "c", RESULT_B, "[{\"email_log\":" MAIL_B "}]");
	outcome(&out[2], NULL, NULL, "[{\"sms_log\":" SMS_C "}]");
	record_abc(rec, second, out);
	res = settle_ran(t, rec);
	ck_assert_int_eq(PQntuples(res), 0);
	PQclear(res);
	testdb_exec(t, "COMMIT");
	snprintf(seen[0], sizeof(seen[0]), "%s", written_for(t, first));
	snprintf(seen[1], sizeof(seen[1]), "%s", written_for(t, second));
	ck_assert_str_eq(seen[1], seen[0]);
	/* The email's subject reads back as it was sent, its result built from it. */
	ck_assert_str_eq(seen[1],
			 "a:idle>running:1:- a:running>stepCompleted:1:{\"n\": \"a\"}"
			 " b:stepCompleted>running:1:- b:running>stepCompleted:1:{\"to\": \"test-b@example.com\","
			 " \"subject\": \"Say \\\"hi\\\", \\\\ {b} NULL\", \"message_id\": \"m-b\"}"
			 " c:stepCompleted>running:1:- c:running>stepCompleted:1:- c:stepCompleted>completed:1:-"
			 " | b,1,test-b@example.com,Say \"hi\", \\ {b} NULL,t,t,sent,mock,m-b"
			 " | c,+15550100,C,sent,mock | completed c");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	done_with(out, rec, t);
}
END_TEST

/*
 * A result that is not just the email's is sent whole; a node without one
 * has none; an email log with a field of no column of its own (data) goes
 * whole, and its row has it.
 */
START_TEST(results_and_logs_other_than_the_plain_email_are_sent_whole)
{
	testdb_t *t = round_on_three("arrayswhole", 1);
	round_record_t *rec = round_record_new();
	exec_outcome_t out[3];
	PGresult *res;

	outcome(&out[0], "b", "{\"to\":\"x@example.com\",\"subject\":\"S\",\"message_id\":\"m-a\",\"queued\":true}",
		"[{\"email_log\":{\"recipient\":\"x@example.com\",\"subject\":\"S\",\"template\":\"t\","
		"\"status\":\"sent\",\"mode\":\"mock\",\"message_id\":\"m-a\"}}]");
	outcome(&out[1], "c", NULL,
		"[{\"email_log\":{\"recipient\":\"y@example.com\",\"subject\":\"T\",\"template\":\"t\","
		"\"status\":\"sent\",\"mode\":\"mock\",\"message_id\":\"m-b\",\"data\":{\"k\":1}}}]");
	outcome(&out[2], NULL, "{\"n\":\"c\"}", NULL);
	record_abc(rec, step_of(t, 0), out);
	/* b's email went whole with its logs: its columns hold a's alone. */
	ck_assert_str_eq(array_as_read(t, rec, RR_STEPS), testdb_text(t, "SELECT array_agg(id)::text FROM wf_steps", 0, NULL));
	ck_assert_str_eq(array_as_read(t, rec, RR_FIRSTS), "{1}");
	ck_assert_str_eq(array_as_read(t, rec, RR_LASTS), "{3}");
	ck_assert_str_eq(array_as_read(t, rec, RR_NEXTS), "{b,c,NULL}");
	ck_assert_str_eq(array_as_read(t, rec, RR_MAIL_STATUSES), "{sent,NULL,NULL}");
	ck_assert_str_eq(array_as_read(t, rec, RR_MAIL_ERRORS), "NULL");
	ck_assert_str_eq(array_as_read(t, rec, RR_RESULTS),
			 "{\"{\\\"to\\\": \\\"x@example.com\\\", \\\"queued\\\": true, \\\"subject\\\": \\\"S\\\","
			 " \\\"message_id\\\": \\\"m-a\\\"}\",NULL,\"{\\\"n\\\": \\\"c\\\"}\"}");
	res = settle_ran(t, rec);
	ck_assert_int_eq(PQntuples(res), 0);
	PQclear(res);
	testdb_exec(t, "COMMIT");
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(coalesce(r::text, '-'), ' ')"
				     " FROM wf_history h, unnest(h.result) r WHERE h.from_status[1] IS NOT NULL", 0, NULL),
			 "- {\"to\": \"x@example.com\", \"queued\": true, \"subject\": \"S\", \"message_id\": \"m-a\"}"
			 " - - - {\"n\": \"c\"} -");
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(node_id || ' ' || recipient || ' ' || coalesce(data::text, '-'),"
				     " ', ' ORDER BY node_id) FROM email_logs", 0, NULL),
			 "a x@example.com -, b y@example.com {\"k\": 1}");
	done_with(out, rec, t);
}
END_TEST

/* A malformed record is refused (WF422) and the round rolled back leaves the steps as they were. */
START_TEST(a_malformed_record_is_refused_and_changes_nothing)
{
	testdb_t *t = round_on_three("arraysbad", 1);
	char steps[32];
	/* steps, froms, firsts, lasts, nodes, nexts; the rest NULL */
	const char *bad[][6] = {
		{ steps, "{idle}", "{1}", "{2}", "{a,b}", "{b}" },		/* a next node fewer than nodes */
		{ steps, "{idle}", "{1}", "{3}", "{a,b}", "{b,c}" },	/* nodes that end past the last */
		{ steps, "{}", "{1}", "{2}", "{a,b}", "{b,c}" },		/* a status fewer than steps */
		{ steps, "{idle}", "{2}", "{1}", "{a,b}", "{b,c}" },	/* nodes that end before they start */
	};

	snprintf(steps, sizeof(steps), "{%s}", step_of(t, 0));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *params[1 + RR_ARRAYS + 1] = { worker };

		memcpy(params + 1, bad[i], sizeof(bad[i]));
		params[1 + RR_ARRAYS] = "{}";
		ck_assert_str_eq(testdb_error(t, sql_settle_ran, 1 + RR_ARRAYS + 1, params), "WF422");
		testdb_exec(t, "ROLLBACK");
		ck_assert_str_eq(testdb_text(t, "SELECT s.status || ' ' || s.node_id || ' ' || e.status || ' '"
					     " || (SELECT count(*) FROM wf_history WHERE cardinality(from_status) > 1)"
					     " || ' ' || (SELECT count(*) FROM email_logs)"
					     " FROM wf_steps s JOIN workflow_executions e ON e.id = s.execution_id", 0, NULL),
				 "ready a idle 0 0");
		testdb_exec(t, "BEGIN");
		PQclear(testdb_query(t, "SELECT * FROM wf_worker_round_open($1::bigint, 10, 60, '[]')", 1,
				     (const char *const[]){ worker }));
	}
	testdb_exec(t, "ROLLBACK");
	testdb_free(t);
}
END_TEST

/* A step whose execution moved on, or whose node is not the one the record says, is claimed instead. */
START_TEST(a_refused_step_in_arrays_is_claimed)
{
	testdb_t *t = round_on_three("arraysrefused", 2);
	round_record_t *rec = round_record_new();
	exec_outcome_t a;
	PGresult *res;

	outcome(&a, "b", "{}", NULL);
	round_record_step(rec, step_of(t, 0), "stepCompleted");	/* it is idle */
	round_record_node(rec, "a", &a);
	round_record_step(rec, step_of(t, 1), "idle");
	round_record_node(rec, "b", &a);	/* it is at a */
	res = settle_ran(t, rec);
	testdb_exec(t, "COMMIT");
	ck_assert_int_eq(PQntuples(res), 2);
	PQclear(res);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(s.status || ' ' || s.node_id || ' ' || e.status, ', ')"
				     " FROM wf_steps s JOIN workflow_executions e ON e.id = s.execution_id", 0, NULL),
			 "claimed a running, claimed a running");
	exec_outcome_clear(&a);
	round_record_free(rec);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("round_record", 60, a_record_in_arrays_writes_what_the_jsonb_record_writes,
	    results_and_logs_other_than_the_plain_email_are_sent_whole, a_malformed_record_is_refused_and_changes_nothing,
	    a_refused_step_in_arrays_is_claimed)
