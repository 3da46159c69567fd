/*
 * coordinator.c - the coordinator's loop.
 *
 * Nothing here blocks on the database: the loop only reacts to
 * notifications, timers and signals, and hands every piece of database work
 * to a job on the threadpool. Jobs:
 *   triggers    turns trigger rows into executions (NOTIFY, and a poll)
 *   cron        starts cron-triggered workflows on their ticks
 *   sweeper     rescues steps of dead workers and expired leases, vacuums the queue
 *   workflows   validates definitions written by plain SQL
 */
#include "coordinator.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api.h"
#include "cron_job.h"
#include "dbpool.h"
#include "jobs.h"
#include "listener.h"
#include "log.h"
#include "rescue.h"
#include "services.h"
#include "triggers.h"
#include "workflows.h"

typedef struct {
	const wf_config_t *cfg;
	uv_loop_t *loop;
	uv_signal_t sigterm, sigint, sighup;
	listener_t listener;
	job_t triggers;
	job_t cron;
	job_t sweeper;
	job_t workflows;
	cron_state_t *cron_state;
	api_t *api;
	bool stopping;
} coord_t;

#define TRIGGER_BATCH 500
#define CRON_EVERY_MS 1000

static const char *const channels[] = { "wf_triggers", "wf_workflows", NULL };

static int process_triggers(job_t *job, db_t *db)
{
	int started = 0;
	int rc = triggers_process(db, TRIGGER_BATCH, &started);

	if (started > 0)
		log_info("started %d execution%s from trigger rows", started, started == 1 ? "" : "s");
	return rc;
}

static int fire_cron(job_t *job, db_t *db)
{
	coord_t *c = job->data;

	return cron_fire_due(db, c->cron_state) < 0 ? -1 : 0;
}

static int sweep(job_t *job, db_t *db)
{
	coord_t *c = job->data;
	PGresult *res = rescue_steps(db, c->cfg->worker_dead_after_s);
	int rescued;

	if (!db_ok(res)) {
		PQclear(res);
		return -1;
	}
	rescued = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (rescued > 0)
		log_info("rescued %d step%s from dead workers or expired leases", rescued,
			 rescued == 1 ? "" : "s");
	/* Statistics that keep up with a burst of new rows (see sql/012). */
	if (db_command(db, "SELECT wf_analyze_grown_tables()", 0, NULL) < 0)
		return -1;
	/*
	 * The queue's dead rows sit where every claim starts looking (see
	 * sql/011); clearing them each second keeps claims cheap. Another
	 * coordinator's vacuum in progress is skipped, not waited for.
	 */
	return db_command(db, "VACUUM (SKIP_LOCKED) wf_steps", 0, NULL);
}

static int validate_workflows(job_t *job, db_t *db)
{
	return workflows_validate_pending(db) < 0 ? -1 : 0;
}

static void on_notify(void *data, const char *channel, const char *payload)
{
	coord_t *c = data;

	if (strcmp(channel, "wf_triggers") == 0) {
		job_kick(&c->triggers);
	} else if (strcmp(channel, "wf_workflows") == 0) {
		job_kick(&c->workflows);
		/*
		 * Rows of a source whose workflow was waiting for validation
		 * wait too (see triggers.c); trigger processing validates
		 * first, so running it now starts them without the poll.
		 */
		job_kick(&c->triggers);
	}
}

static void on_reconnect(void *data)
{
	coord_t *c = data;

	dbpool_note_reconnect();
	/* Notifications may have been missed while disconnected: catch up. */
	job_kick(&c->workflows);
	job_kick(&c->triggers);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void shutdown_coordinator(coord_t *c)
{
	if (c->stopping)
		return;
	c->stopping = true;
	log_info("stopping: finishing work in flight");
	/* Requests in flight are answered first; their database work keeps the pool. */
	if (c->api)
		api_stop(c->api, NULL, NULL);
	job_stop(&c->triggers);
	job_stop(&c->cron);
	job_stop(&c->sweeper);
	job_stop(&c->workflows);
	listener_stop(&c->listener);
	close_handle((uv_handle_t *)&c->sigterm);
	close_handle((uv_handle_t *)&c->sigint);
	close_handle((uv_handle_t *)&c->sighup);
}

/* Loads the templates definitions are checked against; keeps the old set on failure. */
static int reload_templates(const wf_config_t *cfg)
{
	const char *dir = services_templates_dir(cfg);
	tpl_set_t *set;
	char err[512];

	if (tpl_set_load(dir, &set, err, sizeof(err)) < 0) {
		log_error("could not load the templates of %s: %s", dir, err);
		return -1;
	}
	workflows_set_templates(set);
	log_info("loaded %zu email templates from %s", tpl_set_count(set), dir);
	return 0;
}

static void on_signal(uv_signal_t *handle, int signum)
{
	coord_t *c = handle->data;

	if (signum == SIGHUP) {
		reload_templates(c->cfg);
		return;
	}
	shutdown_coordinator(c);
}

/* Signals that arrived during start-up (blocked by main) are delivered now. */
static void unblock_signals(void)
{
	sigset_t stops;

	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &stops, NULL);
}

static void watch_signal(coord_t *c, uv_signal_t *h, int signum)
{
	uv_signal_init(c->loop, h);
	h->data = c;
	uv_signal_start(h, on_signal, signum);
}

int coord_run(const wf_config_t *cfg)
{
	coord_t c = { .cfg = cfg };
	int rc = 0;

	signal(SIGPIPE, SIG_IGN);
	/* A template that does not load is a configuration error: do not start. */
	if (reload_templates(cfg) < 0)
		return 2;
	c.loop = uv_default_loop();
	dbpool_init(cfg);
	dbpool_register(api_statements, api_statements_count);
	watch_signal(&c, &c.sigterm, SIGTERM);
	watch_signal(&c, &c.sigint, SIGINT);
	watch_signal(&c, &c.sighup, SIGHUP);
	unblock_signals();
	c.cron_state = cron_state_new();
	job_init(&c.triggers, c.loop, "trigger processing", process_triggers, &c,
		 (uint64_t)cfg->batch_interval_ms);
	job_init(&c.cron, c.loop, "cron", fire_cron, &c, CRON_EVERY_MS);
	job_init(&c.sweeper, c.loop, "sweeper", sweep, &c, (uint64_t)cfg->sweep_interval_ms);
	job_init(&c.workflows, c.loop, "workflow validation", validate_workflows, &c,
		 (uint64_t)cfg->batch_interval_ms);
	listener_start(&c.listener, c.loop, cfg, channels, on_notify, on_reconnect, &c);
	if (api_start(&c.api, c.loop, cfg) < 0) {
		rc = 1;
		shutdown_coordinator(&c);
	} else {
		log_info("coordinator running");
	}

	uv_run(c.loop, UV_RUN_DEFAULT);
	uv_loop_close(c.loop);
	dbpool_close_all();
	cron_state_free(c.cron_state);
	workflows_set_templates(NULL);
	log_info("coordinator stopped");
	return rc;
}
