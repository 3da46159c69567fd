/*
 * test_cron_job.c - the coordinator's cron job (cron_fire_due) and the
 * checks of a cron trigger's time zone, against a real database. The job
 * reads the time from now() in SQL, so the tests move the clock themselves:
 * a schema "fake" ahead of pg_catalog on the search_path holds a now() that
 * returns the setting fake.now.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cron_job.h"
#include "fixtures.h"
#include "runner.h"
#include "testdb.h"
#include "workflows.h"

/* A one-node definition with this cron schedule and time zone. */
static const char *cron_definition(const char *schedule, const char *timezone)
{
	static char text[512];

	snprintf(text, sizeof(text),
		 "{\"trigger\":{\"source\":\"cron\",\"schedule\":\"%s\",\"timezone\":\"%s\"},"
		 "\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}",
		 schedule, timezone);
	return text;
}

/* From now on, now() in this test's session (t->db, which the job is given too) is fake.now. */
static void fake_clock(testdb_t *t)
{
	testdb_exec(t, "CREATE SCHEMA fake");
	testdb_exec(t, "CREATE FUNCTION fake.now() RETURNS timestamptz LANGUAGE sql STABLE"
		       " AS $$ SELECT current_setting('fake.now')::timestamptz $$");
	testdb_exec(t, "SET search_path = public, fake, pg_catalog");
}

static void set_now(testdb_t *t, const char *when)
{
	const char *params[1] = { when };

	PQclear(testdb_query(t, "SELECT set_config('fake.now', $1, false)", 1, params));
}

/* Sets the clock to when and runs the job once; returns how many executions it started. */
static int fire_at(testdb_t *t, cron_state_t *state, const char *when)
{
	int started;

	set_now(t, when);
	started = cron_fire_due(t->db, state);
	ck_assert_msg(started >= 0, "cron_fire_due failed at %s", when);
	return started;
}

/*
 * A cron workflow turned off and on again starts from when it was turned
 * on: the tick that fell due while it was off (04:33 here) does not fire.
 */
START_TEST(a_reactivated_workflow_does_not_fire_what_fell_due_while_off)
{
	testdb_t *t = testdb_new("cron_reactivated");
	cron_state_t *state = cron_state_new();

	fake_clock(t);
	set_now(t, "2026-12-07 00:00:00+00");
	fixture_workflow(t, "test-cron-re", cron_definition("33 * * * *", "UTC"));
	testdb_exec(t, "UPDATE workflow SET updated_at = now()");
	ck_assert_int_eq(fire_at(t, state, "2026-12-07 01:40:00+00"), 1);
	set_now(t, "2026-12-07 02:00:00+00");
	testdb_exec(t, "UPDATE workflow SET active = false");
	ck_assert_int_eq(fire_at(t, state, "2026-12-07 03:33:10+00"), 0);
	set_now(t, "2026-12-07 05:10:00+00");
	testdb_exec(t, "UPDATE workflow SET active = true");
	ck_assert_int_eq(fire_at(t, state, "2026-12-07 05:10:20+00"), 0);
	/* Nor does a coordinator that starts now, and has no memory of its own. */
	cron_state_free(state);
	state = cron_state_new();
	ck_assert_int_eq(fire_at(t, state, "2026-12-07 05:11:00+00"), 0);
	ck_assert_int_eq(fire_at(t, state, "2026-12-07 05:33:10+00"), 1);
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(to_char(tick AT TIME ZONE 'UTC', 'HH24:MI'), ' ' ORDER BY tick)"
				     "  FROM wf_cron_ticks", 0, NULL), "01:33 05:33");
	/* The version moves with the definition only. */
	ck_assert_int_eq(testdb_long(t, "SELECT version FROM workflow WHERE name = 'test-cron-re'", 0, NULL), 1);
	cron_state_free(state);
	testdb_free(t);
}
END_TEST

/*
 * A time zone the database does not know is refused when the coordinator
 * validates a definition; so are offset-style names, which PostgreSQL would
 * read with the sign inverted.
 */
START_TEST(the_coordinator_refuses_unknown_time_zones)
{
	testdb_t *t = testdb_new("cron_zone");
	const char *params[2];

	params[0] = "test-mars";
	params[1] = cron_definition("0 9 * * 1", "Mars/Olympus");
	PQclear(testdb_query(t, "INSERT INTO workflow (name, definition) VALUES ($1, $2::jsonb)", 2, params));
	params[0] = "test-paris";
	params[1] = cron_definition("0 9 * * 1", "Europe/Paris");
	PQclear(testdb_query(t, "INSERT INTO workflow (name, definition) VALUES ($1, $2::jsonb)", 2, params));
	params[0] = "test-plus-five";
	params[1] = cron_definition("0 9 * * 1", "UTC+5");
	PQclear(testdb_query(t, "INSERT INTO workflow (name, definition) VALUES ($1, $2::jsonb)", 2, params));
	ck_assert_int_eq(workflows_validate_pending(t->db), 3);

	ck_assert_str_eq(testdb_text(t, "SELECT valid::text FROM workflow WHERE name = 'test-paris'", 0, NULL), "true");
	ck_assert_str_eq(testdb_text(t, "SELECT valid::text FROM workflow WHERE name = 'test-mars'", 0, NULL), "false");
	ck_assert_str_eq(testdb_text(t, "SELECT errors -> 0 ->> 'message' FROM workflow WHERE name = 'test-mars'", 0, NULL),
			 "trigger.timezone \"Mars/Olympus\" is not a known time zone");
	ck_assert_str_eq(testdb_text(t, "SELECT valid::text FROM workflow WHERE name = 'test-plus-five'", 0, NULL), "false");
	testdb_free(t);
}
END_TEST

/*
 * A workflow saved with an unknown zone before the check existed fails every
 * look of the job (once a second): it is logged once, not each time.
 */
START_TEST(an_unknown_time_zone_is_logged_once)
{
	testdb_t *t = testdb_new("cron_zone_log");
	cron_state_t *state = cron_state_new();
	char path[] = "/tmp/test_cron_job_XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	char text[8192] = "";
	int lines = 0;
	FILE *f;

	ck_assert_int_ge(fd, 0);
	fixture_workflow(t, "test-nowhere", cron_definition("* * * * *", "Not/AZone"));
	/* Saved an hour ago: the job has minutes to look at, in that zone. */
	testdb_exec(t, "UPDATE workflow SET updated_at = now() - interval '1 hour'");
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(cron_fire_due(t->db, state), 0);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	while (fgets(text, sizeof(text), f))
		lines += strstr(text, "Not/AZone") && strstr(text, "not recognized");
	fclose(f);
	unlink(path);
	ck_assert_int_eq(lines, 1);
	cron_state_free(state);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("cron_job", 120, a_reactivated_workflow_does_not_fire_what_fell_due_while_off,
	    the_coordinator_refuses_unknown_time_zones, an_unknown_time_zone_is_logged_once)
