/*
 * test_history_chains.c - the history stored a chain of transitions per
 * row (wf_history, sql/029) and read a transition per row through the
 * workflow_execution_history view: rows written before the migration keep
 * their ids and order, a transition written through the view is a chain of
 * one, a row missing its execution or status is refused with nothing
 * written, and the operations views count the transitions of their window
 * only, not the whole chain that ends in it.
 */
#include <check.h>
#include <string.h>

#include "migrate.h"
#include "runner.h"
#include "testdb.h"

#define HISTORY_MIGRATION "029_history_in_chains.sql"

static long count(testdb_t *t, const char *sql)
{
	return testdb_long(t, sql, 0, NULL);
}

/* Every execution's transitions as the view shows them, in id order. */
static const char *const sql_transitions =
	"SELECT string_agg(id || ':' || coalesce(from_status, '-') || '>' || to_status || ':' || attempt,"
	"                  ' ' ORDER BY id)"
	" FROM workflow_execution_history";

START_TEST(rows_written_before_the_migration_keep_their_ids_and_order)
{
	testdb_t *t = testdb_new_empty("hchmig");
	char before[512];
	int i;

	for (i = 0; i < migrations_count && strcmp(migrations[i].name, HISTORY_MIGRATION) != 0; i++)
		testdb_script(t, migrations[i].name, migrations[i].sql);
	ck_assert_int_lt(i, migrations_count);

	/* Two executions moved by plain updates: each change is a row of the old table. */
	testdb_exec(t, "INSERT INTO workflow_executions (id, workflow_name, workflow_version) VALUES"
		       " ('00000000-0000-0000-0000-00000000000a', 'w', 1), ('00000000-0000-0000-0000-00000000000b', 'w', 1)");
	testdb_exec(t, "UPDATE workflow_executions SET status = 'running', attempt = 1");
	testdb_exec(t, "UPDATE workflow_executions SET status = 'stepCompleted'"
		       " WHERE id = '00000000-0000-0000-0000-00000000000a'");
	testdb_exec(t, "UPDATE workflow_executions SET status = 'completed'"
		       " WHERE id = '00000000-0000-0000-0000-00000000000a'");
	ck_assert_int_eq(count(t, "SELECT count(*) FROM workflow_execution_history"), 6);
	snprintf(before, sizeof(before), "%s", testdb_text(t, sql_transitions, 0, NULL));

	testdb_script(t, migrations[i].name, migrations[i].sql);
	ck_assert_str_eq(testdb_text(t, sql_transitions, 0, NULL), before);
	ck_assert_int_eq(count(t, "SELECT count(*) FROM wf_history WHERE cardinality(to_status) = 1"), 6);

	/* What is written after comes after, in the view's order too. */
	testdb_exec(t, "UPDATE workflow_executions SET status = 'stepFailed'"
		       " WHERE id = '00000000-0000-0000-0000-00000000000b'");
	ck_assert_str_eq(testdb_text(t, "SELECT from_status || '>' || to_status FROM workflow_execution_history"
				     " ORDER BY id DESC LIMIT 1", 0, NULL), "running>stepFailed");
	ck_assert_int_eq(count(t, "SELECT count(*) FROM workflow_execution_history"), 7);
	testdb_free(t);
}
END_TEST

START_TEST(a_transition_written_through_the_view_is_a_chain_of_one)
{
	testdb_t *t = testdb_new("hchview");
	long first, second;

	first = count(t, "INSERT INTO workflow_execution_history (execution_id, node_id, to_status)"
			 " VALUES ('00000000-0000-0000-0000-00000000000c', 'a', 'idle') RETURNING id");
	second = count(t, "INSERT INTO workflow_execution_history (execution_id, node_id, from_status, to_status, result)"
			  " VALUES ('00000000-0000-0000-0000-00000000000c', 'a', 'idle', 'running', '{\"n\": 1}') RETURNING id");
	ck_assert_int_gt(second, first);
	ck_assert_int_eq(count(t, "SELECT count(*) FROM wf_history WHERE cardinality(to_status) = 1"), 2);
	/* The table's defaults, as before: attempt 0, stamped when written. */
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(coalesce(from_status, '-') || '>' || to_status || ':' || attempt"
				     "       || ':' || coalesce(result ->> 'n', '-') || ':' || (created_at <= clock_timestamp()),"
				     "       ' ' ORDER BY id)"
				     " FROM workflow_execution_history", 0, NULL),
			 "->idle:0:-:true idle>running:0:1:true");

	/* A row without its execution or its status is refused, and nothing is written. */
	ck_assert_str_eq(testdb_error(t, "INSERT INTO workflow_execution_history (execution_id, to_status)"
				      " VALUES (NULL, 'idle')", 0, NULL), "23502");
	ck_assert_str_eq(testdb_error(t, "INSERT INTO workflow_execution_history (execution_id)"
				      " VALUES ('00000000-0000-0000-0000-00000000000c')", 0, NULL), "23502");
	ck_assert_int_eq(count(t, "SELECT count(*) FROM wf_history"), 2);
	testdb_free(t);
}
END_TEST

/*
 * A chain whose first transition is older than the hour and whose last is
 * recent: wf_throughput reads the chain (its latest_at is in the window)
 * and counts only the recent transition; wf_failure_rates, over a day,
 * both.
 */
START_TEST(operations_views_count_the_transitions_of_their_window_only)
{
	testdb_t *t = testdb_new("hchwin");

	testdb_exec(t, "INSERT INTO workflow_executions (id, workflow_name, workflow_version, status)"
		       " VALUES ('00000000-0000-0000-0000-00000000000d', 'w', 1, 'completed')");
	testdb_exec(t, "DELETE FROM wf_history");
	testdb_exec(t, "INSERT INTO wf_history (execution_id, latest_at, node_id, from_status, to_status, attempt, result,"
		       "                        error, created_at)"
		       " VALUES ('00000000-0000-0000-0000-00000000000d', now() - interval '5 minutes', '{a,a}',"
		       "         '{running,stepCompleted}', '{stepCompleted,completed}', '{1,1}', '{NULL,NULL}',"
		       "         '{NULL,NULL}', ARRAY[now() - interval '2 hours', now() - interval '5 minutes'])");
	ck_assert_int_eq(count(t, "SELECT sum(steps_completed) FROM wf_throughput"), 0);
	ck_assert_int_eq(count(t, "SELECT sum(executions_completed) FROM wf_throughput"), 1);
	ck_assert_int_eq(count(t, "SELECT step_attempts FROM wf_failure_rates WHERE workflow_name = 'w'"), 1);
	ck_assert_int_eq(count(t, "SELECT executions_completed FROM wf_failure_rates WHERE workflow_name = 'w'"), 1);
	/* A chain too long for its ids is refused. */
	ck_assert_str_eq(testdb_error(t, "INSERT INTO wf_history (execution_id, latest_at, node_id, from_status, to_status,"
				      "                        attempt, result, error, created_at)"
				      " SELECT '00000000-0000-0000-0000-00000000000d', now(), array_agg('a'::text), array_agg('running'::text),"
				      "        array_agg('stepCompleted'::text), array_agg(1), array_agg(NULL::jsonb), array_agg(NULL::text),"
				      "        array_agg(now()) FROM generate_series(1, 65)", 0, NULL), "23514");
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("history_chains", 60, rows_written_before_the_migration_keep_their_ids_and_order,
	    a_transition_written_through_the_view_is_a_chain_of_one,
	    operations_views_count_the_transitions_of_their_window_only)
