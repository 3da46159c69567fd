/*
 * api_health.c - /health, /health/ready and /health/live (no token needed).
 *
 * live: the process answers (nothing else is asked). ready: the database
 * answers and carries every migration this binary knows. /health: both, in
 * one document, 503 when not ready.
 */
#include <stdio.h>

#include "api.h"
#include "json.h"
#include "migrate.h"
#include "wftime.h"

static void check_ready(api_call_t *call, db_t *db, api_reply_t *reply)
{
	PGresult *res = db_query(db, "SELECT 1", 0, NULL);
	bool up = db_ok(res);
	bool current = up && migrate_current(db);
	bool full = call->arg != NULL;

	PQclear(res);
	reply->status = up && current ? 200 : 503;
	reply->body = json_object();
	json_add_string(reply->body, "status", up && current ? "ok" : "unavailable");
	json_add_string(reply->body, "database", up ? "up" : "down");
	json_add_string(reply->body, "migrations", current ? "current" : up ? "behind" : "unknown");
	json_add_number(reply->body, "schema_version", migrate_latest_version());
	if (full)
		json_add_number(reply->body, "uptime_s", (double)(long)(wftime_now() - api_started_at(call->api)));
}

static void health(http_request_t *req, void *data)
{
	api_run(req, data, check_ready, NULL, (void *)"full");
}

static void ready(http_request_t *req, void *data)
{
	api_run(req, data, check_ready, NULL, NULL);
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
