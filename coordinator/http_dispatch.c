/*
 * http_dispatch.c - from a complete request to the code that answers it:
 * the route, the bearer token check, static files for unrouted paths, and
 * the JSON errors (401, 404, 405, and those of requests that could not be
 * read).
 *
 * Every answer, errors included, goes through http_request_invoke so the
 * request id, the access log and the request's memory are handled in one way.
 */
#include "http_internal.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

typedef struct {
	int status;
	const char *message;
} error_answer_t;

static void answer_error(http_request_t *req, void *data)
{
	const error_answer_t *e = data;

	http_respond_error(req, e->status, e->message);
}

static void answer_not_found(http_request_t *req, void *data)
{
	http_respond_error(req, 404, "not found");
}

static void answer_wrong_method(http_request_t *req, void *data)
{
	http_response_header(req, "Allow", data);
	http_respond_error(req, 405, "method not allowed");
}

static void answer_missing_token(http_request_t *req, void *data)
{
	http_response_header(req, "WWW-Authenticate", "Bearer");
	http_respond_error(req, 401, "missing bearer token");
}

static void answer_wrong_token(http_request_t *req, void *data)
{
	http_response_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
	http_respond_error(req, 401, "invalid bearer token");
}

static void answer_static(http_request_t *req, void *data)
{
	http_static_serve(req);
}

/* The token after "Bearer " (scheme in any case), or NULL. */
static const char *bearer_token(const http_request_t *req)
{
	const char *h = http_request_header(req, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return NULL;
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	return *h ? h : NULL;
}

/*
 * Compares digests rather than the tokens themselves: the time taken then
 * says nothing about the token's length or its first differing byte.
 */
static bool token_matches(const http_server_t *s, const char *given)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)given, strlen(given), digest);
	return CRYPTO_memcmp(digest, s->token_hash, sizeof(digest)) == 0;
}

bool http_request_authorize(http_request_t *req)
{
	const http_server_t *s = req->server;
	const char *token;

	if (s->bearer_token == NULL)
		return true;
	token = bearer_token(req);
	if (token != NULL && token_matches(s, token))
		return true;
	if (token == NULL)
		answer_missing_token(req, NULL);
	else
		answer_wrong_token(req, NULL);
	return false;
}

void http_dispatch(http_request_t *req)
{
	const http_server_t *s = req->server;
	char allow[128];

	if (req->id[0] == '\0')
		http_request_assign_id(req);
	switch (http_router_match(&s->router, req, allow, sizeof(allow))) {
	case HTTP_MATCH_FOUND: {
		const http_route_entry_t *route = req->route;
		const char *token;

		req->route_label = route->pattern;
		if (s->bearer_token != NULL && !(route->flags & HTTP_ROUTE_PUBLIC)) {
			token = bearer_token(req);
			if (token == NULL) {
				http_request_invoke(req, answer_missing_token, NULL);
				return;
			}
			if (!token_matches(s, token)) {
				http_request_invoke(req, answer_wrong_token, NULL);
				return;
			}
		}
		http_request_invoke(req, route->handler, route->data);
		return;
	}
	case HTTP_MATCH_WRONG_METHOD:
		http_request_invoke(req, answer_wrong_method, allow);
		return;
	case HTTP_MATCH_NONE:
		if (s->static_root != NULL &&
		    (req->method_id == HTTP_GET || req->method_id == HTTP_HEAD))
			http_request_invoke(req, answer_static, NULL);
		else
			http_request_invoke(req, answer_not_found, NULL);
		return;
	}
}

void http_dispatch_error(http_request_t *req, int status, const char *message)
{
	error_answer_t e = { status, message };

	/* The rest of the input cannot be framed: the connection ends here. */
	req->keep_alive = false;
	if (req->id[0] == '\0')
		http_request_assign_id(req);
	http_request_invoke(req, answer_error, &e);
}
