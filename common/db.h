/*
 * db.h - a thin libpq wrapper: connect from the settings, reconnect with
 * backoff, prepared statements that survive a reconnect, and the one place
 * that decides whether an error is worth retrying.
 *
 * A db_t is used by one thread at a time. PGresults returned by db_* belong
 * to the caller, who PQclear()s them.
 */
#ifndef WF_DB_H
#define WF_DB_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>

#include "config.h"

typedef struct db db_t;

/* Prepared statement: registered once, prepared on every (re)connect. */
typedef struct {
	const char *name;
	const char *sql;
} db_statement_t;

/* Creates an unconnected handle; application_name shows in pg_stat_activity. */
db_t *db_new(const wf_config_t *cfg, const char *application_name);
void db_free(db_t *db);

/* Connect once; 0, or -1 with the reason logged at the given level. */
int db_connect(db_t *db);
/*
 * Connects, retrying with capped exponential backoff until connected or
 * *stop becomes non-zero (stop may be NULL). 0 when connected, -1 when stopped.
 * The wait callback (db_set_wait_cb) runs after every failed attempt.
 */
int db_connect_retry(db_t *db, volatile sig_atomic_t *stop);

/* Called while db_connect_retry waits for the database; arg is the caller's. */
typedef void (*db_wait_cb)(void *arg);
/*
 * Sets the callback db_connect_retry calls after each failed attempt (NULL:
 * none). A process watched for signs of life (a worker child) uses it to
 * show that it is waiting for the database, not stuck.
 */
void db_set_wait_cb(db_t *db, db_wait_cb cb, void *arg);
/* Reconnects if the connection is broken; 0 when usable. */
int db_ensure(db_t *db, volatile sig_atomic_t *stop);
/*
 * For a connection with no query in flight: reads, without waiting, what
 * the server sent, and says whether it has ended the session (terminated,
 * shutting down) or the connection is broken, which PQstatus alone shows
 * only after a query failed. Reconnect with db_connect when true.
 */
bool db_closed_by_server(db_t *db);
PGconn *db_conn(db_t *db);
bool db_connected(db_t *db);

/* Registers statements to prepare now and after every reconnect. */
int db_register(db_t *db, const db_statement_t *stmts, int count);

/* Runs a prepared statement with text parameters. Never returns NULL. */
PGresult *db_run(db_t *db, const char *name, int nparams, const char *const *params);
/*
 * db_run with each parameter's length and format (0 text, 1 binary), as
 * PQexecPrepared takes them; NULL lengths and formats: all text.
 */
PGresult *db_run_formats(db_t *db, const char *name, int nparams, const char *const *params, const int *lengths,
			 const int *formats);
/* Runs SQL with text parameters (PQexecParams). Never returns NULL. */
PGresult *db_query(db_t *db, const char *sql, int nparams, const char *const *params);
/* db_query for commands whose rows are not needed: 0, or -1 after logging. */
int db_command(db_t *db, const char *sql, int nparams, const char *const *params);

/* True when the result is PGRES_COMMAND_OK or PGRES_TUPLES_OK. */
bool db_ok(const PGresult *res);
/* The SQLSTATE of a failed result, or "" when none. */
const char *db_sqlstate(const PGresult *res);
/* The primary error message without the "ERROR:" prefix or newline. */
const char *db_error_message(const PGresult *res, char *buf, size_t size);
/*
 * True for errors that a retry may cure: lost connection, serialization
 * failure, deadlock, server shutting down, too many connections.
 */
bool db_transient(db_t *db, const PGresult *res);

/* Transaction helpers on top of db_command. */
int db_begin(db_t *db);
int db_commit(db_t *db);
void db_rollback(db_t *db);

#endif
