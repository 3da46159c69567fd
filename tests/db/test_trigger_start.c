/*
 * test_trigger_start.c - wf_trigger_rows_start (sql/020), the second half
 * of a coordinator's trigger batch: the claimed rows that name a workflow
 * start it with the context their table's view builds, every claimed row
 * is marked processed, a row already started is not started again, a
 * batch it cannot take changes nothing, and a workflow deleted meanwhile
 * leaves nothing half-made (sql/026).
 */
#include <check.h>
#include <stdio.h>

#include "fixtures.h"
#include "runner.h"
#include "testdb.h"

static const char *const one_noop = "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}";

/* Three test users, each with a subscription (ids 1 to 3) and a newsletter row (ids 1 to 3). */
static testdb_t *three_of_each(const char *tag)
{
	testdb_t *t = testdb_new(tag);

	fixture_workflow(t, "start_a", one_noop);
	fixture_workflow(t, "start_b", one_noop);
	testdb_exec(t, "INSERT INTO dummy_users (id, email, name) SELECT g, 'test-start-' || g || '@example.com',"
		       " 'User ' || g FROM generate_series(1, 3) g");
	testdb_exec(t, "INSERT INTO dummy_subscriptions (id, user_id, subscription_type_id)"
		       " SELECT g, g, (SELECT min(id) FROM dummy_subscription_types) FROM generate_series(1, 3) g");
	testdb_exec(t, "INSERT INTO dummy_newsletters (id, user_id) SELECT g, g FROM generate_series(1, 3) g");
	return t;
}

static long started(testdb_t *t, const char *table, const char *rows_json)
{
	const char *params[2] = { table, rows_json };

	return testdb_long(t, "SELECT wf_trigger_rows_start($1, $2::jsonb)", 2, params);
}

/*
 * How many executions of the table behind view started with the context
 * the view builds, showing their trigger row (under key) as it was
 * claimed: not processed yet.
 */
static long contexts_as_claimed(testdb_t *t, const char *view, const char *key)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM workflow_executions e JOIN %s c ON c.id = e.trigger_id"
		 " WHERE e.context - '%s' = c.context - '%s'"
		 " AND (e.context -> '%s') - 'processed' - 'processed_at'"
		 "     = (c.context -> '%s') - 'processed' - 'processed_at'"
		 " AND e.context #>> '{%s,processed}' = 'false'",
		 view, key, key, key, key, key);
	return testdb_long(t, sql, 0, NULL);
}

START_TEST(named_rows_start_with_their_context_and_every_row_is_processed)
{
	testdb_t *t = three_of_each("tstart");

	ck_assert_int_eq(started(t, "dummy_subscriptions",
				 "[{\"id\":\"1\",\"workflow\":\"start_a\"},{\"id\":\"2\",\"workflow\":\"start_b\"},"
				 "{\"id\":\"3\"}]"), 2);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(trigger_id || ':' || workflow_name || ':' || status"
				     " || ':' || current_node, ',' ORDER BY trigger_id) FROM workflow_executions", 0, NULL),
			 "1:start_a:idle:a,2:start_b:idle:a");
	/* Each context is the one its table's view builds, the row's user included. */
	ck_assert_int_eq(contexts_as_claimed(t, "wf_subscription_contexts", "subscription"), 2);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions"
				     " WHERE context #>> '{user,email}' = 'test-start-' || trigger_id || '@example.com'",
				     0, NULL), 2);
	/* Each has its first step queued and its first history row. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps s JOIN workflow_executions e"
				     " ON e.id = s.execution_id AND s.node_id = 'a'", 0, NULL), 2);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE to_status = 'idle'",
				     0, NULL), 2);
	/* The row that named no workflow is processed all the same. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions WHERE processed"
				     " AND processed_at IS NOT NULL", 0, NULL), 3);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_newsletters WHERE processed", 0, NULL), 0);
	testdb_free(t);
}
END_TEST

START_TEST(newsletter_rows_get_the_newsletter_context)
{
	testdb_t *t = three_of_each("tstartn");

	ck_assert_int_eq(started(t, "dummy_newsletters", "[{\"id\":\"2\",\"workflow\":\"start_a\"}]"), 1);
	ck_assert_str_eq(testdb_text(t, "SELECT context #>> '{newsletter,email}' FROM workflow_executions"
				     " WHERE trigger_table = 'dummy_newsletters' AND trigger_id = 2", 0, NULL),
			 "test-start-2@example.com");
	ck_assert_int_eq(contexts_as_claimed(t, "wf_newsletter_contexts", "newsletter"), 1);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(id::text, ',' ORDER BY id) FROM dummy_newsletters"
				     " WHERE processed", 0, NULL), "2");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions WHERE processed", 0, NULL), 0);
	testdb_free(t);
}
END_TEST

START_TEST(a_row_started_before_is_not_started_again)
{
	testdb_t *t = three_of_each("tstartx");

	ck_assert_int_eq(started(t, "dummy_subscriptions", "[{\"id\":\"1\",\"workflow\":\"start_a\"}]"), 1);
	/* An operator sets the row back to unprocessed; the unique trigger key holds. */
	testdb_exec(t, "UPDATE dummy_subscriptions SET processed = false, processed_at = NULL WHERE id = 1");
	ck_assert_int_eq(started(t, "dummy_subscriptions",
				 "[{\"id\":\"1\",\"workflow\":\"start_a\"},{\"id\":\"2\",\"workflow\":\"start_a\"}]"), 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions WHERE trigger_id = 1", 0, NULL), 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 2);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions WHERE processed", 0, NULL), 2);
	/* The insert that met the started row left nothing behind: one first transition per execution. */
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_execution_history WHERE to_status = 'idle'",
				     0, NULL), 2);
	/* A batch of started rows alone starts nothing and still marks them processed. */
	testdb_exec(t, "UPDATE dummy_subscriptions SET processed = false, processed_at = NULL WHERE id IN (1, 2)");
	ck_assert_int_eq(started(t, "dummy_subscriptions",
				 "[{\"id\":\"1\",\"workflow\":\"start_a\"},{\"id\":\"2\",\"workflow\":\"start_a\"}]"), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 2);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions WHERE processed", 0, NULL), 2);
	testdb_free(t);
}
END_TEST

/*
 * The coordinator routed the rows, then their workflow changed: made
 * inactive, found invalid, changed by SQL and not validated yet, or
 * deleted. The batch starts nothing and leaves every row unprocessed,
 * with WF40R, so that the coordinator routes it again (sql/025); it used
 * to mark such rows processed without starting anything. A row routed to
 * no workflow is still just marked processed.
 */
START_TEST(a_batch_naming_a_workflow_that_changed_since_it_was_routed_changes_nothing)
{
	testdb_t *t = three_of_each("tstarti");
	static const char *const changes[] = {
		"UPDATE workflow SET active = false WHERE name = 'start_b'",
		"UPDATE workflow SET valid = false WHERE name = 'start_b'",
		"UPDATE workflow SET definition = definition || '{\"description\":\"changed\"}' WHERE name = 'start_b'",
		"DELETE FROM workflow WHERE name = 'start_b'",
	};
	const char *batch[2] = { "dummy_subscriptions",
				 "[{\"id\":\"1\",\"workflow\":\"start_a\"},{\"id\":\"2\",\"workflow\":\"start_b\"},"
				 "{\"id\":\"3\"}]" };

	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		testdb_exec(t, "BEGIN");
		testdb_exec(t, changes[i]);
		ck_assert_str_eq(testdb_error(t, "SELECT wf_trigger_rows_start($1, $2::jsonb)", 2, batch), "WF40R");
		testdb_exec(t, "ROLLBACK");
	}
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow WHERE name = 'start_b' AND active AND valid",
				     0, NULL), 1);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions WHERE processed", 0, NULL), 0);
	/* Routed again, to what is there now. */
	ck_assert_int_eq(started(t, "dummy_subscriptions", batch[1]), 2);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions WHERE processed", 0, NULL), 3);
	testdb_free(t);
}
END_TEST

START_TEST(a_batch_it_cannot_take_changes_nothing)
{
	testdb_t *t = three_of_each("tstartbad");
	const char *unknown[2] = { "workflow", "[{\"id\":\"1\",\"workflow\":\"start_a\"}]" };
	const char *not_an_id[2] = { "dummy_subscriptions",
				     "[{\"id\":\"1\",\"workflow\":\"start_a\"},{\"id\":\"x\",\"workflow\":\"start_a\"}]" };

	ck_assert_str_eq(testdb_error(t, "SELECT wf_trigger_rows_start($1, $2::jsonb)", 2, unknown), "WF422");
	ck_assert_str_eq(testdb_error(t, "SELECT wf_trigger_rows_start($1, $2::jsonb)", 2, not_an_id), "22P02");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions WHERE processed", 0, NULL), 0);
	testdb_free(t);
}
END_TEST

/*
 * The foreign key from an execution to its workflow is gone (sql/026): the
 * statement that creates executions locks their workflows instead, so a
 * delete of one waits for the batch to commit, then leaves its executions
 * with no workflow, as ON DELETE SET NULL did; a creation that comes second
 * waits for the delete and is refused as the key refused it (23503; the
 * coordinator routes such a batch again).
 */
START_TEST(a_workflow_deleted_while_a_batch_starts_it_waits_then_leaves_its_executions)
{
	testdb_t *t = three_of_each("tstartdel");
	db_t *other;

	testdb_exec(t, "BEGIN");
	ck_assert_int_eq(started(t, "dummy_subscriptions",
				 "[{\"id\":\"1\",\"workflow\":\"start_a\"},{\"id\":\"2\",\"workflow\":\"start_b\"}]"),
			 2);
	other = fixture_session_waiting_on(t, "tstart-other", "DELETE FROM workflow WHERE name = 'start_a'", 0, NULL);
	testdb_exec(t, "COMMIT");
	ck_assert_str_eq(fixture_sqlstate_of(other), "");
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(trigger_id || ':' || workflow_name || ':'"
				     " || coalesce(workflow_id::text, 'none'), ',' ORDER BY trigger_id) FROM workflow_executions"
				     " WHERE workflow_id IS NULL OR workflow_id NOT IN (SELECT id FROM workflow)", 0, NULL),
			 "1:start_a:none");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 2);
	db_free(other);
	testdb_free(t);
}
END_TEST

/*
 * A batch, and one execution created by name (the API, a shared flow, a
 * cron tick), wait for a delete of their workflow and create nothing.
 */
START_TEST(creation_waits_for_a_delete_of_its_workflow_and_creates_nothing)
{
	testdb_t *t = three_of_each("tstartdel2");
	const char *batch[2] = { "dummy_subscriptions", "[{\"id\":\"1\",\"workflow\":\"start_a\"}]" };
	static const struct {
		const char *sql, *sqlstate;
		int nparams;
	} creations[] = {
		{ "SELECT wf_trigger_rows_start($1, $2::jsonb)", "23503", 2 },
		{ "SELECT wf_execution_create('start_a')", "23503", 0 },
	};

	for (size_t i = 0; i < sizeof(creations) / sizeof(creations[0]); i++) {
		db_t *other;

		testdb_exec(t, "BEGIN");
		testdb_exec(t, "DELETE FROM workflow WHERE name = 'start_a'");
		other = fixture_session_waiting_on(t, "tstart-other", creations[i].sql, creations[i].nparams, batch);
		testdb_exec(t, "COMMIT");
		ck_assert_str_eq(fixture_sqlstate_of(other), creations[i].sqlstate);
		ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 0);
		ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_steps", 0, NULL), 0);
		ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM dummy_subscriptions WHERE processed", 0, NULL), 0);
		db_free(other);
		fixture_workflow(t, "start_a", one_noop);
	}
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("trigger_start", 60, named_rows_start_with_their_context_and_every_row_is_processed,
	    newsletter_rows_get_the_newsletter_context, a_row_started_before_is_not_started_again,
	    a_batch_naming_a_workflow_that_changed_since_it_was_routed_changes_nothing,
	    a_batch_it_cannot_take_changes_nothing,
	    a_workflow_deleted_while_a_batch_starts_it_waits_then_leaves_its_executions,
	    creation_waits_for_a_delete_of_its_workflow_and_creates_nothing)
