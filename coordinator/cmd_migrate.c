/*
 * cmd_migrate.c - `wf-coordinator migrate` and `wf-coordinator settings`.
 */
#include <stdio.h>

#include "commands.h"
#include "db.h"
#include "log.h"
#include "migrate.h"

int cmd_migrate(const wf_config_t *cfg, int argc, char **argv)
{
	db_t *db = db_new(cfg, "wf-coordinator migrate");
	int applied = 0;
	int rc = 1;

	if (argc > 1) {
		fprintf(stderr, "usage: wf-coordinator migrate\n");
		db_free(db);
		return 2;
	}
	if (db_connect(db) < 0)
		goto out;
	if (migrate_run(db, &applied) < 0)
		goto out;
	log_info("schema at version %d (%d migration%s applied now)", migrate_latest_version(),
		 applied, applied == 1 ? "" : "s");
	rc = 0;
out:
	db_free(db);
	return rc;
}

int cmd_settings(const wf_config_t *cfg, int argc, char **argv)
{
	config_print_example(stdout);
	return 0;
}
