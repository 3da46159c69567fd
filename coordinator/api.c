/*
 * api.c - the API's plumbing: server start and stop, running handler work
 * on the threadpool, and turning database errors into HTTP answers.
 */
#include "api.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_triggers.h"
#include "dbpool.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "wftime.h"

struct api {
	const wf_config_t *cfg;
	http_server_t *server;
	void (*stopped)(void *data);
	void *stopped_data;
	double started_at;
};

void api_error(api_reply_t *reply, int status, const char *fmt, ...)
{
	va_list ap;

	reply->status = status;
	cJSON_Delete(reply->body);
	reply->body = NULL;
	free(reply->text);
	reply->text = NULL;
	va_start(ap, fmt);
	vsnprintf(reply->error, sizeof(reply->error), fmt, ap);
	va_end(ap);
}

void api_db_error(api_reply_t *reply, db_t *db, const PGresult *res)
{
	const char *state = db_sqlstate(res);
	char msg[256];

	db_error_message(res, msg, sizeof(msg));
	if (strcmp(state, "WF404") == 0)
		api_error(reply, 404, "%s", msg);
	else if (strcmp(state, "WF409") == 0 || strcmp(state, "23503") == 0)
		/* 23503: what the request refers to went away meanwhile (a workflow deleted, sql/026). */
		api_error(reply, 409, "%s", msg);
	else if (strcmp(state, "WF422") == 0)
		api_error(reply, 422, "%s", msg);
	else if (strncmp(state, "22", 2) == 0) {
		/* A data exception: a value the database cannot take (bad UTF-8, out of range). */
		log_info("request refused by the database (%s): %s", state, msg);
		api_error(reply, 400, "a value in the request is not valid (text must be UTF-8, numbers in range)");
	}
	else if (!db_connected(db))
		api_error(reply, 503, "the database is not reachable");
	else {
		log_error("database error %s: %s", state, msg);
		api_error(reply, 500, "internal error");
	}
}

/* Sets the reply to the one JSON value res holds, or to its error. Clears res. */
static void reply_with_json(api_reply_t *reply, db_t *db, int status, const char *not_found, PGresult *res)
{
	if (!db_ok(res)) {
		api_db_error(reply, db, res);
	} else if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
		api_error(reply, 404, "%s", not_found ? not_found : "not found");
	} else {
		reply->status = status;
		reply->body = cJSON_Parse(PQgetvalue(res, 0, 0));
		if (reply->body == NULL)
			api_error(reply, 500, "internal error");
	}
	PQclear(res);
}

void api_query_json(api_reply_t *reply, db_t *db, int status, const char *not_found,
		    const char *sql, int nparams, const char *const *params)
{
	reply_with_json(reply, db, status, not_found, db_query(db, sql, nparams, params));
}

void api_run_json(api_reply_t *reply, db_t *db, int status, const char *not_found,
		  const char *name, int nparams, const char *const *params)
{
	reply_with_json(reply, db, status, not_found, db_run(db, name, nparams, params));
}

char *api_context_text(const cJSON *body)
{
	const cJSON *context = cJSON_GetObjectItemCaseSensitive(body, "context");

	return context && !cJSON_IsNull(context) ? json_print(context) : NULL;
}

bool api_uuid_valid(const char *text)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	const char *p = text;

	if (text == NULL)
		return false;
	for (int g = 0; g < 5; g++) {
		for (int i = 0; i < groups[g]; i++, p++)
			if (!isxdigit((unsigned char)*p))
				return false;
		if (g < 4 && *p++ != '-')
			return false;
	}
	return *p == '\0';
}

bool api_id_valid(const char *text)
{
	size_t len = text ? strlen(text) : 0;

	if (len == 0 || len > 18 || text[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)text[i]))
			return false;
	return true;
}

static void call_work(http_request_t *req, void *data)
{
	api_call_t *call = data;
	db_t *db = dbpool_get();

	if (db == NULL) {
		api_error(&call->reply, 503, "the database is not reachable");
		return;
	}
	call->work(call, db, &call->reply);
}

static void call_done(http_request_t *req, void *data)
{
	api_call_t *call = data;
	api_reply_t *r = &call->reply;
	int status = r->status ? r->status : 200;

	if (r->text) {
		http_respond(req, status, r->content_type, r->text, strlen(r->text));
		cJSON_Delete(r->body);
	} else if (r->body)
		http_respond_json(req, status, r->body);
	else if (status >= 400)
		http_respond_error(req, status, r->error[0] ? r->error : "error");
	else
		http_respond(req, status == 200 ? 204 : status, NULL, NULL, 0);
	free(r->text);
	cJSON_Delete(call->body);
	free(call);
}

void api_run(http_request_t *req, api_t *api, api_work_fn work, cJSON *body, void *arg)
{
	api_call_t *call = calloc(1, sizeof(*call));

	if (call == NULL) {
		cJSON_Delete(body);
		http_respond_error(req, 500, "internal error");
		return;
	}
	call->req = req;
	call->api = api;
	call->cfg = api->cfg;
	call->body = body;
	call->arg = arg;
	call->work = work;
	if (http_request_defer(req, call_work, call_done, call) < 0) {
		cJSON_Delete(body);
		free(call);
		http_respond_error(req, 500, "internal error");
	}
}

static int add_routes(api_t *api, const http_route_t *routes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		http_route_t r = routes[i];

		r.data = api;
		if (http_server_route(api->server, &r) < 0)
			return -1;
	}
	return 0;
}

int api_start(api_t **out, uv_loop_t *loop, const wf_config_t *cfg)
{
	api_t *api = calloc(1, sizeof(*api));
	http_server_options_t opts;
	int rc;

	*out = NULL;
	if (api == NULL)
		return -ENOMEM;
	api->cfg = cfg;
	api->started_at = wftime_now();
	http_server_options_init(&opts);
	http_server_options_from_config(&opts, cfg);
	opts.observe = metrics_observe;
	rc = http_server_new(loop, &opts, &api->server);
	if (rc < 0) {
		if (opts.static_dir != NULL)
			log_error("could not serve the visual editor from WEB_DIR \"%s\": %s", opts.static_dir,
				  uv_strerror(rc));
		free(api);
		return rc;
	}
	if (add_routes(api, api_health_routes, api_health_routes_count) < 0 ||
	    add_routes(api, api_execution_routes, api_execution_routes_count) < 0 ||
	    add_routes(api, api_trigger_routes, api_trigger_routes_count) < 0 ||
	    add_routes(api, api_test_routes, api_test_routes_count) < 0 ||
	    add_routes(api, api_ops_routes, api_ops_routes_count) < 0 ||
	    add_routes(api, api_visual_routes, api_visual_routes_count) < 0 ||
	    add_routes(api, api_editor_routes, api_editor_routes_count) < 0) {
		http_server_close(api->server, NULL, NULL);
		free(api);
		return -EINVAL;
	}
	rc = http_server_listen(api->server, "0.0.0.0", cfg->port);
	if (rc < 0) {
		log_error("could not listen on port %d: %s", cfg->port, uv_strerror(rc));
		http_server_close(api->server, NULL, NULL);
		free(api);
		return rc;
	}
	log_info("API listening on port %d", http_server_port(api->server));
	if (opts.static_dir != NULL)
		log_info("visual editor served at / from %s", opts.static_dir);
	else
		log_info("no visual editor to serve at /: set WEB_DIR, or build web/ (npm ci && npm run build)");
	api_health_start(api, loop);
	*out = api;
	return 0;
}

double api_started_at(const api_t *api)
{
	return api->started_at;
}

int api_port(const api_t *api)
{
	return http_server_port(api->server);
}

static void on_closed(http_server_t *server, void *data)
{
	api_t *api = data;

	if (api->stopped)
		api->stopped(api->stopped_data);
	metrics_reset();
	free(api);
}

void api_stop(api_t *api, void (*done)(void *data), void *data)
{
	api->stopped = done;
	api->stopped_data = data;
	api_health_stop();
	http_server_close(api->server, on_closed, api);
}
