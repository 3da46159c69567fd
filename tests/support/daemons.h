/*
 * daemons.h - talking to the real daemons a process test started: their
 * JSON log files, and the coordinator's HTTP API (over libcurl).
 */
#ifndef WF_DAEMONS_H
#define WF_DAEMONS_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* A fresh log file path for tag under /tmp (removed first if it exists); into path. */
void daemon_log_path(char *path, size_t len, const char *tag);

/*
 * Every line of a JSON log file, parsed, as an array (caller frees). Fails
 * the test when a line is not one JSON object or the file does not end in a
 * newline.
 */
cJSON *daemon_log_lines(const char *path);

/*
 * The port a coordinator logging to path listens on (it was started with
 * PORT=0), from its "API listening on port N" line; waits up to timeout_ms.
 * Fails the test when the line does not come.
 */
int daemon_api_port(const char *path, int timeout_ms);

/*
 * One HTTP request to the coordinator on 127.0.0.1:port. request_id (may be
 * NULL) is sent as X-Request-Id; body (may be NULL) as JSON. The response
 * body goes to out (NUL-terminated, cut at outlen; out may be NULL).
 * Returns the HTTP status, or -1 when no response came.
 */
int daemon_api(int port, const char *method, const char *path, const char *request_id,
	       const char *body, char *out, size_t outlen);

#endif
