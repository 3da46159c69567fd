/*
 * http_response.c - answering a request, and the request's life around its
 * handler: deferral to the threadpool, suspension, and the 500 sent for a
 * handler that forgot to answer.
 *
 * A request is freed at one of two places: when the callback that answered
 * it (handler or done_cb) returns, or, for a suspended request answered from
 * elsewhere, at the end of that answer. Keeping it alive through its
 * callback means a handler may still read it after responding.
 */
#include "http_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "json.h"
#include "log.h"

/* Headers the server writes itself; a handler setting them would corrupt the framing. */
static const char *const reserved_headers[] = {
	"Content-Length", "Content-Type", "Connection", "Transfer-Encoding",
};

static const char *reason_phrase(int status)
{
	const char *s = http_status_str((enum http_status)status);

	return strcmp(s, "<unknown>") == 0 ? "Unknown" : s;
}

/* RFC 9110 token characters, the only ones a header name may have. */
static bool is_tchar(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int http_response_header(http_request_t *req, const char *name, const char *value)
{
	size_t nlen, vlen, need;
	char *grown;

	if (req->state != HTTP_REQ_HANDLING && req->state != HTTP_REQ_SUSPENDED)
		return -EINVAL;
	if (name == NULL || value == NULL || *name == '\0')
		return -EINVAL;
	for (const char *p = name; *p; p++)
		if (!is_tchar((unsigned char)*p))
			return -EINVAL;
	if (strpbrk(value, "\r\n") != NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(reserved_headers) / sizeof(reserved_headers[0]); i++)
		if (strcasecmp(name, reserved_headers[i]) == 0)
			return -EINVAL;
	nlen = strlen(name);
	vlen = strlen(value);
	need = req->resp_headers_len + nlen + vlen + 5;
	grown = realloc(req->resp_headers, need);
	if (grown == NULL)
		return -ENOMEM;
	req->resp_headers = grown;
	snprintf(grown + req->resp_headers_len, need - req->resp_headers_len, "%s: %s\r\n", name, value);
	req->resp_headers_len += nlen + vlen + 4;
	return 0;
}

static void format_date(char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Appends to a buffer sized by the caller to fit; never overruns it. */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

static char *build_head(const http_request_t *req, int status, const char *content_type,
			size_t body_len, bool close, size_t *out_len)
{
	size_t cap = 320 + (content_type ? strlen(content_type) : 0) + req->resp_headers_len;
	char *head = malloc(cap);
	char date[64];
	size_t len = 0;

	if (head == NULL)
		return NULL;
	format_date(date, sizeof(date));
	put(head, cap, &len, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, reason_phrase(status), date);
	if (content_type != NULL)
		put(head, cap, &len, "Content-Type: %s\r\n", content_type);
	/* 204 and 304 have no body, and a Content-Length would describe one. */
	if (status != 204 && status != 304)
		put(head, cap, &len, "Content-Length: %zu\r\n", body_len);
	if (close)
		put(head, cap, &len, "Connection: close\r\n");
	else if (req->http_minor == 0)
		put(head, cap, &len, "Connection: keep-alive\r\n");
	put(head, cap, &len, "X-Request-Id: %s\r\n", req->id);
	if (req->resp_headers_len > 0 && len + req->resp_headers_len < cap) {
		memcpy(head + len, req->resp_headers, req->resp_headers_len);
		len += req->resp_headers_len;
	}
	put(head, cap, &len, "\r\n");
	*out_len = len;
	return head;
}

static void observe(const http_request_t *req, int status)
{
	const http_server_t *s = req->server;
	double seconds = (double)(uv_hrtime() - req->start_ns) / 1e9;

	log_context_request(req->id);
	if (s != NULL && s->opts.observe != NULL) {
		http_observation_t obs = {
			.route = req->route_label,
			.method = req->method,
			.path = req->path,
			.status = status,
			.seconds = seconds,
			.request_id = req->id,
		};

		s->opts.observe(&obs, s->opts.observe_data);
	}
	if (s != NULL && !s->opts.quiet) {
		char status_text[8], ms_text[32];
		log_field_t fields[] = {
			{ "method", req->method },
			{ "path", req->path },
			{ "status", status_text, true },
			{ "duration_ms", ms_text, true },
		};

		snprintf(status_text, sizeof(status_text), "%d", status);
		snprintf(ms_text, sizeof(ms_text), "%.3f", seconds * 1000.0);
		log_write(LOG_INFO, fields, sizeof(fields) / sizeof(fields[0]), "request");
	}
	if (!req->in_callback)
		log_context_request(NULL);
}

int http_respond_owned(http_request_t *req, int status, const char *content_type, char *body,
		       size_t len)
{
	bool close, no_body;
	size_t head_len = 0;
	char *head;

	if (status < 200 || status > 599) {
		free(body);
		return -EINVAL;
	}
	if (req->state == HTTP_REQ_RESPONDED || req->state == HTTP_REQ_DEFERRED) {
		free(body);
		return req->state == HTTP_REQ_RESPONDED ? -EALREADY : -EBUSY;
	}
	close = !req->keep_alive || req->conn == NULL ||
		(req->server != NULL && req->server->closing);
	no_body = status == 204 || status == 304;
	if (no_body)
		len = 0;
	head = build_head(req, status, content_type, len, close, &head_len);
	if (no_body || req->is_head) {
		free(body);
		body = NULL;
		len = 0;
	}
	req->state = HTTP_REQ_RESPONDED;
	observe(req, status);
	if (req->conn != NULL) {
		/* Without a head (out of memory) the connection just closes. */
		if (head == NULL) {
			free(body);
			http_conn_send(req->conn, NULL, 0, NULL, 0, true);
		} else {
			http_conn_send(req->conn, head, head_len, body, len, close);
		}
	} else {
		free(head);
		free(body);
	}
	if (!req->in_callback)
		http_request_free(req);
	return 0;
}

int http_respond(http_request_t *req, int status, const char *content_type, const void *body,
		 size_t len)
{
	char *copy = NULL;

	if (body == NULL)
		len = 0;
	if (len > 0) {
		copy = malloc(len);
		if (copy == NULL)
			return -ENOMEM;
		memcpy(copy, body, len);
	}
	return http_respond_owned(req, status, content_type, copy, len);
}

int http_respond_json(http_request_t *req, int status, cJSON *body)
{
	char *text;

	if (body == NULL) {
		http_respond_error(req, 500, "internal error");
		return -EINVAL;
	}
	text = json_print(body);
	cJSON_Delete(body);
	return http_respond_owned(req, status, "application/json", text, strlen(text));
}

int http_respond_error(http_request_t *req, int status, const char *message)
{
	cJSON *obj;

	if (status < 400 || status > 599)
		return -EINVAL;
	obj = json_object();
	json_add_string(obj, "error", message ? message : reason_phrase(status));
	return http_respond_json(req, status, obj);
}

void http_request_invoke(http_request_t *req, http_handler_cb cb, void *data)
{
	req->state = HTTP_REQ_HANDLING;
	req->in_callback = true;
	log_context_request(req->id);
	cb(req, data);
	if (req->state == HTTP_REQ_HANDLING) {
		log_error("%s %s: the handler returned without a response", req->method, req->path);
		http_respond_error(req, 500, "internal error");
	}
	log_context_request(NULL);
	req->in_callback = false;
	if (req->state == HTTP_REQ_RESPONDED)
		http_request_free(req);
}

int http_request_suspend(http_request_t *req)
{
	if (req->state != HTTP_REQ_HANDLING)
		return -EINVAL;
	req->state = HTTP_REQ_SUSPENDED;
	return 0;
}

/* Threadpool side: the request is not touched by the loop until after_work. */
static void work_trampoline(uv_work_t *work)
{
	http_request_t *req = work->data;

	if (req->work_cb == NULL)
		return;
	log_context_request(req->id);
	req->work_cb(req, req->work_data);
	log_context_request(NULL);
}

static void after_work(uv_work_t *work, int status)
{
	http_request_t *req = work->data;

	/* status is UV_ECANCELED only for uv_cancel(), which nothing here calls. */
	(void)status;
	http_request_invoke(req, req->done_cb, req->work_data);
}

int http_request_defer(http_request_t *req, http_work_cb work_cb, http_done_cb done_cb, void *data)
{
	http_req_state_t prev;
	int rc;

	if (req->server == NULL || done_cb == NULL ||
	    (req->state != HTTP_REQ_HANDLING && req->state != HTTP_REQ_SUSPENDED))
		return -EINVAL;
	req->work_cb = work_cb;
	req->done_cb = done_cb;
	req->work_data = data;
	req->work.data = req;
	/* Set before queueing: from here on only the threadpool may read req. */
	prev = req->state;
	req->state = HTTP_REQ_DEFERRED;
	rc = uv_queue_work(req->server->loop, &req->work, work_trampoline, after_work);
	if (rc < 0)
		req->state = prev;
	return rc;
}
