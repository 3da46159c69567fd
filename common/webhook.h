/*
 * webhook.h - the webhook client: one HTTP call per webhook node, signed
 * when WEBHOOK_SECRET is set.
 *
 * Signature scheme (what a receiver verifies):
 *
 *   X-Webhook-Timestamp: <unix seconds when the call was made, decimal>
 *   X-Webhook-Signature: sha256=<lowercase hex of HMAC-SHA256(key, message)>
 *
 * where key is the bytes of WEBHOOK_SECRET and message is the timestamp's
 * decimal text, one ".", then the request body bytes exactly as sent (empty
 * for a request without a body). A receiver recomputes the HMAC over the
 * raw body it received, compares in constant time, and rejects timestamps
 * too far from its own clock to stop replays. docs/messaging.md has an example.
 *
 * Every call also carries the caller's Idempotency-Key (the engine derives
 * it from execution and node, so a retried call is recognisable) and
 * Content-Type: application/json unless the caller sets another.
 */
#ifndef WF_WEBHOOK_H
#define WF_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "delivery.h"

/* Process-wide settings. Strings are borrowed. */
typedef struct {
	const char *secret;	/* WEBHOOK_SECRET; NULL or "": calls are not signed */
	int timeout_ms;		/* WEBHOOK_TIMEOUT_MS: the whole call */
	int connect_timeout_ms;	/* 0: 5 s, or timeout_ms if shorter */
	size_t keep_bytes;	/* response bytes kept; 0: 64 KiB */
	size_t max_bytes;	/* reading stops beyond this; 0: 1 MiB */
} webhook_settings_t;

/* One call. Strings are borrowed. */
typedef struct {
	const char *method;	/* GET, POST, PUT, PATCH or DELETE (any case); NULL: POST */
	const char *url;	/* http:// or https:// */
	const delivery_header_t *headers; /* the caller's headers; see webhook_call for what is refused */
	size_t nheaders;
	const char *body;	/* JSON text sent as is; NULL: none. Never sent with GET */
	const char *idempotency_key; /* Idempotency-Key header; NULL: none */
	int max_redirects;	/* 0: redirects are not followed (a 3xx is PERMANENT) */
} webhook_request_t;

typedef struct {
	delivery_result_t result; /* outcome, HTTP status, duration, excerpt */
	char *body;		/* the response body, at most keep_bytes, NUL-terminated; owned */
	size_t body_len;
	bool truncated;		/* the response was longer than what was kept */
} webhook_response_t;

/* Fills s from the loaded settings; the strings stay owned by cfg. */
void webhook_settings_from_config(webhook_settings_t *s, const wf_config_t *cfg);

/*
 * Makes the call and fills resp (reset first). Refused without a request
 * (PERMANENT): a method other than the five, a URL that is not http(s), a
 * header name that is not an HTTP token, a CR or LF in a header value or in
 * the idempotency key, and the header names Host, Content-Length,
 * Transfer-Encoding, Connection, Expect, Upgrade, TE, Trailer, Keep-Alive,
 * Proxy-*, Idempotency-Key and X-Webhook-* (set by the client itself).
 * Returns 0 when SENT (2xx), -1 otherwise. Free resp->body with
 * webhook_response_free().
 */
int webhook_call(const webhook_settings_t *s, const webhook_request_t *req,
		 webhook_response_t *resp);

/*
 * Checks one of the caller's headers as webhook_call does: 0, or -1 with one
 * line in err for a name that is not an HTTP token or is set by the client
 * itself, or a CR or LF in the value. Definitions are validated with it too.
 */
int webhook_header_check(const char *name, const char *value, char *err, size_t errlen);

/* Frees the body held by resp (not resp itself); NULL is fine. */
void webhook_response_free(webhook_response_t *resp);

/*
 * The signature header value for body (len bytes) at timestamp, written to
 * out as "sha256=<64 hex digits>" (out must hold 72 bytes). Returns 0, or
 * -1 when HMAC fails.
 */
int webhook_sign(const char *secret, const char *timestamp, const char *body, size_t len,
		 char out[72]);

#endif
