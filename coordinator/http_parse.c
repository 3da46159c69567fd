/*
 * http_parse.c - the request assembler: bytes in, whole requests out.
 *
 * http_parser does the HTTP grammar (including chunked bodies and request
 * smuggling checks); this file collects what it reports into an
 * http_request_t and enforces our limits as early as they can be known, so
 * that an oversized body is refused from its Content-Length or chunk size
 * before it is read. It needs no socket: the connection layer and the fuzz
 * target both feed it bytes.
 *
 * The parser is paused at the end of each message, so pipelined requests are
 * taken one at a time and the bytes after a message stay with the caller.
 */
#include "http_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes counted per header line beyond its name and value (": " and CRLF). */
#define HEADER_LINE_OVERHEAD 4

typedef enum { LAST_NONE = 0, LAST_FIELD, LAST_VALUE } last_cb_t;

static int fail(http_assembler_t *a, int status, const char *message)
{
	if (a->error_status == 0) {
		a->error_status = status;
		a->error_message = message;
	}
	return -1;
}

/* Appends n bytes to a growing buffer, keeping it NUL-terminated. */
static int append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap : 128;
		char *grown;

		while (ncap < *len + n + 1)
			ncap *= 2;
		grown = realloc(*buf, ncap);
		if (grown == NULL)
			return -ENOMEM;
		*buf = grown;
		*cap = ncap;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* Counts bytes of the head (request line, headers, trailers) against the limit. */
static int count_head(http_assembler_t *a, size_t n)
{
	a->header_bytes += n;
	if (a->header_bytes > a->max_header_bytes)
		return fail(a, 431, "request header fields too large");
	return 0;
}

static int on_message_begin(http_parser *p)
{
	http_assembler_t *a = p->data;

	a->req = http_request_new(a->server, a->conn);
	if (a->req == NULL)
		return fail(a, 500, "internal error");
	a->header_bytes = 0;
	a->last_cb = LAST_NONE;
	a->headers_done = false;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	http_assembler_t *a = p->data;
	http_request_t *req = a->req;

	if (count_head(a, n) < 0)
		return -1;
	/* Known from here on: an error answer can name it in the access log. */
	req->method = http_method_str((enum http_method)p->method);
	if (append(&req->target, &req->target_len, &req->target_cap, at, n) < 0)
		return fail(a, 500, "internal error");
	return 0;
}

/*
 * A piece of a header name (LAST_FIELD) or value (LAST_VALUE). http_parser
 * may deliver either in several pieces when it straddles two reads, so a new
 * name or value starts only when the other kind came last. Names and values
 * are kept NUL-separated in one buffer.
 */
static int on_header_piece(http_parser *p, const char *at, size_t n, last_cb_t kind)
{
	http_assembler_t *a = p->data;
	http_request_t *req = a->req;
	bool starts = a->last_cb != (int)kind;

	if (count_head(a, n + (starts && kind == LAST_FIELD ? HEADER_LINE_OVERHEAD : 0)) < 0)
		return -1;
	if (a->headers_done)
		return 0; /* a chunked body's trailer: counted, not kept */
	if (starts) {
		if (kind == LAST_FIELD && req->nhoff == HTTP_MAX_HEADERS)
			return fail(a, 431, "too many header fields");
		if (kind == LAST_VALUE && req->nhoff == 0)
			return fail(a, 400, "malformed request");
		if (req->hbuf_len > 0 && append(&req->hbuf, &req->hbuf_len, &req->hbuf_cap, "", 1) < 0)
			return fail(a, 500, "internal error");
		if (kind == LAST_FIELD) {
			req->hoff[req->nhoff][0] = req->hbuf_len;
			req->hoff[req->nhoff][1] = SIZE_MAX;
			req->nhoff++;
		} else {
			req->hoff[req->nhoff - 1][1] = req->hbuf_len;
		}
	}
	a->last_cb = kind;
	if (append(&req->hbuf, &req->hbuf_len, &req->hbuf_cap, at, n) < 0)
		return fail(a, 500, "internal error");
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	return on_header_piece(p, at, n, LAST_FIELD);
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	return on_header_piece(p, at, n, LAST_VALUE);
}

/* Points the header pairs into hbuf, now that it no longer moves. */
static void finish_headers(http_request_t *req)
{
	for (size_t i = 0; i < req->nhoff; i++) {
		char *value = req->hoff[i][1] == SIZE_MAX ? NULL : req->hbuf + req->hoff[i][1];

		req->headers[i].name = req->hbuf + req->hoff[i][0];
		if (value == NULL) {
			req->headers[i].value = "";
			continue;
		}
		/* http_parser strips leading white space only. */
		for (size_t len = strlen(value); len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'); len--)
			value[len - 1] = '\0';
		req->headers[i].value = value;
	}
	req->nheaders = req->nhoff;
}

/*
 * Splits the request target into path and query. Origin form ("/a?b") is
 * what clients send; absolute form ("http://host/a?b") must be accepted too
 * (RFC 9112 3.2.2), and its path is what routes see.
 */
static int split_target(http_assembler_t *a, http_request_t *req)
{
	struct http_parser_url u;
	size_t path_end = 0, query_end = 0;
	bool has_path, has_query;

	if (req->target_len == 0)
		return fail(a, 400, "malformed request target");
	http_parser_url_init(&u);
	if (http_parser_parse_url(req->target, req->target_len, req->method_id == HTTP_CONNECT, &u) != 0)
		return fail(a, 400, "malformed request target");
	has_path = u.field_set & (1 << UF_PATH);
	has_query = u.field_set & (1 << UF_QUERY);
	if (has_path)
		path_end = (size_t)u.field_data[UF_PATH].off + u.field_data[UF_PATH].len;
	if (has_query)
		query_end = (size_t)u.field_data[UF_QUERY].off + u.field_data[UF_QUERY].len;
	/* The path ends at "?" or "#" and the query at "#": NULs there cut nothing else. */
	if (has_path) {
		req->target[path_end] = '\0';
		req->path = req->target + u.field_data[UF_PATH].off;
	} else {
		req->path = "/";
	}
	if (has_query) {
		req->target[query_end] = '\0';
		req->query_raw = req->target + u.field_data[UF_QUERY].off;
	}
	switch (http_request_split_target(req)) {
	case 0:
		return 0;
	case -ENOMEM:
		return fail(a, 500, "internal error");
	default:
		return fail(a, 400, "malformed request target");
	}
}

static int on_headers_complete(http_parser *p)
{
	http_assembler_t *a = p->data;
	http_request_t *req = a->req;
	const char *expect;

	finish_headers(req);
	req->method_id = p->method;
	req->method = http_method_str((enum http_method)p->method);
	req->http_major = p->http_major;
	req->http_minor = p->http_minor;
	req->is_head = p->method == HTTP_HEAD;
	a->headers_done = true;
	if (p->http_major != 1 || p->http_minor > 1)
		return fail(a, 505, "HTTP version not supported");
	if (split_target(a, req) < 0)
		return -1;
	expect = http_request_header(req, "Expect");
	req->expect_continue = expect != NULL && strcasecmp(expect, "100-continue") == 0;
	if (p->flags & F_CHUNKED) {
		req->has_body = true;
	} else if (p->content_length != ULLONG_MAX && p->content_length > 0) {
		if (p->content_length > a->max_body_bytes)
			return fail(a, 413, "request body too large");
		/* The size is known and allowed: one allocation for the whole body. */
		req->body = malloc((size_t)p->content_length + 1);
		if (req->body == NULL)
			return fail(a, 500, "internal error");
		req->body_cap = (size_t)p->content_length + 1;
		req->body[0] = '\0';
		req->has_body = true;
	}
	return 0;
}

/* A chunk's size is known before its data: refuse it then. */
static int on_chunk_header(http_parser *p)
{
	http_assembler_t *a = p->data;

	if (p->content_length > a->max_body_bytes - a->req->body_len)
		return fail(a, 413, "request body too large");
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	http_assembler_t *a = p->data;
	http_request_t *req = a->req;

	if (n > a->max_body_bytes - req->body_len)
		return fail(a, 413, "request body too large");
	if (append(&req->body, &req->body_len, &req->body_cap, at, n) < 0)
		return fail(a, 500, "internal error");
	return 0;
}

static int on_message_complete(http_parser *p)
{
	http_assembler_t *a = p->data;

	/* An upgrade (or CONNECT) would switch protocols: we answer and close. */
	a->req->keep_alive = http_should_keep_alive(p) && !p->upgrade;
	a->done = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
	.on_chunk_header = on_chunk_header,
};

void http_assembler_init(http_assembler_t *a, size_t max_header_bytes, size_t max_body_bytes,
			 http_server_t *server, struct http_conn *conn)
{
	memset(a, 0, sizeof(*a));
	http_parser_init(&a->parser, HTTP_REQUEST);
	a->parser.data = a;
	a->max_header_bytes = max_header_bytes;
	a->max_body_bytes = max_body_bytes;
	a->server = server;
	a->conn = conn;
}

size_t http_assembler_feed(http_assembler_t *a, const char *data, size_t len,
			   http_asm_result_t *result)
{
	enum http_errno err;
	size_t n;

	if (a->error_status != 0) {
		*result = HTTP_ASM_ERROR;
		return 0;
	}
	if (a->done) {
		*result = HTTP_ASM_DONE;
		return 0;
	}
	/* Zero bytes would tell http_parser the stream has ended. */
	if (len == 0) {
		*result = HTTP_ASM_MORE;
		return 0;
	}
	n = http_parser_execute(&a->parser, &settings, data, len);
	err = HTTP_PARSER_ERRNO(&a->parser);
	if (a->done) {
		*result = HTTP_ASM_DONE;
		return n;
	}
	if (err != HPE_OK) {
		if (err == HPE_HEADER_OVERFLOW)
			fail(a, 431, "request header fields too large");
		else
			fail(a, 400, "malformed request");
		*result = HTTP_ASM_ERROR;
		return n;
	}
	*result = HTTP_ASM_MORE;
	return n;
}

http_request_t *http_assembler_take(http_assembler_t *a)
{
	http_request_t *req = a->req;

	a->req = NULL;
	if (a->done) {
		a->done = false;
		a->headers_done = false;
		http_parser_pause(&a->parser, 0);
	}
	return req;
}

bool http_assembler_started(const http_assembler_t *a)
{
	return a->req != NULL;
}

bool http_assembler_headers_done(const http_assembler_t *a)
{
	return a->req != NULL && a->headers_done;
}

void http_assembler_reset(http_assembler_t *a)
{
	http_request_free(a->req);
	a->req = NULL;
}
