/*
 * testdb.h - a fresh, migrated database per test, on the cluster that
 * .ci/run (or the developer) started.
 *
 * The cluster is found through the standard libpq variables PGHOST, PGPORT
 * and PGUSER; a test that needs a database fails (it does not skip) when none
 * is reachable.
 */
#ifndef WF_TESTDB_H
#define WF_TESTDB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "config.h"
#include "db.h"

typedef struct {
	char name[64];
	char url[512];	/* DATABASE_URL of this database, for child processes */
	wf_config_t cfg; /* settings pointing at this database */
	db_t *db;	/* a connection for the test's own queries */
} testdb_t;

/* Creates and migrates a database named after tag; aborts the test on failure. */
testdb_t *testdb_new(const char *tag);
/* Creates a database without migrating it. */
testdb_t *testdb_new_empty(const char *tag);
/* Closes the connection and drops the database. NULL is fine. */
void testdb_free(testdb_t *t);

/* Runs SQL with text parameters; aborts the test when it fails. Caller clears. */
PGresult *testdb_query(testdb_t *t, const char *sql, int nparams, const char *const *params);
/* Runs SQL expected to fail; returns its SQLSTATE (static buffer). */
const char *testdb_error(testdb_t *t, const char *sql, int nparams, const char *const *params);
/* The single value of a one-row, one-column query as a long. */
long testdb_long(testdb_t *t, const char *sql, int nparams, const char *const *params);
/* The single value as text, copied into a static buffer ("" for NULL). */
const char *testdb_text(testdb_t *t, const char *sql, int nparams, const char *const *params);
/* Runs a statement without parameters; aborts on failure. */
void testdb_exec(testdb_t *t, const char *sql);
/*
 * Runs a script of many statements (the simple query protocol, as a
 * migration runs); aborts on failure, naming the script by what.
 */
void testdb_script(testdb_t *t, const char *what, const char *sql);
/*
 * The shared buffers one statement (no parameters) touches, hit or read,
 * from its EXPLAIN (ANALYZE, BUFFERS): how a test tells an index lookup
 * from a scan whatever the timing. The statement really runs.
 */
long testdb_buffers(testdb_t *t, const char *sql);

/* Sets DATABASE_URL (and clears DB_*) in this process's environment. */
void testdb_export(testdb_t *t);

#endif
