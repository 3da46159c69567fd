/*
 * http_server.h - the coordinator's HTTP/1.1 server: connections on a libuv
 * loop, a route table with ":name" captures, JSON errors, bearer auth,
 * static files, handlers that answer later from the libuv threadpool, and a
 * graceful close.
 *
 * Threading: every function here runs on the loop thread, except the
 * read-only request accessors, which a deferred work callback may also call
 * (see http_request_defer). Nothing here is thread-safe beyond that.
 *
 * Errors are 0 or a negative errno / libuv error code.
 */
#ifndef WF_HTTP_SERVER_H
#define WF_HTTP_SERVER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "config.h"

typedef struct http_server http_server_t;
typedef struct http_request http_request_t;

/*
 * A route handler. It runs on the loop thread and must do one of: call an
 * http_respond_* function, call http_request_defer(), or call
 * http_request_suspend(). A handler that does none of these gets a 500 sent
 * for it (and an error logged). req stays valid until the handler returns.
 * data is the route's data pointer.
 */
typedef void (*http_handler_cb)(http_request_t *req, void *data);

/* Route flags. */
enum {
	/* No bearer token needed (the /health routes, say). */
	HTTP_ROUTE_PUBLIC = 1u << 0,
};

/*
 * One entry of a route table. method is an upper-case HTTP method ("GET").
 * pattern is an absolute path whose segments are literals or ":name"
 * captures, e.g. "/workflow/executions/:id/pause"; a capture matches one
 * whole non-empty segment. Both strings are copied when the route is added.
 */
typedef struct {
	const char *method;
	const char *pattern;
	http_handler_cb handler;
	void *data;
	unsigned flags;
} http_route_t;

/* What http_observe_cb gets after every response; all strings are borrowed for the call. */
typedef struct {
	const char *route;	/* the matched pattern, "static" for a served file, or "unmatched" */
	const char *method;	/* "GET", ...; "-" when the request line could not be read */
	const char *path;	/* the raw path without the query, "-" when unknown */
	int status;
	double seconds;		/* from the request's first byte to its response being queued */
	const char *request_id;
} http_observation_t;

/* Called on the loop thread once per response (metrics). */
typedef void (*http_observe_cb)(const http_observation_t *obs, void *data);

/*
 * Server settings. A zero field takes its default, so a zeroed struct (or
 * http_server_options_init) is a working configuration.
 */
typedef struct {
	size_t max_header_bytes;    /* request line + headers: 431 above; default 32 KiB */
	size_t max_body_bytes;      /* 413 above, decided from Content-Length when given; default 1 MiB */
	unsigned max_connections;   /* more at once are answered 503 and closed; default 1024 */
	unsigned header_timeout_ms; /* the whole head must arrive within this (408); default 10 s */
	unsigned body_timeout_ms;   /* the whole body, from the end of the head (408); default 30 s */
	unsigned idle_timeout_ms;   /* a keep-alive connection waiting for its next request; default 60 s */
	unsigned write_timeout_ms;  /* a response must be taken by the client within this; default 30 s */
	unsigned linger_timeout_ms; /* after a closing response, how long unread input is drained; default 2 s */
	const char *bearer_token;   /* copied; NULL or "": no authentication */
	const char *static_dir;	    /* copied; files for GET/HEAD of unrouted paths, no token needed; NULL: none */
	size_t static_max_bytes;    /* largest static file served; default 32 MiB */
	bool quiet;		    /* no access log line per request */
	http_observe_cb observe;    /* may be NULL */
	void *observe_data;
} http_server_options_t;

/* Fills opts with the defaults. */
void http_server_options_init(http_server_options_t *opts);

/*
 * Takes HTTP_MAX_BODY, API_TOKEN and WEB_DIR (or its default, which may be
 * none) from the settings into opts (the strings are borrowed from cfg or
 * static; the server copies them).
 */
void http_server_options_from_config(http_server_options_t *opts, const wf_config_t *cfg);

/*
 * Creates a server on loop (not yet listening). opts may be NULL (defaults);
 * its strings are copied. -ENOENT/-ENOTDIR when static_dir is not a
 * directory. The server is freed by http_server_close() only.
 */
int http_server_new(uv_loop_t *loop, const http_server_options_t *opts, http_server_t **out);

/*
 * Adds one route, or n routes from a table (all copied; on an error the
 * routes before it stay added). -EINVAL for a pattern that does not start
 * with "/", has an empty segment or capture name, or holds "%" (patterns are
 * matched against decoded segments); for an unknown method or a NULL
 * handler. -EEXIST for the same method and pattern twice. Where two
 * patterns match a path, a literal segment beats a capture at the first
 * place they differ; otherwise the one added first wins. A GET route also
 * answers HEAD (without the body) unless a HEAD route matches.
 */
int http_server_route(http_server_t *server, const http_route_t *route);
int http_server_routes(http_server_t *server, const http_route_t *routes, size_t n);

/*
 * Starts listening on host (an IPv4 or IPv6 literal, e.g. "0.0.0.0" or "::")
 * and port (0: any free port; read it back with http_server_port).
 */
int http_server_listen(http_server_t *server, const char *host, int port);

/* The bound port, or a negative error when not listening. */
int http_server_port(const http_server_t *server);

/*
 * Called once the server is fully closed; the server is freed right after
 * this returns.
 */
typedef void (*http_close_cb)(http_server_t *server, void *data);

/*
 * Graceful close: stops accepting, closes idle connections (and those with a
 * request only partly received), lets requests already with a handler finish
 * and answers them with "Connection: close", then calls close_cb (which may
 * be NULL) on the loop thread and frees the server. Waits for deferred work
 * in flight. server may be NULL; a second call does nothing.
 */
void http_server_close(http_server_t *server, http_close_cb close_cb, void *data);

/*
 * Request accessors. The strings belong to the request and live as long as
 * it does. These are the only functions a deferred work_cb may call on req.
 */
const char *http_request_method(const http_request_t *req);
/* The path as sent, without the query string and not percent-decoded. */
const char *http_request_path(const http_request_t *req);
/* The first header of that name (case-insensitive), or NULL. */
const char *http_request_header(const http_request_t *req, const char *name);
/* A ":name" capture of the matched route, percent-decoded; NULL if the route has none. */
const char *http_request_param(const http_request_t *req, const char *name);
/* The first query parameter of that name, percent-decoded ("+" is a space); NULL if absent. */
const char *http_request_query(const http_request_t *req, const char *name);
/* The body, NUL-terminated (it may hold other NULs: use *len); "" with 0 when there is none. len may be NULL. */
const char *http_request_body(const http_request_t *req, size_t *len);
/* 16 hex characters, or the client's own X-Request-Id when it was sane. */
const char *http_request_id(const http_request_t *req);
/* The matched route pattern, or NULL outside a route. */
const char *http_request_route(const http_request_t *req);

/*
 * Parses the body as JSON. When the Content-Type is not application/json it
 * answers 415, when the JSON is malformed (or nested deeper than cJSON's
 * limit) 400 {"error":"invalid JSON at byte N"}, and returns NULL: the
 * handler then just returns. Otherwise the caller owns the returned tree.
 */
cJSON *http_request_json(http_request_t *req);

/*
 * Adds a header to the coming response (copied). -EINVAL for a malformed
 * name or a value with CR, LF or NUL, and for the headers the server writes
 * itself (Content-Length, Content-Type, Connection, Transfer-Encoding).
 */
int http_response_header(http_request_t *req, const char *name, const char *value);

/*
 * Answers the request with status (200-599) and body (copied; may be NULL
 * with len 0). content_type may be NULL for no Content-Type. HEAD requests
 * get the headers only. Every response carries X-Request-Id.
 * -EINVAL for a bad status, -EALREADY when already answered, -EBUSY while
 * deferred work runs. When the client has gone the response is dropped and
 * 0 returned. Outside a handler or done_cb (a suspended request), req is
 * freed by a successful call.
 */
int http_respond(http_request_t *req, int status, const char *content_type,
		 const void *body, size_t len);

/* Answers with the compact text of body; takes ownership of body in every case (NULL answers 500 and returns -EINVAL). */
int http_respond_json(http_request_t *req, int status, cJSON *body);

/* Answers {"error": message} with status 400-599; message NULL uses the reason phrase. */
int http_respond_error(http_request_t *req, int status, const char *message);

/*
 * Deferred handlers: the loop must never block, so a handler that needs the
 * database hands the blocking part to the libuv threadpool.
 *
 * http_request_defer(req, work_cb, done_cb, data), called from a handler or
 * a done_cb (or on a suspended request) on the loop thread:
 * - work_cb(req, data) runs once on a threadpool thread. It may use data and
 *   the read-only accessors above (method, path, header, param, query, body,
 *   id, route: the request does not change while work runs), and log.h,
 *   whose thread-local request id is set for it. It must not respond, defer,
 *   add headers, or touch the loop or the server. work_cb may be NULL.
 * - done_cb(req, data) then runs on the loop thread. It must respond, defer
 *   again, or suspend, as a handler must (else a 500 is sent). It always
 *   runs, also when the client has gone away meanwhile (the response is then
 *   dropped) and during a graceful close (which waits for it), so it is the
 *   place to free data.
 * The request, and the connection below it, stay alive until done_cb has
 * returned (reference counted). The threadpool has UV_THREADPOOL_SIZE
 * threads (4 unless set before the loop first uses it), shared with static
 * files and libuv's own fs and DNS work: long blocking work queues behind it. Returns -EINVAL when req is not with its
 * handler, or the uv_queue_work error; on error nothing was queued and the
 * caller still owns data and must respond.
 */
typedef void (*http_work_cb)(http_request_t *req, void *data);
typedef void (*http_done_cb)(http_request_t *req, void *data);
int http_request_defer(http_request_t *req, http_work_cb work_cb, http_done_cb done_cb, void *data);

/*
 * For a handler that will respond later from the loop thread by other means
 * (an async libpq query on a uv_poll_t, a timer): the request stays valid
 * until it is answered, even if the client leaves, and is freed by that
 * answer. -EINVAL when req is not with its handler.
 */
int http_request_suspend(http_request_t *req);

/*
 * For a public route that guards only some of its requests (the check
 * HTTP_ROUTE_PUBLIC skips): true when the request carries the server's bearer
 * token or none is configured; otherwise answers 401 as a guarded route
 * would and returns false. Call from a handler on the loop thread.
 */
bool http_request_authorize(http_request_t *req);

/* True when the connection is gone and a response would be dropped. */
bool http_request_client_gone(const http_request_t *req);

#endif
