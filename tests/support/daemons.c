/*
 * daemons.c - log files of the daemons under test.
 */
#include "daemons.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

void daemon_log_path(char *path, size_t len, const char *tag)
{
	snprintf(path, len, "/tmp/wf-test-%s-%d.log", tag, (int)getpid());
	unlink(path);
}

char *daemon_log_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			text = realloc(text, cap);
			ck_assert_ptr_nonnull(text);
		}
		n = fread(text + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	text[len] = '\0';
	return text;
}

bool daemon_log_has(const char *path, const char *text)
{
	char *all = daemon_log_text(path);
	bool has = all != NULL && strstr(all, text) != NULL;

	free(all);
	return has;
}

bool daemon_log_wait_for(const char *path, const char *text, int timeout_ms)
{
	double deadline = proc_now_ms() + timeout_ms;

	while (!daemon_log_has(path, text)) {
		if (proc_now_ms() >= deadline)
			return false;
		proc_sleep_ms(50);
	}
	return true;
}

cJSON *daemon_log_lines(const char *path)
{
	char *text = daemon_log_text(path);
	cJSON *lines = cJSON_CreateArray();
	char *p;
	int lineno = 0;

	ck_assert_msg(text != NULL, "no log file %s", path);
	for (p = text; *p;) {
		char *nl = strchr(p, '\n');
		const char *end = NULL;
		cJSON *obj;

		lineno++;
		ck_assert_msg(nl != NULL, "%s: line %d has no newline", path, lineno);
		*nl = '\0';
		obj = cJSON_ParseWithOpts(p, &end, 1);
		ck_assert_msg(cJSON_IsObject(obj), "%s: line %d is not a JSON object: %.300s", path, lineno, p);
		cJSON_AddItemToArray(lines, obj);
		p = nl + 1;
	}
	free(text);
	return lines;
}

/* The port in the "API listening on port N" line of the text so far, or -1. */
static int port_in(const char *text)
{
	const char *key = "\"msg\":\"API listening on port ";
	const char *at = text ? strstr(text, key) : NULL;

	return at ? atoi(at + strlen(key)) : -1;
}

int daemon_api_port(const char *path, int timeout_ms)
{
	double deadline = proc_now_ms() + timeout_ms;

	for (;;) {
		char *text = daemon_log_text(path);
		int port = port_in(text);

		free(text);
		if (port > 0)
			return port;
		ck_assert_msg(proc_now_ms() < deadline, "the coordinator logged no API port in %s", path);
		proc_sleep_ms(20);
	}
}
