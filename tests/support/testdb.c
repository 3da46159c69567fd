/*
 * testdb.c - throwaway databases for the database and process tests.
 */
#include "testdb.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate.h"

static PGconn *admin_connect(void)
{
	PGconn *conn = PQconnectdb("dbname=postgres");

	if (PQstatus(conn) != CONNECTION_OK)
		ck_abort_msg("no test PostgreSQL (set PGHOST/PGPORT/PGUSER, or run .ci/run): %s",
			     PQerrorMessage(conn));
	return conn;
}

static void admin_command(const char *sql)
{
	PGconn *conn = admin_connect();
	PGresult *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		ck_abort_msg("%s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
	PQfinish(conn);
}

static void build_url(testdb_t *t)
{
	const char *host = getenv("PGHOST");
	const char *port = getenv("PGPORT");
	const char *user = getenv("PGUSER");

	snprintf(t->url, sizeof(t->url), "postgresql:///%s?host=%s&port=%s&user=%s", t->name,
		 host ? host : "/var/run/postgresql", port ? port : "5432",
		 user ? user : "postgres");
}

testdb_t *testdb_new_empty(const char *tag)
{
	testdb_t *t = calloc(1, sizeof(*t));
	char sql[256];
	char err[256];

	ck_assert_ptr_nonnull(t);
	/* The pid and a random suffix keep parallel tests apart; the name is ours. */
	snprintf(t->name, sizeof(t->name), "wft_%s_%d_%ld", tag, (int)getpid(), random() % 100000);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", t->name);
	admin_command(sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", t->name);
	admin_command(sql);
	build_url(t);
	testdb_export(t);
	if (config_load(&t->cfg, NULL, err, sizeof(err)) < 0)
		ck_abort_msg("config: %s", err);
	t->db = db_new(&t->cfg, "wf-test");
	if (db_connect(t->db) < 0)
		ck_abort_msg("could not connect to %s", t->url);
	return t;
}

testdb_t *testdb_new(const char *tag)
{
	testdb_t *t = testdb_new_empty(tag);

	if (migrate_run(t->db, NULL) < 0)
		ck_abort_msg("migrations failed on %s", t->name);
	return t;
}

void testdb_free(testdb_t *t)
{
	char sql[256];

	if (t == NULL)
		return;
	db_free(t->db);
	config_free(&t->cfg);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->name);
	admin_command(sql);
	free(t);
}

void testdb_export(testdb_t *t)
{
	setenv("DATABASE_URL", t->url, 1);
}

PGresult *testdb_query(testdb_t *t, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = db_query(t->db, sql, nparams, params);

	if (!db_ok(res))
		ck_abort_msg("%s: %s", sql, PQresultErrorMessage(res));
	return res;
}

const char *testdb_error(testdb_t *t, const char *sql, int nparams, const char *const *params)
{
	static char state[8];
	PGresult *res = db_query(t->db, sql, nparams, params);

	if (db_ok(res))
		ck_abort_msg("expected an error from: %s", sql);
	snprintf(state, sizeof(state), "%s", db_sqlstate(res));
	PQclear(res);
	return state;
}

long testdb_long(testdb_t *t, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = testdb_query(t, sql, nparams, params);
	long v;

	if (PQntuples(res) != 1 || PQnfields(res) != 1)
		ck_abort_msg("expected one value from: %s (got %d rows)", sql, PQntuples(res));
	v = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

const char *testdb_text(testdb_t *t, const char *sql, int nparams, const char *const *params)
{
	static char buf[8192];
	PGresult *res = testdb_query(t, sql, nparams, params);

	if (PQntuples(res) != 1 || PQnfields(res) != 1)
		ck_abort_msg("expected one value from: %s (got %d rows)", sql, PQntuples(res));
	snprintf(buf, sizeof(buf), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return buf;
}

long testdb_buffers(testdb_t *t, const char *sql)
{
	const char *params[1] = { sql };

	/* A DO block cannot return a value; a temporary function can. */
	testdb_exec(t, "CREATE OR REPLACE FUNCTION pg_temp.wf_buffers_of(q text) RETURNS bigint"
		       " LANGUAGE plpgsql AS $$ DECLARE p json; BEGIN"
		       "   EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || q INTO p;"
		       "   RETURN (p -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::bigint"
		       "        + (p -> 0 -> 'Plan' ->> 'Shared Read Blocks')::bigint;"
		       " END $$");
	return testdb_long(t, "SELECT pg_temp.wf_buffers_of($1)", 1, params);
}

void testdb_exec(testdb_t *t, const char *sql)
{
	PQclear(testdb_query(t, sql, 0, NULL));
}

void testdb_script(testdb_t *t, const char *what, const char *sql)
{
	PGresult *res = PQexec(db_conn(t->db), sql);

	if (!db_ok(res))
		ck_abort_msg("%s: %.200s", what, PQresultErrorMessage(res));
	PQclear(res);
}
