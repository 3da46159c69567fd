/*
 * cmd_clear_test_data.c - `wf-coordinator clear-test-data`: deletes the rows
 * made for tests (the "test-" prefix, see wf_clear_test_data() in sql/) and
 * says what it removed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "db.h"
#include "log.h"

int cmd_clear_test_data(const wf_config_t *cfg, int argc, char **argv)
{
	db_t *db = db_new(cfg, "wf-coordinator clear-test-data");
	PGresult *res = NULL;
	long total = 0;
	int rc = 1;

	if (argc > 1) {
		fprintf(stderr, "usage: wf-coordinator clear-test-data\n");
		db_free(db);
		return 2;
	}
	if (db_connect(db) < 0)
		goto out;
	/* One transaction: all test data goes, or none. */
	res = db_query(db, "SELECT what, removed FROM wf_clear_test_data()", 0, NULL);
	if (!db_ok(res)) {
		char msg[256];

		fprintf(stderr, "wf-coordinator clear-test-data: %s\n", db_error_message(res, msg, sizeof(msg)));
		goto out;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		printf("removed %s row%s from %s\n", PQgetvalue(res, i, 1),
		       atol(PQgetvalue(res, i, 1)) == 1 ? "" : "s", PQgetvalue(res, i, 0));
		total += atol(PQgetvalue(res, i, 1));
	}
	printf("removed %ld test row%s in all (only rows with the \"test-\" prefix)\n", total,
	       total == 1 ? "" : "s");
	/* The rows are gone either way; a report that could not be written is still a failure. */
	if (fflush(stdout) != 0) {
		fprintf(stderr, "wf-coordinator clear-test-data: could not write the report: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	db_free(db);
	return rc;
}
