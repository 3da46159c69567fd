/*
 * fixtures.c - test data through the engine's own SQL functions.
 */
#include "fixtures.h"

#include <check.h>
#include <stdio.h>

#include "proc.h"

long fixture_workflow(testdb_t *t, const char *name, const char *definition_json)
{
	const char *params[2] = { name, definition_json };
	long id;

	testdb_exec(t, "BEGIN");
	testdb_exec(t, "SET LOCAL wf.validated = 'on'");
	id = testdb_long(t,
			 "INSERT INTO workflow (name, definition, valid) VALUES ($1, $2::jsonb, true)"
			 " ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition, valid = true"
			 " RETURNING id",
			 2, params);
	testdb_exec(t, "COMMIT");
	return id;
}

void fixture_executions(testdb_t *t, const char *name, int n, const char *context_json)
{
	char count[16];
	const char *params[3] = { name, count, context_json ? context_json : "{}" };

	snprintf(count, sizeof(count), "%d", n);
	PQclear(testdb_query(t,
			     "SELECT wf_execute($1, $3::jsonb) FROM generate_series(1, $2::int)",
			     3, params));
}

const char *fixture_execution(testdb_t *t, const char *name, const char *context_json)
{
	const char *params[2] = { name, context_json ? context_json : "{}" };

	return testdb_text(t, "SELECT wf_execute($1, $2::jsonb)", 2, params);
}

long fixture_wait_long(testdb_t *t, const char *sql, long expect, int timeout_ms)
{
	double deadline = proc_now_ms() + timeout_ms;
	long v;

	for (;;) {
		/*
		 * Inside a transaction, pg_stat_activity keeps the snapshot of its
		 * first read: a poll for another session's wait would never see it.
		 */
		testdb_exec(t, "SELECT pg_stat_clear_snapshot()");
		v = testdb_long(t, sql, 0, NULL);
		if (v == expect || proc_now_ms() > deadline)
			return v;
		proc_sleep_ms(20);
	}
}

void fixture_wait_blocked(testdb_t *t, PGconn *conn)
{
	char waiting[160];

	snprintf(waiting, sizeof(waiting),
		 "SELECT count(*) FROM pg_stat_activity WHERE pid = %d AND wait_event_type = 'Lock'", PQbackendPID(conn));
	ck_assert_int_eq(fixture_wait_long(t, waiting, 1, 10000), 1);
}

PGresult *fixture_result(PGconn *conn)
{
	PGresult *res = PQgetResult(conn);
	PGresult *rest;

	while ((rest = PQgetResult(conn)) != NULL)
		PQclear(rest);
	return res;
}

db_t *fixture_session_waiting_on(testdb_t *t, const char *tag, const char *sql, int nparams,
				 const char *const *params)
{
	db_t *other = db_new(&t->cfg, tag);

	ck_assert_int_eq(db_connect(other), 0);
	ck_assert_int_eq(PQsendQueryParams(db_conn(other), sql, nparams, NULL, params, NULL, NULL, 0), 1);
	fixture_wait_blocked(t, db_conn(other));
	return other;
}

const char *fixture_sqlstate_of(db_t *other)
{
	static char state[8];
	PGresult *res = fixture_result(db_conn(other));

	snprintf(state, sizeof(state), "%s", db_ok(res) ? "" : db_sqlstate(res));
	PQclear(res);
	return state;
}
