/*
 * cmd_run.c - `wf-coordinator run` (the default): migrate, then serve.
 *
 * Stop signals are still blocked here (see main.c): one that arrives while
 * migrating is handled as soon as the loop runs.
 */
#include "commands.h"
#include "coordinator.h"

int cmd_run(const wf_config_t *cfg, int argc, char **argv)
{
	int rc = cmd_migrate(cfg, 1, argv);

	if (rc != 0)
		return rc;
	return coord_run(cfg);
}
