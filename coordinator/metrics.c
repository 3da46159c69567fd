/*
 * metrics.c - HTTP request metrics for Prometheus.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double buckets[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

typedef struct {
	char *route;
	char method[8];
	int status;
	unsigned long count;
} counter_t;

typedef struct {
	char *route;
	unsigned long in_bucket[NBUCKETS];
	unsigned long count;
	double sum;
} histogram_t;

static counter_t *counters;
static size_t ncounters;
static histogram_t *histograms;
static size_t nhistograms;

char *metrics_append(char *buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *grown;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	grown = realloc(buf, *len + (size_t)n + 1);
	if (grown == NULL)
		abort();
	va_start(ap, fmt);
	vsnprintf(grown + *len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
	return grown;
}

static counter_t *counter(const char *route, const char *method, int status)
{
	counter_t *c;

	for (size_t i = 0; i < ncounters; i++)
		if (counters[i].status == status && strcmp(counters[i].method, method) == 0 &&
		    strcmp(counters[i].route, route) == 0)
			return &counters[i];
	c = realloc(counters, (ncounters + 1) * sizeof(*c));
	if (c == NULL)
		abort();
	counters = c;
	c = &counters[ncounters++];
	c->route = strdup(route);
	snprintf(c->method, sizeof(c->method), "%s", method);
	c->status = status;
	c->count = 0;
	return c;
}

static histogram_t *histogram(const char *route)
{
	histogram_t *h;

	for (size_t i = 0; i < nhistograms; i++)
		if (strcmp(histograms[i].route, route) == 0)
			return &histograms[i];
	h = realloc(histograms, (nhistograms + 1) * sizeof(*h));
	if (h == NULL)
		abort();
	histograms = h;
	h = &histograms[nhistograms++];
	memset(h, 0, sizeof(*h));
	h->route = strdup(route);
	return h;
}

void metrics_observe(const http_observation_t *obs, void *data)
{
	histogram_t *h = histogram(obs->route);

	counter(obs->route, obs->method, obs->status)->count++;
	for (size_t i = 0; i < NBUCKETS; i++)
		if (obs->seconds <= buckets[i])
			h->in_bucket[i]++;
	h->count++;
	h->sum += obs->seconds;
}

/* Route patterns hold only path characters, but a label value must not break the format. */
static const char *label(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s && n + 2 < size; s++) {
		if (*s == '"' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = *s == '\n' ? ' ' : *s;
	}
	buf[n] = '\0';
	return buf;
}

char *metrics_http_text(char *buf, size_t *len)
{
	char l[256];

	buf = metrics_append(buf, len, "# HELP wf_http_requests_total HTTP requests answered, by route, method and status.\n"
				       "# TYPE wf_http_requests_total counter\n");
	for (size_t i = 0; i < ncounters; i++)
		buf = metrics_append(buf, len, "wf_http_requests_total{route=\"%s\",method=\"%s\",code=\"%d\"} %lu\n",
				     label(counters[i].route, l, sizeof(l)), counters[i].method, counters[i].status,
				     counters[i].count);
	buf = metrics_append(buf, len, "# HELP wf_http_request_duration_seconds Time from a request's first byte to its response.\n"
				       "# TYPE wf_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < nhistograms; i++) {
		const histogram_t *h = &histograms[i];

		label(h->route, l, sizeof(l));
		for (size_t b = 0; b < NBUCKETS; b++)
			buf = metrics_append(buf, len, "wf_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
					     l, buckets[b], h->in_bucket[b]);
		buf = metrics_append(buf, len, "wf_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n"
					       "wf_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
					       "wf_http_request_duration_seconds_count{route=\"%s\"} %lu\n",
				     l, h->count, l, h->sum, l, h->count);
	}
	return buf;
}

void metrics_reset(void)
{
	for (size_t i = 0; i < ncounters; i++)
		free(counters[i].route);
	for (size_t i = 0; i < nhistograms; i++)
		free(histograms[i].route);
	free(counters);
	free(histograms);
	counters = NULL;
	histograms = NULL;
	ncounters = nhistograms = 0;
}
