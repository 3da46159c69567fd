/*
 * pool.h - the wf-worker parent: forks, watches and replaces its children.
 */
#ifndef WF_POOL_H
#define WF_POOL_H

#include "config.h"

/*
 * Runs the pool until SIGTERM (drain), SIGINT/SIGQUIT (fast exit) or a
 * fatal child error. cfg is owned by the pool from here on (SIGHUP replaces
 * it). Returns the process exit code.
 */
int pool_run(wf_config_t *cfg);

#endif
