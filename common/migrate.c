/*
 * migrate.c - the migration runner.
 */
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Any constant will do; it only has to be the same in every binary. */
#define MIGRATE_LOCK_KEY "7311002"

static const char *const sql_create_ledger =
	"CREATE TABLE IF NOT EXISTS wf_schema_migrations ("
	"  version integer PRIMARY KEY,"
	"  name text NOT NULL,"
	"  sha256 text NOT NULL,"
	"  applied_at timestamptz NOT NULL DEFAULT now())";

int migrate_latest_version(void)
{
	return migrations_count > 0 ? migrations[migrations_count - 1].version : 0;
}

/* Checksums of applied migrations; a change after applying is reported, not re-run. */
static int check_applied(db_t *db, const migration_t *m, bool *applied)
{
	char version[16];
	const char *params[1] = { version };
	PGresult *res;

	snprintf(version, sizeof(version), "%d", m->version);
	res = db_query(db, "SELECT sha256 FROM wf_schema_migrations WHERE version = $1", 1, params);
	if (!db_ok(res)) {
		PQclear(res);
		return -1;
	}
	*applied = PQntuples(res) == 1;
	if (*applied && strcmp(PQgetvalue(res, 0, 0), m->sha256) != 0)
		log_warn("migration %s was changed after it was applied; the change is not applied",
			 m->name);
	PQclear(res);
	return 0;
}

static int apply_one(db_t *db, const migration_t *m)
{
	char version[16];
	const char *params[3] = { version, m->name, m->sha256 };
	PGresult *res;
	char msg[512];

	snprintf(version, sizeof(version), "%d", m->version);
	if (db_begin(db) < 0)
		return -1;
	/* Migration files are multi-statement scripts: the simple query protocol runs them. */
	res = PQexec(db_conn(db), m->sql);
	if (!db_ok(res)) {
		log_error("migration %s failed: %s", m->name, db_error_message(res, msg, sizeof(msg)));
		PQclear(res);
		db_rollback(db);
		return -1;
	}
	PQclear(res);
	if (db_command(db, "INSERT INTO wf_schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
		       3, params) < 0 || db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	log_info("applied migration %s", m->name);
	return 0;
}

int migrate_run(db_t *db, int *applied)
{
	int count = 0;
	int rc = -1;

	/* "already exists, skipping" notices are expected on every run after the first. */
	if (db_command(db, "SET client_min_messages = warning", 0, NULL) < 0 ||
	    db_command(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL) < 0)
		return -1;
	if (db_command(db, sql_create_ledger, 0, NULL) < 0)
		goto out;
	for (int i = 0; i < migrations_count; i++) {
		bool done;

		if (check_applied(db, &migrations[i], &done) < 0)
			goto out;
		if (done)
			continue;
		if (apply_one(db, &migrations[i]) < 0)
			goto out;
		count++;
	}
	rc = 0;
out:
	db_command(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0, NULL);
	if (applied)
		*applied = count;
	return rc;
}

bool migrate_current(db_t *db)
{
	char version[16];
	const char *params[1] = { version };
	PGresult *res;
	bool current;

	/*
	 * Every migration this binary knows is applied. Versions past its own
	 * are a newer binary's, applied during a rolling upgrade; each one keeps
	 * what older binaries call (sql/020 says how), so they do not make this
	 * one unready.
	 */
	snprintf(version, sizeof(version), "%d", migrate_latest_version());
	res = db_query(db, "SELECT count(*) FROM wf_schema_migrations WHERE version <= $1::int", 1, params);
	current = db_ok(res) && PQntuples(res) == 1 && atoi(PQgetvalue(res, 0, 0)) == migrations_count;
	PQclear(res);
	return current;
}
