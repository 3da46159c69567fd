/*
 * test_openapi.c - keeps docs/openapi.yaml true: every documented
 * operation is called on a running coordinator, with its example body and
 * real ids in its path, and must answer one of its documented statuses
 * (never the router's 404/405 for a route that does not exist).
 *
 * The YAML is read line by line at the indentation the file uses (paths at
 * 2 spaces, methods at 4, response codes at 8, examples at 12); a file that
 * strays from it fails the count check below rather than passing quietly.
 * A strict YAML parser (PyYAML) reads the whole file too, as the tools
 * that consume it would.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fixtures.h"
#include "httpc.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

#define OPS_MAX 64

typedef struct {
	char path[160];
	char method[8];
	char example[4096];
	int codes[12];
	int ncodes;
} operation_t;

static int parse_spec(operation_t *ops)
{
	char file[1024], line[4000], path[160] = "";
	FILE *f;
	int n = 0;
	bool in_paths = false;

	snprintf(file, sizeof(file), "%s/docs/openapi.yaml", getenv("WF_SOURCE_ROOT"));
	f = fopen(file, "r");
	ck_assert_msg(f != NULL, "cannot read %s", file);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "paths:") == 0) {
			in_paths = true;
			continue;
		}
		if (!in_paths)
			continue;
		if (strncmp(line, "  /", 3) == 0) {
			snprintf(path, sizeof(path), "%.*s", (int)(strlen(line) - 3), line + 2);
		} else if (strncmp(line, "    ", 4) == 0 && line[4] != ' ' && strchr(line, ':') &&
			   (strncmp(line + 4, "get:", 4) == 0 || strncmp(line + 4, "post:", 5) == 0 ||
			    strncmp(line + 4, "put:", 4) == 0 || strncmp(line + 4, "delete:", 7) == 0)) {
			ck_assert_int_lt(n, OPS_MAX);
			memset(&ops[n], 0, sizeof(ops[n]));
			snprintf(ops[n].path, sizeof(ops[n].path), "%s", path);
			snprintf(ops[n].method, sizeof(ops[n].method), "%.*s", (int)strcspn(line + 4, ":"), line + 4);
			for (char *p = ops[n].method; *p; p++)
				*p = (char)(*p - 'a' + 'A');
			n++;
		} else if (n > 0 && strncmp(line, "        '", 9) == 0 && ops[n - 1].ncodes < 12) {
			ops[n - 1].codes[ops[n - 1].ncodes++] = atoi(line + 9);
		} else if (n > 0 && strncmp(line, "            example: ", 21) == 0) {
			snprintf(ops[n - 1].example, sizeof(ops[n - 1].example), "%s", line + 21);
		}
	}
	fclose(f);
	return n;
}

/* The path with its parameters replaced by real ids. */
static void concrete(const operation_t *op, char *out, size_t size, const char *execution,
		     const char *visual, const char *newsletter)
{
	const char *p = op->path;
	size_t len = 0;

	while (*p && len < size - 64) {
		if (*p == '{') {
			const char *end = strchr(p, '}');
			const char *value = strncmp(p, "{name}", 6) == 0 ? "test-one"
					    : strstr(op->path, "visual-workflows") ? visual
					    : strstr(op->path, "newsletters") ? newsletter : execution;

			len += (size_t)snprintf(out + len, size - len, "%s", value);
			p = end + 1;
		} else {
			out[len++] = *p++;
		}
	}
	out[len] = '\0';
	if (strcmp(op->path, "/workflow/triggers/unsubscribe") == 0 && strcmp(op->method, "GET") == 0)
		snprintf(out + len, size - len, "?execution=%s", execution);
}

START_TEST(every_documented_operation_answers_as_documented)
{
	testdb_t *t = testdb_new("openapi");
	operation_t ops[OPS_MAX];
	int n = parse_spec(ops);
	char base[64], execution[64], newsletter[32], visual[32] = "0";
	pid_t coord;
	int status;

	ck_assert_int_ge(n, 35);
	fixture_workflow(t, "test-one", "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}");
	snprintf(execution, sizeof(execution), "%s",
		 testdb_text(t, "SELECT execution_id FROM wf_execution_create('test-one', p_start => false)", 0, NULL));
	snprintf(newsletter, sizeof(newsletter), "%s",
		 testdb_text(t, "INSERT INTO dummy_newsletters (email) VALUES ('test-n@example.com') RETURNING id", 0, NULL));
	coord = httpc_start_coordinator(NULL, base, sizeof(base));
	/* Collections' POSTs come before the operations on their members, DELETEs last. */
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < n; i++) {
			const operation_t *op = &ops[i];
			bool is_post = strcmp(op->method, "POST") == 0 && strchr(op->path, '{') == NULL;
			bool is_delete = strcmp(op->method, "DELETE") == 0;
			char url[512], path[400];
			httpc_reply_t r;
			bool documented = false;

			if ((pass == 0) != is_post || (pass == 2) != (is_delete && !is_post))
				continue;
			concrete(op, path, sizeof(path), execution, visual, newsletter);
			snprintf(url, sizeof(url), "%s%s", base, path);
			httpc_call(op->method, url, op->example[0] ? op->example : NULL, strlen(op->example), NULL, &r);
			for (int c = 0; c < op->ncodes; c++)
				documented |= op->codes[c] == r.status;
			ck_assert_msg(documented, "%s %s answered %ld (not documented): %s", op->method, path, r.status, r.body);
			ck_assert_msg(r.status != 404 && r.status != 405, "%s %s: %ld: %s", op->method, path, r.status, r.body);
			if (strcmp(op->path, "/workflow/visual-workflows") == 0 && is_post && r.json)
				snprintf(visual, sizeof(visual), "%.0f", cJSON_GetNumberValue(cJSON_GetObjectItem(r.json, "id")));
			httpc_free(&r);
		}
	}
	proc_signal(coord, SIGTERM);
	status = proc_wait(coord, 30000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	testdb_free(t);
}
END_TEST

START_TEST(the_spec_is_strict_yaml)
{
	char cmd[1200];
	int status;

	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); "
		 "sys.exit(0 if d.get(\"openapi\") and d.get(\"paths\") else 3)' %s/docs/openapi.yaml",
		 getenv("WF_SOURCE_ROOT"));
	status = system(cmd);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "docs/openapi.yaml is not valid YAML (status %d)",
		      status);
}
END_TEST

RUNNER_MAIN("openapi", 120, every_documented_operation_answers_as_documented, the_spec_is_strict_yaml)
