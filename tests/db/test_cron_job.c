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

/* The ticks of one workflow, as local wall-clock times "MM-DD HH:MI" in zone, oldest first. */
static const char *local_ticks(testdb_t *t, const char *name, const char *zone)
{
	const char *params[2] = { name, zone };

	return testdb_text(t,
			   "SELECT string_agg(to_char(c.tick AT TIME ZONE $2, 'MM-DD HH24:MI'), ' ' ORDER BY c.tick)"
			   "  FROM wf_cron_ticks c JOIN workflow w ON w.id = c.workflow_id WHERE w.name = $1",
			   2, params);
}

/*
 * In autumn, Europe/Paris goes from 02:59 CEST back to 02:00 CET (01:00
 * UTC on 2026-10-25): 02:30 happens twice. As in cronie, a fixed-time
 * schedule fires once; a wildcard one ("0 * * * *") keeps running by the
 * wall clock, in both passes of the hour.
 */
START_TEST(a_repeated_local_time_fires_once)
{
	testdb_t *t = testdb_new("cron_autumn");
	cron_state_t *state = cron_state_new();

	fake_clock(t);
	fixture_workflow(t, "test-fixed", cron_definition("30 2 * * *", "Europe/Paris"));
	fixture_workflow(t, "test-hourly", cron_definition("0 * * * *", "Europe/Paris"));
	testdb_exec(t, "UPDATE workflow SET updated_at = '2026-10-24 23:00:00+00' WHERE name LIKE 'test-%'");
	ck_assert_int_eq(fire_at(t, state, "2026-10-25 00:00:10+00"), 1); /* 02:00 CEST */
	ck_assert_int_eq(fire_at(t, state, "2026-10-25 00:30:10+00"), 1); /* 02:30 CEST */
	ck_assert_int_eq(fire_at(t, state, "2026-10-25 01:00:10+00"), 1); /* 02:00 CET */
	ck_assert_int_eq(fire_at(t, state, "2026-10-25 01:30:10+00"), 0); /* 02:30 CET: fired already */
	ck_assert_int_eq(fire_at(t, state, "2026-10-25 01:45:00+00"), 0);
	/* Nor does a coordinator that starts in the repeated hour fire it. */
	cron_state_free(state);
	state = cron_state_new();
	ck_assert_int_eq(fire_at(t, state, "2026-10-25 01:50:00+00"), 0);
	ck_assert_int_eq(fire_at(t, state, "2026-10-25 02:00:10+00"), 1); /* 03:00 CET */
	ck_assert_str_eq(local_ticks(t, "test-fixed", "Europe/Paris"), "10-25 02:30");
	ck_assert_str_eq(local_ticks(t, "test-hourly", "Europe/Paris"), "10-25 02:00 10-25 02:00 10-25 03:00");
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM workflow_executions", 0, NULL), 4);
	cron_state_free(state);
	testdb_free(t);
}
END_TEST

/*
 * In spring, Europe/Paris jumps from 01:59 CET to 03:00 CEST (01:00 UTC on
 * 2026-03-29): there is no 02:30. As in cronie, a fixed-time schedule fires
 * right after the jump, once; a wildcard one runs by the new wall clock
 * ("30 * * * *" next at 03:30, not at the jump for the skipped 02:30).
 */
START_TEST(a_skipped_local_time_fires_after_the_jump)
{
	testdb_t *t = testdb_new("cron_spring");
	cron_state_t *state = cron_state_new();

	fake_clock(t);
	fixture_workflow(t, "test-fixed", cron_definition("30 2 * * *", "Europe/Paris"));
	fixture_workflow(t, "test-half", cron_definition("30 * * * *", "Europe/Paris"));
	testdb_exec(t, "UPDATE workflow SET updated_at = '2026-03-28 23:45:00+00' WHERE name LIKE 'test-%'");
	ck_assert_int_eq(fire_at(t, state, "2026-03-29 00:30:10+00"), 1); /* 01:30 CET: test-half */
	ck_assert_int_eq(fire_at(t, state, "2026-03-29 00:59:10+00"), 0);
	ck_assert_int_eq(fire_at(t, state, "2026-03-29 01:00:10+00"), 1); /* 03:00 CEST: test-fixed */
	ck_assert_int_eq(fire_at(t, state, "2026-03-29 01:20:00+00"), 0);
	ck_assert_int_eq(fire_at(t, state, "2026-03-29 01:30:10+00"), 1); /* 03:30 CEST: test-half */
	/* The next day's 02:30 exists again, and fires. */
	ck_assert_int_eq(fire_at(t, state, "2026-03-30 00:15:00+00"), 1); /* test-half, 01:30 CEST */
	ck_assert_int_eq(fire_at(t, state, "2026-03-30 00:30:10+00"), 2); /* 02:30 CEST: both */
	ck_assert_str_eq(local_ticks(t, "test-fixed", "Europe/Paris"), "03-29 03:00 03-30 02:30");
	ck_assert_str_eq(testdb_text(t, "SELECT string_agg(to_char(c.local_tick, 'MM-DD HH24:MI'), ' ' ORDER BY c.tick)"
				     "  FROM wf_cron_ticks c JOIN workflow w ON w.id = c.workflow_id"
				     " WHERE w.name = 'test-fixed'", 0, NULL), "03-29 02:30 03-30 02:30");
	ck_assert_str_eq(local_ticks(t, "test-half", "Europe/Paris"), "03-29 01:30 03-29 03:30 03-30 01:30 03-30 02:30");
	cron_state_free(state);
	testdb_free(t);
}
END_TEST

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

RUNNER_MAIN("cron_job", 120, a_repeated_local_time_fires_once, a_skipped_local_time_fires_after_the_jump,
	    a_reactivated_workflow_does_not_fire_what_fell_due_while_off,
	    the_coordinator_refuses_unknown_time_zones, an_unknown_time_zone_is_logged_once)
