/*
 * log.h - one logging path for both daemons.
 *
 * Lines go to stderr, as text ("2026-11-27T14:36:22.123Z info worker: msg")
 * or as one JSON object per line (LOG_FORMAT=json). A JSON line always
 * parses and is valid UTF-8, however long or odd the message: strings are
 * cut to fit LOG_LINE_MAX bytes, and invalid UTF-8 becomes U+FFFD. A thread-local context
 * (execution, node, request id, worker host/slot) is attached to every line
 * written while it is set, so call sites need not repeat it.
 */
#ifndef WF_LOG_H
#define WF_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	LOG_DEBUG = 0,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
} log_level_t;

typedef enum {
	LOG_FORMAT_TEXT = 0,
	LOG_FORMAT_JSON,
} log_format_t;

/*
 * An extra key/value on one line. The value is printed as a JSON string, or
 * as a JSON number when number is set and the value reads as a finite
 * number (anything else falls back to a string, so the line still parses).
 */
typedef struct {
	const char *key;
	const char *value;
	bool number;
} log_field_t;

/* Process-wide settings; call before starting threads. */
void log_setup(const char *component, log_level_t level, log_format_t format);
/*
 * Logging before the settings are loaded: level info, the format from
 * LOG_FORMAT in the environment (auto when unset or unknown), so that an
 * error in the settings comes out as the operator's log collector expects.
 */
void log_setup_early(const char *component);
/* Parses "debug", "info", "warn", "error"; -1 when unknown. */
int log_level_parse(const char *text);
/* Parses "text", "json" or "auto" (text on a terminal, json otherwise); -1 when unknown. */
int log_format_parse(const char *text, int fd);
bool log_enabled(log_level_t level);

/* Thread-local context; NULL clears a field. Strings are copied. */
void log_context_execution(const char *execution_id, const char *node_id);
void log_context_request(const char *request_id);
void log_context_worker(const char *host, int slot);
void log_context_clear(void);

void log_write(log_level_t level, const log_field_t *fields, size_t nfields,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_debug(...) log_write(LOG_DEBUG, NULL, 0, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, NULL, 0, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, NULL, 0, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, NULL, 0, __VA_ARGS__)

/* Prints the message and exits with the given code; for start-up only. */
void log_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
