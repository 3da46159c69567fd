/*
 * test_http_server.c - the coordinator's HTTP server over real loopback
 * connections: libcurl for ordinary requests, raw sockets where the bytes on
 * the wire matter (pipelining, HTTP/1.0, chunked bodies, garbage, slow
 * clients, path traversal). Each test starts its own server with its loop
 * running in a thread.
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http_server.h"
#include "json.h"
#include "runner.h"

/* ---- the server under test ---------------------------------------------- */

#define MAX_OBS 256

typedef struct {
	char route[64];
	char method[16];
	int status;
	char id[80];
} obs_copy_t;

static struct {
	uv_loop_t loop;
	uv_async_t stop;
	http_server_t *server;
	pthread_t thread;
	int port;
	atomic_int closed;
	pthread_mutex_t mu;
	obs_copy_t obs[MAX_OBS];
	int nobs;
} srv;

/* What the deferred handlers saw, for the threading checks. */
static atomic_int work_ran, done_ran, work_on_loop_thread, done_off_loop_thread, gone_seen;

static void observe_cb(const http_observation_t *o, void *data)
{
	pthread_mutex_lock(&srv.mu);
	if (srv.nobs < MAX_OBS) {
		obs_copy_t *c = &srv.obs[srv.nobs++];

		snprintf(c->route, sizeof(c->route), "%s", o->route);
		snprintf(c->method, sizeof(c->method), "%s", o->method);
		snprintf(c->id, sizeof(c->id), "%s", o->request_id);
		c->status = o->status;
	}
	pthread_mutex_unlock(&srv.mu);
}

static void h_hello(http_request_t *req, void *data)
{
	cJSON *body = json_object();

	json_add_string(body, "hello", "world");
	http_respond_json(req, 200, body);
}

static void h_item(http_request_t *req, void *data)
{
	cJSON *body = json_object();

	json_add_string(body, "id", http_request_param(req, "id"));
	if (data != NULL)
		json_add_string(body, "action", data);
	http_respond_json(req, 200, body);
}

static void h_search(http_request_t *req, void *data)
{
	cJSON *body = json_object();

	json_add_string(body, "status", http_request_query(req, "status"));
	json_add_string(body, "q", http_request_query(req, "q"));
	http_respond_json(req, 200, body);
}

static void h_echo_json(http_request_t *req, void *data)
{
	cJSON *tree = http_request_json(req);

	if (tree == NULL)
		return;
	http_respond_json(req, 200, tree);
}

static void h_echo_raw(http_request_t *req, void *data)
{
	size_t len;
	const char *body = http_request_body(req, &len);

	http_respond(req, 200, "application/octet-stream", body, len);
}

static void h_headers(http_request_t *req, void *data)
{
	cJSON *body = json_object();

	json_add_string(body, "custom", http_request_header(req, "x-CUSTOM"));
	json_add_string(body, "id", http_request_id(req));
	http_response_header(req, "X-Extra", "yes");
	ck_assert_int_eq(http_response_header(req, "Content-Length", "1"), -EINVAL);
	ck_assert_int_eq(http_response_header(req, "X-Bad", "a\r\nInjected: 1"), -EINVAL);
	http_respond_json(req, 200, body);
}

static void slow_work(http_request_t *req, void *data)
{
	const char *ms = http_request_query(req, "ms");

	if (pthread_equal(pthread_self(), srv.thread))
		atomic_store(&work_on_loop_thread, 1);
	usleep((useconds_t)(ms ? atoi(ms) : 200) * 1000);
	atomic_fetch_add(&work_ran, 1);
}

static void slow_done(http_request_t *req, void *data)
{
	cJSON *body = json_object();

	if (!pthread_equal(pthread_self(), srv.thread))
		atomic_store(&done_off_loop_thread, 1);
	json_add_string(body, "path", http_request_path(req));
	json_add_bool(body, "client_gone", http_request_client_gone(req));
	/* Counted before answering: the client may look as soon as the answer is out. */
	if (http_request_client_gone(req))
		atomic_fetch_add(&gone_seen, 1);
	atomic_fetch_add(&done_ran, 1);
	http_respond_json(req, 200, body);
}

static void h_slow(http_request_t *req, void *data)
{
	ck_assert_int_eq(http_request_defer(req, slow_work, slow_done, NULL), 0);
	/* Answering while the work runs is refused. */
	ck_assert_int_eq(http_respond_error(req, 500, "too early"), -EBUSY);
}

static void held_timer_closed(uv_handle_t *h)
{
	free(h);
}

static void held_timer_cb(uv_timer_t *t)
{
	http_request_t *req = t->data;

	http_respond(req, 200, "text/plain", "held", 4);
	uv_close((uv_handle_t *)t, held_timer_closed);
}

static void h_held(http_request_t *req, void *data)
{
	uv_timer_t *t = malloc(sizeof(*t));

	ck_assert_int_eq(http_request_suspend(req), 0);
	uv_timer_init(&srv.loop, t);
	t->data = req;
	uv_timer_start(t, held_timer_cb, 20, 0);
}

static void h_forget(http_request_t *req, void *data)
{
}

static const http_route_t routes[] = {
	{ "GET", "/hello", h_hello, NULL, 0 },
	{ "GET", "/items/:id", h_item, NULL, 0 },
	{ "POST", "/items/:id/pause", h_item, "pause", 0 },
	{ "GET", "/items/special", h_item, "special", 0 },
	{ "GET", "/search", h_search, NULL, 0 },
	{ "POST", "/echo", h_echo_json, NULL, 0 },
	{ "POST", "/raw", h_echo_raw, NULL, 0 },
	{ "GET", "/headers", h_headers, NULL, 0 },
	{ "GET", "/slow", h_slow, NULL, 0 },
	{ "GET", "/held", h_held, NULL, 0 },
	{ "GET", "/forget", h_forget, NULL, 0 },
	{ "GET", "/health", h_hello, NULL, HTTP_ROUTE_PUBLIC },
	{ "GET", "/health/live", h_hello, NULL, HTTP_ROUTE_PUBLIC },
};

static void *loop_thread(void *arg)
{
	uv_run(&srv.loop, UV_RUN_DEFAULT);
	return NULL;
}

static void closed_cb(http_server_t *server, void *data)
{
	atomic_store(&srv.closed, 1);
}

static void stop_cb(uv_async_t *a)
{
	http_server_close(srv.server, closed_cb, NULL);
	uv_close((uv_handle_t *)a, NULL);
}

/* Starts a server with opts (NULL: defaults, quiet) and the routes above. */
static void srv_start(http_server_options_t *opts)
{
	http_server_options_t defaults;

	if (opts == NULL) {
		http_server_options_init(&defaults);
		opts = &defaults;
	}
	opts->observe = observe_cb;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&srv.mu, NULL);
	ck_assert_int_eq(uv_loop_init(&srv.loop), 0);
	ck_assert_int_eq(http_server_new(&srv.loop, opts, &srv.server), 0);
	ck_assert_int_eq(http_server_routes(srv.server, routes, sizeof(routes) / sizeof(routes[0])), 0);
	ck_assert_int_eq(http_server_port(srv.server), -ENOTCONN);
	ck_assert_int_eq(http_server_listen(srv.server, "127.0.0.1", 0), 0);
	srv.port = http_server_port(srv.server);
	ck_assert_int_gt(srv.port, 0);
	uv_async_init(&srv.loop, &srv.stop, stop_cb);
	ck_assert_int_eq(pthread_create(&srv.thread, NULL, loop_thread, NULL), 0);
}

/* Asks for the graceful close without waiting for it. */
static void srv_begin_stop(void)
{
	uv_async_send(&srv.stop);
}

/* Closes the server, joins its thread, and checks nothing was left open. */
static void srv_stop(void)
{
	srv_begin_stop();
	pthread_join(srv.thread, NULL);
	ck_assert_int_eq(atomic_load(&srv.closed), 1);
	ck_assert_int_eq(uv_loop_close(&srv.loop), 0);
	curl_global_cleanup();
}

static int obs_count_route(const char *route, int status)
{
	int n = 0;

	pthread_mutex_lock(&srv.mu);
	for (int i = 0; i < srv.nobs; i++)
		if (strcmp(srv.obs[i].route, route) == 0 && srv.obs[i].status == status)
			n++;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ---- libcurl ------------------------------------------------------------- */

typedef struct {
	long status;
	char *body;
	size_t len;
	char headers[8192];
	size_t hlen;
} resp_t;

static size_t body_cb(char *ptr, size_t size, size_t n, void *data)
{
	resp_t *r = data;
	size_t add = size * n;

	r->body = realloc(r->body, r->len + add + 1);
	memcpy(r->body + r->len, ptr, add);
	r->len += add;
	r->body[r->len] = '\0';
	return add;
}

static size_t header_cb(char *ptr, size_t size, size_t n, void *data)
{
	resp_t *r = data;
	size_t add = size * n;

	if (r->hlen + add < sizeof(r->headers)) {
		memcpy(r->headers + r->hlen, ptr, add);
		r->hlen += add;
		r->headers[r->hlen] = '\0';
	}
	return add;
}

static void resp_free(resp_t *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* The value of a response header (case-insensitive name) in out; false if absent. */
static bool resp_header(const char *headers, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);

	for (const char *line = headers; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1;
			size_t len;

			while (*v == ' ')
				v++;
			len = strcspn(v, "\r\n");
			snprintf(out, outlen, "%.*s", (int)len, v);
			return true;
		}
	}
	return false;
}

static CURL *easy_for(const char *method, const char *path, struct curl_slist *headers,
		      const char *body, size_t body_len, resp_t *out)
{
	CURL *c = curl_easy_init();
	char url[512];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv.port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	return c;
}

/* One request; headers is a NULL-terminated list or NULL. Returns the status. */
static long request(const char *method, const char *path, const char *const *headers,
		    const char *body, size_t body_len, resp_t *out)
{
	struct curl_slist *list = NULL;
	CURL *c;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	for (; headers && *headers; headers++)
		list = curl_slist_append(list, *headers);
	c = easy_for(method, path, list, body, body_len, out);
	rc = curl_easy_perform(c);
	ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(list);
	if (out->body == NULL)
		out->body = calloc(1, 1);
	return out->status;
}

/* One request without body or headers: checks its status and, when given, its Content-Type. */
static void expect_answer(const char *method, const char *path, long status, const char *content_type)
{
	char ct[128];
	resp_t r;

	ck_assert_int_eq(request(method, path, NULL, NULL, 0, &r), status);
	if (content_type != NULL) {
		ck_assert_msg(resp_header(r.headers, "Content-Type", ct, sizeof(ct)), "%s: no Content-Type", path);
		ck_assert_str_eq(ct, content_type);
	}
	if (strcmp(method, "HEAD") == 0)
		ck_assert_int_eq(r.len, 0);
	resp_free(&r);
}

static void assert_json_error(const resp_t *r, const char *expect)
{
	char err[256];
	cJSON *tree = json_parse(r->body, r->len, err, sizeof(err));
	char ct[128];

	ck_assert_msg(tree != NULL, "not JSON: %s", r->body);
	ck_assert_msg(json_string(tree, "error") != NULL, "no error member: %s", r->body);
	if (expect)
		ck_assert_msg(strstr(json_string(tree, "error"), expect) != NULL, "error is %s", r->body);
	ck_assert(resp_header(r->headers, "Content-Type", ct, sizeof(ct)));
	ck_assert_str_eq(ct, "application/json");
	cJSON_Delete(tree);
}

static void assert_json_member(const resp_t *r, const char *key, const char *expect)
{
	char err[256];
	cJSON *tree = json_parse(r->body, r->len, err, sizeof(err));

	ck_assert_msg(tree != NULL, "not JSON: %s", r->body);
	ck_assert_msg(json_string(tree, key) != NULL, "no %s in %s", key, r->body);
	ck_assert_str_eq(json_string(tree, key), expect);
	cJSON_Delete(tree);
}

/* ---- raw sockets --------------------------------------------------------- */

typedef struct {
	int fd;
	char buf[256 * 1024];
	size_t len;
} raw_t;

typedef struct {
	int status;
	char head[8192];
	char *body;
	size_t body_len;
} raw_resp_t;

static raw_t *raw_open(void)
{
	raw_t *r = calloc(1, sizeof(*r));
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port) };

	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(r->fd, 0);
	ck_assert_int_eq(connect(r->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return r;
}

static void raw_close(raw_t *r)
{
	if (r == NULL)
		return;
	close(r->fd);
	free(r);
}

/* Closes with a reset instead of a FIN. */
static void raw_reset(raw_t *r)
{
	struct linger l = { 1, 0 };

	setsockopt(r->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	raw_close(r);
}

static void raw_send(raw_t *r, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(r->fd, p, len, MSG_NOSIGNAL);

		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void raw_sends(raw_t *r, const char *text)
{
	raw_send(r, text, strlen(text));
}

/* Reads more into the buffer; 0 at EOF or reset, -1 after timeout_ms with nothing. */
static ssize_t raw_fill(raw_t *r, int timeout_ms)
{
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len - 1, 0);
	if (n < 0)
		return 0; /* ECONNRESET counts as closed */
	r->len += (size_t)n;
	r->buf[r->len] = '\0';
	return n;
}

/*
 * Takes one whole response off the buffer (reading as needed); false if the
 * connection ended first. head_only: the answer to a HEAD, which has a
 * Content-Length but no body.
 */
static bool raw_response_to(raw_t *r, raw_resp_t *out, int timeout_ms, bool head_only)
{
	double deadline = now_ms() + timeout_ms;

	memset(out, 0, sizeof(*out));
	for (;;) {
		char *end = strstr(r->buf, "\r\n\r\n");

		if (end != NULL) {
			size_t head_len = (size_t)(end - r->buf) + 4, body_len = 0;
			char cl[32];

			snprintf(out->head, sizeof(out->head), "%.*s", (int)head_len, r->buf);
			if (!head_only && strstr(out->head, " 304 ") == NULL &&
			    resp_header(strchr(out->head, '\n') + 1, "Content-Length", cl, sizeof(cl)))
				body_len = strtoul(cl, NULL, 10);
			if (r->len >= head_len + body_len) {
				out->status = atoi(r->buf + 9);
				out->body = malloc(body_len + 1);
				memcpy(out->body, r->buf + head_len, body_len);
				out->body[body_len] = '\0';
				out->body_len = body_len;
				memmove(r->buf, r->buf + head_len + body_len, r->len - head_len - body_len);
				r->len -= head_len + body_len;
				r->buf[r->len] = '\0';
				return true;
			}
		}
		if (now_ms() > deadline || raw_fill(r, (int)(deadline - now_ms()) + 1) <= 0)
			return false;
	}
}

static bool raw_response(raw_t *r, raw_resp_t *out, int timeout_ms)
{
	return raw_response_to(r, out, timeout_ms, false);
}

/* True when the peer closes within timeout_ms (input before that is dropped). */
static bool raw_closed_within(raw_t *r, int timeout_ms)
{
	double deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		ssize_t n = raw_fill(r, (int)(deadline - now_ms()) + 1);

		if (n == 0)
			return true;
		if (n < 0)
			return false;
		r->len = 0;
		r->buf[0] = '\0';
	}
	return false;
}

static void raw_resp_free(raw_resp_t *r)
{
	free(r->body);
	r->body = NULL;
}

/* ---- the tests ----------------------------------------------------------- */

START_TEST(routes_capture_decoded_params_and_query)
{
	resp_t r;
	char id[64];

	srv_start(NULL);
	ck_assert_int_eq(request("GET", "/items/abc%20d%2Fe", NULL, NULL, 0, &r), 200);
	assert_json_member(&r, "id", "abc d/e");
	ck_assert(resp_header(r.headers, "X-Request-Id", id, sizeof(id)));
	ck_assert_int_eq(strlen(id), 16);
	ck_assert_int_eq(strspn(id, "0123456789abcdef"), 16);
	resp_free(&r);

	ck_assert_int_eq(request("POST", "/items/42/pause", NULL, "", 0, &r), 200);
	assert_json_member(&r, "id", "42");
	assert_json_member(&r, "action", "pause");
	resp_free(&r);

	/* A literal segment beats a capture, whatever the order of the table. */
	ck_assert_int_eq(request("GET", "/items/special", NULL, NULL, 0, &r), 200);
	assert_json_member(&r, "action", "special");
	resp_free(&r);

	ck_assert_int_eq(request("GET", "/search?status=running&q=a+b%26c&empty", NULL, NULL, 0, &r), 200);
	assert_json_member(&r, "status", "running");
	assert_json_member(&r, "q", "a b&c");
	resp_free(&r);

	/* A malformed escape is the client's error, not a crash or a 404. */
	ck_assert_int_eq(request("GET", "/search?q=%zz", NULL, NULL, 0, &r), 400);
	assert_json_error(&r, NULL);
	resp_free(&r);

	srv_stop();
	ck_assert_int_eq(obs_count_route("/items/:id", 200), 1);
	ck_assert_int_eq(obs_count_route("/items/:id/pause", 200), 1);
}
END_TEST

START_TEST(unknown_paths_404_wrong_methods_405_and_head)
{
	resp_t r;
	char allow[64], cl[16];
	raw_t *c;
	raw_resp_t a;

	srv_start(NULL);
	ck_assert_int_eq(request("GET", "/nope", NULL, NULL, 0, &r), 404);
	assert_json_error(&r, "not found");
	resp_free(&r);

	ck_assert_int_eq(request("DELETE", "/items/7", NULL, NULL, 0, &r), 405);
	assert_json_error(&r, "method not allowed");
	ck_assert(resp_header(r.headers, "Allow", allow, sizeof(allow)));
	ck_assert_str_eq(allow, "GET, HEAD");
	resp_free(&r);

	ck_assert_int_eq(request("GET", "/items/7/pause", NULL, NULL, 0, &r), 405);
	ck_assert(resp_header(r.headers, "Allow", allow, sizeof(allow)));
	ck_assert_str_eq(allow, "POST");
	resp_free(&r);
	expect_answer("HEAD", "/items/7/pause", 405, "application/json");

	ck_assert_int_eq(request("HEAD", "/hello", NULL, NULL, 0, &r), 200);
	ck_assert_int_eq(r.len, 0);
	ck_assert(resp_header(r.headers, "Content-Length", cl, sizeof(cl)));
	ck_assert_str_eq(cl, "17"); /* {"hello":"world"} */
	resp_free(&r);

	/* On the wire: a body after the HEAD answer would garble the next one. */
	c = raw_open();
	raw_sends(c, "HEAD /items/h HTTP/1.1\r\n\r\nGET /items/g HTTP/1.1\r\n\r\n");
	ck_assert(raw_response_to(c, &a, 3000, true));
	ck_assert_int_eq(a.status, 200);
	raw_resp_free(&a);
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_int_eq(a.status, 200);
	ck_assert_str_eq(a.body, "{\"id\":\"g\"}");
	raw_resp_free(&a);
	raw_close(c);

	srv_stop();
	ck_assert_int_eq(obs_count_route("unmatched", 404), 1);
}
END_TEST

START_TEST(keep_alive_reuses_the_connection_and_pipelines_in_order)
{
	raw_t *c;
	raw_resp_t a, b;
	resp_t r = { 0 };
	CURL *easy;
	long connects = -1;

	srv_start(NULL);
	c = raw_open();
	/* The first request is deferred and slow; its answer must still come first. */
	raw_sends(c, "GET /slow?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n"
		     "GET /items/second HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert(raw_response(c, &b, 3000));
	ck_assert_int_eq(a.status, 200);
	ck_assert_ptr_nonnull(strstr(a.body, "/slow"));
	ck_assert_int_eq(b.status, 200);
	ck_assert_ptr_nonnull(strstr(b.body, "\"second\""));
	raw_resp_free(&a);
	raw_resp_free(&b);
	/* And the connection is still usable. */
	raw_sends(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_int_eq(a.status, 200);
	raw_resp_free(&a);
	raw_close(c);

	/* libcurl reuses the connection for a second request. */
	easy = easy_for("GET", "/hello", NULL, NULL, 0, &r);
	ck_assert_int_eq(curl_easy_perform(easy), CURLE_OK);
	resp_free(&r);
	ck_assert_int_eq(curl_easy_perform(easy), CURLE_OK);
	curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
	ck_assert_int_eq(connects, 0);
	curl_easy_cleanup(easy);
	resp_free(&r);
	srv_stop();
}
END_TEST

START_TEST(http_1_0_closes_unless_asked_to_keep_alive)
{
	raw_t *c;
	raw_resp_t a;

	srv_start(NULL);
	c = raw_open();
	raw_sends(c, "GET /hello HTTP/1.0\r\n\r\n");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_int_eq(a.status, 200);
	ck_assert_ptr_nonnull(strstr(a.head, "Connection: close"));
	ck_assert(raw_closed_within(c, 2000));
	raw_resp_free(&a);
	raw_close(c);

	c = raw_open();
	raw_sends(c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_ptr_nonnull(strstr(a.head, "Connection: keep-alive"));
	raw_resp_free(&a);
	raw_sends(c, "GET /items/x HTTP/1.0\r\n\r\n");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_int_eq(a.status, 200);
	raw_resp_free(&a);
	raw_close(c);

	/* Connection: close on HTTP/1.1 is honoured too. */
	c = raw_open();
	raw_sends(c, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_ptr_nonnull(strstr(a.head, "Connection: close"));
	ck_assert(raw_closed_within(c, 2000));
	raw_resp_free(&a);
	raw_close(c);
	srv_stop();
}
END_TEST

START_TEST(chunked_bodies_are_decoded)
{
	raw_t *c;
	raw_resp_t a;
	resp_t r;
	const char *const chunked[] = { "Transfer-Encoding: chunked", "Content-Type: application/json", NULL };

	srv_start(NULL);
	c = raw_open();
	raw_sends(c, "POST /raw HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "5\r\nhello\r\n");
	usleep(20000);
	raw_sends(c, "1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nTrailer: x\r\n\r\n");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_int_eq(a.status, 200);
	ck_assert_str_eq(a.body, "hello world!");
	raw_resp_free(&a);
	raw_close(c);

	ck_assert_int_eq(request("POST", "/echo", chunked, "{\"a\":[1,2,3]}", 13, &r), 200);
	ck_assert_str_eq(r.body, "{\"a\":[1,2,3]}");
	resp_free(&r);
	srv_stop();
}
END_TEST

START_TEST(bodies_over_the_limit_get_413)
{
	http_server_options_t o;
	const char *const chunked[] = { "Transfer-Encoding: chunked", NULL };
	char *big = malloc(4096);
	raw_t *c;
	raw_resp_t a;
	resp_t r;
	double t0;

	http_server_options_init(&o);
	o.max_body_bytes = 1024;
	srv_start(&o);
	memset(big, 'x', 4096);

	/* Content-Length: refused from the head, before the body is sent. */
	ck_assert_int_eq(request("POST", "/raw", NULL, big, 4096, &r), 413);
	assert_json_error(&r, "too large");
	resp_free(&r);
	c = raw_open();
	t0 = now_ms();
	raw_sends(c, "POST /raw HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\n\r\n");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_int_eq(a.status, 413);
	ck_assert_ptr_nonnull(strstr(a.head, "Connection: close"));
	ck_assert_double_lt(now_ms() - t0, 1000);
	ck_assert(raw_closed_within(c, 3000));
	raw_resp_free(&a);
	raw_close(c);

	/* Chunked: refused when the chunks add up past the limit. */
	ck_assert_int_eq(request("POST", "/raw", chunked, big, 4096, &r), 413);
	assert_json_error(&r, "too large");
	resp_free(&r);
	c = raw_open();
	raw_sends(c, "POST /raw HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "200\r\n");
	raw_send(c, big, 0x200);
	raw_sends(c, "\r\n300\r\n");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_int_eq(a.status, 413);
	raw_resp_free(&a);
	raw_close(c);

	/* Exactly at the limit is fine. */
	ck_assert_int_eq(request("POST", "/raw", NULL, big, 1024, &r), 200);
	ck_assert_int_eq(r.len, 1024);
	resp_free(&r);
	free(big);
	srv_stop();
}
END_TEST

START_TEST(oversized_heads_get_431)
{
	raw_t *c;
	raw_resp_t a;
	char *line = malloc(40 * 1024);

	srv_start(NULL);
	c = raw_open();
	memset(line, 'a', 40 * 1024 - 1);
	line[40 * 1024 - 1] = '\0';
	raw_sends(c, "GET /hello HTTP/1.1\r\nX-Big: ");
	raw_sends(c, line);
	raw_sends(c, "\r\n\r\n");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_int_eq(a.status, 431);
	raw_resp_free(&a);
	raw_close(c);

	c = raw_open();
	raw_sends(c, "GET /hello HTTP/1.1\r\n");
	for (int i = 0; i < 150; i++) {
		char h[32];

		snprintf(h, sizeof(h), "X-H%d: v\r\n", i);
		raw_sends(c, h);
	}
	raw_sends(c, "\r\n");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_int_eq(a.status, 431);
	raw_resp_free(&a);
	raw_close(c);
	free(line);
	srv_stop();
}
END_TEST

START_TEST(json_bodies_are_checked)
{
	const char *const json[] = { "Content-Type: application/json; charset=utf-8", NULL };
	const char *const text[] = { "Content-Type: text/plain", NULL };
	const size_t depth = 100000;
	char *deep = malloc(depth + 1);
	resp_t r;
	double t0 = now_ms();

	srv_start(NULL);
	ck_assert_int_eq(request("POST", "/echo", json, "{\"a\":", 5, &r), 400);
	assert_json_error(&r, "invalid JSON at byte");
	resp_free(&r);

	ck_assert_int_eq(request("POST", "/echo", text, "{}", 2, &r), 415);
	assert_json_error(&r, "application/json");
	resp_free(&r);

	ck_assert_int_eq(request("POST", "/echo", json, "", 0, &r), 400);
	assert_json_error(&r, "invalid JSON at byte 0");
	resp_free(&r);

	memset(deep, '[', depth);
	deep[depth] = '\0';
	ck_assert_int_eq(request("POST", "/echo", json, deep, depth, &r), 400);
	assert_json_error(&r, "invalid JSON at byte");
	resp_free(&r);

	/* More than 1024 bytes: libcurl sends Expect: 100-continue and must not wait for its timeout. */
	{
		char *big = malloc(3000);

		memset(big, ' ', 3000);
		big[0] = '[';
		big[2998] = ']';
		big[2999] = '\n';
		t0 = now_ms();
		ck_assert_int_eq(request("POST", "/echo", json, big, 3000, &r), 200);
		ck_assert_str_eq(r.body, "[]");
		ck_assert_double_lt(now_ms() - t0, 900);
		resp_free(&r);
		free(big);
	}
	free(deep);
	srv_stop();
}
END_TEST

START_TEST(garbage_gets_400_and_the_server_stays_up)
{
	static const char *const inputs[] = {
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 binary",
		"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
		"POST /raw HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET /hel lo HTTP/1.1\r\n\r\n",
		"GET /hello HTTP/1.1\r\nBad Header\r\n\r\n",
		"GET /hello HTTP/2.0\r\n\r\n",
		"GET /a%00b HTTP/1.1\r\n\r\n",
		"GET * HTTP/1.1\r\n\r\n",
	};
	char junk[4096];
	resp_t r;

	srv_start(NULL);
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		raw_t *c = raw_open();
		raw_resp_t a;

		raw_sends(c, inputs[i]);
		ck_assert_msg(raw_response(c, &a, 3000), "no answer to input %zu", i);
		ck_assert_msg(a.status == 400 || a.status == 505, "input %zu: %d", i, a.status);
		ck_assert_ptr_nonnull(strstr(a.body, "\"error\""));
		ck_assert_msg(raw_closed_within(c, 3000), "input %zu: still open", i);
		raw_resp_free(&a);
		raw_close(c);
	}
	/* Random bytes, in pieces. */
	srandom(42);
	for (int round = 0; round < 20; round++) {
		raw_t *c = raw_open();

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (char)random();
		raw_send(c, junk, sizeof(junk));
		ck_assert(raw_closed_within(c, 3000));
		raw_close(c);
	}
	ck_assert_int_eq(request("GET", "/hello", NULL, NULL, 0, &r), 200);
	resp_free(&r);
	srv_stop();
}
END_TEST

START_TEST(slow_clients_are_timed_out)
{
	http_server_options_t o;
	raw_t *c;
	raw_resp_t a;
	double t0, took;

	http_server_options_init(&o);
	o.header_timeout_ms = 300;
	o.body_timeout_ms = 300;
	o.idle_timeout_ms = 300;
	srv_start(&o);

	/* Half a head, then nothing: 408 and closed. */
	c = raw_open();
	t0 = now_ms();
	raw_sends(c, "GET /hello HTTP/1.1\r\nHost: t\r\n");
	ck_assert(raw_response(c, &a, 3000));
	took = now_ms() - t0;
	ck_assert_int_eq(a.status, 408);
	ck_assert_msg(took > 250 && took < 2000, "took %.0f ms", took);
	ck_assert(raw_closed_within(c, 2000));
	raw_resp_free(&a);
	raw_close(c);

	/* Trickling a byte every 50 ms does not buy more time: the budget runs from the first byte. */
	c = raw_open();
	t0 = now_ms();
	raw_sends(c, "GET /hello HTTP/1.1\r\nX: ");
	for (int i = 0; i < 60; i++) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };

		if (poll(&p, 1, 50) != 0 || send(c->fd, "a", 1, MSG_NOSIGNAL) != 1)
			break;
	}
	ck_assert(raw_closed_within(c, 3000));
	took = now_ms() - t0;
	ck_assert_msg(took < 1000, "took %.0f ms", took);
	raw_close(c);

	/* A body that stops arriving. */
	c = raw_open();
	raw_sends(c, "POST /raw HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_int_eq(a.status, 408);
	raw_resp_free(&a);
	raw_close(c);

	/* A silent connection is closed without an answer. */
	c = raw_open();
	ck_assert(raw_closed_within(c, 2000));
	ck_assert_int_eq(c->len, 0);
	raw_close(c);

	/* An idle keep-alive connection too. */
	c = raw_open();
	raw_sends(c, "GET /hello HTTP/1.1\r\n\r\n");
	ck_assert(raw_response(c, &a, 3000));
	raw_resp_free(&a);
	t0 = now_ms();
	ck_assert(raw_closed_within(c, 2000));
	ck_assert_double_gt(now_ms() - t0, 250);
	raw_close(c);
	srv_stop();
}
END_TEST

START_TEST(deferred_handlers_run_on_the_threadpool)
{
	resp_t r;

	srv_start(NULL);
	ck_assert_int_eq(request("GET", "/slow?ms=50", NULL, NULL, 0, &r), 200);
	assert_json_member(&r, "path", "/slow");
	ck_assert_int_eq(atomic_load(&work_ran), 1);
	ck_assert_int_eq(atomic_load(&done_ran), 1);
	ck_assert_int_eq(atomic_load(&work_on_loop_thread), 0);
	ck_assert_int_eq(atomic_load(&done_off_loop_thread), 0);
	ck_assert_int_eq(atomic_load(&gone_seen), 0);
	resp_free(&r);

	/* A suspended request answered later from a timer. */
	ck_assert_int_eq(request("GET", "/held", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(r.body, "held");
	resp_free(&r);

	/* A handler that forgets to answer still produces a 500. */
	ck_assert_int_eq(request("GET", "/forget", NULL, NULL, 0, &r), 500);
	assert_json_error(&r, "internal error");
	resp_free(&r);
	srv_stop();
}
END_TEST

START_TEST(client_leaving_during_deferred_work_is_safe)
{
	resp_t r;
	raw_t *c;
	raw_resp_t a;
	double deadline;

	srv_start(NULL);
	/* One client closes, one resets, one half-closes (and still wants its answers). */
	c = raw_open();
	raw_sends(c, "GET /slow?ms=150 HTTP/1.1\r\nHost: t\r\n\r\n");
	raw_close(c);
	c = raw_open();
	raw_sends(c, "GET /slow?ms=150 HTTP/1.1\r\nHost: t\r\n\r\n");
	usleep(20000);
	raw_reset(c);
	c = raw_open();
	raw_sends(c, "GET /slow?ms=150 HTTP/1.1\r\nHost: t\r\n\r\nGET /items/after HTTP/1.1\r\n\r\n");
	shutdown(c->fd, SHUT_WR);
	deadline = now_ms() + 5000;
	while (atomic_load(&done_ran) < 3 && now_ms() < deadline)
		usleep(10000);
	ck_assert_int_eq(atomic_load(&done_ran), 3);
	/* The reset was seen while the work ran: that answer went nowhere. */
	ck_assert_int_ge(atomic_load(&gone_seen), 1);
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_int_eq(a.status, 200);
	raw_resp_free(&a);
	ck_assert(raw_response(c, &a, 3000));
	ck_assert_str_eq(a.body, "{\"id\":\"after\"}");
	raw_resp_free(&a);
	ck_assert(raw_closed_within(c, 2000));
	raw_close(c);
	ck_assert_int_eq(request("GET", "/hello", NULL, NULL, 0, &r), 200);
	resp_free(&r);
	srv_stop();
}
END_TEST

START_TEST(bearer_token_guards_all_but_public_routes)
{
	http_server_options_t o;
	const char *const none[] = { NULL };
	const char *const wrong[] = { "Authorization: Bearer s3cre", NULL };
	const char *const longer[] = { "Authorization: Bearer s3cret-and-more", NULL };
	const char *const basic[] = { "Authorization: Basic czNjcmV0", NULL };
	const char *const right[] = { "Authorization: Bearer s3cret", NULL };
	const char *const lower[] = { "Authorization: bearer   s3cret", NULL };
	char www[64];
	resp_t r;

	http_server_options_init(&o);
	o.bearer_token = "s3cret";
	srv_start(&o);
	ck_assert_int_eq(request("GET", "/hello", none, NULL, 0, &r), 401);
	assert_json_error(&r, "bearer token");
	ck_assert(resp_header(r.headers, "WWW-Authenticate", www, sizeof(www)));
	ck_assert_int_eq(strncmp(www, "Bearer", 6), 0);
	resp_free(&r);
	ck_assert_int_eq(request("GET", "/hello", wrong, NULL, 0, &r), 401);
	assert_json_error(&r, "invalid bearer token");
	resp_free(&r);
	ck_assert_int_eq(request("GET", "/hello", longer, NULL, 0, &r), 401);
	resp_free(&r);
	ck_assert_int_eq(request("GET", "/hello", basic, NULL, 0, &r), 401);
	resp_free(&r);
	ck_assert_int_eq(request("GET", "/hello", right, NULL, 0, &r), 200);
	resp_free(&r);
	ck_assert_int_eq(request("GET", "/hello", lower, NULL, 0, &r), 200);
	resp_free(&r);
	expect_answer("GET", "/health", 200, "application/json");
	expect_answer("GET", "/health/live", 200, "application/json");
	srv_stop();
}
END_TEST

/* A web root with files, a subfolder, a dotfile, a symlink out, and a secret beside it. */
static char webtmp[64], webroot[96];

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, name), (int)sizeof(path));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void make_webroot(void)
{
	char path[256];

	snprintf(webtmp, sizeof(webtmp), "/tmp/wf-http-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(webtmp));
	write_file(webtmp, "secret.txt", "top secret");
	snprintf(webroot, sizeof(webroot), "%s/web", webtmp);
	mkdir(webroot, 0755);
	write_file(webroot, "index.html", "<h1>editor</h1>");
	write_file(webroot, "app.js", "console.log(1);");
	write_file(webroot, "style.css", "body{}");
	write_file(webroot, "logo.svg", "<svg/>");
	write_file(webroot, ".env", "API_TOKEN=x");
	snprintf(path, sizeof(path), "%s/sub", webroot);
	mkdir(path, 0755);
	write_file(path, "index.html", "<h1>sub</h1>");
	snprintf(path, sizeof(path), "%s/escape", webroot);
	ck_assert_int_eq(symlink("../secret.txt", path), 0);
	snprintf(path, sizeof(path), "%s/inside", webroot);
	ck_assert_int_eq(symlink("app.js", path), 0);
}

static void remove_webroot(void)
{
	static const char *const names[] = { "web/index.html", "web/app.js", "web/style.css",
		"web/logo.svg", "web/.env", "web/sub/index.html", "web/escape", "web/inside",
		"secret.txt" };
	char path[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", webtmp, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/web/sub", webtmp);
	rmdir(path);
	rmdir(webroot);
	rmdir(webtmp);
}

START_TEST(static_files_are_served_and_cannot_escape)
{
	static const char *const escapes[] = {
		"/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2E%2E%2Fsecret.txt",
		"/sub/../../secret.txt", "/sub/%2e%2e/%2e%2e/secret.txt", "/escape", "/.env",
		"/%2eenv", "/missing.js", "/sub/missing/",
	};
	http_server_options_t o;
	const char *cond[2] = { NULL, NULL };
	char etag[128], ct[128], header[200];
	resp_t r;

	make_webroot();
	http_server_options_init(&o);
	o.static_dir = webroot;
	o.bearer_token = "tok"; /* the editor's files need no token; the API still does */
	srv_start(&o);

	ck_assert_int_eq(request("GET", "/", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(r.body, "<h1>editor</h1>");
	ck_assert(resp_header(r.headers, "Content-Type", ct, sizeof(ct)));
	ck_assert_str_eq(ct, "text/html; charset=utf-8");
	ck_assert(resp_header(r.headers, "ETag", etag, sizeof(etag)));
	ck_assert(resp_header(r.headers, "Last-Modified", header, sizeof(header)));
	resp_free(&r);

	snprintf(header, sizeof(header), "If-None-Match: %s", etag);
	cond[0] = header;
	ck_assert_int_eq(request("GET", "/", cond, NULL, 0, &r), 304);
	ck_assert_int_eq(r.len, 0);
	resp_free(&r);

	expect_answer("GET", "/app.js", 200, "text/javascript; charset=utf-8");
	expect_answer("GET", "/style.css", 200, "text/css; charset=utf-8");
	expect_answer("HEAD", "/logo.svg", 200, "image/svg+xml");
	expect_answer("GET", "/sub", 200, "text/html; charset=utf-8");
	ck_assert_int_eq(request("GET", "/sub/", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(r.body, "<h1>sub</h1>");
	resp_free(&r);
	ck_assert_int_eq(request("GET", "/inside", NULL, NULL, 0, &r), 200);
	ck_assert_str_eq(r.body, "console.log(1);");
	resp_free(&r);

	/* Traversal, raw so that no client tidies the path first. */
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		raw_t *c = raw_open();
		raw_resp_t a;
		char line[256];

		snprintf(line, sizeof(line), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", escapes[i]);
		raw_sends(c, line);
		ck_assert_msg(raw_response(c, &a, 3000), "no answer for %s", escapes[i]);
		ck_assert_msg(a.status == 404 || a.status == 400, "%s: %d", escapes[i], a.status);
		ck_assert_msg(strstr(a.body, "secret") == NULL && strstr(a.body, "API_TOKEN") == NULL,
			      "%s leaked %s", escapes[i], a.body);
		raw_resp_free(&a);
		raw_close(c);
	}

	/* Routes still win, and still want the token; other methods get no files. */
	expect_answer("GET", "/hello", 401, "application/json");
	ck_assert_int_eq(request("POST", "/index.html", NULL, "", 0, &r), 404);
	assert_json_error(&r, "not found");
	resp_free(&r);
	srv_stop();
	ck_assert_int_ge(obs_count_route("static", 200), 5);
	remove_webroot();
}
END_TEST

/* Fetches path with an Accept-Encoding header (or none) and no decoding by curl. */
static long get_encoded(const char *path, const char *accept, resp_t *r)
{
	const char *headers[2] = { accept, NULL };

	return request("GET", path, accept ? headers : NULL, NULL, 0, r);
}

START_TEST(gzip_siblings_go_to_clients_that_accept_them)
{
	char dir[64] = "/tmp/wf-http-gzip-XXXXXX", path[128], gz_path[160], cmd[300], header[200], etag[128];
	const char *cond[3] = { "Accept-Encoding: gzip", header, NULL };
	http_server_options_t o;
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct stat gz;
	FILE *f;
	resp_t r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/app.js", dir);
	snprintf(gz_path, sizeof(gz_path), "%s.gz", path);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 500; i++)
		fprintf(f, "console.log('line %d');\n", i);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "gzip -9 -k '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(stat(gz_path, &gz), 0);
	http_server_options_init(&o);
	o.static_dir = dir;
	srv_start(&o);

	/* No Accept-Encoding, or gzip refused with q=0: the file as it is. */
	ck_assert_int_eq(get_encoded("/app.js", NULL, &r), 200);
	ck_assert(!resp_header(r.headers, "Content-Encoding", header, sizeof(header)));
	ck_assert_ptr_nonnull(strstr(r.body, "console.log('line 499');"));
	resp_free(&r);
	ck_assert_int_eq(get_encoded("/app.js", "Accept-Encoding: br, gzip;q=0", &r), 200);
	ck_assert(!resp_header(r.headers, "Content-Encoding", header, sizeof(header)));
	resp_free(&r);

	/* Accepted: the sibling's bytes, marked, tagged apart, varying by encoding. */
	ck_assert_int_eq(get_encoded("/app.js", "Accept-Encoding: deflate, GZIP;q=0.8", &r), 200);
	ck_assert(resp_header(r.headers, "Content-Encoding", header, sizeof(header)));
	ck_assert_str_eq(header, "gzip");
	ck_assert(resp_header(r.headers, "Vary", header, sizeof(header)));
	ck_assert_str_eq(header, "Accept-Encoding");
	ck_assert(resp_header(r.headers, "Content-Type", header, sizeof(header)));
	ck_assert_str_eq(header, "text/javascript; charset=utf-8");
	ck_assert_uint_eq(r.len, (size_t)gz.st_size);
	ck_assert(r.len > 2 && (unsigned char)r.body[0] == 0x1f && (unsigned char)r.body[1] == 0x8b);
	ck_assert(resp_header(r.headers, "ETag", etag, sizeof(etag)));
	ck_assert_ptr_nonnull(strstr(etag, "-gz\""));
	resp_free(&r);
	snprintf(header, sizeof(header), "If-None-Match: %s", etag);
	ck_assert_int_eq(request("GET", "/app.js", cond, NULL, 0, &r), 304);
	resp_free(&r);

	/* A sibling older than the file is stale: the file is sent instead. */
	ck_assert_int_eq(utimensat(AT_FDCWD, gz_path, old, 0), 0);
	ck_assert_int_eq(get_encoded("/app.js", "Accept-Encoding: gzip", &r), 200);
	ck_assert(!resp_header(r.headers, "Content-Encoding", header, sizeof(header)));
	ck_assert_ptr_nonnull(strstr(r.body, "console.log('line 0');"));
	resp_free(&r);
	srv_stop();
	unlink(gz_path);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(a_hundred_concurrent_clients)
{
	enum { N = 100 };
	CURLM *multi;
	CURL *easy[N];
	resp_t r[N];
	long want[N];
	struct curl_slist *json = curl_slist_append(NULL, "Content-Type: application/json");
	int running = 0;

	srv_start(NULL);
	multi = curl_multi_init();
	memset(r, 0, sizeof(r));
	for (int i = 0; i < N; i++) {
		char path[64];

		switch (i % 5) {
		case 0:
			easy[i] = easy_for("GET", "/hello", NULL, NULL, 0, &r[i]);
			want[i] = 200;
			break;
		case 1:
			snprintf(path, sizeof(path), "/items/%d", i);
			easy[i] = easy_for("GET", path, NULL, NULL, 0, &r[i]);
			want[i] = 200;
			break;
		case 2:
			easy[i] = easy_for("GET", "/slow?ms=20", NULL, NULL, 0, &r[i]);
			want[i] = 200;
			break;
		case 3:
			easy[i] = easy_for("POST", "/echo", json, "{\"n\":1}", 7, &r[i]);
			want[i] = 200;
			break;
		default:
			easy[i] = easy_for("GET", "/nowhere", NULL, NULL, 0, &r[i]);
			want[i] = 404;
			break;
		}
		/* A connection each: 100 clients, not 100 requests over a few. */
		curl_easy_setopt(easy[i], CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(easy[i], CURLOPT_FORBID_REUSE, 1L);
		curl_multi_add_handle(multi, easy[i]);
	}
	do {
		curl_multi_perform(multi, &running);
		if (running)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	} while (running);
	for (int i = 0; i < N; i++) {
		long status = 0;

		curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &status);
		ck_assert_msg(status == want[i], "client %d: %ld, wanted %ld", i, status, want[i]);
		curl_multi_remove_handle(multi, easy[i]);
		curl_easy_cleanup(easy[i]);
		resp_free(&r[i]);
	}
	curl_multi_cleanup(multi);
	curl_slist_free_all(json);
	srv_stop();
	ck_assert_int_eq(atomic_load(&done_ran), N / 5);
}
END_TEST

START_TEST(connections_beyond_the_limit_are_refused)
{
	http_server_options_t o;
	raw_t *a, *b, *c;
	raw_resp_t resp;
	bool served = false;

	http_server_options_init(&o);
	o.max_connections = 2;
	srv_start(&o);
	a = raw_open();
	b = raw_open();
	raw_sends(a, "GET /hello HTTP/1.1\r\n\r\n");
	ck_assert(raw_response(a, &resp, 3000)); /* both are accepted by now */
	raw_resp_free(&resp);
	c = raw_open();
	ck_assert(raw_response(c, &resp, 3000));
	ck_assert_int_eq(resp.status, 503);
	raw_resp_free(&resp);
	ck_assert(raw_closed_within(c, 2000));
	raw_close(c);
	raw_close(b);
	/* A place is free again once the server has seen b go. */
	for (int i = 0; i < 50 && !served; i++) {
		c = raw_open();
		raw_sends(c, "GET /hello HTTP/1.1\r\n\r\n");
		served = raw_response(c, &resp, 3000) && resp.status == 200;
		raw_resp_free(&resp);
		raw_close(c);
		if (!served)
			usleep(20000);
	}
	ck_assert(served);
	raw_close(a);
	srv_stop();
}
END_TEST

START_TEST(request_ids_are_honoured_when_sane)
{
	const char *const sane[] = { "X-Request-Id: client-id_1.2:3", "X-Custom: hi", NULL };
	const char *const insane[] = { "X-Request-Id: has spaces and \"quotes\"", NULL };
	char id[80], extra[16];
	resp_t r;

	srv_start(NULL);
	ck_assert_int_eq(request("GET", "/headers", sane, NULL, 0, &r), 200);
	ck_assert(resp_header(r.headers, "X-Request-Id", id, sizeof(id)));
	ck_assert_str_eq(id, "client-id_1.2:3");
	assert_json_member(&r, "id", "client-id_1.2:3");
	assert_json_member(&r, "custom", "hi");
	ck_assert(resp_header(r.headers, "X-Extra", extra, sizeof(extra)));
	ck_assert_str_eq(extra, "yes");
	resp_free(&r);
	ck_assert_int_eq(request("GET", "/hello", insane, NULL, 0, &r), 200);
	ck_assert(resp_header(r.headers, "X-Request-Id", id, sizeof(id)));
	ck_assert_int_eq(strlen(id), 16);
	resp_free(&r);
	srv_stop();
	pthread_mutex_lock(&srv.mu);
	ck_assert_int_eq(srv.nobs, 2);
	ck_assert_str_eq(srv.obs[0].id, "client-id_1.2:3");
	ck_assert_str_eq(srv.obs[0].route, "/headers");
	ck_assert_str_eq(srv.obs[0].method, "GET");
	pthread_mutex_unlock(&srv.mu);
}
END_TEST

START_TEST(graceful_close_finishes_requests_in_flight)
{
	raw_t *busy, *idle, *late;
	raw_resp_t a;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)0) };
	int fd;

	srv_start(NULL);
	idle = raw_open();
	raw_sends(idle, "GET /hello HTTP/1.1\r\n\r\n");
	ck_assert(raw_response(idle, &a, 3000));
	raw_resp_free(&a);
	busy = raw_open();
	raw_sends(busy, "GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n");
	late = raw_open();
	raw_sends(late, "GET /hel"); /* half a request: dropped by the close */
	usleep(100000);
	srv_begin_stop();

	ck_assert(raw_closed_within(idle, 1000));
	ck_assert(raw_closed_within(late, 1000));
	ck_assert_int_eq(atomic_load(&srv.closed), 0);
	ck_assert(raw_response(busy, &a, 3000));
	ck_assert_int_eq(a.status, 200);
	ck_assert_ptr_nonnull(strstr(a.head, "Connection: close"));
	raw_resp_free(&a);
	ck_assert(raw_closed_within(busy, 2000));

	/* Nobody listens any more. */
	addr.sin_port = htons((uint16_t)srv.port);
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	raw_close(idle);
	raw_close(late);
	raw_close(busy);
	pthread_join(srv.thread, NULL);
	ck_assert_int_eq(atomic_load(&srv.closed), 1);
	ck_assert_int_eq(atomic_load(&done_ran), 1);
	ck_assert_int_eq(uv_loop_close(&srv.loop), 0);
	curl_global_cleanup();
}
END_TEST

START_TEST(bad_routes_are_refused)
{
	http_server_t *s;
	uv_loop_t loop;
	http_route_t bad[] = {
		{ "GET", "relative", h_hello, NULL, 0 },
		{ "GET", "/a//b", h_hello, NULL, 0 },
		{ "GET", "/a/:", h_hello, NULL, 0 },
		{ "FETCH", "/a", h_hello, NULL, 0 },
		{ "GET", "/a", NULL, NULL, 0 },
	};
	http_route_t good = { "GET", "/a/:b", h_hello, NULL, 0 };
	http_server_options_t o = { .static_dir = "/nonexistent/wf-http" };

	uv_loop_init(&loop);
	ck_assert_int_eq(http_server_new(&loop, &o, &s), -ENOENT);
	ck_assert_int_eq(http_server_new(&loop, NULL, &s), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(http_server_route(s, &bad[i]), -EINVAL);
	ck_assert_int_eq(http_server_route(s, &good), 0);
	ck_assert_int_eq(http_server_route(s, &good), -EEXIST);
	ck_assert_int_eq(http_server_listen(s, "not-an-address", 0), UV_EINVAL);
	http_server_close(s, NULL, NULL);
	http_server_close(NULL, NULL, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

RUNNER_MAIN("http_server", 30, routes_capture_decoded_params_and_query,
	    unknown_paths_404_wrong_methods_405_and_head,
	    keep_alive_reuses_the_connection_and_pipelines_in_order,
	    http_1_0_closes_unless_asked_to_keep_alive, chunked_bodies_are_decoded,
	    bodies_over_the_limit_get_413, oversized_heads_get_431, json_bodies_are_checked,
	    garbage_gets_400_and_the_server_stays_up, slow_clients_are_timed_out,
	    deferred_handlers_run_on_the_threadpool, client_leaving_during_deferred_work_is_safe,
	    bearer_token_guards_all_but_public_routes, static_files_are_served_and_cannot_escape,
	    gzip_siblings_go_to_clients_that_accept_them, a_hundred_concurrent_clients, connections_beyond_the_limit_are_refused,
	    request_ids_are_honoured_when_sane, graceful_close_finishes_requests_in_flight,
	    bad_routes_are_refused)
