/*
 * test_eval.c - `wf-coordinator eval` as users run it: one line of JSON on
 * stdout and exit 0; exit 1 with one line on stderr for a bad rule; exit 2 for
 * bad usage; no database and no settings needed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "runner.h"

/* Runs eval with args; returns the exit code, stdout in out and stderr in err. */
static int eval(const char *const *args, const char *const *env, char *out, size_t outlen,
		char *err, size_t errlen)
{
	char path[64];
	const char *argv[8];
	int n = 0, code, status;
	FILE *f;
	size_t got;
	pid_t pid;

	argv[n++] = "eval";
	for (; *args && n < 7; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	code = proc_run("WF_COORDINATOR", argv, env, NULL, out, outlen);
	/* A second run for stderr: proc_run keeps only stdout. */
	snprintf(path, sizeof(path), "/tmp/wf-test-eval-%d.err", (int)getpid());
	unlink(path);
	pid = proc_start("WF_COORDINATOR", argv, env, path);
	status = proc_wait(pid, 20000);
	ck_assert_msg(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == code,
		      "the two runs disagree (%d)", code);
	f = fopen(path, "r");
	got = f ? fread(err, 1, errlen - 1, f) : 0;
	err[got] = '\0';
	if (f)
		fclose(f);
	unlink(path);
	return code;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

START_TEST(prints_one_line_of_json)
{
	/* Not static: the ARGS lists are compound literals of this function. */
	const struct {
		const char *const *args;
		const char *out;
	} cases[] = {
		{ ARGS("{\"+\":[1,\"2\"]}"), "3\n" },
		{ ARGS("{\"var\":\"\"}"), "{}\n" }, /* data defaults to {} */
		{ ARGS("{\"var\":\"user.name\"}", "{\"user\":{\"name\":\"Ada\"}}"), "\"Ada\"\n" },
		{ ARGS("{\"/\":[1,0]}"), "null\n" },
		{ ARGS("{\"/\":[1,3]}"), "0.3333333333333333\n" },
		{ ARGS("{\"*\":[1e21,1]}"), "1e+21\n" },
		{ ARGS("{\"merge\":[[1],{\"var\":\"o\"}]}", "{\"o\":{\"b\":1,\"1\":2}}"), "[1,{\"1\":2,\"b\":1}]\n" },
		{ ARGS("--now", "2024-03-10T12:00:00Z", "{\"now\":[]}"), "\"2024-03-10T12:00:00.000Z\"\n" },
		{ ARGS("--now", "2024-03-10T12:00:00+02:00", "{\"days_since\":\"2024-03-01\"}"), "9\n" },
		{ ARGS("--now", "1970-01-01T00:00:00Z", "{\"now\":[]}"), "\"1970-01-01T00:00:00.000Z\"\n" },
		{ ARGS("--", "\"--now\""), "\"--now\"\n" },
		{ ARGS("  {\"!\" : [ [] ] }\n", " null "), "true\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[1024], err[1024];
		int code = eval(cases[i].args, NULL, out, sizeof(out), err, sizeof(err));

		ck_assert_msg(code == 0, "case %zu exited %d: %s", i, code, err);
		ck_assert_msg(strcmp(out, cases[i].out) == 0, "case %zu printed \"%s\"", i, out);
		ck_assert_msg(err[0] == '\0', "case %zu wrote to stderr: %s", i, err);
	}
}
END_TEST

START_TEST(a_bad_rule_exits_1_with_one_line)
{
	const struct {
		const char *const *args;
		const char *err;
	} cases[] = {
		{ ARGS("{\"==\":[1,"), "rule: invalid JSON" },
		{ ARGS("{\"var\":\"a\"}", "{oops}"), "data: invalid JSON" },
		{ ARGS("{\"tpyo\":[1]}"), "unknown operator \"tpyo\" at /" },
		/* checked as a whole, as saving a workflow checks it */
		{ ARGS("{\"if\":[true,1,{\"tpyo\":[1]}]}"), "unknown operator \"tpyo\" at /if/2" },
		{ ARGS("{\"==\":[1]}"), "\"==\" takes 2 arguments, not 1, at /" },
		{ ARGS("{\"in\":[\"a\",{\"var\":\"o\"}]}", "{\"o\":{\"indexOf\":0}}"), "indexOf is not a function" },
		{ ARGS("{\"reduce\":[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21],"
		       "{\"cat\":[{\"var\":\"accumulator\"},{\"var\":\"accumulator\"}]},\"xxxx\"]}"),
		  "rule builds a string longer than" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[1024], err[1024];
		int code = eval(cases[i].args, NULL, out, sizeof(out), err, sizeof(err));
		char *nl = strchr(err, '\n');

		ck_assert_msg(code == 1, "case %zu exited %d", i, code);
		ck_assert_msg(out[0] == '\0', "case %zu printed \"%s\"", i, out);
		ck_assert_msg(strncmp(err, "wf-coordinator eval: ", 21) == 0 && strstr(err, cases[i].err),
			      "case %zu: stderr \"%s\"", i, err);
		ck_assert_msg(nl != NULL && nl[1] == '\0', "case %zu: not one line: \"%s\"", i, err);
	}
}
END_TEST

START_TEST(bad_usage_exits_2)
{
	const char *const *const cases[] = {
		ARGS(NULL),
		ARGS("1", "{}", "extra"),
		ARGS("--now"),
		ARGS("--now", "tomorrow", "1"),
		ARGS("--now", "2024-01-01T00:00:00Z"),
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[1024], err[1024];
		int code = eval(cases[i], NULL, out, sizeof(out), err, sizeof(err));

		ck_assert_msg(code == 2, "case %zu exited %d", i, code);
		ck_assert_msg(out[0] == '\0', "case %zu printed \"%s\"", i, out);
		ck_assert_msg(err[0] != '\0', "case %zu said nothing on stderr", i);
	}
}
END_TEST

START_TEST(needs_no_settings_and_no_database)
{
	/* Settings that stop every other command, and a database that is not there. */
	const char *const env[] = { "PORT=not-a-port", "EMAIL_MODE=carrier-pigeon", "DB_HOST=/nonexistent",
				    "DATABASE_URL=postgresql://nobody@127.0.0.1:1/none", NULL };
	char out[256], err[1024];
	int code = eval(ARGS("{\"and\":[{\">=\":[{\"var\":\"age\"},18]},{\"var\":\"ok\"}]}",
			     "{\"age\":30,\"ok\":\"yes\"}"),
			env, out, sizeof(out), err, sizeof(err));

	ck_assert_msg(code == 0, "exited %d: %s", code, err);
	ck_assert_str_eq(out, "\"yes\"\n");
}
END_TEST

START_TEST(log_goes_to_stderr)
{
	char out[256], err[1024];
	int code = eval(ARGS("{\"+\":[{\"log\":{\"var\":\"x\"}},1]}", "{\"x\":[2]}"), NULL, out, sizeof(out),
			err, sizeof(err));

	ck_assert_int_eq(code, 0);
	ck_assert_str_eq(out, "3\n");
	ck_assert_str_eq(err, "log: [2]\n");
}
END_TEST

RUNNER_MAIN("eval", 100, prints_one_line_of_json, a_bad_rule_exits_1_with_one_line, bad_usage_exits_2,
	    needs_no_settings_and_no_database, log_goes_to_stderr)
