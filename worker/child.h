/*
 * child.h - one worker child: its own connection, its own libuv loop.
 */
#ifndef WF_CHILD_H
#define WF_CHILD_H

#include <stdint.h>

#include "config.h"
#include "db.h"
#include "slot.h"

/* Exit codes a child reports to its parent. */
#define CHILD_EXIT_OK 0
#define CHILD_EXIT_ERROR 1
#define CHILD_EXIT_FATAL 2 /* bad configuration: respawning cannot help */

/* Runs the child until SIGTERM (drain) or SIGINT/SIGQUIT (at once); returns its exit code. */
int child_main(const wf_config_t *cfg, int slot_index, slot_shared_t *slot);

/*
 * Records worker worker_id (its wf_workers row) as stopped, not dead: the
 * child says so as it leaves, and the pool for a child that left at once
 * when asked (a fast exit on SIGINT). No-op for id 0.
 */
void child_record_stopped(db_t *db, int64_t worker_id);

#endif
