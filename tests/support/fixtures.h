/*
 * fixtures.h - workflows and executions for tests, written the way the
 * engine writes them (validated definitions) but without the API.
 */
#ifndef WF_FIXTURES_H
#define WF_FIXTURES_H

#include "testdb.h"

/* Stores a definition as a valid, active workflow named name. Returns its id. */
long fixture_workflow(testdb_t *t, const char *name, const char *definition_json);
/* Creates n executions of workflow name with context (JSON text or NULL for {}). */
void fixture_executions(testdb_t *t, const char *name, int n, const char *context_json);
/* Creates one execution and returns its id (static buffer). */
const char *fixture_execution(testdb_t *t, const char *name, const char *context_json);

/*
 * Polls sql (a one-value query) every 20 ms until it returns expect or
 * timeout_ms passes; returns the last value. Each poll sees the sessions'
 * activity afresh, inside a transaction too.
 */
long fixture_wait_long(testdb_t *t, const char *sql, long expect, int timeout_ms);
/* Waits (10 s at most, asserting) until conn's session waits for a lock. */
void fixture_wait_blocked(testdb_t *t, PGconn *conn);
/* The first result of the statement sent on conn, the rest drained. Caller clears. */
PGresult *fixture_result(PGconn *conn);
/*
 * A second session (tag names it) that has sent sql and waits for a lock
 * the test's own session holds. Caller frees it with db_free.
 */
db_t *fixture_session_waiting_on(testdb_t *t, const char *tag, const char *sql, int nparams,
				 const char *const *params);
/* The SQLSTATE of other's statement once it is no longer held, "" when it succeeded (static buffer). */
const char *fixture_sqlstate_of(db_t *other);

#endif
