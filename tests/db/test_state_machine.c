/*
 * test_state_machine.c - every legal transition of an execution is allowed
 * and recorded in the history; every other one is refused, whoever tries.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"
#include "runner.h"
#include "testdb.h"

static const char *const states[] = {
	"idle", "running", "stepCompleted", "stepFailed", "retrying",
	"delayed", "completed", "failed", "cancelled", "paused",
};
#define NSTATES 10

/* The brief's paths, written out here independently of the SQL table. */
static const char *const legal[][2] = {
	{ "idle", "running" }, { "running", "stepCompleted" }, { "stepCompleted", "running" },
	{ "stepCompleted", "completed" }, { "running", "delayed" }, { "delayed", "running" },
	{ "running", "stepFailed" }, { "stepFailed", "retrying" }, { "stepFailed", "failed" },
	{ "retrying", "running" }, { "failed", "retrying" },
	{ "idle", "paused" }, { "running", "paused" }, { "stepCompleted", "paused" },
	{ "retrying", "paused" }, { "delayed", "paused" },
	{ "paused", "idle" }, { "paused", "running" }, { "paused", "stepCompleted" },
	{ "paused", "retrying" }, { "paused", "delayed" }, { "paused", "completed" },
	{ "paused", "failed" },
	{ "idle", "cancelled" }, { "running", "cancelled" }, { "stepCompleted", "cancelled" },
	{ "stepFailed", "cancelled" }, { "retrying", "cancelled" }, { "delayed", "cancelled" },
	{ "paused", "cancelled" },
};
#define NLEGAL ((int)(sizeof(legal) / sizeof(legal[0])))

static bool is_legal(const char *from, const char *to)
{
	for (int i = 0; i < NLEGAL; i++)
		if (strcmp(legal[i][0], from) == 0 && strcmp(legal[i][1], to) == 0)
			return true;
	return false;
}

START_TEST(every_pair_of_states)
{
	testdb_t *t = testdb_new("states");
	char id[64];
	int allowed = 0, refused = 0;

	fixture_workflow(t, "noop1", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "noop1", NULL));
	for (int f = 0; f < NSTATES; f++) {
		for (int to = 0; to < NSTATES; to++) {
			const char *params[3] = { id, states[f], states[to] };
			long before, after;

			if (f == to)
				continue;
			/* Put the execution in the from-state behind the trigger's back. */
			testdb_exec(t, "SET session_replication_role = replica");
			PQclear(testdb_query(t, "UPDATE workflow_executions SET status = $2 WHERE id = $1::uuid", 2, params));
			testdb_exec(t, "SET session_replication_role = origin");
			before = testdb_long(t, "SELECT count(*) FROM workflow_execution_history", 0, NULL);
			if (is_legal(states[f], states[to])) {
				PQclear(testdb_query(t, "UPDATE workflow_executions SET status = $3 WHERE id = $1::uuid AND $2::text IS NOT NULL", 3, params));
				after = testdb_long(t, "SELECT count(*) FROM workflow_execution_history"
						       " WHERE execution_id = $1::uuid AND from_status = $2 AND to_status = $3", 3, params);
				ck_assert_msg(after >= 1, "%s -> %s wrote no history", states[f], states[to]);
				allowed++;
			} else {
				ck_assert_msg(strcmp(testdb_error(t, "UPDATE workflow_executions SET status = $3 WHERE id = $1::uuid AND $2::text IS NOT NULL",
								  3, params), "WF409") == 0,
					      "%s -> %s was not refused", states[f], states[to]);
				after = testdb_long(t, "SELECT count(*) FROM workflow_execution_history", 0, NULL);
				ck_assert_int_eq(after, before);
				refused++;
			}
		}
	}
	ck_assert_int_eq(allowed, NLEGAL);
	ck_assert_int_eq(refused, NSTATES * (NSTATES - 1) - NLEGAL);
	/* The SQL table holds exactly these pairs. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_status_transitions", 0, NULL), NLEGAL);
	testdb_free(t);
}
END_TEST

START_TEST(terminal_states_set_completed_at)
{
	testdb_t *t = testdb_new("terminal");
	char id[64];
	const char *params[1] = { id };

	fixture_workflow(t, "noop1", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	snprintf(id, sizeof(id), "%s", fixture_execution(t, "noop1", NULL));
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE completed_at IS NULL", 0, NULL), 1);
	PQclear(testdb_query(t, "SELECT wf_execution_cancel($1::uuid)", 1, params));
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE completed_at IS NOT NULL", 0, NULL), 1);
	/* A cancelled execution can be neither resumed nor cancelled again. */
	ck_assert_str_eq(testdb_error(t, "SELECT wf_execution_resume($1::uuid)", 1, params), "WF409");
	ck_assert_str_eq(testdb_error(t, "SELECT wf_execution_cancel($1::uuid)", 1, params), "WF409");
	testdb_free(t);
}
END_TEST

/*
 * History and log rows have no foreign key (sql/012), nor has the step
 * queue (sql/026); they go with their execution all the same.
 */
START_TEST(deleting_executions_deletes_their_step_history_and_logs)
{
	testdb_t *t = testdb_new("deleted");
	char keep[64], gone[64];
	const char *params[2] = { keep, gone };
	static const char *const counts =
		"SELECT (SELECT count(*) FROM workflow_execution_history WHERE execution_id = $1::uuid)"
		"     + (SELECT count(*) FROM email_logs WHERE execution_id = $1::uuid)"
		"     + (SELECT count(*) FROM sms_logs WHERE execution_id = $1::uuid)"
		"     + (SELECT count(*) FROM webhook_logs WHERE execution_id = $1::uuid)"
		"     + (SELECT count(*) FROM wf_steps WHERE execution_id = $1::uuid)";

	fixture_workflow(t, "noop1", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	snprintf(keep, sizeof(keep), "%s", fixture_execution(t, "noop1", NULL));
	snprintf(gone, sizeof(gone), "%s", fixture_execution(t, "noop1", NULL));
	testdb_exec(t, "INSERT INTO email_logs (execution_id, node_id, recipient)"
		       " SELECT id, 'a', 'test-x@example.com' FROM workflow_executions");
	testdb_exec(t, "INSERT INTO sms_logs (execution_id, node_id, recipient)"
		       " SELECT id, 'a', '+15550100' FROM workflow_executions");
	testdb_exec(t, "INSERT INTO webhook_logs (execution_id, node_id, url)"
		       " SELECT id, 'a', 'http://127.0.0.1/x' FROM workflow_executions");
	/* Its first history row, three log rows and its queued step. */
	ck_assert_int_eq(testdb_long(t, counts, 1, params + 1), 5);

	PQclear(testdb_query(t, "DELETE FROM workflow_executions WHERE id = $1::uuid", 1, params + 1));
	ck_assert_int_eq(testdb_long(t, counts, 1, params + 1), 0);
	ck_assert_int_eq(testdb_long(t, counts, 1, params), 5);
	testdb_free(t);
}
END_TEST

/*
 * interface.md: an INSERT naming only the columns it lists works. Of
 * workflow_executions it lists no workflow_name, which the row's workflow
 * gives (sql/023), as it gives the version when that is not named either.
 */
START_TEST(an_execution_inserted_with_the_listed_columns_gets_its_workflows_name)
{
	testdb_t *t = testdb_new("insertlisted");

	fixture_workflow(t, "noop1", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	testdb_exec(t, "INSERT INTO workflow_executions (workflow_id, workflow_version, status, current_node, context)"
		       " SELECT id, version, 'idle', 'a', '{}' FROM workflow WHERE name = 'noop1'");
	testdb_exec(t, "INSERT INTO workflow_executions (workflow_id) SELECT id FROM workflow WHERE name = 'noop1'");
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(workflow_name || ' ' || workflow_version, ',')"
				     "  FROM workflow_executions", 0, NULL), "noop1 1,noop1 1");
	/* What the engine names stays as named. */
	testdb_exec(t, "INSERT INTO workflow_executions (workflow_id, workflow_name, workflow_version)"
		       " SELECT id, 'as-named', 7 FROM workflow WHERE name = 'noop1'");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE workflow_name = 'as-named'"
				     " AND workflow_version = 7", 0, NULL), 1);
	/* No workflow to take it from: still refused, with nothing written. */
	ck_assert_str_eq(testdb_error(t, "INSERT INTO workflow_executions (workflow_version) VALUES (1)", 0, NULL), "23502");
	/* A workflow that does not exist: refused as the foreign key did (sql/026). */
	ck_assert_str_eq(testdb_error(t, "INSERT INTO workflow_executions (workflow_id, workflow_name, workflow_version)"
				      " VALUES (-1, 'gone', 1)", 0, NULL), "23503");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 3);
	testdb_free(t);
}
END_TEST

/*
 * An execution's id is a UUID version 7 (sql/033): the time of its
 * creation in milliseconds first, so ids sort by creation, then the
 * version and RFC 9562's variant, then random bits.
 */
START_TEST(execution_ids_are_uuid7_ordered_by_time)
{
	testdb_t *t = testdb_new("uuid7");

	fixture_workflow(t, "noop1", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	testdb_exec(t, "INSERT INTO workflow_executions (workflow_id) SELECT id FROM workflow, generate_series(1, 5000)"
		       " WHERE name = 'noop1'");
	ck_assert_int_eq(testdb_long(t, "SELECT count(DISTINCT id) FROM workflow_executions", 0, NULL), 5000);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions"
				     " WHERE substr(id::text, 15, 1) = '7' AND substr(id::text, 20, 1) IN ('8', '9', 'a', 'b')",
				     0, NULL), 5000);
	/* The first 48 bits are the creation's millisecond, within the statement's time. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions"
				     " WHERE ('x' || lpad(replace(substr(id::text, 1, 13), '-', ''), 16, '0'))::bit(64)::bigint"
				     "       BETWEEN floor(extract(epoch FROM created_at) * 1000)"
				     "           AND floor(extract(epoch FROM clock_timestamp()) * 1000)", 0, NULL), 5000);
	/* A later id sorts after an earlier one. */
	testdb_exec(t, "SELECT pg_sleep(0.002)");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE id >= wf_uuid7()", 0, NULL), 0);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("state_machine", 120, every_pair_of_states, terminal_states_set_completed_at,
	    deleting_executions_deletes_their_step_history_and_logs,
	    an_execution_inserted_with_the_listed_columns_gets_its_workflows_name, execution_ids_are_uuid7_ordered_by_time)
