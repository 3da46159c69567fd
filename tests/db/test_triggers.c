/*
 * test_triggers.c - the coordinator's trigger job (triggers_process) and
 * the validation of definitions written by plain SQL (workflows.c), against
 * a real database: a trigger row committed together with a change to its
 * workflow's definition starts that workflow, a source whose workflow
 * cannot be validated yet leaves its rows unclaimed, and validation clears
 * every pending definition, or the one named, however many wait.
 */
#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>

#include "fixtures.h"
#include "runner.h"
#include "testdb.h"
#include "triggers.h"
#include "workflows.h"

/* A user subscribed to "united", and its newsletter signup, both unprocessed. */
#define NEW_ROWS                                                                                    \
	"WITH u AS (INSERT INTO dummy_users (email, name) VALUES ('test-trig@example.com', 'T')"    \
	"           RETURNING id),"                                                                 \
	" s AS (INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"                    \
	"       SELECT u.id, ty.id FROM u, dummy_subscription_types ty WHERE ty.name = 'united')"   \
	" INSERT INTO dummy_newsletters (user_id) SELECT id FROM u"

/* A change of a definition by plain SQL: the workflow waits for validation again. */
#define TOUCH(name)                                                                                 \
	"UPDATE workflow SET definition = jsonb_set(definition, '{description}', '\"changed\"')"  \
	" WHERE name = '" name "'"

#define STARTED_BY(table) \
	"SELECT coalesce(string_agg(workflow_name, ','), '') FROM workflow_executions WHERE trigger_table = '" table "'"

START_TEST(a_row_written_with_its_workflows_definition_starts_that_workflow)
{
	testdb_t *t = testdb_new("trig_same_tx");
	int started = -1;

	/* The reviewer's case: the definition and the row in one transaction. */
	testdb_exec(t, "BEGIN");
	testdb_exec(t, TOUCH("united_welcome"));
	testdb_exec(t, TOUCH("newsletter_welcome"));
	testdb_exec(t, NEW_ROWS);
	testdb_exec(t, "COMMIT");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow WHERE valid IS NULL", 0, NULL), 2);
	ck_assert_int_eq(triggers_process(t->db, 500, &started), 0);
	ck_assert_int_eq(started, 2);
	/* Not generic_welcome, the lower-priority one; not nothing. */
	ck_assert_str_eq(testdb_text(t, STARTED_BY("dummy_subscriptions"), 0, NULL), "united_welcome");
	ck_assert_str_eq(testdb_text(t, STARTED_BY("dummy_newsletters"), 0, NULL), "newsletter_welcome");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow WHERE valid IS NOT true", 0, NULL), 0);
	testdb_free(t);
}
END_TEST

START_TEST(rows_wait_unclaimed_while_their_workflow_cannot_be_validated)
{
	testdb_t *t = testdb_new("trig_wait");
	PGconn *other = PQconnectdb(t->url);
	PGresult *res;
	int started = -1;

	ck_assert_int_eq(PQstatus(other), CONNECTION_OK);
	testdb_exec(t, TOUCH("newsletter_welcome"));
	testdb_exec(t, NEW_ROWS);
	/* Another session holds the row, so the verdict cannot be recorded for now (nor waited for). */
	PQclear(PQexec(other, "BEGIN"));
	res = PQexec(other, "SELECT 1 FROM workflow WHERE name = 'newsletter_welcome' FOR NO KEY UPDATE");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	ck_assert_int_eq(triggers_process(t->db, 500, &started), 0);
	/* The other source goes on; the newsletter row is neither started nor processed. */
	ck_assert_int_eq(started, 1);
	ck_assert_str_eq(testdb_text(t, STARTED_BY("dummy_subscriptions"), 0, NULL), "united_welcome");
	ck_assert_str_eq(testdb_text(t, STARTED_BY("dummy_newsletters"), 0, NULL), "");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_newsletters WHERE processed", 0, NULL), 0);
	/* Once it can be validated, the next run starts it. */
	PQclear(PQexec(other, "ROLLBACK"));
	PQfinish(other);
	ck_assert_int_eq(triggers_process(t->db, 500, &started), 0);
	ck_assert_int_eq(started, 1);
	ck_assert_str_eq(testdb_text(t, STARTED_BY("dummy_newsletters"), 0, NULL), "newsletter_welcome");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_newsletters WHERE processed", 0, NULL), 1);
	testdb_free(t);
}
END_TEST

/* n definitions named bulk-1 .. bulk-n inserted by plain SQL in one statement. */
static void insert_bulk(testdb_t *t, int n)
{
	char count[16];
	const char *params[1] = { count };

	snprintf(count, sizeof(count), "%d", n);
	PQclear(testdb_query(t,
		"INSERT INTO workflow (name, definition) SELECT 'bulk-' || g,"
		" jsonb_build_object('name', 'bulk-' || g, 'trigger', jsonb_build_object('source', 'manual'),"
		"                    'start', 'a', 'nodes', jsonb_build_object('a', jsonb_build_object('type', 'noop')))"
		" FROM generate_series(1, $1::int) g", 1, params));
}

START_TEST(one_validation_run_clears_every_pending_definition)
{
	testdb_t *t = testdb_new("trig_bulk");

	insert_bulk(t, 250);
	ck_assert_int_eq(workflows_validate_pending(t->db), 250);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow WHERE valid IS NULL", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow WHERE name LIKE 'bulk-%' AND valid", 0, NULL), 250);
	ck_assert_int_eq(workflows_validate_pending(t->db), 0);
	testdb_free(t);
}
END_TEST

START_TEST(validating_a_named_workflow_checks_that_one_among_many)
{
	testdb_t *t = testdb_new("trig_named");

	insert_bulk(t, 600);
	ck_assert_int_eq(workflows_validate_named(t->db, "bulk-600"), 1);
	ck_assert_str_eq(testdb_text(t, "SELECT valid FROM workflow WHERE name = 'bulk-600'", 0, NULL), "t");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow WHERE valid IS NULL", 0, NULL), 599);
	ck_assert_int_eq(workflows_validate_named(t->db, "bulk-600"), 0);
	testdb_free(t);
}
END_TEST

/*
 * A workflow without a rule takes every row of its source that reaches
 * it: those below it are never chosen, however well their rules match.
 */
START_TEST(a_rule_less_workflow_on_top_takes_every_row_of_its_source)
{
	testdb_t *t = testdb_new("trig_catch_all");
	int started = -1;

	fixture_workflow(t, "test-catch-all",
			 "{\"trigger\":{\"source\":\"subscription\",\"priority\":1000},"
			 "\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	fixture_workflow(t, "test-below",
			 "{\"trigger\":{\"source\":\"subscription\",\"priority\":500,"
			 "\"rule\":{\"==\":[{\"var\":\"subscription_type.name\"},\"united\"]}},"
			 "\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	testdb_exec(t, NEW_ROWS);
	ck_assert_int_eq(triggers_process(t->db, 500, &started), 0);
	ck_assert_int_eq(started, 2);
	ck_assert_str_eq(testdb_text(t, STARTED_BY("dummy_subscriptions"), 0, NULL), "test-catch-all");
	/* Another source keeps its own routes. */
	ck_assert_str_eq(testdb_text(t, STARTED_BY("dummy_newsletters"), 0, NULL), "newsletter_welcome");
	/* Once it stops, the rules below it choose again. */
	testdb_exec(t, "UPDATE workflow SET active = false WHERE name = 'test-catch-all'");
	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		       " SELECT u.id, ty.id FROM dummy_users u, dummy_subscription_types ty WHERE ty.name = 'united'");
	ck_assert_int_eq(triggers_process(t->db, 500, &started), 0);
	ck_assert_int_eq(started, 1);
	ck_assert_str_eq(testdb_text(t, "SELECT workflow_name FROM workflow_executions WHERE trigger_table = 'dummy_subscriptions'"
				     " ORDER BY trigger_id DESC LIMIT 1", 0, NULL), "test-below");
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("triggers", 60, a_row_written_with_its_workflows_definition_starts_that_workflow,
	    rows_wait_unclaimed_while_their_workflow_cannot_be_validated,
	    one_validation_run_clears_every_pending_definition,
	    validating_a_named_workflow_checks_that_one_among_many,
	    a_rule_less_workflow_on_top_takes_every_row_of_its_source)
