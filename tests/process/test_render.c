/*
 * test_render.c - `wf-coordinator render` as a user runs it: its output,
 * its messages on stderr and its exit codes (0 done, 1 failed, 2 usage).
 * It needs no database, so no cluster is started.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "runner.h"
#include "scratch.h"

static char templates_env[600];
static char tmp[64];

typedef struct {
	int code;
	char out[65536];
	char err[4096];
} result_t;

static void setup(void)
{
	const char *src = getenv("WF_SOURCE_ROOT");

	ck_assert_ptr_nonnull(src);
	snprintf(templates_env, sizeof(templates_env), "TEMPLATES_DIR=%s/templates", src);
	scratch_make(tmp, sizeof(tmp));
}

static void teardown(void)
{
	scratch_remove(tmp);
}

/* tmp/name with text; returns the path (static storage, eight at a time). */
static const char *put(const char *name, const char *text)
{
	static char path[8][256];
	static int next;
	char *p = path[next++ % 8];

	scratch_put(tmp, name, text, p, 256);
	return p;
}

/*
 * Runs wf-coordinator with args (NULL-terminated), stdin_text and
 * TEMPLATES_DIR=templates_dir (the shipped ones when NULL), capturing
 * stdout and stderr.
 */
static result_t *run(const char *templates_dir, const char *stdin_text, const char *const *args)
{
	static result_t r;
	char env_dir[600], errpath[128];
	const char *env[] = { templates_env, NULL };
	int saved, fd;
	FILE *f;
	size_t n;

	if (templates_dir) {
		snprintf(env_dir, sizeof(env_dir), "TEMPLATES_DIR=%s", templates_dir);
		env[0] = env_dir;
	}
	/* proc_run captures stdout only; the child's stderr is ours, so point ours at a file. */
	snprintf(errpath, sizeof(errpath), "%s/stderr", tmp);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	r.code = proc_run("WF_COORDINATOR", args, env, stdin_text, r.out, sizeof(r.out));
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fopen(errpath, "r");
	n = fread(r.err, 1, sizeof(r.err) - 1, f);
	r.err[n] = '\0';
	fclose(f);
	return &r;
}

#define RUN(dir, in, ...) run(dir, in, (const char *const[]){ __VA_ARGS__, NULL })

static const char *const context =
	"{\"user\":{\"id\":42,\"email\":\"ada@example.com\",\"name\":\"Ada\",\"engaged\":false},"
	"\"subscription\":{\"id\":1001,\"created_at\":\"2026-11-27T14:36:22Z\"},"
	"\"subscription_type\":{\"id\":1,\"name\":\"united\",\"description\":\"\"},"
	"\"execution\":{\"id\":\"e-1\"},\"unsubscribe_url\":\"https://example.com/u?t=1\"}";

START_TEST(renders_the_three_parts)
{
	const char *ctx = put("ctx.json", context);
	result_t *r = RUN(NULL, NULL, "render", "united_welcome", ctx);
	const char *subject, *text, *html;

	ck_assert_msg(r->code == 0, "exit %d: %s", r->code, r->err);
	ck_assert_str_eq(r->err, "");
	subject = strstr(r->out, "--- subject ---\nAda, welcome to United: your membership is active\n");
	text = strstr(r->out, "\n--- text ---\nHi Ada,\n");
	html = strstr(r->out, "\n--- html ---\n<!DOCTYPE html>");
	ck_assert_msg(subject == r->out && text && html && text < html, "output:\n%s", r->out);
	ck_assert_ptr_nonnull(strstr(text, "Unsubscribe with one click: https://example.com/u?t=1\n"));
	ck_assert_ptr_nonnull(strstr(html, "href=\"https://example.com/u?t&#x3D;1\""));
	ck_assert_ptr_nonnull(strstr(html, "</html>\n"));
}
END_TEST

START_TEST(context_defaults_to_empty)
{
	result_t *r = RUN(NULL, NULL, "render", "podcast_welcome");

	ck_assert_msg(r->code == 0, "exit %d: %s", r->code, r->err);
	ck_assert_ptr_nonnull(strstr(r->out, "--- subject ---\nYour podcast subscription is live\n"));
	ck_assert_ptr_nonnull(strstr(r->out, "Hi there,"));
}
END_TEST

START_TEST(context_from_stdin)
{
	result_t *r = RUN(NULL, "{\"user\":{\"name\":\"Stdin\"}}", "render", "podcast_welcome", "-");

	ck_assert_msg(r->code == 0, "exit %d: %s", r->code, r->err);
	ck_assert_ptr_nonnull(strstr(r->out, "Your podcast subscription is live, Stdin\n"));
}
END_TEST

START_TEST(stdin_template_prints_only_the_result)
{
	const char *ctx = put("ctx.json", context);
	result_t *r = RUN(NULL, "{{#each items}}{{.}},{{/each}} {{user.name}} <{{user.email}}>",
			  "render", "--stdin", put("items.json", "{\"items\":[1,\"<b>\"],"
								 "\"user\":{\"name\":\"A&B\"}}"));

	ck_assert_msg(r->code == 0, "exit %d: %s", r->code, r->err);
	ck_assert_str_eq(r->out, "1,&lt;b&gt;, A&amp;B <>");
	/* The partials of TEMPLATES_DIR are there. */
	r = RUN(NULL, "{{> greeting}}!", "render", "--stdin", ctx);
	ck_assert_int_eq(r->code, 0);
	ck_assert_str_eq(r->out, "Hi Ada!");
	r = RUN(NULL, "{{> greeting}}!", "render", "--stdin");
	ck_assert_int_eq(r->code, 0);
	ck_assert_str_eq(r->out, "Hi there!");
}
END_TEST

START_TEST(unknown_template_exits_1)
{
	result_t *r = RUN(NULL, NULL, "render", "no_such_email");

	ck_assert_int_eq(r->code, 1);
	ck_assert_str_eq(r->out, "");
	ck_assert_msg(strstr(r->err, "unknown template \"no_such_email\"") &&
			      strstr(r->err, "united_welcome"),
		      "stderr: %s", r->err);
}
END_TEST

START_TEST(syntax_errors_exit_1_with_their_position)
{
	result_t *r = RUN(NULL, "ok\n  {{#if user}}\n", "render", "--stdin");

	ck_assert_int_eq(r->code, 1);
	ck_assert_str_eq(r->out, "");
	ck_assert_str_eq(r->err, "wf-coordinator render: <stdin>:2:3: unclosed block: {{#if}} has no {{/if}}\n");
	r = RUN(NULL, "{{> nowhere}}", "render", "--stdin");
	ck_assert_int_eq(r->code, 1);
	ck_assert_str_eq(r->err, "wf-coordinator render: <stdin>:1:1: partial \"nowhere\" not found\n");

	/* A broken template in the folder fails every render, with its file. */
	put("tpl/t/subject.hbs", "s");
	put("tpl/t/text.hbs", "t");
	put("tpl/t/html.hbs", "<p>\n\n    {{/each}}</p>");
	{
		char dir[128], want[256];

		snprintf(dir, sizeof(dir), "%s/tpl", tmp);
		snprintf(want, sizeof(want), "wf-coordinator render: %s/t/html.hbs:3:5: {{/each}} closes no open block\n",
			 dir);
		r = RUN(dir, NULL, "render", "t");
		ck_assert_int_eq(r->code, 1);
		ck_assert_str_eq(r->err, want);
	}
}
END_TEST

START_TEST(bad_context_exits_1)
{
	const char *bad = put("bad.json", "{\"user\": ");
	result_t *r = RUN(NULL, NULL, "render", "united_welcome", bad);
	char want[256];

	ck_assert_int_eq(r->code, 1);
	snprintf(want, sizeof(want), "wf-coordinator render: %s: invalid JSON at byte 8\n", bad);
	ck_assert_str_eq(r->err, want);
	r = RUN(NULL, NULL, "render", "united_welcome", "/nonexistent/ctx.json");
	ck_assert_int_eq(r->code, 1);
	ck_assert_str_eq(r->err, "wf-coordinator render: could not read \"/nonexistent/ctx.json\": No such file or directory\n");
}
END_TEST

START_TEST(bad_usage_exits_2)
{
	result_t *r = RUN(NULL, NULL, "render");

	ck_assert_int_eq(r->code, 2);
	ck_assert_ptr_nonnull(strstr(r->err, "usage: wf-coordinator render <template> [context.json]"));
	ck_assert_int_eq(RUN(NULL, NULL, "render", "a", "b", "c")->code, 2);
	ck_assert_int_eq(RUN(NULL, NULL, "render", "--bogus")->code, 2);
	ck_assert_int_eq(RUN(NULL, "x", "render", "--stdin", "-")->code, 2);
	r = RUN(NULL, NULL, "render", "--help");
	ck_assert_int_eq(r->code, 0);
	ck_assert_ptr_nonnull(strstr(r->out, "usage: wf-coordinator render"));
}
END_TEST

START_TEST(missing_templates_dir_exits_1)
{
	result_t *r = RUN("/nonexistent/templates", NULL, "render", "united_welcome");

	ck_assert_int_eq(r->code, 1);
	ck_assert_str_eq(r->err, "wf-coordinator render: could not read the template folder "
				 "\"/nonexistent/templates\": No such file or directory\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("render");
	TCase *tc = tcase_create("render");

	/* RUNNER_MAIN has no fixtures; every test here needs its own scratch folder. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, renders_the_three_parts);
	tcase_add_test(tc, context_defaults_to_empty);
	tcase_add_test(tc, context_from_stdin);
	tcase_add_test(tc, stdin_template_prints_only_the_result);
	tcase_add_test(tc, unknown_template_exits_1);
	tcase_add_test(tc, syntax_errors_exit_1_with_their_position);
	tcase_add_test(tc, bad_context_exits_1);
	tcase_add_test(tc, bad_usage_exits_2);
	tcase_add_test(tc, missing_templates_dir_exits_1);
	suite_add_tcase(s, tc);
	return runner_run(s);
}
