/*
 * api_health.c - /health, /health/ready and /health/live (no token needed).
 *
 * live: the process answers (nothing else is asked). ready: the database
 * answers and carries every migration this binary knows. /health: both, in
 * one document, 503 when not ready.
 *
 * Load balancers ask often; the answer comes from a check that runs every
 * HEALTH_CHECK_MS on the threadpool, so a health request never waits on the
 * database and a database outage shows within that time. A database that
 * hangs rather than refuses (a stopped server, a lost peer) leaves the check
 * stuck in libpq: once it has run for HEALTH_STUCK_MS the answer is 503
 * "unresponsive", not the last result.
 */
#include <stdio.h>

#include "api.h"
#include "dbpool.h"
#include "json.h"
#include "migrate.h"
#include "wftime.h"

#define HEALTH_CHECK_MS 1000
/* A check running this long is stuck: SELECT 1 and a count take milliseconds. */
#define HEALTH_STUCK_MS (2 * HEALTH_CHECK_MS)

static struct {
	uv_timer_t timer;
	uv_work_t work;
	bool running;		/* a check is on the threadpool */
	double started_ms;	/* when the running check was queued (monotonic) */
	bool known;		/* a check has finished */
	bool up, current;	/* its result (written by the work, read after it, on the loop) */
	bool closing;
	api_t *api;
} health_state;

static void check_work(uv_work_t *req)
{
	db_t *db = dbpool_get();
	PGresult *res = db ? db_query(db, "SELECT 1", 0, NULL) : NULL;

	health_state.up = db_ok(res);
	health_state.current = health_state.up && migrate_current(db);
	PQclear(res);
}

static void check_done(uv_work_t *req, int status)
{
	health_state.running = false;
	health_state.known = status == 0;
}

static void check_now(uv_timer_t *timer)
{
	if (health_state.running || health_state.closing)
		return;
	health_state.running = true;
	health_state.started_ms = wftime_monotonic_ms();
	uv_queue_work(timer->loop, &health_state.work, check_work, check_done);
}

void api_health_start(api_t *api, uv_loop_t *loop)
{
	health_state.api = api;
	health_state.closing = false;
	uv_timer_init(loop, &health_state.timer);
	uv_timer_start(&health_state.timer, check_now, 0, HEALTH_CHECK_MS);
}

void api_health_stop(void)
{
	health_state.closing = true;
	uv_timer_stop(&health_state.timer);
	uv_close((uv_handle_t *)&health_state.timer, NULL);
}

/* True while a check has been waiting on the database for too long. */
static bool check_stuck(void)
{
	return health_state.running && wftime_monotonic_ms() - health_state.started_ms > HEALTH_STUCK_MS;
}

static cJSON *health_body(bool up, bool current, bool stuck)
{
	cJSON *body = json_object();

	json_add_string(body, "status", up && current && !stuck ? "ok" : "unavailable");
	json_add_string(body, "database", stuck ? "unresponsive" : up ? "up" : "down");
	json_add_string(body, "migrations", stuck ? "unknown" : current ? "current" : up ? "behind" : "unknown");
	json_add_number(body, "schema_version", migrate_latest_version());
	return body;
}

/* From the last check, or 503 "unresponsive" while the running one is stuck. */
static void answer(http_request_t *req, bool full)
{
	bool stuck = check_stuck();
	bool ok = health_state.known && health_state.up && health_state.current && !stuck;
	cJSON *body = health_body(health_state.known && health_state.up, health_state.known && health_state.current,
				  stuck);

	if (full)
		json_add_number(body, "uptime_s", (double)(long)(wftime_now() - api_started_at(health_state.api)));
	http_respond_json(req, ok ? 200 : 503, body);
}

/*
 * Before the first periodic check has finished, a request checks for itself
 * (unless that check is stuck: this one would wait behind the same database).
 */
static void check_for_request(api_call_t *call, db_t *db, api_reply_t *reply)
{
	PGresult *res = db_query(db, "SELECT 1", 0, NULL);
	bool up = db_ok(res);
	bool current = up && migrate_current(db);

	PQclear(res);
	reply->status = up && current ? 200 : 503;
	reply->body = health_body(up, current, false);
}

static void health(http_request_t *req, void *data)
{
	if (!health_state.known && !check_stuck())
		api_run(req, data, check_for_request, NULL, NULL);
	else
		answer(req, true);
}

static void ready(http_request_t *req, void *data)
{
	if (!health_state.known && !check_stuck())
		api_run(req, data, check_for_request, NULL, NULL);
	else
		answer(req, false);
}

static void live(http_request_t *req, void *data)
{
	cJSON *body = json_object();

	json_add_string(body, "status", "live");
	http_respond_json(req, 200, body);
}

const http_route_t api_health_routes[] = {
	{ "GET", "/health", health, NULL, HTTP_ROUTE_PUBLIC },
	{ "GET", "/health/ready", ready, NULL, HTTP_ROUTE_PUBLIC },
	{ "GET", "/health/live", live, NULL, HTTP_ROUTE_PUBLIC },
};
const size_t api_health_routes_count = sizeof(api_health_routes) / sizeof(api_health_routes[0]);
