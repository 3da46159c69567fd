/*
 * http_router.c - the route table: patterns of literal and ":name" segments,
 * matched against a request's decoded path segments.
 *
 * Matching compares whole segments after percent-decoding, so "%2F" inside a
 * capture is a slash in its value and never a separator. Where two patterns
 * match, the one with a literal at the first segment where they differ wins
 * (so "/executions/stats" beats "/executions/:id"); otherwise the first added.
 */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ALLOWED 16

static bool method_known(const char *method)
{
#define XX(num, name, string)                  \
	if (strcmp(method, #string) == 0) \
		return true;
	HTTP_METHOD_MAP(XX)
#undef XX
	return false;
}

static void entry_free(http_route_entry_t *e)
{
	for (size_t i = 0; i < e->nsegs; i++)
		free(e->segs[i]);
	free(e->segs);
	free(e->method);
	free(e->pattern);
}

/* Splits "/a/:b" into "a", ":b"; -EINVAL for empty segments or capture names. */
static int parse_pattern(http_route_entry_t *e, const char *pattern)
{
	const char *p = pattern + 1;

	if (pattern[0] != '/')
		return -EINVAL;
	if (*p == '\0')
		return 0;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char **grown;

		if (n == 0 || (p[0] == ':' && n == 1) || memchr(p, '%', n) != NULL)
			return -EINVAL;
		grown = realloc(e->segs, (e->nsegs + 1) * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		e->segs = grown;
		e->segs[e->nsegs] = strndup(p, n);
		if (e->segs[e->nsegs] == NULL)
			return -ENOMEM;
		e->nsegs++;
		if (slash == NULL)
			return 0;
		p = slash + 1;
	}
}

int http_router_add(http_router_t *router, const http_route_t *route)
{
	http_route_entry_t e = { 0 };
	http_route_entry_t *grown;
	int rc;

	if (route->method == NULL || route->pattern == NULL || route->handler == NULL ||
	    !method_known(route->method))
		return -EINVAL;
	for (size_t i = 0; i < router->n; i++)
		if (strcmp(router->routes[i].method, route->method) == 0 &&
		    strcmp(router->routes[i].pattern, route->pattern) == 0)
			return -EEXIST;
	rc = parse_pattern(&e, route->pattern);
	if (rc < 0)
		goto error;
	e.method = strdup(route->method);
	e.pattern = strdup(route->pattern);
	grown = realloc(router->routes, (router->n + 1) * sizeof(*grown));
	if (e.method == NULL || e.pattern == NULL || grown == NULL) {
		if (grown != NULL)
			router->routes = grown;
		rc = -ENOMEM;
		goto error;
	}
	e.handler = route->handler;
	e.data = route->data;
	e.flags = route->flags;
	router->routes = grown;
	router->routes[router->n++] = e;
	return 0;
error:
	entry_free(&e);
	return rc;
}

void http_router_free(http_router_t *router)
{
	if (router == NULL)
		return;
	for (size_t i = 0; i < router->n; i++)
		entry_free(&router->routes[i]);
	free(router->routes);
	router->routes = NULL;
	router->n = 0;
}

static bool path_matches(const http_route_entry_t *e, const http_request_t *req)
{
	if (req->too_many_segs || e->nsegs != req->nsegs)
		return false;
	for (size_t i = 0; i < e->nsegs; i++) {
		if (e->segs[i][0] == ':') {
			if (req->segs[i][0] == '\0')
				return false;
		} else if (strcmp(e->segs[i], req->segs[i]) != 0) {
			return false;
		}
	}
	return true;
}

/* True when a is more specific than b (both match the same path). */
static bool more_specific(const http_route_entry_t *a, const http_route_entry_t *b)
{
	for (size_t i = 0; i < a->nsegs; i++) {
		bool a_cap = a->segs[i][0] == ':', b_cap = b->segs[i][0] == ':';

		if (a_cap != b_cap)
			return b_cap;
	}
	return false;
}

static void capture(const http_route_entry_t *e, http_request_t *req)
{
	req->nparams = 0;
	for (size_t i = 0; i < e->nsegs; i++)
		if (e->segs[i][0] == ':')
			req->params[req->nparams++] = (http_pair_t){ e->segs[i] + 1, req->segs[i] };
}

static void add_allowed(const char **allowed, size_t *n, const char *method)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(allowed[i], method) == 0)
			return;
	if (*n < MAX_ALLOWED)
		allowed[(*n)++] = method;
}

static void allow_list(const http_router_t *router, const http_request_t *req, char *allow,
		       size_t allowlen)
{
	const char *allowed[MAX_ALLOWED];
	size_t n = 0, len = 0;

	for (size_t i = 0; i < router->n; i++) {
		const http_route_entry_t *e = &router->routes[i];

		if (!path_matches(e, req))
			continue;
		add_allowed(allowed, &n, e->method);
		if (strcmp(e->method, "GET") == 0)
			add_allowed(allowed, &n, "HEAD");
	}
	allow[0] = '\0';
	for (size_t i = 0; i < n && len < allowlen; i++) {
		int w = snprintf(allow + len, allowlen - len, "%s%s", i ? ", " : "", allowed[i]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
}

http_match_t http_router_match(const http_router_t *router, http_request_t *req,
			       char *allow, size_t allowlen)
{
	const http_route_entry_t *best = NULL, *best_get = NULL;
	bool path_known = false;

	for (size_t i = 0; i < router->n; i++) {
		const http_route_entry_t *e = &router->routes[i];

		if (!path_matches(e, req))
			continue;
		path_known = true;
		if (strcmp(e->method, req->method) == 0) {
			if (best == NULL || more_specific(e, best))
				best = e;
		} else if (req->is_head && strcmp(e->method, "GET") == 0) {
			if (best_get == NULL || more_specific(e, best_get))
				best_get = e;
		}
	}
	if (best == NULL)
		best = best_get;
	if (best != NULL) {
		req->route = best;
		capture(best, req);
		return HTTP_MATCH_FOUND;
	}
	if (!path_known)
		return HTTP_MATCH_NONE;
	allow_list(router, req, allow, allowlen);
	return HTTP_MATCH_WRONG_METHOD;
}
