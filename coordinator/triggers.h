/*
 * triggers.h - turning trigger rows into executions.
 */
#ifndef WF_TRIGGERS_H
#define WF_TRIGGERS_H

#include "db.h"

/*
 * Claims unprocessed rows of every trigger table in batches of batch_size,
 * starts the matching workflow of each and marks it processed, one
 * transaction per batch, until none are left. *started (may be NULL) gets
 * how many executions were created. Definitions waiting for validation are
 * validated first, and no row is routed while an active workflow of its
 * source waits for its verdict: should one still wait after a few tries,
 * that source's rows stay unclaimed until the next call. Returns 0, or -1
 * on a database error (the batch in hand is rolled back and its rows stay
 * unprocessed).
 */
int triggers_process(db_t *db, int batch_size, int *started);

#endif
