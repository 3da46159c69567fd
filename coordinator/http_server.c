/*
 * http_server.c - the listening socket and the connections: reading bytes
 * into the assembler, one request at a time, writing responses, timeouts,
 * and the graceful close.
 *
 * A connection parses until a request is complete, then parses nothing more
 * until that request's response has been written: so pipelined requests are
 * answered strictly in order. Meanwhile it goes on reading only into what is
 * left of its fixed input buffer, and stops reading when that is full; so a
 * client cannot make us buffer more, and a client that resets the
 * connection while its request is with a handler is noticed at once (the
 * request is then answered into the void). One timer per connection
 * measures whichever wait it is in (head, body, idle, write, linger); the
 * head and body budgets run from the first byte, not from the last, so a
 * client trickling bytes cannot hold a connection (slowloris).
 *
 * Memory: a connection holds one reference for its two handles, released in
 * the last close callback, and one per request alive on it; it is freed at
 * zero. So a request whose client vanished mid-handler is answered into the
 * void, never into freed memory.
 */
#include "http_internal.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"

#define READ_BUF_SIZE (16 * 1024)
#define LISTEN_BACKLOG 511

typedef enum {
	CONN_READING,  /* waiting for or receiving a request */
	CONN_HANDLING, /* a complete request is with its handler; not reading */
	CONN_WRITING,  /* its response is being written */
	CONN_DRAINING, /* a closing response is out: input is read and dropped until the peer closes */
	CONN_CLOSED,   /* uv_close called on the handles */
} conn_phase_t;

typedef enum {
	WAIT_NONE = 0,
	WAIT_HEADER,
	WAIT_BODY,
	WAIT_IDLE,
	WAIT_WRITE,
	WAIT_LINGER,
} conn_wait_t;

struct http_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t write_req;
	uv_write_t continue_req;
	uv_shutdown_t shutdown_req;
	http_server_t *server;
	struct http_conn *prev, *next;
	http_assembler_t assembler;
	char *in; /* READ_BUF_SIZE bytes; [in_off, in_len) not yet parsed */
	size_t in_off, in_len;
	char *out_head, *out_body; /* the response being written */
	conn_phase_t phase;
	conn_wait_t wait;
	int refs;
	int open_handles;
	bool counted; /* within max_connections (not a refused one) */
	bool reading;
	bool served; /* a response went out: the next wait is an idle one */
	bool close_after;
	bool continue_sent;
};

static void conn_process(struct http_conn *conn);

static void server_maybe_finish(http_server_t *s)
{
	http_close_cb cb;
	void *data;

	if (!s->closing || !s->listener_closed || s->nallocated > 0)
		return;
	cb = s->close_cb;
	data = s->close_data;
	if (cb != NULL)
		cb(s, data);
	http_router_free(&s->router);
	free(s->bearer_token);
	free(s->static_root);
	free(s);
}

static void conn_free(struct http_conn *conn)
{
	http_server_t *s = conn->server;

	if (conn->prev)
		conn->prev->next = conn->next;
	else
		s->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	if (conn->counted)
		s->nconns--;
	s->nallocated--;
	free(conn->in);
	free(conn->out_head);
	free(conn->out_body);
	free(conn);
	server_maybe_finish(s);
}

void http_conn_ref(struct http_conn *conn)
{
	conn->refs++;
}

void http_conn_unref(struct http_conn *conn)
{
	if (--conn->refs == 0)
		conn_free(conn);
}

bool http_conn_gone(const struct http_conn *conn)
{
	return conn->phase == CONN_CLOSED;
}

static void conn_close_cb(uv_handle_t *handle)
{
	struct http_conn *conn = handle->data;

	if (--conn->open_handles == 0)
		http_conn_unref(conn);
}

static void conn_close(struct http_conn *conn)
{
	if (conn->phase == CONN_CLOSED)
		return;
	conn->phase = CONN_CLOSED;
	/* A partly received request holds a reference: drop it with the input. */
	http_assembler_reset(&conn->assembler);
	uv_close((uv_handle_t *)&conn->tcp, conn_close_cb);
	uv_close((uv_handle_t *)&conn->timer, conn_close_cb);
}

static unsigned wait_ms(const http_server_t *s, conn_wait_t wait)
{
	switch (wait) {
	case WAIT_HEADER:
		return s->opts.header_timeout_ms;
	case WAIT_BODY:
		return s->opts.body_timeout_ms;
	case WAIT_IDLE:
		return s->opts.idle_timeout_ms;
	case WAIT_WRITE:
		return s->opts.write_timeout_ms;
	case WAIT_LINGER:
		return s->opts.linger_timeout_ms;
	case WAIT_NONE:
		break;
	}
	return 0;
}

static void conn_fail(struct http_conn *conn, int status, const char *message);

static void timer_cb(uv_timer_t *timer)
{
	struct http_conn *conn = timer->data;

	switch (conn->wait) {
	case WAIT_HEADER:
	case WAIT_BODY:
		/* A client that sent part of a request is told why it is dropped. */
		if (http_assembler_started(&conn->assembler)) {
			conn_fail(conn, 408, "request timeout");
			return;
		}
		conn_close(conn);
		return;
	case WAIT_IDLE:
	case WAIT_WRITE:
	case WAIT_LINGER:
	case WAIT_NONE:
		conn_close(conn);
		return;
	}
}

/* Starts the timer for a new kind of wait; the same wait keeps its deadline. */
static void conn_wait(struct http_conn *conn, conn_wait_t wait)
{
	if (conn->wait == wait)
		return;
	conn->wait = wait;
	if (wait == WAIT_NONE)
		uv_timer_stop(&conn->timer);
	else
		uv_timer_start(&conn->timer, timer_cb, wait_ms(conn->server, wait), 0);
}

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct http_conn *conn = handle->data;

	(void)suggested;
	if (conn->in == NULL)
		conn->in = malloc(READ_BUF_SIZE);
	if (conn->in == NULL) {
		*buf = uv_buf_init(NULL, 0); /* read_cb gets UV_ENOBUFS and closes */
		return;
	}
	if (conn->phase == CONN_DRAINING)
		*buf = uv_buf_init(conn->in, READ_BUF_SIZE);
	else /* never empty: reading stops when the buffer is full */
		*buf = uv_buf_init(conn->in + conn->in_len, (unsigned)(READ_BUF_SIZE - conn->in_len));
}

static void conn_stop_reading(struct http_conn *conn)
{
	if (!conn->reading)
		return;
	uv_read_stop((uv_stream_t *)&conn->tcp);
	conn->reading = false;
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct http_conn *conn = stream->data;

	(void)buf;
	if (nread == 0)
		return;
	if (nread < 0) {
		/*
		 * A client may half-close after its request and still read the
		 * answer; libuv stopped reading, and the connection closes when it
		 * next needs input. An error, or an end in the middle of a
		 * request, closes it now.
		 */
		if (nread == UV_EOF && (conn->phase == CONN_HANDLING || conn->phase == CONN_WRITING))
			conn->reading = false;
		else
			conn_close(conn);
		return;
	}
	if (conn->phase == CONN_DRAINING)
		return; /* dropped */
	conn->in_len += (size_t)nread;
	if (conn->phase == CONN_READING)
		conn_process(conn);
	else if (conn->in_len == READ_BUF_SIZE)
		conn_stop_reading(conn); /* the next requests wait in the kernel */
}

static int conn_start_reading(struct http_conn *conn)
{
	int rc;

	if (conn->reading)
		return 0;
	rc = uv_read_start((uv_stream_t *)&conn->tcp, alloc_cb, read_cb);
	if (rc == 0)
		conn->reading = true;
	return rc;
}

static void continue_written_cb(uv_write_t *req, int status)
{
	/* A failed write shows again on the next read or write of the connection. */
	(void)req;
	(void)status;
}

/* "Expect: 100-continue": the client waits for our go-ahead before the body. */
static void conn_maybe_continue(struct http_conn *conn)
{
	static const char text[] = "HTTP/1.1 100 Continue\r\n\r\n";
	const http_request_t *req = conn->assembler.req;
	uv_buf_t b = uv_buf_init((char *)text, sizeof(text) - 1);

	if (conn->continue_sent || !req->expect_continue || !req->has_body || req->body_len > 0 ||
	    req->http_minor == 0)
		return;
	conn->continue_sent = true;
	uv_write(&conn->continue_req, (uv_stream_t *)&conn->tcp, &b, 1, continue_written_cb);
}

static void conn_begin_handling(struct http_conn *conn)
{
	/* Input after the request moves to the front, leaving room to read on. */
	if (conn->in_off > 0) {
		memmove(conn->in, conn->in + conn->in_off, conn->in_len - conn->in_off);
		conn->in_len -= conn->in_off;
		conn->in_off = 0;
	}
	if (conn->in_len == READ_BUF_SIZE)
		conn_stop_reading(conn);
	conn_wait(conn, WAIT_NONE);
	conn->phase = CONN_HANDLING;
	conn->continue_sent = false;
}

static void conn_fail(struct http_conn *conn, int status, const char *message)
{
	http_request_t *req = http_assembler_take(&conn->assembler);

	if (req == NULL)
		req = http_request_new(conn->server, conn);
	if (req == NULL) {
		conn_close(conn);
		return;
	}
	conn_begin_handling(conn);
	http_dispatch_error(req, status, message);
}

/*
 * Feeds unparsed input to the assembler until a request is complete (it is
 * dispatched, and the rest waits for its response) or the input runs out.
 */
static void conn_process(struct http_conn *conn)
{
	http_assembler_t *a = &conn->assembler;

	while (conn->phase == CONN_READING && conn->in_off < conn->in_len) {
		http_asm_result_t res;

		conn->in_off += http_assembler_feed(a, conn->in + conn->in_off,
						    conn->in_len - conn->in_off, &res);
		if (res == HTTP_ASM_ERROR) {
			conn_fail(conn, a->error_status, a->error_message);
			return;
		}
		if (res == HTTP_ASM_DONE) {
			conn_begin_handling(conn);
			http_dispatch(http_assembler_take(a));
			return;
		}
		if (http_assembler_headers_done(a)) {
			conn_wait(conn, WAIT_BODY);
			conn_maybe_continue(conn);
		} else if (http_assembler_started(a)) {
			conn_wait(conn, WAIT_HEADER);
		}
	}
	if (conn->phase != CONN_READING)
		return;
	conn->in_off = conn->in_len = 0;
	if (!http_assembler_started(a))
		conn_wait(conn, conn->served ? WAIT_IDLE : WAIT_HEADER);
	if (conn_start_reading(conn) < 0)
		conn_close(conn);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
	struct http_conn *conn = req->data;

	if (status < 0)
		conn_close(conn);
}

/*
 * Closing right after a response, with input unread, would make the kernel
 * send a reset that can destroy the response before the client reads it. So
 * the write side is shut, and input is read and dropped until the client
 * closes or the linger time runs out.
 */
static void conn_drain(struct http_conn *conn)
{
	conn->phase = CONN_DRAINING;
	conn->in_off = conn->in_len = 0;
	http_assembler_reset(&conn->assembler);
	conn_wait(conn, WAIT_LINGER);
	conn->shutdown_req.data = conn;
	if (uv_shutdown(&conn->shutdown_req, (uv_stream_t *)&conn->tcp, shutdown_cb) < 0 ||
	    conn_start_reading(conn) < 0)
		conn_close(conn);
}

static void write_cb(uv_write_t *req, int status)
{
	struct http_conn *conn = req->data;

	free(conn->out_head);
	free(conn->out_body);
	conn->out_head = conn->out_body = NULL;
	if (status < 0 || conn->phase == CONN_CLOSED) {
		conn_close(conn);
		return;
	}
	conn->served = true;
	if (conn->close_after || conn->server->closing) {
		conn_drain(conn);
		return;
	}
	conn->phase = CONN_READING;
	conn_process(conn);
}

void http_conn_send(struct http_conn *conn, char *head, size_t head_len, char *body,
		    size_t body_len, bool close)
{
	uv_buf_t bufs[2];
	unsigned n = 0;

	if (conn->phase != CONN_HANDLING || head == NULL) {
		free(head);
		free(body);
		conn_close(conn);
		return;
	}
	bufs[n++] = uv_buf_init(head, (unsigned)head_len);
	if (body != NULL && body_len > 0)
		bufs[n++] = uv_buf_init(body, (unsigned)body_len);
	conn->out_head = head;
	conn->out_body = body;
	conn->close_after = close;
	conn->write_req.data = conn;
	if (uv_write(&conn->write_req, (uv_stream_t *)&conn->tcp, bufs, n, write_cb) < 0) {
		conn_close(conn);
		return;
	}
	conn->phase = CONN_WRITING;
	conn_wait(conn, WAIT_WRITE);
}

static struct http_conn *conn_new(http_server_t *s)
{
	struct http_conn *conn = calloc(1, sizeof(*conn));

	if (conn == NULL)
		return NULL;
	conn->server = s;
	conn->refs = 1;
	conn->open_handles = 2;
	uv_tcp_init(s->loop, &conn->tcp);
	uv_timer_init(s->loop, &conn->timer);
	conn->tcp.data = conn;
	conn->timer.data = conn;
	http_assembler_init(&conn->assembler, s->opts.max_header_bytes, s->opts.max_body_bytes, s,
			    conn);
	conn->next = s->conns;
	if (s->conns)
		s->conns->prev = conn;
	s->conns = conn;
	s->nallocated++;
	return conn;
}

/* Over the connection limit: one short answer, then the door. */
static void conn_refuse(struct http_conn *conn)
{
	static const char text[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Content-Type: application/json\r\n"
				   "Content-Length: 32\r\n"
				   "Connection: close\r\n"
				   "Retry-After: 1\r\n"
				   "\r\n"
				   "{\"error\":\"too many connections\"}";
	uv_buf_t b = uv_buf_init((char *)text, sizeof(text) - 1);
	http_server_t *s = conn->server;
	time_t now = time(NULL);

	/* A fresh socket's send buffer takes this whole; if not, the client gets less. */
	uv_try_write((uv_stream_t *)&conn->tcp, &b, 1);
	if (now != s->last_refusal_log) {
		s->last_refusal_log = now;
		log_warn("refused a connection: %zu connections open (the limit)", s->nconns);
	}
	conn_close(conn);
}

static void connection_cb(uv_stream_t *listener, int status)
{
	http_server_t *s = listener->data;
	struct http_conn *conn;

	if (status < 0) {
		log_warn("could not accept a connection: %s", uv_strerror(status));
		return;
	}
	conn = conn_new(s);
	if (conn == NULL) {
		log_error("could not accept a connection: out of memory");
		return;
	}
	if (uv_accept(listener, (uv_stream_t *)&conn->tcp) < 0 || s->closing) {
		conn_close(conn);
		return;
	}
	if (s->nconns >= s->opts.max_connections) {
		conn_refuse(conn);
		return;
	}
	conn->counted = true;
	s->nconns++;
	uv_tcp_nodelay(&conn->tcp, 1);
	conn->phase = CONN_READING;
	conn_process(conn);
}

void http_server_options_init(http_server_options_t *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->max_header_bytes = HTTP_DEFAULT_MAX_HEADER_BYTES;
	opts->max_body_bytes = HTTP_DEFAULT_MAX_BODY_BYTES;
	opts->max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
	opts->header_timeout_ms = HTTP_DEFAULT_HEADER_TIMEOUT_MS;
	opts->body_timeout_ms = HTTP_DEFAULT_BODY_TIMEOUT_MS;
	opts->idle_timeout_ms = HTTP_DEFAULT_IDLE_TIMEOUT_MS;
	opts->write_timeout_ms = HTTP_DEFAULT_WRITE_TIMEOUT_MS;
	opts->linger_timeout_ms = HTTP_DEFAULT_LINGER_TIMEOUT_MS;
	opts->static_max_bytes = HTTP_DEFAULT_STATIC_MAX_BYTES;
}

void http_server_options_from_config(http_server_options_t *opts, const wf_config_t *cfg)
{
	opts->max_body_bytes = (size_t)cfg->http_max_body;
	opts->bearer_token = cfg->api_token;
	opts->static_dir = config_web_dir(cfg);
}

/* Zero fields take their defaults. */
static void fill_defaults(http_server_options_t *o)
{
	http_server_options_t d;

	http_server_options_init(&d);
#define DEFAULT(field)             \
	if (o->field == 0)         \
		o->field = d.field
	DEFAULT(max_header_bytes);
	DEFAULT(max_body_bytes);
	DEFAULT(max_connections);
	DEFAULT(header_timeout_ms);
	DEFAULT(body_timeout_ms);
	DEFAULT(idle_timeout_ms);
	DEFAULT(write_timeout_ms);
	DEFAULT(linger_timeout_ms);
	DEFAULT(static_max_bytes);
#undef DEFAULT
}

int http_server_new(uv_loop_t *loop, const http_server_options_t *opts, http_server_t **out)
{
	http_server_t *s = calloc(1, sizeof(*s));
	struct stat st;
	int rc;

	if (s == NULL)
		return -ENOMEM;
	if (opts != NULL)
		s->opts = *opts;
	fill_defaults(&s->opts);
	/* The caller's strings are not kept: the copies below are. */
	s->opts.bearer_token = NULL;
	s->opts.static_dir = NULL;
	if (opts != NULL && opts->bearer_token != NULL && opts->bearer_token[0] != '\0') {
		s->bearer_token = strdup(opts->bearer_token);
		if (s->bearer_token == NULL) {
			rc = -ENOMEM;
			goto error;
		}
		SHA256((const unsigned char *)s->bearer_token, strlen(s->bearer_token), s->token_hash);
	}
	if (opts != NULL && opts->static_dir != NULL) {
		s->static_root = realpath(opts->static_dir, NULL);
		if (s->static_root == NULL) {
			rc = -errno;
			goto error;
		}
		if (stat(s->static_root, &st) < 0 || !S_ISDIR(st.st_mode)) {
			rc = -ENOTDIR;
			goto error;
		}
	}
	s->loop = loop;
	s->id_seed = http_random_seed();
	rc = uv_tcp_init(loop, &s->listener);
	if (rc < 0)
		goto error;
	s->listener.data = s;
	*out = s;
	return 0;
error:
	free(s->bearer_token);
	free(s->static_root);
	free(s);
	return rc;
}

int http_server_route(http_server_t *server, const http_route_t *route)
{
	return http_router_add(&server->router, route);
}

int http_server_routes(http_server_t *server, const http_route_t *routes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = http_router_add(&server->router, &routes[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int http_server_listen(http_server_t *server, const char *host, int port)
{
	struct sockaddr_storage addr;
	int rc;

	if (server->listening || server->closing || port < 0 || port > 65535)
		return -EINVAL;
	if (strchr(host, ':') != NULL)
		rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
	else
		rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
	if (rc < 0)
		return rc;
	rc = uv_tcp_bind(&server->listener, (const struct sockaddr *)&addr, 0);
	if (rc < 0)
		return rc;
	rc = uv_listen((uv_stream_t *)&server->listener, LISTEN_BACKLOG, connection_cb);
	if (rc < 0)
		return rc;
	server->listening = true;
	return 0;
}

int http_server_port(const http_server_t *server)
{
	struct sockaddr_storage addr;
	int len = sizeof(addr);
	int rc;

	if (!server->listening)
		return -ENOTCONN;
	rc = uv_tcp_getsockname(&server->listener, (struct sockaddr *)&addr, &len);
	if (rc < 0)
		return rc;
	if (addr.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
	return ntohs(((struct sockaddr_in *)&addr)->sin_port);
}

static void listener_close_cb(uv_handle_t *handle)
{
	http_server_t *s = handle->data;

	s->listener_closed = true;
	server_maybe_finish(s);
}

void http_server_close(http_server_t *server, http_close_cb close_cb, void *data)
{
	if (server == NULL || server->closing)
		return;
	server->closing = true;
	server->close_cb = close_cb;
	server->close_data = data;
	uv_close((uv_handle_t *)&server->listener, listener_close_cb);
	/*
	 * Connections waiting for (or in the middle of) a request are closed
	 * now; those with a request in hand close after its response (write_cb).
	 */
	for (struct http_conn *c = server->conns; c != NULL; c = c->next)
		if (c->phase == CONN_READING)
			conn_close(c);
}
