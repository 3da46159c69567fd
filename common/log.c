/*
 * log.c - text or JSON log lines on stderr, with a thread-local context.
 *
 * Each line is formatted into one buffer and written with a single write(2),
 * so lines from the forked workers sharing stderr do not interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 8192
#define LOG_CTX_MAX 128

static const char *log_component = "wf";
static log_level_t log_min_level = LOG_INFO;
static log_format_t log_fmt = LOG_FORMAT_TEXT;

static _Thread_local struct {
	char execution[LOG_CTX_MAX];
	char node[LOG_CTX_MAX];
	char request[LOG_CTX_MAX];
	char host[LOG_CTX_MAX];
	int slot;
} log_ctx = { .slot = -1 };

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_setup(const char *component, log_level_t level, log_format_t format)
{
	log_component = component;
	log_min_level = level;
	log_fmt = format;
}

int log_level_parse(const char *text)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(text, level_names[i]) == 0)
			return i;
	return -1;
}

int log_format_parse(const char *text, int fd)
{
	if (strcmp(text, "text") == 0)
		return LOG_FORMAT_TEXT;
	if (strcmp(text, "json") == 0)
		return LOG_FORMAT_JSON;
	if (strcmp(text, "auto") == 0)
		return isatty(fd) ? LOG_FORMAT_TEXT : LOG_FORMAT_JSON;
	return -1;
}

bool log_enabled(log_level_t level)
{
	return level >= log_min_level;
}

static void copy_field(char *dst, const char *src)
{
	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, LOG_CTX_MAX, "%s", src);
}

void log_context_execution(const char *execution_id, const char *node_id)
{
	copy_field(log_ctx.execution, execution_id);
	copy_field(log_ctx.node, node_id);
}

void log_context_request(const char *request_id)
{
	copy_field(log_ctx.request, request_id);
}

void log_context_worker(const char *host, int slot)
{
	copy_field(log_ctx.host, host);
	log_ctx.slot = slot;
}

void log_context_clear(void)
{
	log_ctx.execution[0] = log_ctx.node[0] = log_ctx.request[0] = '\0';
}

/* Appends to buf at *len, never past LOG_LINE_MAX - 2 (room for "\n"). */
static void append(char *buf, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t *len, const char *fmt, ...)
{
	size_t room = LOG_LINE_MAX - 2 - *len;
	va_list ap;
	int n;

	if (room == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*len += (size_t)n < room ? (size_t)n : room - 1;
}

static void append_json_string(char *buf, size_t *len, const char *s)
{
	append(buf, len, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			append(buf, len, "\\%c", *p);
		else if (*p == '\n')
			append(buf, len, "\\n");
		else if (*p == '\t')
			append(buf, len, "\\t");
		else if (*p < 0x20)
			append(buf, len, "\\u%04x", *p);
		else
			append(buf, len, "%c", *p);
	}
	append(buf, len, "\"");
}

static void format_time(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;

	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, size - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

static void write_line(char *buf, size_t len)
{
	buf[len++] = '\n';
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void format_json(char *buf, size_t *len, const char *when, log_level_t level,
			const char *msg, const log_field_t *fields, size_t nfields)
{
	append(buf, len, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":", when,
	       level_names[level]);
	append_json_string(buf, len, log_component);
	append(buf, len, ",\"pid\":%d", (int)getpid());
	if (log_ctx.host[0]) {
		append(buf, len, ",\"worker_host\":");
		append_json_string(buf, len, log_ctx.host);
	}
	if (log_ctx.slot >= 0)
		append(buf, len, ",\"worker_slot\":%d", log_ctx.slot);
	if (log_ctx.request[0]) {
		append(buf, len, ",\"request_id\":");
		append_json_string(buf, len, log_ctx.request);
	}
	if (log_ctx.execution[0]) {
		append(buf, len, ",\"execution_id\":");
		append_json_string(buf, len, log_ctx.execution);
	}
	if (log_ctx.node[0]) {
		append(buf, len, ",\"node\":");
		append_json_string(buf, len, log_ctx.node);
	}
	for (size_t i = 0; i < nfields; i++) {
		append(buf, len, ",");
		append_json_string(buf, len, fields[i].key);
		append(buf, len, ":");
		append_json_string(buf, len, fields[i].value ? fields[i].value : "");
	}
	append(buf, len, ",\"msg\":");
	append_json_string(buf, len, msg);
	/* A truncated line still has to parse: close it whatever happened. */
	if (*len >= LOG_LINE_MAX - 4)
		*len = LOG_LINE_MAX - 4;
	buf[(*len)++] = '}';
}

static void format_text(char *buf, size_t *len, const char *when, log_level_t level,
			const char *msg, const log_field_t *fields, size_t nfields)
{
	append(buf, len, "%s %s %s[%d]", when, level_names[level], log_component, (int)getpid());
	if (log_ctx.host[0])
		append(buf, len, " host=%s", log_ctx.host);
	if (log_ctx.slot >= 0)
		append(buf, len, " slot=%d", log_ctx.slot);
	if (log_ctx.request[0])
		append(buf, len, " req=%s", log_ctx.request);
	if (log_ctx.execution[0])
		append(buf, len, " exec=%s", log_ctx.execution);
	if (log_ctx.node[0])
		append(buf, len, " node=%s", log_ctx.node);
	append(buf, len, ": %s", msg);
	for (size_t i = 0; i < nfields; i++)
		append(buf, len, " %s=%s", fields[i].key, fields[i].value ? fields[i].value : "");
}

static void log_vwrite(log_level_t level, const log_field_t *fields, size_t nfields,
		       const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static void log_vwrite(log_level_t level, const log_field_t *fields, size_t nfields,
		       const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX / 2];
	char buf[LOG_LINE_MAX];
	char when[32];
	size_t len = 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	format_time(when, sizeof(when));
	if (log_fmt == LOG_FORMAT_JSON)
		format_json(buf, &len, when, level, msg, fields, nfields);
	else
		format_text(buf, &len, when, level, msg, fields, nfields);
	write_line(buf, len);
}

void log_write(log_level_t level, const log_field_t *fields, size_t nfields,
	       const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vwrite(level, fields, nfields, fmt, ap);
	va_end(ap);
}

void log_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, NULL, 0, fmt, ap);
	va_end(ap);
	exit(code);
}
