/*
 * cron_job.h - starting workflows whose trigger is a cron schedule.
 */
#ifndef WF_CRON_JOB_H
#define WF_CRON_JOB_H

#include "db.h"

/* Remembers, per workflow, the last minute already looked at. */
typedef struct cron_state cron_state_t;

cron_state_t *cron_state_new(void);
void cron_state_free(cron_state_t *state);

/*
 * Fires the latest due tick of every cron workflow that has not fired yet.
 * Ticks missed while no coordinator ran are caught up once (the latest one
 * only, within the last 7 days). Returns how many executions it started, or
 * -1 on a database error.
 */
int cron_fire_due(db_t *db, cron_state_t *state);

#endif
