/*
 * jobs.h - the coordinator's background work: each job runs on the libuv
 * threadpool with that thread's database connection, never two runs of the
 * same job at once; a kick while it runs makes it run once more after. A
 * run that failed because the database connection was lost (or could not
 * be made) runs again after a short backoff, not at the next interval.
 */
#ifndef WF_JOBS_H
#define WF_JOBS_H

#include <stdbool.h>
#include <uv.h>

#include "db.h"

typedef struct job job_t;

/* The work: runs on a threadpool thread; db is connected. 0, or -1 on failure. */
typedef int (*job_work_cb)(job_t *job, db_t *db);

struct job {
	const char *name;
	job_work_cb work;
	void *data;		/* the job's own state */
	uv_loop_t *loop;
	uv_work_t req;
	uv_timer_t timer;	/* periodic kick; unused when interval_ms is 0 */
	uv_timer_t retry;	/* one-shot kick after a run lost its connection */
	uint64_t backoff_ms;	/* the next retry's delay; 0 after a run that kept it */
	bool running;
	bool again;
	bool stopped;
	bool lost;		/* the last run failed for want of a connection */
	int failures;		/* consecutive; for logging once per outage */
};

/* Sets the job up; with interval_ms > 0 it also runs every interval_ms. */
void job_init(job_t *job, uv_loop_t *loop, const char *name, job_work_cb work, void *data,
	      uint64_t interval_ms);
/* Runs the job soon (now, or right after the run in progress). */
void job_kick(job_t *job);
/* Stops the timers; a run in progress finishes. Safe to call twice. */
void job_stop(job_t *job);
/* True while a run is in progress. */
bool job_busy(const job_t *job);

#endif
