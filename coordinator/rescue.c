/*
 * rescue.c - wf_rescue_steps with the pools given time to heartbeat.
 */
#include "rescue.h"

#include <stdio.h>

#include "dbpool.h"
#include "wftime.h"

PGresult *rescue_steps(db_t *db, int dead_after_s)
{
	char dead_after[32];
	const char *params[1] = { NULL };
	double reachable_ms = wftime_monotonic_ms() - dbpool_reachable_since();

	/* A NULL interval judges no heartbeat (sql/002). */
	if (reachable_ms >= dead_after_s * 1000.0) {
		snprintf(dead_after, sizeof(dead_after), "%d seconds", dead_after_s);
		params[0] = dead_after;
	}
	return db_query(db, "SELECT wf_rescue_steps($1::interval)", 1, params);
}
