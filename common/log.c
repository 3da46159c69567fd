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

void log_setup_early(const char *component)
{
	const char *text = getenv("LOG_FORMAT");
	int format = text ? log_format_parse(text, STDERR_FILENO) : -1;

	if (format < 0)
		format = log_format_parse("auto", STDERR_FILENO);
	log_setup(component, LOG_INFO, (log_format_t)format);
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

/*
 * JSON strings are written with a budget: room is what the string's
 * content may take (escapes included), so a long message is cut, never the
 * closing quote. The line keeps JSON_TAIL bytes for the closing brace and
 * the newline, and MSG_RESERVE for the message, which comes last.
 */
#define JSON_TAIL 4
#define MSG_RESERVE 512
#define FIELD_MAX 1024

static size_t json_room(size_t len, size_t reserve)
{
	return len + reserve + JSON_TAIL < LOG_LINE_MAX ? LOG_LINE_MAX - JSON_TAIL - reserve - len : 0;
}

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF; /* bounds of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* Appends s as a JSON string whose content takes at most room bytes. */
static void append_json_string(char *buf, size_t *len, const char *s, size_t room)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t used = 0;

	buf[(*len)++] = '"';
	while (*p) {
		char esc[8];
		const char *out = esc;
		size_t n, step = 1;

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			n = 2;
		} else if (*p == '\n') {
			n = (size_t)snprintf(esc, sizeof(esc), "\\n");
		} else if (*p == '\t') {
			n = (size_t)snprintf(esc, sizeof(esc), "\\t");
		} else if (*p < 0x20) {
			n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *p);
		} else if ((step = utf8_sequence(p)) == 0) {
			n = (size_t)snprintf(esc, sizeof(esc), "\\ufffd");
			step = 1;
		} else {
			out = (const char *)p;
			n = step;
		}
		if (used + n > room)
			break;
		memcpy(buf + *len, out, n);
		*len += n;
		used += n;
		p += step;
	}
	buf[(*len)++] = '"';
}

static const char *skip_digits(const char *p)
{
	while (*p >= '0' && *p <= '9')
		p++;
	return p;
}

/* Does v follow JSON's number grammar (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?)? */
static bool json_number_ok(const char *v)
{
	const char *p = v;

	if (p == NULL)
		return false;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		p = skip_digits(p);
	else
		return false;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return false;
		p = skip_digits(p + 1);
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		p = skip_digits(p);
	}
	return *p == '\0';
}

/* Appends ,"key":value when the line has room for it (before the message's reserve). */
static void append_json_member(char *buf, size_t *len, const char *key, const char *value,
			       bool number, size_t max_value)
{
	size_t key_len = strlen(key);
	size_t room = json_room(*len, MSG_RESERVE);

	/* ,"key":"" needs key_len + 5 bytes; a key that is cut would mislead. */
	if (room < key_len * 6 + 5 + 8)
		return;
	buf[(*len)++] = ',';
	append_json_string(buf, len, key, key_len * 6);
	buf[(*len)++] = ':';
	room = json_room(*len, MSG_RESERVE);
	if (number && json_number_ok(value) && strlen(value) <= room) {
		memcpy(buf + *len, value, strlen(value));
		*len += strlen(value);
		return;
	}
	room = room > 2 ? room - 2 : 0;
	append_json_string(buf, len, value ? value : "", room < max_value ? room : max_value);
}

static void format_json(char *buf, size_t *len, const char *when, log_level_t level,
			const char *msg, const log_field_t *fields, size_t nfields)
{
	char pid[16];
	size_t room;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	append(buf, len, "{\"ts\":\"%s\",\"level\":\"%s\"", when, level_names[level]);
	append_json_member(buf, len, "component", log_component, false, LOG_CTX_MAX);
	append_json_member(buf, len, "pid", pid, true, sizeof(pid));
	if (log_ctx.host[0])
		append_json_member(buf, len, "worker_host", log_ctx.host, false, FIELD_MAX);
	if (log_ctx.slot >= 0) {
		char slot[16];

		snprintf(slot, sizeof(slot), "%d", log_ctx.slot);
		append_json_member(buf, len, "worker_slot", slot, true, sizeof(slot));
	}
	if (log_ctx.request[0])
		append_json_member(buf, len, "request_id", log_ctx.request, false, FIELD_MAX);
	if (log_ctx.execution[0])
		append_json_member(buf, len, "execution_id", log_ctx.execution, false, FIELD_MAX);
	if (log_ctx.node[0])
		append_json_member(buf, len, "node", log_ctx.node, false, FIELD_MAX);
	for (size_t i = 0; i < nfields; i++)
		append_json_member(buf, len, fields[i].key, fields[i].value, fields[i].number, FIELD_MAX);
	/* The message takes what is left, with the reserve that was kept for it. */
	append(buf, len, ",\"msg\":");
	room = json_room(*len, 0);
	append_json_string(buf, len, msg, room > 2 ? room - 2 : 0);
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
