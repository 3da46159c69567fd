/*
 * metrics.h - the HTTP side of /metrics: request counts by route, method and
 * status, and latency histograms by route, kept in memory on the loop
 * thread (only the loop touches them, so no lock is needed).
 */
#ifndef WF_METRICS_H
#define WF_METRICS_H

#include "http_server.h"

/* The observe callback for http_server_options_t (loop thread). */
void metrics_observe(const http_observation_t *obs, void *data);
/* Appends the HTTP metrics in Prometheus text format to a malloc'd buffer; returns the new buffer. */
char *metrics_http_text(char *buf, size_t *len);
/* Frees everything (at shutdown). */
void metrics_reset(void);

/* Appends printf-style text to a malloc'd buffer (NULL to start); aborts on out-of-memory. */
char *metrics_append(char *buf, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
