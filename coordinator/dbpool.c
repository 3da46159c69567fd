/*
 * dbpool.c - thread-local connections for the threadpool.
 */
#include "dbpool.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "wftime.h"

#define DBPOOL_MAX 128

static const wf_config_t *pool_cfg;
static const db_statement_t *pool_stmts;
static int pool_stmt_count;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static db_t *pool_all[DBPOOL_MAX];
static int pool_count;
static _Thread_local db_t *thread_db;
static double reachable_since_ms; /* 0 until the first connection; under pool_lock */

void dbpool_init(const wf_config_t *cfg)
{
	pool_cfg = cfg;
}

void dbpool_register(const db_statement_t *stmts, int count)
{
	pool_stmts = stmts;
	pool_stmt_count = count;
}

double dbpool_reachable_since(void)
{
	double since;

	pthread_mutex_lock(&pool_lock);
	since = reachable_since_ms;
	pthread_mutex_unlock(&pool_lock);
	return since;
}

static void note_connected(bool after_a_break)
{
	pthread_mutex_lock(&pool_lock);
	if (after_a_break || reachable_since_ms == 0)
		reachable_since_ms = wftime_monotonic_ms();
	pthread_mutex_unlock(&pool_lock);
}

void dbpool_note_reconnect(void)
{
	note_connected(true);
}

db_t *dbpool_get(void)
{
	bool first = thread_db == NULL;

	if (first) {
		thread_db = db_new(pool_cfg, "wf-coordinator");
		if (pool_stmt_count > 0 && db_register(thread_db, pool_stmts, pool_stmt_count) < 0)
			abort();
		/* Remembered so that dbpool_close_all can close it from the main thread. */
		pthread_mutex_lock(&pool_lock);
		if (pool_count < DBPOOL_MAX)
			pool_all[pool_count++] = thread_db;
		pthread_mutex_unlock(&pool_lock);
	}
	/*
	 * A session the server ended (pg_terminate_backend, a restart) still
	 * looks connected; handing it out would fail the caller's first query.
	 */
	if (db_connected(thread_db) && db_closed_by_server(thread_db))
		log_info("the database ended a pooled connection; reconnecting");
	else if (db_connected(thread_db))
		return thread_db;
	/* db_connect prepares the registered statements again. */
	if (db_connect(thread_db) < 0)
		return NULL;
	note_connected(!first);
	return thread_db;
}

void dbpool_close_all(void)
{
	pthread_mutex_lock(&pool_lock);
	for (int i = 0; i < pool_count; i++)
		db_free(pool_all[i]);
	pool_count = 0;
	pthread_mutex_unlock(&pool_lock);
}
