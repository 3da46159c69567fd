/*
 * db.c - libpq connection handling shared by the coordinator and workers.
 */
#include "db.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define DB_PARAMS_MAX 16
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* Enough reads for the server's last message and then the end of the stream. */
#define DRAIN_MAX 4

struct db {
	const wf_config_t *cfg;
	char *application_name;
	PGconn *conn;
	const db_statement_t **stmt_sets;
	int *stmt_counts;
	int nsets;
	bool reported_down; /* log "connection lost" once per outage */
	bool ended;	/* the server sent FATAL while the connection was idle */
	db_wait_cb wait_cb;	/* see db_set_wait_cb() */
	void *wait_arg;
};

db_t *db_new(const wf_config_t *cfg, const char *application_name)
{
	db_t *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return NULL;
	db->cfg = cfg;
	db->application_name = strdup(application_name ? application_name : "wf-engine");
	return db;
}

void db_free(db_t *db)
{
	if (db == NULL)
		return;
	if (db->conn)
		PQfinish(db->conn);
	free(db->application_name);
	free(db->stmt_sets);
	free(db->stmt_counts);
	free(db);
}

PGconn *db_conn(db_t *db)
{
	return db->conn;
}

bool db_connected(db_t *db)
{
	return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK;
}

static int prepare_set(db_t *db, const db_statement_t *stmts, int count)
{
	for (int i = 0; i < count; i++) {
		PGresult *res = PQprepare(db->conn, stmts[i].name, stmts[i].sql, 0, NULL);
		char msg[256];

		if (!db_ok(res)) {
			log_error("could not prepare \"%s\": %s", stmts[i].name,
				  db_error_message(res, msg, sizeof(msg)));
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	return 0;
}

static int prepare_all(db_t *db)
{
	for (int s = 0; s < db->nsets; s++)
		if (prepare_set(db, db->stmt_sets[s], db->stmt_counts[s]) < 0)
			return -1;
	return 0;
}

/*
 * Notices and warnings the server sends (RAISE WARNING in a function, say)
 * become log lines: libpq would otherwise print them to stderr as they are,
 * and a JSON log would get lines that are not JSON. An error that arrives
 * while no query runs comes here too: it is the server saying why it ends
 * the session (FATAL), which db_closed_by_server needs to know.
 */
static void on_notice(void *arg, const PGresult *res)
{
	db_t *db = arg;
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	log_field_t fields[] = { { "sqlstate", db_sqlstate(res), false } };
	log_level_t level = LOG_INFO;

	if (severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0))
		db->ended = true;
	if (severity && strcmp(severity, "WARNING") == 0)
		level = LOG_WARN;
	else if (severity && strncmp(severity, "DEBUG", 5) == 0)
		level = LOG_DEBUG;
	log_write(level, fields, 1, "the database says: %s", primary ? primary : "");
}

int db_connect(db_t *db)
{
	const char *keys[DB_PARAMS_MAX];
	const char *values[DB_PARAMS_MAX];

	if (db->conn) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	config_db_params(db->cfg, db->application_name, keys, values, DB_PARAMS_MAX);
	db->conn = PQconnectdbParams(keys, values, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		if (!db->reported_down) {
			char msg[512];

			snprintf(msg, sizeof(msg), "%s",
				 db->conn ? PQerrorMessage(db->conn) : "out of memory");
			msg[strcspn(msg, "\n")] = '\0';
			log_warn("could not connect to the database: %s", msg);
			db->reported_down = true;
		}
		return -1;
	}
	db->ended = false;
	PQsetNoticeReceiver(db->conn, on_notice, db);
	if (prepare_all(db) < 0) {
		PQfinish(db->conn);
		db->conn = NULL;
		return -1;
	}
	if (db->reported_down)
		log_info("connected to the database");
	db->reported_down = false;
	return 0;
}

/*
 * PQstatus stays CONNECTION_OK until libpq reads, so a session the server
 * ended while it sat idle looks usable until its next query fails. An
 * idle connection that does not LISTEN has nothing to read; when its
 * socket is readable the server sent something, usually its FATAL message
 * and then the end of the stream. Reading that without waiting lets libpq
 * see the end; the FATAL alone is enough, as the end may still be on its
 * way. A ParameterStatus (after a configuration reload) is parsed away
 * and the connection stays in use.
 */
bool db_closed_by_server(db_t *db)
{
	int fd;

	if (!db_connected(db))
		return true;
	fd = PQsocket(db->conn);
	for (int i = 0; i < DRAIN_MAX && !db->ended; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 0) <= 0)
			break;
		if (!PQconsumeInput(db->conn))
			return true;
		/* Parses what arrived; an error goes to on_notice. */
		(void)PQisBusy(db->conn);
	}
	return db->ended || !db_connected(db);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void db_set_wait_cb(db_t *db, db_wait_cb cb, void *arg)
{
	db->wait_cb = cb;
	db->wait_arg = arg;
}

int db_connect_retry(db_t *db, volatile sig_atomic_t *stop)
{
	long backoff = BACKOFF_MIN_MS;

	for (;;) {
		if (stop && *stop)
			return -1;
		if (db_connect(db) == 0)
			return 0;
		if (db->wait_cb)
			db->wait_cb(db->wait_arg);
		/* Jitter spreads the reconnects of a whole fleet after a restart. */
		sleep_ms(backoff / 2 + rand() % (backoff / 2 + 1));
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
}

int db_ensure(db_t *db, volatile sig_atomic_t *stop)
{
	if (db_connected(db))
		return 0;
	if (!db->reported_down && db->conn != NULL) {
		log_warn("database connection lost; reconnecting");
		db->reported_down = true;
	}
	return db_connect_retry(db, stop);
}

int db_register(db_t *db, const db_statement_t *stmts, int count)
{
	const db_statement_t **sets = realloc(db->stmt_sets, (db->nsets + 1) * sizeof(*sets));
	int *counts;

	if (sets == NULL)
		return -1;
	db->stmt_sets = sets;
	counts = realloc(db->stmt_counts, (db->nsets + 1) * sizeof(*counts));
	if (counts == NULL)
		return -1;
	db->stmt_counts = counts;
	db->stmt_sets[db->nsets] = stmts;
	db->stmt_counts[db->nsets] = count;
	db->nsets++;
	return db_connected(db) ? prepare_set(db, stmts, count) : 0;
}

static PGresult *null_result(db_t *db)
{
	/* libpq returns NULL only without memory or a connection; make it a result. */
	return PQmakeEmptyPGresult(db->conn, PGRES_FATAL_ERROR);
}

PGresult *db_run_formats(db_t *db, const char *name, int nparams, const char *const *params, const int *lengths,
			 const int *formats)
{
	PGresult *res;

	if (db->conn == NULL)
		return PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
	res = PQexecPrepared(db->conn, name, nparams, params, lengths, formats, 0);
	return res ? res : null_result(db);
}

PGresult *db_run(db_t *db, const char *name, int nparams, const char *const *params)
{
	return db_run_formats(db, name, nparams, params, NULL, NULL);
}

PGresult *db_query(db_t *db, const char *sql, int nparams, const char *const *params)
{
	PGresult *res;

	if (db->conn == NULL)
		return PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
	res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	return res ? res : null_result(db);
}

int db_command(db_t *db, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = db_query(db, sql, nparams, params);
	int rc = 0;

	if (!db_ok(res)) {
		char msg[512];

		log_warn("query failed: %s", db_error_message(res, msg, sizeof(msg)));
		rc = -1;
	}
	PQclear(res);
	return rc;
}

bool db_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return res != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
}

const char *db_sqlstate(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return state ? state : "";
}

const char *db_error_message(const PGresult *res, char *buf, size_t size)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (primary == NULL)
		primary = res ? PQresultErrorMessage(res) : "no result";
	if (primary == NULL || *primary == '\0')
		primary = "connection lost";
	snprintf(buf, size, "%s", primary);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

bool db_transient(db_t *db, const PGresult *res)
{
	const char *state = db_sqlstate(res);

	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return true;
	if (*state == '\0')
		return PQresultStatus(res) == PGRES_FATAL_ERROR;
	return strncmp(state, "08", 2) == 0 ||	/* connection exception */
	       strcmp(state, "40001") == 0 ||	/* serialization_failure */
	       strcmp(state, "40P01") == 0 ||	/* deadlock_detected */
	       strcmp(state, "55P03") == 0 ||	/* lock_not_available */
	       strcmp(state, "53300") == 0 ||	/* too_many_connections */
	       strcmp(state, "57P01") == 0 ||	/* admin_shutdown */
	       strcmp(state, "57P02") == 0 ||	/* crash_shutdown */
	       strcmp(state, "57P03") == 0;	/* cannot_connect_now */
}

int db_begin(db_t *db)
{
	return db_command(db, "BEGIN", 0, NULL);
}

int db_commit(db_t *db)
{
	return db_command(db, "COMMIT", 0, NULL);
}

void db_rollback(db_t *db)
{
	PGresult *res;

	if (!db_connected(db))
		return;
	res = db_query(db, "ROLLBACK", 0, NULL);
	PQclear(res);
}
