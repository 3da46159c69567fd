/*
 * migrate.h - applies the numbered migrations of sql/ (embedded at build time).
 *
 * Migrations run in order, each in its own transaction, under one advisory
 * lock, so running migrate twice, or from two hosts at once, is safe: the
 * second run waits for the first and then finds nothing to do.
 */
#ifndef WF_MIGRATE_H
#define WF_MIGRATE_H

#include "db.h"

typedef struct {
	int version;
	const char *name;
	const char *sha256;
	const char *sql;
} migration_t;

extern const migration_t migrations[];
extern const int migrations_count;

/* Applies what is missing; *applied (may be NULL) gets how many ran. 0 or -1. */
int migrate_run(db_t *db, int *applied);
/* The newest version this binary carries. */
int migrate_latest_version(void);
/* True when every embedded migration is recorded as applied in the database. */
bool migrate_current(db_t *db);

#endif
