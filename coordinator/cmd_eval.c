/*
 * cmd_eval.c - `wf-coordinator eval [--now TIME] '<rule>' ['<data>']`: evaluates
 * a JSON Logic rule against data (default {}) and prints the result as one
 * line of JSON, so that users can try the rules of their workflows offline.
 *
 * The rule is checked as a whole first, as saving a workflow checks it: a
 * misspelt operator in a branch this data does not reach is still an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "jl_time.h"
#include "json.h"
#include "jsonlogic.h"

static int usage(void)
{
	fprintf(stderr, "usage: wf-coordinator eval [--now TIME] '<rule>' ['<data>']\n"
			"  TIME is an ISO-8601 timestamp that \"now\" and the date operators see\n");
	return 2;
}

/* "log" goes to stderr, so that stdout stays the one line of the result. */
static void log_to_stderr(const char *json, void *arg)
{
	fprintf(stderr, "log: %s\n", json);
}

static cJSON *parse_arg(const char *what, const char *text)
{
	char err[128];
	cJSON *tree = json_parse(text, strlen(text), err, sizeof(err));

	if (tree == NULL)
		fprintf(stderr, "wf-coordinator eval: %s: %s\n", what, err);
	return tree;
}

int cmd_eval(const wf_config_t *cfg, int argc, char **argv)
{
	jl_options_t opts = { .log_cb = log_to_stderr };
	cJSON *rule = NULL, *data = NULL, *result = NULL;
	char err[512];
	char *text;
	int i = 1, rc = 1;

	if (i < argc && strcmp(argv[i], "--now") == 0) {
		if (i + 1 >= argc)
			return usage();
		if (jl_parse_time(argv[i + 1], &opts.now) < 0) {
			fprintf(stderr, "wf-coordinator eval: --now: \"%s\" is not an ISO-8601 time\n",
				argv[i + 1]);
			return 2;
		}
		/* 0 would mean the real clock; a nanosecond later is the same millisecond. */
		if (opts.now == 0)
			opts.now = 1e-9;
		i += 2;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (argc - i < 1 || argc - i > 2)
		return usage();

	rule = parse_arg("rule", argv[i]);
	if (rule == NULL)
		goto out;
	data = parse_arg("data", argc - i == 2 ? argv[i + 1] : "{}");
	if (data == NULL)
		goto out;
	if (jl_validate(rule, err, sizeof(err)) < 0) {
		fprintf(stderr, "wf-coordinator eval: %s\n", err);
		goto out;
	}
	result = jl_apply(rule, data, &opts, err, sizeof(err));
	if (result == NULL) {
		fprintf(stderr, "wf-coordinator eval: %s\n", err);
		goto out;
	}
	text = jl_to_json(result);
	printf("%s\n", text);
	free(text);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	cJSON_Delete(result);
	cJSON_Delete(data);
	cJSON_Delete(rule);
	return rc;
}
