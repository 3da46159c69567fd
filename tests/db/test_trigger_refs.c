/*
 * test_trigger_refs.c - the trigger rows' references to their user and
 * subscription type (sql/027), checked a statement at a time instead of
 * by foreign keys: a row naming a user or type that does not exist is
 * refused with the key's error and nothing of its statement is written, a
 * deleted user or type takes its rows with it, a referenced id cannot
 * change or be truncated away, and a delete and an insert of the same user
 * wait for each other as the keys made them.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"
#include "runner.h"
#include "testdb.h"

/* Users 1 and 2 (test addresses); type is the id of the first subscription type. */
static testdb_t *two_users(const char *tag)
{
	testdb_t *t = testdb_new(tag);

	testdb_exec(t, "INSERT INTO dummy_users (id, email, name) SELECT g, 'test-refs-' || g || '@example.com',"
		       " 'User ' || g FROM generate_series(1, 2) g");
	return t;
}

static long count(testdb_t *t, const char *sql)
{
	return testdb_long(t, sql, 0, NULL);
}

#define FIRST_TYPE "(SELECT min(id) FROM dummy_subscription_types)"

START_TEST(rows_naming_a_missing_user_or_type_are_refused_with_their_whole_statement)
{
	testdb_t *t = two_users("trefsins");
	static const char *const refused[] = {
		"INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		" VALUES (1, " FIRST_TYPE "), (3, " FIRST_TYPE ")",
		"INSERT INTO dummy_subscriptions (user_id, subscription_type_id) VALUES (1, -1)",
		"INSERT INTO dummy_newsletters (user_id) VALUES (2), (3)",
		"UPDATE dummy_subscriptions SET user_id = 3",
		"UPDATE dummy_subscriptions SET subscription_type_id = -1",
		"UPDATE dummy_newsletters SET user_id = 3 WHERE user_id = 2",
	};

	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id) VALUES (1, " FIRST_TYPE ")");
	testdb_exec(t, "INSERT INTO dummy_newsletters (user_id) VALUES (2)");
	testdb_exec(t, "INSERT INTO dummy_newsletters (email) VALUES ('test-refs-n@example.com')");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ck_assert_msg(strcmp(testdb_error(t, refused[i], 0, NULL), "23503") == 0, "not refused: %s", refused[i]);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(user_id::text, ',') FROM dummy_subscriptions", 0, NULL), "1");
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(coalesce(user_id::text, email), ',' ORDER BY id)"
				     " FROM dummy_newsletters", 0, NULL),
			 "2,test-refs-n@example.com");

	/* Repointing to an existing user works; marking rows processed checks nothing. */
	testdb_exec(t, "UPDATE dummy_subscriptions SET user_id = 2");
	testdb_exec(t, "SET track_functions = 'pl'");
	testdb_exec(t, "BEGIN");
	testdb_exec(t, "UPDATE dummy_subscriptions SET processed = true, processed_at = now()");
	ck_assert_int_eq(count(t, "SELECT coalesce(pg_stat_get_xact_function_calls('wf_trigger_rows_refer'::regproc), 0)"), 0);
	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		       " SELECT 1, " FIRST_TYPE " FROM generate_series(1, 100)");
	ck_assert_int_eq(count(t, "SELECT pg_stat_get_xact_function_calls('wf_trigger_rows_refer'::regproc)"), 1);
	testdb_exec(t, "COMMIT");
	ck_assert_int_eq(count(t, "SELECT count(*) FROM dummy_subscriptions"), 101);
	testdb_free(t);
}
END_TEST

START_TEST(a_deleted_user_or_type_takes_its_rows_and_a_referenced_id_stays)
{
	testdb_t *t = two_users("trefsdel");

	testdb_exec(t, "INSERT INTO dummy_subscription_types (name) VALUES ('test-refs-type')");
	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id)"
		       " SELECT u, ty FROM generate_series(1, 2) u,"
		       " (VALUES (" FIRST_TYPE "), ((SELECT id FROM dummy_subscription_types WHERE name = 'test-refs-type'))) AS v(ty)");
	testdb_exec(t, "INSERT INTO dummy_newsletters (user_id) VALUES (1), (2)");
	testdb_exec(t, "INSERT INTO dummy_newsletters (email) VALUES ('test-refs-n@example.com')");

	ck_assert_str_eq(testdb_error(t, "UPDATE dummy_users SET id = 3 WHERE id = 1", 0, NULL), "23503");
	ck_assert_str_eq(testdb_error(t, "UPDATE dummy_subscription_types SET id = -5 WHERE name = 'test-refs-type'",
				      0, NULL), "23503");
	ck_assert_str_eq(testdb_error(t, "TRUNCATE dummy_users", 0, NULL), "0A000");
	ck_assert_str_eq(testdb_error(t, "TRUNCATE dummy_subscription_types", 0, NULL), "0A000");
	ck_assert_int_eq(count(t, "SELECT count(*) FROM dummy_users"), 2);
	testdb_exec(t, "UPDATE dummy_users SET name = 'Renamed' WHERE id = 1");

	testdb_exec(t, "DELETE FROM dummy_users WHERE id = 1");
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(DISTINCT user_id::text, ',') FROM dummy_subscriptions", 0, NULL), "2");
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(coalesce(user_id::text, email), ',' ORDER BY id)"
				     " FROM dummy_newsletters", 0, NULL),
			 "2,test-refs-n@example.com");
	testdb_exec(t, "DELETE FROM dummy_subscription_types WHERE name = 'test-refs-type'");
	ck_assert_int_eq(count(t, "SELECT count(*) FROM dummy_subscriptions"), 1);

	/* Unreferenced, an id may change; truncated together, the tables may be emptied. */
	testdb_exec(t, "INSERT INTO dummy_users (id, email) VALUES (5, 'test-refs-5@example.com')");
	testdb_exec(t, "UPDATE dummy_users SET id = 6 WHERE id = 5");
	testdb_exec(t, "TRUNCATE dummy_users, dummy_subscriptions, dummy_newsletters");
	ck_assert_int_eq(count(t, "SELECT count(*) FROM dummy_users"), 0);
	testdb_free(t);
}
END_TEST

/*
 * An insert holds the users it names: a delete of one waits for the
 * insert's commit and then deletes the new subscription too.
 */
START_TEST(a_delete_waits_for_an_insert_of_its_user_then_takes_the_new_row)
{
	testdb_t *t = two_users("trefswait");
	db_t *other;

	testdb_exec(t, "BEGIN");
	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id) VALUES (1, " FIRST_TYPE ")");
	other = fixture_session_waiting_on(t, "trefs-other", "DELETE FROM dummy_users WHERE id = 1", 0, NULL);
	testdb_exec(t, "COMMIT");
	ck_assert_str_eq(fixture_sqlstate_of(other), "");
	ck_assert_int_eq(count(t, "SELECT count(*) FROM dummy_subscriptions"), 0);
	ck_assert_int_eq(count(t, "SELECT count(*) FROM dummy_users"), 1);
	db_free(other);
	testdb_free(t);
}
END_TEST

/* An insert that comes second waits for the delete of its user and is refused. */
START_TEST(an_insert_waits_for_a_delete_of_its_user_and_is_refused)
{
	testdb_t *t = two_users("trefsrefused");
	static const char *const inserts[] = {
		"INSERT INTO dummy_subscriptions (user_id, subscription_type_id) VALUES (2, " FIRST_TYPE "), (1, " FIRST_TYPE ")",
		"INSERT INTO dummy_newsletters (user_id) VALUES (1)",
	};

	for (size_t i = 0; i < sizeof(inserts) / sizeof(inserts[0]); i++) {
		db_t *other;

		testdb_exec(t, "BEGIN");
		testdb_exec(t, "DELETE FROM dummy_users WHERE id = 1");
		other = fixture_session_waiting_on(t, "trefs-other", inserts[i], 0, NULL);
		testdb_exec(t, "COMMIT");
		ck_assert_str_eq(fixture_sqlstate_of(other), "23503");
		ck_assert_int_eq(count(t, "SELECT count(*) FROM dummy_subscriptions"), 0);
		ck_assert_int_eq(count(t, "SELECT count(*) FROM dummy_newsletters"), 0);
		db_free(other);
		testdb_exec(t, "INSERT INTO dummy_users (id, email) VALUES (1, 'test-refs-1@example.com')");
	}
	testdb_free(t);
}
END_TEST

/*
 * A foreign key's checks ran as the tables' owner: a role allowed only to
 * insert trigger rows needed no right on the users. The statement check
 * runs as the owner too, and cannot be called directly.
 */
START_TEST(a_role_that_may_only_insert_trigger_rows_is_checked_as_the_keys_checked_it)
{
	testdb_t *t = two_users("trefsrole");

	testdb_exec(t, "DROP ROLE IF EXISTS wf_test_trefs_inserter");
	testdb_exec(t, "CREATE ROLE wf_test_trefs_inserter NOLOGIN");
	testdb_exec(t, "GRANT INSERT ON dummy_subscriptions, dummy_newsletters TO wf_test_trefs_inserter");
	testdb_exec(t, "SET ROLE wf_test_trefs_inserter");
	testdb_exec(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id) VALUES (1, 1)");
	testdb_exec(t, "INSERT INTO dummy_newsletters (user_id) VALUES (2)");
	ck_assert_str_eq(testdb_error(t, "INSERT INTO dummy_subscriptions (user_id, subscription_type_id) VALUES (3, 1)",
				      0, NULL), "23503");
	ck_assert_str_eq(testdb_error(t, "SELECT wf_trigger_rows_refer('dummy_subscriptions', ARRAY[1], NULL)", 0, NULL),
			 "42501");
	testdb_exec(t, "RESET ROLE");
	ck_assert_int_eq(count(t, "SELECT count(*) FROM dummy_subscriptions"), 1);
	ck_assert_int_eq(count(t, "SELECT count(*) FROM dummy_newsletters"), 1);
	testdb_exec(t, "DROP OWNED BY wf_test_trefs_inserter");
	testdb_exec(t, "DROP ROLE wf_test_trefs_inserter");
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("trigger_refs", 60, rows_naming_a_missing_user_or_type_are_refused_with_their_whole_statement,
	    a_deleted_user_or_type_takes_its_rows_and_a_referenced_id_stays,
	    a_delete_waits_for_an_insert_of_its_user_then_takes_the_new_row,
	    an_insert_waits_for_a_delete_of_its_user_and_is_refused,
	    a_role_that_may_only_insert_trigger_rows_is_checked_as_the_keys_checked_it)
