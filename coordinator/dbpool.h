/*
 * dbpool.h - one database connection per libuv threadpool thread.
 *
 * The coordinator's loop never touches the database itself: work that needs
 * it runs on the threadpool (uv_queue_work), where each thread keeps its own
 * connection, connected on first use and reconnected after a failure or
 * when the server has ended its session (checked before each use).
 */
#ifndef WF_DBPOOL_H
#define WF_DBPOOL_H

#include "config.h"
#include "db.h"

/* Call once before the loop starts; cfg must outlive the pool. */
void dbpool_init(const wf_config_t *cfg);
/*
 * Statements every pooled connection prepares when it connects (again after
 * a reconnect), for reads that run often: planned once per connection, not
 * at every call. Call before the loop starts; stmts must outlive the pool.
 */
void dbpool_register(const db_statement_t *stmts, int count);
/* The calling thread's connection, connected; NULL when the database is unreachable. */
db_t *dbpool_get(void);
/*
 * Since when (wftime_monotonic_ms) the database has been reachable without
 * a break this process noticed: the first connection, then each reconnect
 * after a lost one, a pooled one or the listener's (dbpool_note_reconnect).
 * Heartbeats that stopped before then may have stopped because of the
 * break, not because their pool died (rescue.h).
 */
double dbpool_reachable_since(void);
/* A connection of this process was lost and is back. */
void dbpool_note_reconnect(void);
/* Closes every connection; call after the loop has ended. */
void dbpool_close_all(void);

#endif
