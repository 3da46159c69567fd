/*
 * api.h - the HTTP API of the coordinator: routes, and the one way its
 * handlers reach the database.
 *
 * A handler checks what it can on the loop (path parameters, the JSON body)
 * and hands the rest to api_run(): the work function runs on the libuv
 * threadpool with that thread's connection and fills an api_reply_t, which
 * is sent back from the loop. Database errors become HTTP statuses in one
 * place (api_db_error), without SQL or internal detail in the body.
 */
#ifndef WF_API_H
#define WF_API_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <uv.h>

#include "config.h"
#include "db.h"
#include "http_server.h"

typedef struct api api_t;

typedef struct {
	int status;		/* 0 means 200 */
	cJSON *body;		/* owned; NULL with status >= 400 sends {"error": error} */
	char error[256];
	char *text;		/* owned (malloc); when set, sent instead of body, as content_type */
	const char *content_type; /* static */
} api_reply_t;

typedef struct api_call api_call_t;

/* Database work of a handler, on a threadpool thread. */
typedef void (*api_work_fn)(api_call_t *call, db_t *db, api_reply_t *reply);

struct api_call {
	http_request_t *req;	/* only the read-only accessors may be used in work */
	api_t *api;
	const wf_config_t *cfg;
	cJSON *body;		/* the request's JSON body, or NULL; freed after the reply */
	void *arg;		/* the handler's own; not freed */
	api_work_fn work;
	api_reply_t reply;
};

/* Starts the API on PORT with every route; 0 or a negative error. */
int api_start(api_t **out, uv_loop_t *loop, const wf_config_t *cfg);
/* Stops accepting, finishes requests in flight, then calls done(data). */
void api_stop(api_t *api, void (*done)(void *data), void *data);
/* The port it listens on (PORT=0 picks one). */
int api_port(const api_t *api);
/* Epoch seconds when the API started. */
double api_started_at(const api_t *api);

/* Runs work with a connection and answers with its reply. Takes body. */
void api_run(http_request_t *req, api_t *api, api_work_fn work, cJSON *body, void *arg);

/* Reply helpers, for work functions. */
void api_error(api_reply_t *reply, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * A failed statement as a reply: WF404 -> 404, WF409 -> 409, WF422 -> 422
 * with the engine's own message; anything else is 503 when the database is
 * unreachable and 500 otherwise, with a generic message (the detail is
 * logged with the request id).
 */
void api_db_error(api_reply_t *reply, db_t *db, const PGresult *res);
/*
 * Runs sql, whose one row and column is the JSON to send, and sets the
 * reply to it with status (a missing row or a NULL is 404 with not_found).
 */
void api_query_json(api_reply_t *reply, db_t *db, int status, const char *not_found,
		    const char *sql, int nparams, const char *const *params);
/* The same for a statement the pool prepared (api_statements), by name. */
void api_run_json(api_reply_t *reply, db_t *db, int status, const char *not_found,
		  const char *name, int nparams, const char *const *params);

/* The API's reads prepared on every pooled connection (dbpool_register). */
extern const db_statement_t api_statements[];
extern const int api_statements_count;

/*
 * The "context" member of an execute request's body as JSON text for
 * wf_execution_create (caller frees), or NULL when it is absent or null:
 * no context.
 */
char *api_context_text(const cJSON *body);

/* True for a well-formed UUID (8-4-4-4-12 hex digits). */
bool api_uuid_valid(const char *text);
/* True for a decimal id that fits a bigint and is positive. */
bool api_id_valid(const char *text);

/* The periodic readiness check behind /health (api_health.c). */
void api_health_start(api_t *api, uv_loop_t *loop);
void api_health_stop(void);

/* Route tables of each group of endpoints (api_*.c). */
extern const http_route_t api_health_routes[];
extern const size_t api_health_routes_count;
extern const http_route_t api_execution_routes[];
extern const size_t api_execution_routes_count;
extern const http_route_t api_ops_routes[];
extern const size_t api_ops_routes_count;
extern const http_route_t api_test_routes[];
extern const size_t api_test_routes_count;
extern const http_route_t api_visual_routes[];
extern const size_t api_visual_routes_count;
extern const http_route_t api_editor_routes[];
extern const size_t api_editor_routes_count;

#endif
