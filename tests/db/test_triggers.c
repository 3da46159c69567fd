/*
 * test_triggers.c - the validation of definitions written by plain SQL
 * (workflows.c), against a real database: validation clears every pending
 * definition, or the one named, however many wait.
 */
#include <check.h>
#include <stdio.h>

#include "runner.h"
#include "testdb.h"
#include "workflows.h"

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

RUNNER_MAIN("triggers", 60, one_validation_run_clears_every_pending_definition,
	    validating_a_named_workflow_checks_that_one_among_many)
