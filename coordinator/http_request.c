/*
 * http_request.c - the request object: its memory, its accessors, the
 * request id, and the decoding of the path and query string.
 *
 * Everything a handler reads is decoded once, on the loop thread, before the
 * handler runs; the accessors only read. That is what lets a deferred
 * work_cb call them from a threadpool thread while the loop goes on.
 */
#include "http_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

http_request_t *http_request_new(http_server_t *server, struct http_conn *conn)
{
	http_request_t *req = calloc(1, sizeof(*req));

	if (req == NULL)
		return NULL;
	req->server = server;
	req->conn = conn;
	req->method = "-";
	req->path = "-";
	req->query_raw = "";
	req->route_label = "unmatched";
	req->start_ns = uv_hrtime();
	if (conn != NULL)
		http_conn_ref(conn);
	return req;
}

void http_request_free(http_request_t *req)
{
	if (req == NULL)
		return;
	free(req->target);
	free(req->hbuf);
	free(req->body);
	free(req->seg_buf);
	free(req->query_buf);
	free(req->query);
	free(req->resp_headers);
	if (req->conn != NULL)
		http_conn_unref(req->conn);
	free(req);
}

/* splitmix64: spreads a counter into ids that do not look sequential. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t http_random_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return seed;
}

/* A client's id is kept only when it cannot break a log line or a header. */
static bool id_is_sane(const char *id)
{
	size_t n = 0;

	for (const char *p = id; *p; p++, n++) {
		char c = *p;

		if (n >= HTTP_REQUEST_ID_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':'))
			return false;
	}
	return n > 0;
}

void http_request_assign_id(http_request_t *req)
{
	static uint64_t serverless_counter;
	const char *given = http_request_header(req, "X-Request-Id");
	uint64_t n;

	if (given != NULL && id_is_sane(given)) {
		snprintf(req->id, sizeof(req->id), "%s", given);
		return;
	}
	if (req->server != NULL)
		n = mix64(req->server->id_seed + ++req->server->id_counter);
	else
		n = mix64(++serverless_counter);
	snprintf(req->id, sizeof(req->id), "%016" PRIx64, n);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t http_percent_decode(const char *in, size_t len, bool plus_is_space, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hex_value(in[i + 1]);
			lo = hex_value(in[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		} else if (c == '\0') {
			return -1;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return (ssize_t)o;
}

/* Splits the path into percent-decoded segments: "/a/b%2Fc" is "a", "b/c". */
static int split_path(http_request_t *req)
{
	const char *p = req->path;
	size_t len = strlen(p);
	char *out;

	req->nsegs = 0;
	if (p[0] != '/')
		return -EINVAL;
	req->seg_buf = malloc(len + 1);
	if (req->seg_buf == NULL)
		return -ENOMEM;
	out = req->seg_buf;
	p++;
	if (*p == '\0')
		return 0; /* "/" has no segments */
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		ssize_t d = http_percent_decode(p, n, false, out);

		if (d < 0)
			return -EINVAL;
		if (req->nsegs < HTTP_MAX_SEGMENTS)
			req->segs[req->nsegs++] = out;
		else
			req->too_many_segs = true;
		out += d + 1;
		if (slash == NULL)
			return 0;
		p = slash + 1;
	}
}

/* Splits "a=1&b=x+y" into decoded pairs; a pair without "=" has the value "". */
static int split_query(http_request_t *req)
{
	const char *q = req->query_raw;
	size_t len = strlen(q), npairs = 1;
	char *out;

	if (len == 0)
		return 0;
	for (const char *p = q; *p; p++)
		npairs += *p == '&';
	req->query = calloc(npairs, sizeof(*req->query));
	req->query_buf = malloc(len + 2 * npairs + 1);
	if (req->query == NULL || req->query_buf == NULL)
		return -ENOMEM;
	out = req->query_buf;
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', n);
		size_t klen = eq ? (size_t)(eq - q) : n;
		ssize_t d;

		if (n > 0) {
			http_pair_t *pair = &req->query[req->nquery++];

			d = http_percent_decode(q, klen, true, out);
			if (d < 0)
				return -EINVAL;
			pair->name = out;
			out += d + 1;
			d = eq ? http_percent_decode(eq + 1, n - klen - 1, true, out)
			       : http_percent_decode("", 0, true, out);
			if (d < 0)
				return -EINVAL;
			pair->value = out;
			out += d + 1;
		}
		if (amp == NULL)
			break;
		q = amp + 1;
	}
	return 0;
}

int http_request_split_target(http_request_t *req)
{
	int rc = split_path(req);

	if (rc < 0)
		return rc;
	return split_query(req);
}

const char *http_request_method(const http_request_t *req)
{
	return req->method;
}

const char *http_request_path(const http_request_t *req)
{
	return req->path;
}

const char *http_request_header(const http_request_t *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

const char *http_request_param(const http_request_t *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

const char *http_request_query(const http_request_t *req, const char *name)
{
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].name, name) == 0)
			return req->query[i].value;
	return NULL;
}

const char *http_request_body(const http_request_t *req, size_t *len)
{
	if (len != NULL)
		*len = req->body_len;
	return req->body ? req->body : "";
}

const char *http_request_id(const http_request_t *req)
{
	return req->id;
}

const char *http_request_route(const http_request_t *req)
{
	return req->route ? req->route->pattern : NULL;
}

bool http_request_client_gone(const http_request_t *req)
{
	return req->conn == NULL || http_conn_gone(req->conn);
}

/* "application/json", in any case, optionally followed by parameters. */
static bool is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	return *ct == '\0' || *ct == ';' || *ct == ' ' || *ct == '\t';
}

/*
 * Whether a string of the (well-formed) JSON text holds the escape \u0000.
 * cJSON decodes it into a NUL that ends its C string, so "\u0000x" would
 * pass on as "".
 */
static bool has_nul_escape(const char *text, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		if (!in_string) {
			in_string = text[i] == '"';
		} else if (text[i] == '"') {
			in_string = false;
		} else if (text[i] == '\\') {
			if (i + 6 <= len && memcmp(text + i + 1, "u0000", 5) == 0)
				return true;
			i++; /* the escaped character, which may be a quote */
		}
	}
	return false;
}

/* Whether a number beyond a double's range (parsed as infinity, printed as null) is in the tree. */
static bool has_infinite_number(const cJSON *item)
{
	for (; item != NULL; item = item->next) {
		if (cJSON_IsNumber(item) && !isfinite(item->valuedouble))
			return true;
		/* Recursion is bounded by cJSON's nesting limit. */
		if (has_infinite_number(item->child))
			return true;
	}
	return false;
}

cJSON *http_request_json(http_request_t *req)
{
	char err[128];
	cJSON *root;

	if (!is_json_type(http_request_header(req, "Content-Type"))) {
		http_respond_error(req, 415, "Content-Type must be application/json");
		return NULL;
	}
	root = json_parse(req->body ? req->body : "", req->body_len, err, sizeof(err));
	if (root == NULL) {
		http_respond_error(req, 400, err);
		return NULL;
	}
	/* Refused rather than passed on altered: nothing here could store them as sent. */
	if (has_nul_escape(req->body, req->body_len) || has_infinite_number(root)) {
		cJSON_Delete(root);
		http_respond_error(req, 400, "JSON strings may not hold \\u0000, and numbers must fit a double");
		return NULL;
	}
	return root;
}
