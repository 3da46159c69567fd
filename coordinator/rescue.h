/*
 * rescue.h - handing back the steps of dead workers and of expired
 * leases (wf_rescue_steps), for the sweeper and POST /workflow/recovery/recover.
 */
#ifndef WF_RESCUE_H
#define WF_RESCUE_H

#include <libpq-fe.h>

#include "db.h"

/*
 * Runs wf_rescue_steps on db and returns its result (one row, the count;
 * the caller checks db_ok and clears it). A pool counts as dead once its
 * heartbeat is older than dead_after_s, but only while the database has
 * been reachable for that long (dbpool_reachable_since): right after the
 * coordinator started or got its connection back, a silent pool may have
 * been cut off too and still be running its steps: calling it dead would
 * hand them to another worker, and an email or a webhook would go out
 * twice. Expired leases are rescued whatever the time.
 */
PGresult *rescue_steps(db_t *db, int dead_after_s);

#endif
