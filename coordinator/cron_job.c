/*
 * cron_job.c - cron-triggered workflows.
 *
 * Time zones are PostgreSQL's: the database turns each UTC minute since the
 * last look into local wall-clock minutes (AT TIME ZONE), and C matches
 * them against the schedule. A UTC minute normally stands for one local
 * minute. At a DST change it does not, and the rules are Vixie cron's and
 * cronie's (cron.h):
 *
 * - A forward jump skips local minutes (02:00 to 02:59 in Europe/Paris on
 *   the last Sunday of March). The UTC minute of the jump stands for them
 *   as well as for its own local minute, so a fixed-time schedule
 *   ("30 2 * * *") fires once right after the jump. A wildcard schedule
 *   ("0 * * * *") matches the jump minute's own local time only: it runs by
 *   the new wall clock.
 * - A backward jump repeats local minutes. A fixed-time tick also records
 *   its zone and local minute in wf_cron_ticks under a unique index, so the
 *   repeated 02:30 is a no-op like another coordinator's attempt; a wildcard
 *   tick records no local minute and fires in both passes of the hour.
 *
 * A tick fires in one transaction that inserts (workflow, tick) into
 * wf_cron_ticks and creates the execution; the primary key makes every other
 * coordinator's attempt at the same tick a no-op.
 */
#include "cron_job.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "json.h"
#include "log.h"

#define CRON_TRACKED_MAX 1024

struct cron_state {
	int count;
	struct {
		char workflow_id[24];
		char checked_until[40]; /* a timestamptz as PostgreSQL prints it; "" when none yet */
		bool zone_warned;	/* its unknown time zone was logged (once per run) */
	} seen[CRON_TRACKED_MAX];
};

cron_state_t *cron_state_new(void)
{
	return calloc(1, sizeof(cron_state_t));
}

void cron_state_free(cron_state_t *state)
{
	free(state);
}

/* The workflow's index in seen, added when add is set; -1 when absent or the table is full. */
static int entry(cron_state_t *s, const char *workflow_id, bool add)
{
	int i;

	for (i = 0; i < s->count; i++)
		if (strcmp(s->seen[i].workflow_id, workflow_id) == 0)
			return i;
	if (!add || s->count == CRON_TRACKED_MAX)
		return -1;
	s->count++;
	snprintf(s->seen[i].workflow_id, sizeof(s->seen[i].workflow_id), "%s", workflow_id);
	s->seen[i].checked_until[0] = '\0';
	s->seen[i].zone_warned = false;
	return i;
}

static const char *checked_until(cron_state_t *s, const char *workflow_id)
{
	int i = entry(s, workflow_id, false);

	return i < 0 || s->seen[i].checked_until[0] == '\0' ? NULL : s->seen[i].checked_until;
}

static void remember(cron_state_t *s, const char *workflow_id, const char *until)
{
	int i = entry(s, workflow_id, true);

	if (i >= 0) {
		snprintf(s->seen[i].checked_until, sizeof(s->seen[i].checked_until), "%s", until);
		s->seen[i].zone_warned = false;
	}
}

/*
 * A time zone the database does not know fails every look at the workflow,
 * once a second; it is worth one line per workflow and run, not 86,400 a
 * day. Definitions saved now are refused such a zone (definition.c), but one
 * saved before, or renamed out of the server's tz database, still gets here.
 */
static bool first_zone_warning(cron_state_t *s, const char *workflow_id)
{
	int i = entry(s, workflow_id, true);

	if (i < 0)
		return true; /* not tracked (more than CRON_TRACKED_MAX workflows): each time */
	if (s->seen[i].zone_warned)
		return false;
	s->seen[i].zone_warned = true;
	return true;
}

/*
 * Fires one tick: records it, and creates the execution in the same
 * transaction. local_tick is the local minute a fixed-time tick stands for,
 * NULL for a wildcard schedule. 1 when this coordinator fired it, 0 when
 * another had (or this local minute had fired already), -1 on error.
 */
static int fire(db_t *db, const char *workflow_id, const char *name, const char *tick,
		const char *local_tick, const char *schedule, const char *timezone)
{
	cJSON *context = json_object();
	cJSON *cron = json_object();
	char *text;
	const char *tick_params[4] = { workflow_id, tick, local_tick ? timezone : NULL, local_tick };
	const char *create_params[4];
	PGresult *res = NULL;
	char msg[256];
	int rc = -1;

	json_add_string(cron, "tick", tick);
	json_add_string(cron, "schedule", schedule);
	json_add_string(cron, "timezone", timezone);
	json_add(context, "cron", cron);
	text = json_print(context);
	if (db_begin(db) < 0)
		goto out;
	/* No conflict target: the primary key and the local minute's index both count. */
	res = db_query(db, "INSERT INTO wf_cron_ticks (workflow_id, tick, timezone, local_tick)"
			   " VALUES ($1::bigint, $2::timestamptz, $3, $4::timestamp)"
			   " ON CONFLICT DO NOTHING RETURNING tick", 4, tick_params);
	if (!db_ok(res))
		goto out;
	if (PQntuples(res) == 0) {
		rc = 0; /* another coordinator fired this tick */
		goto out;
	}
	PQclear(res);
	create_params[0] = name;
	create_params[1] = text;
	create_params[2] = workflow_id;
	create_params[3] = tick;
	res = db_query(db, "UPDATE wf_cron_ticks SET execution_id ="
			   "   (SELECT execution_id FROM wf_execution_create($1, $2::jsonb))"
			   " WHERE workflow_id = $3::bigint AND tick = $4::timestamptz RETURNING execution_id",
			   4, create_params);
	if (!db_ok(res) || PQntuples(res) != 1 || db_commit(db) < 0)
		goto out;
	log_info("cron tick %s started \"%s\" (execution %s)", tick, name, PQgetvalue(res, 0, 0));
	rc = 1;
out:
	if (rc < 0)
		log_warn("could not fire cron tick %s of \"%s\": %s", tick, name,
			 db_error_message(res, msg, sizeof(msg)));
	if (rc <= 0)
		db_rollback(db);
	PQclear(res);
	free(text);
	cJSON_Delete(context);
	return rc;
}

/* Looks at the minutes of one workflow since it last fired or was looked at. */
static int check_workflow(db_t *db, cron_state_t *state, const char *id, const char *name,
			  const char *schedule, const char *timezone, const char *since)
{
	const char *seen = checked_until(state, id);
	const char *params[3] = { since, seen, timezone };
	char err[256];
	cron_t cron;
	PGresult *res;
	int fired = 0;

	if (cron_parse(schedule, &cron, err, sizeof(err)) < 0) {
		log_warn("cron workflow \"%s\": %s", name, err);
		return 0;
	}
	/*
	 * Newest minute first: the first that matches is the tick to fire. Each
	 * UTC minute m stands for its own local minute and, after a forward
	 * jump, for the skipped ones between the previous minute's local time
	 * and its own (the last column tells those).
	 */
	res = db_query(db,
		       "SELECT m, extract(minute FROM l)::int, extract(hour FROM l)::int, extract(day FROM l)::int,"
		       "       extract(month FROM l)::int, extract(dow FROM l)::int, l, l <> (m AT TIME ZONE $3)"
		       "  FROM generate_series(date_trunc('minute', greatest($1::timestamptz, $2::timestamptz,"
		       "                                                    now() - interval '7 days')) + interval '1 minute',"
		       "                       date_trunc('minute', now()), interval '1 minute') m,"
		       "       LATERAL generate_series(least(((m - interval '1 minute') AT TIME ZONE $3) + interval '1 minute',"
		       "                                     m AT TIME ZONE $3),"
		       "                               m AT TIME ZONE $3, interval '1 minute') l"
		       " ORDER BY m DESC, l DESC",
		       3, params);
	if (!db_ok(res)) {
		db_error_message(res, err, sizeof(err));
		/* 22023, invalid_parameter_value: what AT TIME ZONE raises for an unknown zone. */
		if (strcmp(db_sqlstate(res), "22023") != 0 || first_zone_warning(state, id))
			log_warn("cron workflow \"%s\": %s", name, err);
		PQclear(res);
		return 0;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		bool skipped = strcmp(PQgetvalue(res, i, 7), "t") == 0;

		if (cron.wildcard && skipped)
			continue;
		if (cron_matches(&cron, atoi(PQgetvalue(res, i, 1)), atoi(PQgetvalue(res, i, 2)),
				 atoi(PQgetvalue(res, i, 3)), atoi(PQgetvalue(res, i, 4)),
				 atoi(PQgetvalue(res, i, 5)))) {
			fired = fire(db, id, name, PQgetvalue(res, i, 0), cron.wildcard ? NULL : PQgetvalue(res, i, 6),
				     schedule, timezone);
			break;
		}
	}
	if (fired >= 0 && PQntuples(res) > 0)
		remember(state, id, PQgetvalue(res, 0, 0));
	PQclear(res);
	return fired < 0 ? -1 : fired;
}

int cron_fire_due(db_t *db, cron_state_t *state)
{
	PGresult *res = db_query(db,
				 "SELECT w.id, w.name, w.definition #>> '{trigger,schedule}',"
				 "       coalesce(w.definition #>> '{trigger,timezone}', 'UTC'),"
				 "       greatest(w.updated_at, (SELECT max(tick) FROM wf_cron_ticks t WHERE t.workflow_id = w.id))"
				 "  FROM workflow w WHERE w.active AND w.valid AND w.trigger_source = 'cron'",
				 0, NULL);
	int started = 0;

	if (!db_ok(res)) {
		PQclear(res);
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int rc = check_workflow(db, state, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
					PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));

		if (rc < 0) {
			PQclear(res);
			return -1;
		}
		started += rc;
	}
	PQclear(res);
	return started;
}
