/*
 * test_validate.c - `wf-coordinator validate` as users run it: "valid" and
 * exit 0; every problem one a line ("node X: ...", "edge Y: ...") and exit
 * 1; exit 2 for bad usage, a missing file or malformed JSON; --print with
 * the other form; templates checked against TEMPLATES_DIR, shared flows
 * named as not checked; no settings and no database needed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "proc.h"
#include "runner.h"
#include "scratch.h"

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static char dir[64];
static char out[16384];

static const char *const valid_flow =
	"{\"nodes\":["
	"{\"id\":\"t\",\"type\":\"trigger\",\"position\":{\"x\":0,\"y\":0},\"data\":{\"source\":\"manual\"}},"
	"{\"id\":\"hello\",\"type\":\"action\",\"position\":{\"x\":0,\"y\":100},"
	" \"data\":{\"action\":\"send_email\",\"template\":\"generic_welcome\"}},"
	"{\"id\":\"wait\",\"type\":\"delay\",\"position\":{\"x\":0,\"y\":200},\"data\":{\"seconds\":5}},"
	"{\"id\":\"more\",\"type\":\"sharedFlow\",\"position\":{\"x\":0,\"y\":300},\"data\":{\"workflow\":\"value_highlight_flow\"}}],"
	"\"edges\":[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"hello\"},{\"id\":\"e2\",\"source\":\"hello\",\"target\":\"wait\"},"
	"{\"id\":\"e3\",\"source\":\"wait\",\"target\":\"more\"}],"
	"\"viewport\":{\"x\":0,\"y\":0,\"zoom\":1}}";

static const char *const valid_definition =
	"{\"name\":\"test-def\",\"trigger\":{\"source\":\"newsletter\"},\"start\":\"a\",\"nodes\":{"
	"\"a\":{\"type\":\"condition\",\"rule\":{\"var\":\"user.engaged\"},\"true\":\"b\",\"false\":null},"
	"\"b\":{\"type\":\"webhook\",\"url\":\"https://example.com/hook\",\"next\":null}}}";

/* Writes text to dir/name and returns the path (static buffer). */
static const char *file(const char *name, const char *text)
{
	static char path[256];

	scratch_put(dir, name, text, path, sizeof(path));
	return path;
}

/* Runs `validate args...`; stdout goes to out. */
static int validate(const char *const *args, const char *const *env)
{
	const char *argv[8] = { "validate" };
	int n = 1;

	for (; *args && n < 7; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return proc_run("WF_COORDINATOR", argv, env, NULL, out, sizeof(out));
}

static void setup(void)
{
	scratch_make(dir, sizeof(dir));
}

static void teardown(void)
{
	scratch_remove(dir);
}

START_TEST(a_valid_flow_and_definition_exit_0)
{
	setup();
	ck_assert_int_eq(validate(ARGS(file("flow.json", valid_flow)), NULL), 0);
	ck_assert_str_eq(out, "valid\n"
			      "note: node more: shared flow \"value_highlight_flow\" not checked offline"
			      " (workflows are in the database)\n");
	ck_assert_int_eq(validate(ARGS(file("def.json", valid_definition)), NULL), 0);
	ck_assert_str_eq(out, "valid\n");
	teardown();
}
END_TEST

START_TEST(print_gives_the_converted_definition_or_the_flow)
{
	cJSON *def, *flow;
	const char *json;

	setup();
	ck_assert_int_eq(validate(ARGS("--print", file("welcome.json", valid_flow)), NULL), 0);
	json = strchr(out, '{');
	ck_assert_ptr_nonnull(json);
	ck_assert_msg(strncmp(out, "valid\n", 6) == 0, "%s", out);
	def = cJSON_Parse(json);
	ck_assert_ptr_nonnull(def);
	/* Named after the file unless --name says otherwise. */
	ck_assert_str_eq(json_string(def, "name"), "welcome");
	ck_assert_str_eq(json_string(def, "start"), "hello");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(cJSON_GetObjectItem(def, "nodes"), "wait"), "next"), "more");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(cJSON_GetObjectItem(def, "nodes"), "more"), "type"), "shared_flow");
	cJSON_Delete(def);
	ck_assert_int_eq(validate(ARGS("--name", "test-other", "--print", file("welcome.json", valid_flow)), NULL), 0);
	def = cJSON_Parse(strchr(out, '{'));
	ck_assert_str_eq(json_string(def, "name"), "test-other");
	cJSON_Delete(def);

	/* A definition prints as its React Flow document, which validates in turn. */
	ck_assert_int_eq(validate(ARGS("--print", file("def.json", valid_definition)), NULL), 0);
	flow = cJSON_Parse(strchr(out, '{'));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(flow, "nodes")), 3);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(flow, "edges")), 2);
	json = json_print(flow);
	ck_assert_int_eq(validate(ARGS(file("back.json", json)), NULL), 0);
	free((char *)json);
	cJSON_Delete(flow);
	teardown();
}
END_TEST

START_TEST(an_invalid_flow_prints_every_problem_and_exits_1)
{
	setup();
	ck_assert_int_eq(validate(ARGS(file("bad.json",
		"{\"nodes\":["
		"{\"id\":\"t\",\"type\":\"trigger\",\"data\":{\"source\":\"carrier\"}},"
		"{\"id\":\"a\",\"type\":\"action\",\"data\":{\"action\":\"send_email\",\"template\":\"no_such_template\"}},"
		"{\"id\":\"c\",\"type\":\"condition\",\"data\":{\"rule\":true}},"
		"{\"id\":\"z\",\"type\":\"zap\"}],"
		"\"edges\":[{\"id\":\"e1\",\"source\":\"t\",\"target\":\"a\"},{\"id\":\"e2\",\"source\":\"a\",\"target\":\"c\"},"
		"{\"id\":\"e3\",\"source\":\"c\",\"target\":\"z\"},{\"id\":\"e4\",\"source\":\"c\",\"target\":\"nowhere\",\"sourceHandle\":\"true\"}]}")),
		NULL), 1);
	ck_assert_str_eq(out,
		"node z: unknown node type \"zap\" (one of trigger, action, delay, condition, sharedFlow, webhook)\n"
		"edge e3: an edge leaving condition \"c\" needs sourceHandle \"true\" or \"false\"\n"
		"edge e4: target \"nowhere\" is not a node of the flow\n"
		"node a: unknown email template \"no_such_template\"\n"
		"node t: trigger.source must be one of subscription, newsletter, manual, cron\n"
		"node z: node \"z\" is unreachable from the start node\n");
	teardown();
}
END_TEST

START_TEST(an_invalid_definition_prints_every_problem_and_exits_1)
{
	setup();
	ck_assert_int_eq(validate(ARGS(file("bad.json",
		"{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"delay\",\"next\":\"b\"},"
		"\"b\":{\"type\":\"shared_flow\",\"workflow\":\"elsewhere\",\"next\":\"a\"},"
		"\"c\":{\"type\":\"action\",\"action\":\"send_email\",\"template\":\"generic_welcome\",\"next\":\"ghost\"}}}")),
		NULL), 1);
	ck_assert_str_eq(out,
		"node a: a delay needs exactly one of \"seconds\" or \"until\"\n"
		"node c: \"next\" points to unknown node \"ghost\"\n"
		"node c: node \"c\" is unreachable from the start node\n"
		"node a: cycle: a -> b -> a\n"
		"note: node b: shared flow \"elsewhere\" not checked offline (workflows are in the database)\n");
	/* A key twice: the check would read the first, PostgreSQL would store the last. */
	ck_assert_int_eq(validate(ARGS(file("dup.json",
		"{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"delay\",\"seconds\":1,\"seconds\":-1}}}")), NULL), 1);
	ck_assert_str_eq(out, "workflow: the key \"seconds\" appears twice in one object\n");
	/* Not an object at all. */
	ck_assert_int_eq(validate(ARGS(file("list.json", "[1, 2]")), NULL), 1);
	ck_assert_str_eq(out, "workflow: a definition must be a JSON object\n");
	teardown();
}
END_TEST

START_TEST(unreadable_or_malformed_input_and_bad_usage_exit_2)
{
	const char *const *const cases[] = {
		ARGS(NULL),
		ARGS("--print"),
		ARGS("a.json", "b.json"),
		ARGS("--frobnicate", "a.json"),
		ARGS("/nonexistent/flow.json"),
	};
	char log[128], err[1024] = "";
	int status;
	FILE *f;
	pid_t pid;

	setup();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(validate(cases[i], NULL) == 2, "case %zu did not exit 2", i);
		ck_assert_msg(out[0] == '\0', "case %zu printed \"%s\"", i, out);
	}
	ck_assert_int_eq(validate(ARGS(file("broken.json", "{\"nodes\": [")), NULL), 2);
	ck_assert_str_eq(out, "");
	/* The reason is one line on stderr. */
	snprintf(log, sizeof(log), "%s/stderr.log", dir);
	pid = proc_start("WF_COORDINATOR", ARGS("validate", file("broken.json", "{\"nodes\": [")), NULL, log);
	status = proc_wait(pid, 20000);
	ck_assert(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 2);
	f = fopen(log, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(err, sizeof(err), f));
	fclose(f);
	ck_assert_msg(strstr(err, "wf-coordinator validate: ") == err && strstr(err, "broken.json: invalid JSON at byte"),
		      "stderr: %s", err);
	teardown();
}
END_TEST

START_TEST(templates_come_from_templates_dir_and_no_settings_are_needed)
{
	const char *const broken[] = { "PORT=not-a-port", "EMAIL_MODE=carrier-pigeon",
				       "DATABASE_URL=postgresql://nobody@127.0.0.1:1/none", NULL };
	const char *const elsewhere[] = { "TEMPLATES_DIR=/nonexistent/templates", NULL };
	const char *path;

	setup();
	path = file("flow.json", valid_flow);
	ck_assert_int_eq(validate(ARGS(path), broken), 0);
	ck_assert_msg(strncmp(out, "valid\n", 6) == 0, "%s", out);
	/* Templates that do not load are not checked, and it says so. */
	ck_assert_int_eq(validate(ARGS(path), elsewhere), 0);
	ck_assert_msg(strncmp(out, "valid\nnote: email templates not checked: ", 41) == 0, "%s", out);
	/* A folder of its own with one template: generic_welcome is not there. */
	scratch_put(dir, "tpl/only_one/subject.hbs", "Hi", NULL, 0);
	scratch_put(dir, "tpl/only_one/text.hbs", "Hello", NULL, 0);
	scratch_put(dir, "tpl/only_one/html.hbs", "<p>Hello</p>", NULL, 0);
	{
		char env_dir[128];
		const char *const own[] = { env_dir, NULL };

		snprintf(env_dir, sizeof(env_dir), "TEMPLATES_DIR=%s/tpl", dir);
		ck_assert_int_eq(validate(ARGS(path), own), 1);
		ck_assert_msg(strncmp(out, "node hello: unknown email template \"generic_welcome\"\n", 53) == 0, "%s", out);
	}
	teardown();
}
END_TEST

START_TEST(reads_standard_input)
{
	const char *const argv[] = { "validate", "-", NULL };

	ck_assert_int_eq(proc_run("WF_COORDINATOR", argv, NULL, valid_definition, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "valid\n");
	ck_assert_int_eq(proc_run("WF_COORDINATOR", argv, NULL, "{\"start\":1}", out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "workflow: missing field \"start\"") == out, "%s", out);
}
END_TEST

RUNNER_MAIN("validate", 60, a_valid_flow_and_definition_exit_0, print_gives_the_converted_definition_or_the_flow,
	    an_invalid_flow_prints_every_problem_and_exits_1, an_invalid_definition_prints_every_problem_and_exits_1,
	    unreadable_or_malformed_input_and_bad_usage_exit_2,
	    templates_come_from_templates_dir_and_no_settings_are_needed, reads_standard_input)
