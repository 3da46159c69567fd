/*
 * test_dbpool.c - database connections (the coordinator's threadpool ones
 * here; every connection takes its parameters from config_db_params): over
 * TCP they carry keepalives tuned to notice a dead database host within
 * about a minute (not the system's two hours), also after a reconnect, and
 * a DATABASE_URL can set its own; a connection the server ended while it
 * sat in the pool is replaced before it is handed out, and a job whose
 * connection was lost runs again soon, not at its next interval.
 */
#include <check.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "dbpool.h"
#include "jobs.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

static void assert_keepalives(db_t *db, int want_idle)
{
	int fd = PQsocket(db_conn(db));
	int on = 0, idle = 0, interval = 0, count = 0;
	unsigned int user_timeout = 0;
	socklen_t len;

	ck_assert_int_ge(fd, 0);
	len = sizeof(on);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len), 0);
	len = sizeof(idle);
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &len), 0);
	len = sizeof(interval);
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, &len), 0);
	len = sizeof(count);
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, &len), 0);
	len = sizeof(user_timeout);
	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, &len), 0);
	ck_assert_int_ne(on, 0);
	ck_assert_int_eq(idle, want_idle);
	ck_assert_int_eq(interval, 10);
	ck_assert_int_eq(count, 3);
	ck_assert_uint_eq(user_timeout, 60000);
}

START_TEST(tcp_connections_carry_keepalives_also_after_a_reconnect)
{
	testdb_t *t = testdb_new("dbpool");
	wf_config_t cfg = t->cfg;
	const char *port = getenv("PGPORT"), *user = getenv("PGUSER");
	char url[512], pid[16];
	const char *params[1] = { pid };
	db_t *db;
	PGresult *res;

	/* The test cluster listens on the loopback interface too (deploy/lib.sh). */
	snprintf(url, sizeof(url), "postgresql://%s@127.0.0.1:%s/%s", user ? user : "postgres", port ? port : "5432",
		 t->name);
	cfg.database_url = url;
	dbpool_init(&cfg);
	db = dbpool_get();
	ck_assert_ptr_nonnull(db);
	assert_keepalives(db, 30);

	/* The server ends the session; the next use of the pool connects again. */
	snprintf(pid, sizeof(pid), "%d", PQbackendPID(db_conn(db)));
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM (SELECT pg_terminate_backend($1::int)) x", 1, params), 1);
	res = db_query(db, "SELECT pg_sleep(0.1)", 0, NULL);
	PQclear(res);
	for (int i = 0; i < 50 && db_connected(db); i++) {
		res = db_query(db, "SELECT 1", 0, NULL);
		PQclear(res);
	}
	ck_assert(!db_connected(db));
	db = dbpool_get();
	ck_assert_ptr_nonnull(db);
	ck_assert(db_connected(db));
	assert_keepalives(db, 30);
	dbpool_close_all();

	/* Keywords of the URL win over the defaults (a connection of its own: the pool's is closed). */
	snprintf(url, sizeof(url), "postgresql://%s@127.0.0.1:%s/%s?keepalives_idle=45", user ? user : "postgres",
		 port ? port : "5432", t->name);
	db = db_new(&cfg, "test-dbpool");
	ck_assert_int_eq(db_connect(db), 0);
	assert_keepalives(db, 45);
	db_free(db);
	testdb_free(t);
}
END_TEST

/* A statement the pool prepares on each connection: the backend's pid. */
static const db_statement_t pooled_statements[] = { { "test_pooled_pid", "SELECT pg_backend_pid()" } };

/* The pool's statement runs on db's session (prepared there, by name). */
static void assert_pooled_statement_runs(db_t *db, const char *when)
{
	PGresult *res = db_run(db, "test_pooled_pid", 0, NULL);

	ck_assert_msg(db_ok(res), "the registered statement was not prepared %s", when);
	ck_assert_int_eq(atoi(PQgetvalue(res, 0, 0)), PQbackendPID(db_conn(db)));
	PQclear(res);
}

START_TEST(a_connection_the_server_ended_is_replaced_before_it_is_handed_out)
{
	testdb_t *t = testdb_new("dbpool_ended");
	char pid[16];
	const char *params[1] = { pid };
	db_t *db;
	PGresult *res;

	dbpool_init(&t->cfg);
	dbpool_register(pooled_statements, 1);
	db = dbpool_get();
	ck_assert_ptr_nonnull(db);
	assert_pooled_statement_runs(db, "on connecting");
	snprintf(pid, sizeof(pid), "%d", PQbackendPID(db_conn(db)));
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM (SELECT pg_terminate_backend($1::int)) x", 1, params), 1);
	/* Gone from pg_stat_activity: the backend has closed its end. */
	for (int i = 0; i < 250 && testdb_long(t, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int", 1,
					      params) > 0; i++)
		proc_sleep_ms(20);
	/* libpq does not know yet; the pool must find out before handing the connection out. */
	ck_assert(db_connected(db));
	db = dbpool_get();
	ck_assert_ptr_nonnull(db);
	res = db_query(db, "SELECT 1", 0, NULL);
	ck_assert_msg(db_ok(res), "the first query after the server ended the session failed");
	PQclear(res);
	ck_assert_int_ne(PQbackendPID(db_conn(db)), atoi(pid));
	/* The new session has the pool's statements too. */
	assert_pooled_statement_runs(db, "again after the reconnect");
	dbpool_close_all();
	testdb_free(t);
}
END_TEST

typedef struct {
	int runs;
	uv_timer_t deadline;
} lost_state_t;

/* Ends its own session in the first run, as a terminated backend or a restart would. */
static int lose_connection_once(job_t *job, db_t *db)
{
	lost_state_t *s = job->data;
	PGresult *res;
	int rc = 0;

	if (++s->runs == 1) {
		res = db_query(db, "SELECT pg_terminate_backend(pg_backend_pid())", 0, NULL);
		rc = db_ok(res) ? 0 : -1;
		PQclear(res);
	}
	return rc;
}

static void stop_loop(uv_timer_t *timer)
{
	uv_stop(timer->loop);
}

static void watch_runs(uv_timer_t *timer)
{
	lost_state_t *s = timer->data;

	if (s->runs >= 2)
		uv_stop(timer->loop);
}

START_TEST(a_job_that_lost_its_connection_runs_again_soon)
{
	testdb_t *t = testdb_new("dbpool_job");
	uv_loop_t loop;
	uv_timer_t watch;
	job_t job;
	lost_state_t s = { 0 };
	double t0;

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	dbpool_init(&t->cfg);
	/* An interval far beyond the test's patience: only the retry can run it again. */
	job_init(&job, &loop, "test job", lose_connection_once, &s, 600000);
	uv_timer_init(&loop, &s.deadline);
	uv_timer_start(&s.deadline, stop_loop, 5000, 0);
	uv_timer_init(&loop, &watch);
	watch.data = &s;
	uv_timer_start(&watch, watch_runs, 10, 10);
	t0 = proc_now_ms();
	job_kick(&job);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(s.runs, 2);
	ck_assert_msg(proc_now_ms() - t0 < 2000, "the second run came after %.0f ms", proc_now_ms() - t0);

	/* Stopped cleanly, with the retry timer closed too. */
	job_stop(&job);
	uv_close((uv_handle_t *)&s.deadline, NULL);
	uv_close((uv_handle_t *)&watch, NULL);
	while (job_busy(&job))
		uv_run(&loop, UV_RUN_ONCE);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	dbpool_close_all();
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("dbpool", 60, tcp_connections_carry_keepalives_also_after_a_reconnect,
	    a_connection_the_server_ended_is_replaced_before_it_is_handed_out,
	    a_job_that_lost_its_connection_runs_again_soon)
