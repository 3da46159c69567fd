/*
 * runner.h - the step runner of a worker child: claim a batch of due steps,
 * run each through its node's executor, and commit every outcome with its
 * log rows and the next step.
 */
#ifndef WF_RUNNER_H
#define WF_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "slot.h"

typedef struct runner runner_t;

struct services;

/* db and services stay the caller's; services is passed to executors. */
runner_t *runner_new(const wf_config_t *cfg, db_t *db, int64_t worker_id, slot_shared_t *slot,
		     const struct services *services);
void runner_free(runner_t *r);

/* Prepared statements the runner needs; register them on its connection. */
extern const db_statement_t runner_statements[];
extern const int runner_statements_count;

/*
 * One round: records the outcomes of the previous round's steps and claims
 * up to WORKER_BATCH due steps (one round trip), then runs them; their
 * outcomes are recorded by the next round (or runner_flush). *claimed gets
 * the number claimed. Returns 0, or -1 when the database failed (the caller
 * reconnects; claimed steps go back to the queue).
 */
int runner_round(runner_t *r, int *claimed);
/*
 * Whether the last round claimed all it asked for (so more may be waiting).
 * A round asks for WORKER_BATCH steps at most, fewer when recent steps were
 * slow (about 100 ms of them per round).
 */
bool runner_last_round_full(const runner_t *r);

/* Records the outcomes still in hand, claiming nothing (before the child exits). */
int runner_flush(runner_t *r);

/*
 * Epoch seconds of the earliest ready step (possibly in the past), 0 when
 * the queue has none, -1 on a database error.
 */
double runner_next_due(runner_t *r);

/* Puts this worker's claimed steps back in the queue (after a lost connection). */
int runner_requeue_own(runner_t *r);

#endif
