/*
 * http_internal.h - the parts of the HTTP server that its own files share:
 * the request object, the byte-feeding request assembler (which needs no
 * socket, so the fuzz target drives it directly), the router, and the
 * functions the connection layer offers the response code.
 *
 * Not for use outside coordinator/http_*.c and tests/fuzz.
 */
#ifndef WF_HTTP_INTERNAL_H
#define WF_HTTP_INTERNAL_H

#include <http_parser.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "http_server.h"

#define HTTP_DEFAULT_MAX_HEADER_BYTES (32u * 1024)
#define HTTP_DEFAULT_MAX_BODY_BYTES (1024u * 1024)
#define HTTP_DEFAULT_MAX_CONNECTIONS 1024u
#define HTTP_DEFAULT_HEADER_TIMEOUT_MS 10000u
#define HTTP_DEFAULT_BODY_TIMEOUT_MS 30000u
#define HTTP_DEFAULT_IDLE_TIMEOUT_MS 60000u
#define HTTP_DEFAULT_WRITE_TIMEOUT_MS 30000u
#define HTTP_DEFAULT_LINGER_TIMEOUT_MS 2000u
#define HTTP_DEFAULT_STATIC_MAX_BYTES (32u * 1024 * 1024)

/* More header fields than this is a 431, whatever their size. */
#define HTTP_MAX_HEADERS 100
/* A path with more segments than this matches no route. */
#define HTTP_MAX_SEGMENTS 32
#define HTTP_REQUEST_ID_MAX 64

typedef struct {
	const char *name;
	const char *value;
} http_pair_t;

typedef enum {
	HTTP_REQ_PARSING = 0, /* bytes still arriving */
	HTTP_REQ_HANDLING,    /* with its handler or done_cb */
	HTTP_REQ_DEFERRED,    /* work_cb queued or running */
	HTTP_REQ_SUSPENDED,   /* the handler will answer later */
	HTTP_REQ_RESPONDED,
} http_req_state_t;

struct http_conn;
typedef struct http_route_entry http_route_entry_t;

struct http_request {
	http_server_t *server;	/* NULL when assembled without a server (fuzzing) */
	struct http_conn *conn; /* NULL likewise; kept alive by this request's reference */
	http_req_state_t state;
	bool in_callback; /* a handler or done_cb is running: free on its return, not on respond */

	const char *method; /* static string of http_parser, or "-" */
	unsigned method_id;
	unsigned short http_major, http_minor;
	bool keep_alive;
	bool expect_continue;
	bool is_head;
	bool has_body;
	uint64_t start_ns;

	/* The request target as sent, then split: path and query point into it. */
	char *target;
	size_t target_len, target_cap;
	const char *path;
	const char *query_raw;

	/* Header names and values as "name\0value\0..." in hbuf; pairs point into it after the head. */
	char *hbuf;
	size_t hbuf_len, hbuf_cap;
	size_t hoff[HTTP_MAX_HEADERS][2]; /* name, value offsets; SIZE_MAX: no value yet */
	size_t nhoff;
	http_pair_t headers[HTTP_MAX_HEADERS]; /* filled when the head is complete */
	size_t nheaders;

	char *body;
	size_t body_len, body_cap;

	/* Decoded path segments and query pairs; params and query point into these buffers. */
	char *seg_buf;
	const char *segs[HTTP_MAX_SEGMENTS];
	size_t nsegs;
	bool too_many_segs;
	http_pair_t params[HTTP_MAX_SEGMENTS];
	size_t nparams;
	char *query_buf;
	http_pair_t *query;
	size_t nquery;

	const http_route_entry_t *route;
	const char *route_label; /* for the observation; set by whoever answers */
	char id[HTTP_REQUEST_ID_MAX + 1];

	/* Extra response header lines, "Name: value\r\n" each. */
	char *resp_headers;
	size_t resp_headers_len;

	uv_work_t work;
	http_work_cb work_cb;
	http_done_cb done_cb;
	void *work_data;
};

/* http_request.c: the request object. */

/* A blank request bound to server and conn (both may be NULL); NULL on OOM. */
http_request_t *http_request_new(http_server_t *server, struct http_conn *conn);
/* Frees the request and drops its connection reference. Accepts NULL. */
void http_request_free(http_request_t *req);
/* 64 random bits for the request ids (time and pid when getrandom fails). */
uint64_t http_random_seed(void);
/* Sets req->id from a sane X-Request-Id header or a fresh random one. */
void http_request_assign_id(http_request_t *req);
/* Decodes the path into segments and the query into pairs; -EINVAL on a bad escape. */
int http_request_split_target(http_request_t *req);

/*
 * Percent-decodes len bytes of in into out (room for len + 1 bytes) and
 * NUL-terminates it; "+" becomes a space when plus_is_space. Returns the
 * decoded length, or -1 for a malformed escape or an encoded NUL.
 */
ssize_t http_percent_decode(const char *in, size_t len, bool plus_is_space, char *out);

/* http_response.c: answers and the request's life around its callbacks. */

/* http_respond with a body that becomes the response's (freed in every case). */
int http_respond_owned(http_request_t *req, int status, const char *content_type, char *body,
		       size_t len);
/*
 * Runs a handler or done_cb on req with the request id in the log context;
 * sends a 500 when it returned without answering, deferring or suspending,
 * and frees req when it was answered.
 */
void http_request_invoke(http_request_t *req, http_handler_cb cb, void *data);

/* http_parse.c: bytes in, whole requests out. */

typedef enum {
	HTTP_ASM_MORE = 0, /* every byte consumed; the request is not complete */
	HTTP_ASM_DONE,	   /* a request is complete: take it; bytes after it were not consumed */
	HTTP_ASM_ERROR,	   /* the input is not an acceptable request: answer error_status and close */
} http_asm_result_t;

typedef struct {
	http_parser parser;
	size_t max_header_bytes;
	size_t max_body_bytes;
	http_server_t *server;	/* passed to each new request */
	struct http_conn *conn; /* likewise */
	http_request_t *req;	/* the request being assembled, or NULL between requests */
	size_t header_bytes;
	int last_cb; /* which header callback came last: a name may arrive in pieces */
	bool headers_done;
	bool done;
	int error_status;
	const char *error_message;
} http_assembler_t;

void http_assembler_init(http_assembler_t *a, size_t max_header_bytes, size_t max_body_bytes,
			 http_server_t *server, struct http_conn *conn);
/*
 * Feeds len bytes (not kept) and returns how many were consumed. After
 * HTTP_ASM_DONE the caller takes the request; feeding again continues with
 * the next one. After HTTP_ASM_ERROR the assembler accepts nothing more.
 */
size_t http_assembler_feed(http_assembler_t *a, const char *data, size_t len,
			   http_asm_result_t *result);
/* The complete request (after DONE) or the partial one (after ERROR, may be NULL); the caller owns it. */
http_request_t *http_assembler_take(http_assembler_t *a);
/* True when some bytes of a request have arrived and it is not yet taken. */
bool http_assembler_started(const http_assembler_t *a);
/* True when the request being assembled has its whole head. */
bool http_assembler_headers_done(const http_assembler_t *a);
/* Frees a partial request. */
void http_assembler_reset(http_assembler_t *a);

/* http_router.c: the route table. */

struct http_route_entry {
	char *method;
	char *pattern;
	char **segs; /* literal segments, or ":name" */
	size_t nsegs;
	http_handler_cb handler;
	void *data;
	unsigned flags;
};

typedef struct {
	http_route_entry_t *routes;
	size_t n;
} http_router_t;

typedef enum {
	HTTP_MATCH_FOUND = 0,
	HTTP_MATCH_WRONG_METHOD, /* the path is known: answer 405 with the allow list */
	HTTP_MATCH_NONE,
} http_match_t;

int http_router_add(http_router_t *router, const http_route_t *route);
void http_router_free(http_router_t *router);
/*
 * Matches req (its path already split) and on FOUND sets req->route and
 * req->params. HEAD falls back to GET. On WRONG_METHOD allow gets the list
 * of methods ("GET, HEAD, POST").
 */
http_match_t http_router_match(const http_router_t *router, http_request_t *req,
			       char *allow, size_t allowlen);

/* http_server.c: the server as the other files see it. */

struct http_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	http_server_options_t opts; /* defaults filled in; strings below */
	char *bearer_token;
	unsigned char token_hash[32];
	char *static_root; /* realpath of static_dir, or NULL */
	http_router_t router;
	struct http_conn *conns; /* every connection not yet freed */
	size_t nconns;		 /* open ones within max_connections (refused ones not counted) */
	size_t nallocated;	 /* every connection not yet freed: close waits for 0 */
	bool listening;
	bool closing;
	bool listener_closed;
	http_close_cb close_cb;
	void *close_data;
	uint64_t id_seed;
	uint64_t id_counter;
	time_t last_refusal_log; /* refusals are logged once a second at most */
};

/*
 * Queues a response on the request's connection, which must be handling
 * that request: head and body become the connection's, which frees them;
 * close ends the connection after it. When the connection is gone both are
 * just freed; a NULL head (out of memory) closes it.
 */
void http_conn_send(struct http_conn *conn, char *head, size_t head_len, char *body,
		    size_t body_len, bool close);
/* A request's reference on its connection: it outlives the socket until dropped. */
void http_conn_ref(struct http_conn *conn);
void http_conn_unref(struct http_conn *conn);
/* True when the connection can no longer carry a response. */
bool http_conn_gone(const struct http_conn *conn);

/* http_dispatch.c: from a complete request to its handler. */

/* Routes, authenticates and runs the handler (or answers the error). Takes req. */
void http_dispatch(http_request_t *req);
/* Answers a request that could not be read (400, 408, 413, 431) and closes. Takes req. */
void http_dispatch_error(http_request_t *req, int status, const char *message);

/* http_static.c */

/* Serves a file of server->static_root for a GET/HEAD of an unrouted path (deferred). */
void http_static_serve(http_request_t *req);
/* The Content-Type for a file name by its extension. */
const char *http_static_content_type(const char *name);

#endif
