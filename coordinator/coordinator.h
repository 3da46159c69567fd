/*
 * coordinator.h - the coordinator daemon: one libuv loop that reacts to
 * NOTIFY, runs its periodic jobs on the threadpool, and serves the API.
 */
#ifndef WF_COORDINATOR_H
#define WF_COORDINATOR_H

#include "config.h"

/* Runs until SIGTERM or SIGINT, then finishes in-flight work. Returns the exit code. */
int coord_run(const wf_config_t *cfg);

#endif
