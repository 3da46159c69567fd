/*
 * daemons.h - the log files of the real daemons a process test started,
 * and the API port a coordinator started with PORT=0 got (httpc.h calls it).
 */
#ifndef WF_DAEMONS_H
#define WF_DAEMONS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* A fresh log file path for tag under /tmp (removed first if it exists); into path. */
void daemon_log_path(char *path, size_t len, const char *tag);

/* The whole log file, NUL-terminated (caller frees); NULL when it cannot be read. */
char *daemon_log_text(const char *path);

/* Whether the log file at path holds text; with a timeout, waits up to timeout_ms for it. */
bool daemon_log_has(const char *path, const char *text);
bool daemon_log_wait_for(const char *path, const char *text, int timeout_ms);

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

#endif
