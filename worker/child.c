/*
 * child.c - a worker child's loop.
 *
 * The child LISTENs on wf_steps and otherwise sleeps in libuv until one of
 * three things wakes it: a notification (new work), its wake timer (set to
 * the earliest future run_at it knows of, so a delay ends on time), or the
 * safety-net poll. Each wake runs rounds of claim-execute-commit until a
 * round finds nothing due.
 *
 * Signals only set flags and wake the loop (uv_async_send is
 * async-signal-safe): SIGTERM lets the round in hand finish, then the child
 * marks itself stopped and exits; SIGINT/SIGQUIT exit at once.
 */
#include "child.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <uv.h>

#include "db.h"
#include "defcache.h"
#include "log.h"
#include "runner.h"
#include "services.h"
#include "wftime.h"

/*
 * The pause when steps are due but a round took none of them: others hold
 * their locks (another worker's round, usually committed within
 * milliseconds, which NOTIFYs what it leaves due; or any transaction
 * holding an execution's row, for as long as it likes). It starts short
 * and doubles with each such round in a row, up to BUSY_RETRY_MAX_MS, so a
 * row held for seconds is not polled 500 times a second by every worker.
 */
#define BUSY_RETRY_MS 2
#define BUSY_RETRY_MAX_MS 100

typedef struct {
	const wf_config_t *cfg;
	slot_shared_t *slot;
	int slot_index;
	db_t *db;
	runner_t *runner;
	int64_t worker_id;
	uv_loop_t *loop;
	uv_poll_t poll;
	bool poll_active;
	uv_timer_t round_timer;	/* runs the next round */
	uv_timer_t beat_timer;	/* keeps the slot heartbeat fresh while idle */
	uv_async_t wake;	/* signals */
	double last_sibling_wake;
	int busy_rounds;	/* rounds in a row that found steps due and took none */
	services_t services;
} child_t;

static volatile sig_atomic_t child_stop;
static uv_async_t *signal_wake;

static void on_term(int sig)
{
	child_stop = 1;
	if (signal_wake)
		uv_async_send(signal_wake);
}

static void on_quit(int sig)
{
	_exit(CHILD_EXIT_OK);
}

static void setup_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_quit;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	/* The parent owns these; a child must not stop on SIGTTIN/SIGTTOU. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTTIN, &sa, NULL);
	sigaction(SIGTTOU, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void on_round(uv_timer_t *timer);

/* Runs a round after delay_ms, replacing whatever round was planned. */
static void schedule_round(child_t *c, uint64_t delay_ms)
{
	uv_timer_start(&c->round_timer, on_round, delay_ms, 0);
}

static void stop_loop(child_t *c)
{
	uv_stop(c->loop);
}

static void drain_notifications(child_t *c, bool *any)
{
	PGnotify *n;
	PGconn *conn = db_conn(c->db);

	if (conn == NULL)
		return;
	PQconsumeInput(conn);
	while ((n = PQnotifies(conn)) != NULL) {
		*any = true;
		PQfreemem(n);
	}
}

static void on_socket(uv_poll_t *handle, int status, int events);

static void watch_socket(child_t *c)
{
	if (c->poll_active) {
		uv_poll_stop(&c->poll);
		uv_close((uv_handle_t *)&c->poll, NULL);
		c->poll_active = false;
		/* The closed handle is released on the next loop iteration. */
		uv_run(c->loop, UV_RUN_NOWAIT);
	}
	uv_poll_init(c->loop, &c->poll, PQsocket(db_conn(c->db)));
	c->poll.data = c;
	uv_poll_start(&c->poll, UV_READABLE, on_socket);
	c->poll_active = true;
}

/* (Re)establishes the session: connection, registration, LISTEN. 0 or -1 when stopping. */
static int connect_session(child_t *c)
{
	char host_pid[3][24];
	const char *params[4];
	PGresult *res;

	for (;;) {
		if (db_ensure(c->db, &child_stop) < 0)
			return -1;
		if (c->worker_id == 0) {
			snprintf(host_pid[0], sizeof(host_pid[0]), "%d", (int)getpid());
			snprintf(host_pid[1], sizeof(host_pid[1]), "%d", c->slot_index);
			snprintf(host_pid[2], sizeof(host_pid[2]), "%d", (int)getppid());
			params[0] = c->cfg->worker_host;
			params[1] = host_pid[0];
			params[2] = host_pid[1];
			params[3] = host_pid[2];
			res = db_query(c->db, "SELECT wf_worker_register($1, $2::int, $3::int, $4::int)", 4,
				       params);
			if (db_ok(res)) {
				c->worker_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
				atomic_store(&c->slot->worker_id, c->worker_id);
			}
			PQclear(res);
			if (c->worker_id == 0)
				continue;
			c->runner = runner_new(c->cfg, c->db, c->worker_id, c->slot, &c->services);
		} else {
			/* After a lost connection: whatever we held may be ours no longer. */
			runner_requeue_own(c->runner);
		}
		if (db_command(c->db, "LISTEN wf_steps", 0, NULL) == 0)
			break;
	}
	watch_socket(c);
	return 0;
}

/* Wakes sibling workers when this one has more than it can take at once. */
static void wake_siblings(child_t *c)
{
	double now = wftime_monotonic_ms();

	if (now - c->last_sibling_wake < 50)
		return;
	c->last_sibling_wake = now;
	db_command(c->db, "NOTIFY wf_steps", 0, NULL);
}

/* BUSY_RETRY_MS doubled per busy round before, up to BUSY_RETRY_MAX_MS. */
static double busy_retry_ms(int busy_rounds)
{
	double ms = BUSY_RETRY_MS;

	for (int i = 0; i < busy_rounds && ms < BUSY_RETRY_MAX_MS; i++)
		ms *= 2;
	return ms < BUSY_RETRY_MAX_MS ? ms : BUSY_RETRY_MAX_MS;
}

static void plan_next_round(child_t *c)
{
	double due = runner_next_due(c->runner);
	double now = wftime_now();
	double wait_ms = c->cfg->worker_poll_ms;

	if (due < 0) {
		schedule_round(c, 0);
		return;
	}
	if (due > 0) {
		double until_due = (due - now) * 1000.0;

		if (until_due <= 0) {
			wait_ms = busy_retry_ms(c->busy_rounds);
			c->busy_rounds++;
			schedule_round(c, (uint64_t)ceil(wait_ms));
			return;
		}
		if (until_due < wait_ms)
			wait_ms = until_due;
	}
	c->busy_rounds = 0;
	schedule_round(c, (uint64_t)ceil(wait_ms));
}

static void on_round(uv_timer_t *timer)
{
	child_t *c = timer->data;
	bool notified = false;
	int claimed = 0;

	if (child_stop) {
		stop_loop(c);
		return;
	}
	if (!db_connected(c->db) && connect_session(c) < 0) {
		stop_loop(c);
		return;
	}
	if (runner_round(c->runner, &claimed) < 0) {
		if (!db_connected(c->db))
			log_warn("database connection lost");
		schedule_round(c, 0);
		return;
	}
	drain_notifications(c, &notified);
	slot_beat(c->slot);
	if (child_stop) {
		stop_loop(c);
		return;
	}
	if (claimed > 0) {
		c->busy_rounds = 0;
		if (runner_last_round_full(c->runner))
			wake_siblings(c);
		schedule_round(c, 0);
		return;
	}
	if (notified) {
		c->busy_rounds = 0;
		schedule_round(c, 0);
		return;
	}
	plan_next_round(c);
}

static void on_socket(uv_poll_t *handle, int status, int events)
{
	child_t *c = handle->data;
	bool notified = false;

	drain_notifications(c, &notified);
	if (!db_connected(c->db)) {
		uv_poll_stop(&c->poll);
		schedule_round(c, 0);
		return;
	}
	if (notified)
		schedule_round(c, 0);
}

static void on_beat(uv_timer_t *timer)
{
	child_t *c = timer->data;

	slot_beat(c->slot);
}

/*
 * Waiting for the database is a sign of life too: the pool parent must
 * not take a child that retries its connection through an outage (its
 * loop blocked meanwhile, so on_beat cannot run) for a stuck one.
 */
static void on_db_wait(void *arg)
{
	child_t *c = arg;

	slot_beat(c->slot);
}

static void on_wake(uv_async_t *async)
{
	child_t *c = async->data;

	if (child_stop)
		stop_loop(c);
}

void child_record_stopped(db_t *db, int64_t worker_id)
{
	char id[24];
	const char *params[1] = { id };

	if (worker_id == 0)
		return;
	snprintf(id, sizeof(id), "%" PRId64, worker_id);
	db_command(db,
		   "UPDATE wf_workers SET status = 'stopped', stopped_at = coalesce(stopped_at, now()),"
		   "       current_step = NULL WHERE id = $1::bigint AND status <> 'stopped'",
		   1, params);
}

int child_main(const wf_config_t *cfg, int slot_index, slot_shared_t *slot)
{
	pid_t parent = getppid();
	child_t c = { .cfg = cfg, .slot = slot, .slot_index = slot_index };
	char name[64];
	char err[512];

	setup_signals();
	/* A child must not outlive its pool: the parent's death means SIGTERM. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		return CHILD_EXIT_OK;
	log_context_worker(cfg->worker_host, slot_index);
	slot_beat(slot);

	c.loop = uv_default_loop();
	uv_async_init(c.loop, &c.wake, on_wake);
	c.wake.data = &c;
	signal_wake = &c.wake;
	uv_timer_init(c.loop, &c.round_timer);
	c.round_timer.data = &c;
	uv_timer_init(c.loop, &c.beat_timer);
	c.beat_timer.data = &c;
	uv_timer_start(&c.beat_timer, on_beat, 1000, 1000);

	snprintf(name, sizeof(name), "wf-worker %s/%d", cfg->worker_host, slot_index);
	c.db = db_new(cfg, name);
	db_set_wait_cb(c.db, on_db_wait, &c);
	if (services_init(&c.services, cfg, c.db, err, sizeof(err)) < 0) {
		log_error("%s", err);
		db_free(c.db);
		return CHILD_EXIT_FATAL;
	}
	db_register(c.db, runner_statements, runner_statements_count);
	db_register(c.db, defcache_statements, defcache_statements_count);
	if (connect_session(&c) == 0) {
		log_info("worker %" PRId64 " ready", c.worker_id);
		schedule_round(&c, 0);
		uv_run(c.loop, UV_RUN_DEFAULT);
	}
	/* The last batch's outcomes are still in hand: record them before going. */
	if (c.runner && db_connected(c.db))
		runner_flush(c.runner);
	if (db_connected(c.db))
		child_record_stopped(c.db, c.worker_id);
	log_info("worker stopped");
	runner_free(c.runner);
	services_free(&c.services);
	db_free(c.db);
	return CHILD_EXIT_OK;
}
