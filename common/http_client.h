/*
 * http_client.h - the one libcurl code path under the SMS and webhook
 * clients: one blocking request with connect and total timeouts, a capped
 * response body, optional redirects, and the classification of the outcome.
 *
 * curl_global_init is done by delivery_global_init(), once per process at
 * start (see delivery.h); each request uses its own easy handle.
 */
#ifndef WF_HTTP_CLIENT_H
#define WF_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "delivery.h"

/* Response bytes kept for the caller, and the size at which reading stops. */
#define HTTP_CLIENT_KEEP_DEFAULT (64 * 1024)
#define HTTP_CLIENT_MAX_DEFAULT (1024 * 1024)
/* The connect timeout when the caller gives none: this, or the total timeout if shorter. */
#define HTTP_CLIENT_CONNECT_DEFAULT_MS 5000

/* One request. Everything is borrowed and already validated by the caller. */
typedef struct {
	const char *method;		/* GET, POST, PUT, PATCH or DELETE */
	const char *url;		/* http:// or https:// only; others are refused */
	const delivery_header_t *headers; /* sent as given */
	size_t nheaders;
	const char *body;		/* NULL: no body */
	size_t body_len;
	int timeout_ms;			/* the whole request */
	int connect_timeout_ms;		/* 0: HTTP_CLIENT_CONNECT_DEFAULT_MS, at most timeout_ms */
	int max_redirects;		/* 0: a 3xx reply is final (and PERMANENT) */
	size_t keep_bytes;		/* 0: HTTP_CLIENT_KEEP_DEFAULT */
	size_t max_bytes;		/* 0: HTTP_CLIENT_MAX_DEFAULT */
} http_client_request_t;

typedef struct {
	long status;		/* final HTTP status; 0 when none arrived */
	char *body;		/* NUL-terminated, at most keep_bytes; owned, see http_client_response_free */
	size_t body_len;
	size_t body_seen;	/* bytes received, up to where reading stopped */
	bool truncated;		/* more arrived than was kept */
	bool too_large;		/* reading stopped at max_bytes */
} http_client_response_t;

/*
 * Performs req and classifies it into result (reset first): 2xx SENT;
 * 5xx, 408, 429, timeouts and connection failures RETRY; other 4xx, 3xx
 * and refused URLs PERMANENT. result gets the status, the duration, the
 * Retry-After seconds and an excerpt of the body. resp (may be NULL) gets
 * the kept body. Returns 0 when SENT, -1 otherwise.
 */
int http_client_perform(const http_client_request_t *req, http_client_response_t *resp,
			delivery_result_t *result);

/* Frees what http_client_perform put in resp (not resp itself); NULL is fine. */
void http_client_response_free(http_client_response_t *resp);

/*
 * Checks that url parses and is http:// or https:// with a host. Returns 0,
 * or -1 with one line in err.
 */
int http_client_url_check(const char *url, char *err, size_t errlen);

/* True when name is an HTTP token (RFC 9110 tchar). */
bool http_client_token_valid(const char *name);

#endif
