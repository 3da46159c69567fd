/*
 * test_log.c - JSON log lines: the context and extra fields on each line,
 * numbers printed as numbers, and a line that always parses and is valid
 * UTF-8 however long, quoted or binary the message is.
 *
 * Lines are written to stderr, so each test points stderr at a file for the
 * lines it writes and reads them back.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "runner.h"

#define LINES_MAX 16

typedef struct {
	char path[64];
	int saved;
	char *lines[LINES_MAX];
	int count;
} capture_t;

static void capture_start(capture_t *c)
{
	int fd;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "/tmp/wf-test-log-XXXXXX");
	fd = mkstemp(c->path);
	ck_assert_int_ge(fd, 0);
	c->saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	log_setup("test", LOG_DEBUG, LOG_FORMAT_JSON);
}

/* Restores stderr and splits what was written into lines (newline removed). */
static void capture_end(capture_t *c)
{
	static char text[65536];
	FILE *f;
	size_t n;
	char *p;

	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	f = fopen(c->path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	unlink(c->path);
	text[n] = '\0';
	for (p = text; *p && c->count < LINES_MAX;) {
		char *nl = strchr(p, '\n');

		ck_assert_msg(nl != NULL, "a line without its newline");
		*nl = '\0';
		c->lines[c->count++] = p;
		p = nl + 1;
	}
}

/* The line parsed as a JSON object; fails the test when it is not one. */
static cJSON *parse_line(const char *line)
{
	cJSON *obj = cJSON_Parse(line);

	ck_assert_msg(cJSON_IsObject(obj), "not a JSON object: %.200s", line);
	return obj;
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	ck_assert_msg(cJSON_IsString(item), "\"%s\" is not a string", key);
	return item->valuestring;
}

START_TEST(context_and_fields_on_every_line)
{
	capture_t c;
	log_field_t fields[] = {
		{ "outcome", "next", false },
		{ "duration_ms", "12.500", true },
		{ "bogus_number", "12.", true },
	};
	cJSON *obj;

	capture_start(&c);
	log_context_worker("test-host", 3);
	log_context_execution("0e0e0e0e-0000-4000-8000-000000000001", "welcome");
	log_write(LOG_DEBUG, fields, 3, "step finished");
	log_context_execution(NULL, NULL);
	log_context_worker(NULL, -1);
	log_context_request("req-1");
	log_warn("plain %s", "warning");
	log_context_request(NULL);
	log_debug("no context");
	capture_end(&c);

	ck_assert_int_eq(c.count, 3);
	obj = parse_line(c.lines[0]);
	ck_assert_str_eq(str(obj, "level"), "debug");
	ck_assert_str_eq(str(obj, "component"), "test");
	ck_assert_str_eq(str(obj, "worker_host"), "test-host");
	ck_assert_int_eq(cJSON_GetObjectItem(obj, "worker_slot")->valueint, 3);
	ck_assert_str_eq(str(obj, "execution_id"), "0e0e0e0e-0000-4000-8000-000000000001");
	ck_assert_str_eq(str(obj, "node"), "welcome");
	ck_assert_str_eq(str(obj, "outcome"), "next");
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(obj, "duration_ms")));
	ck_assert_double_eq(cJSON_GetObjectItem(obj, "duration_ms")->valuedouble, 12.5);
	/* Not a JSON number: kept as a string rather than breaking the line. */
	ck_assert_str_eq(str(obj, "bogus_number"), "12.");
	ck_assert_str_eq(str(obj, "msg"), "step finished");
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(obj, "pid")));
	cJSON_Delete(obj);

	obj = parse_line(c.lines[1]);
	ck_assert_str_eq(str(obj, "request_id"), "req-1");
	ck_assert_ptr_null(cJSON_GetObjectItem(obj, "worker_host"));
	ck_assert_ptr_null(cJSON_GetObjectItem(obj, "execution_id"));
	ck_assert_str_eq(str(obj, "msg"), "plain warning");
	cJSON_Delete(obj);

	obj = parse_line(c.lines[2]);
	ck_assert_ptr_null(cJSON_GetObjectItem(obj, "request_id"));
	cJSON_Delete(obj);
}
END_TEST

START_TEST(long_and_quoted_messages_are_cut_but_still_parse)
{
	static char quotes[6000], controls[5000], field[3000];
	log_field_t fields[] = { { "body", field, false }, { "status", "500", true } };
	capture_t c;
	cJSON *obj;

	/* Each quote is two bytes escaped, each control byte six: far beyond a line. */
	memset(quotes, '"', sizeof(quotes) - 1);
	memset(controls, '\x01', sizeof(controls) - 1);
	memset(field, '\\', sizeof(field) - 1);
	capture_start(&c);
	log_context_execution("e", "n");
	log_error("%s", quotes);
	log_write(LOG_WARN, fields, 2, "%s", controls);
	log_context_execution(NULL, NULL);
	capture_end(&c);

	ck_assert_int_eq(c.count, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_le(strlen(c.lines[i]) + 1, 8192);
		obj = parse_line(c.lines[i]);
		ck_assert_str_eq(str(obj, "node"), "n");
		ck_assert_uint_gt(strlen(str(obj, "msg")), 100);
		cJSON_Delete(obj);
	}
	obj = parse_line(c.lines[1]);
	/* A long field is cut to its share; the fields after it are still there. */
	ck_assert_uint_lt(strlen(str(obj, "body")), sizeof(field) - 1);
	ck_assert_int_eq(cJSON_GetObjectItem(obj, "status")->valueint, 500);
	cJSON_Delete(obj);
}
END_TEST

START_TEST(invalid_utf8_becomes_replacement_characters)
{
	capture_t c;
	cJSON *obj;

	capture_start(&c);
	/* Valid: é and a four-byte emoji. Invalid: a stray continuation, an overlong slash, a surrogate, a cut sequence. */
	log_info("caf\xc3\xa9 \xf0\x9f\x98\x80 \x80 \xc0\xaf \xed\xa0\x80 \xe2\x82");
	capture_end(&c);

	ck_assert_int_eq(c.count, 1);
	obj = parse_line(c.lines[0]);
	ck_assert_str_eq(str(obj, "msg"),
			 "caf\xc3\xa9 \xf0\x9f\x98\x80 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd "
			 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd");
	cJSON_Delete(obj);
}
END_TEST

RUNNER_MAIN("log", 30, context_and_fields_on_every_line, long_and_quoted_messages_are_cut_but_still_parse,
	    invalid_utf8_becomes_replacement_characters)
