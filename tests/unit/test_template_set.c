/*
 * test_template_set.c - loading a template folder: the layout, the first
 * error with its file:line:col, partials checked across files, and
 * rendering an email's three parts (escaping per part, the subject folded
 * to one line).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"
#include "scratch.h"
#include "template_set.h"

static char root[64];

static void make_root(void)
{
	scratch_make(root, sizeof(root));
}

static void cleanup(void)
{
	scratch_remove(root);
}

static void put(const char *rel, const char *text)
{
	scratch_put(root, rel, text, NULL, 0);
}

static void put_email(const char *name, const char *subject, const char *text, const char *html)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "%s/subject.hbs", name);
	put(rel, subject);
	snprintf(rel, sizeof(rel), "%s/text.hbs", name);
	put(rel, text);
	snprintf(rel, sizeof(rel), "%s/html.hbs", name);
	put(rel, html);
}

/* Loading root fails, and the message is "<root>/" + want. */
static void expect_load_error(int code, const char *want)
{
	tpl_set_t *set = (tpl_set_t *)1;
	char err[512] = "", full[512];

	snprintf(full, sizeof(full), "%s/%s", root, want);
	ck_assert_int_eq(tpl_set_load(root, &set, err, sizeof(err)), code);
	ck_assert_ptr_null(set);
	ck_assert_msg(strcmp(err, full) == 0, "got \"%s\", expected \"%s\"", err, full);
}

START_TEST(loads_the_layout)
{
	tpl_set_t *set;
	const tpl_email_t *e;
	char err[512];

	make_root();
	put("partials/sig.hbs", "-- {{team}}");
	put("partials/.hidden.hbs", "{{#if");
	put("partials/notes.txt", "ignored");
	put("README.md", "not a template");
	put_email("welcome", "Hi {{name}}", "Hello {{name}}\n{{> sig}}\n", "<p>{{name}}</p>{{> sig}}");
	put_email("bye", "Bye", "bye", "<p>bye</p>");
	ck_assert_msg(tpl_set_load(root, &set, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(tpl_set_count(set), 2);
	ck_assert_str_eq(tpl_set_at(set, 0)->name, "bye");
	ck_assert_str_eq(tpl_set_at(set, 1)->name, "welcome");
	ck_assert_ptr_null(tpl_set_at(set, 2));
	e = tpl_set_find(set, "welcome");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->name, "welcome");
	ck_assert_ptr_nonnull(e->subject);
	ck_assert_ptr_null(tpl_set_find(set, "nope"));
	ck_assert_ptr_nonnull(tpl_set_partial(set, "sig"));
	ck_assert_ptr_null(tpl_set_partial(set, ".hidden"));
	tpl_set_free(set);
	cleanup();
}
END_TEST

START_TEST(renders_three_parts_with_their_escaping)
{
	tpl_set_t *set;
	tpl_rendered_t r;
	cJSON *data = cJSON_Parse("{\"name\":\"Tom & <Jerry>\",\"team\":\"us\"}");
	char err[512];

	make_root();
	put("partials/sig.hbs", "-- {{team}}");
	put_email("welcome", "Hi {{name}}", "Hello {{name}}\n{{> sig}}\n", "<p>{{name}}</p>{{> sig}}");
	ck_assert_int_eq(tpl_set_load(root, &set, err, sizeof(err)), 0);
	ck_assert_int_eq(tpl_render_email(set, "welcome", data, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.subject, "Hi Tom & <Jerry>");
	/* The standalone {{> sig}} takes its line's newline with it, as in Handlebars. */
	ck_assert_str_eq(r.text, "Hello Tom & <Jerry>\n-- us");
	ck_assert_str_eq(r.html, "<p>Tom &amp; &lt;Jerry&gt;</p>-- us");
	tpl_rendered_free(&r);
	ck_assert_ptr_null(r.subject);
	tpl_rendered_free(&r);
	tpl_rendered_free(NULL);
	tpl_set_free(set);
	cJSON_Delete(data);
	cleanup();
}
END_TEST

START_TEST(subject_is_folded_to_one_line)
{
	tpl_set_t *set;
	tpl_rendered_t r;
	cJSON *data = cJSON_Parse("{\"name\":\"Eve\\r\\nBcc: victim@example.com\\t\\n\"}");
	char err[512];

	make_root();
	put_email("t", "\n  Hello\n  {{#if name}}\n  {{name}}  \n  {{/if}}\n", "t", "h");
	ck_assert_int_eq(tpl_set_load(root, &set, err, sizeof(err)), 0);
	ck_assert_int_eq(tpl_render_email(set, "t", data, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.subject, "Hello Eve Bcc: victim@example.com");
	tpl_rendered_free(&r);
	tpl_set_free(set);
	cJSON_Delete(data);
	cleanup();
}
END_TEST

START_TEST(unknown_template_is_enoent)
{
	tpl_set_t *set;
	tpl_rendered_t r;
	char err[512];

	make_root();
	put_email("t", "s", "t", "h");
	ck_assert_int_eq(tpl_set_load(root, &set, err, sizeof(err)), 0);
	ck_assert_int_eq(tpl_render_email(set, "nope", NULL, &r, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "unknown template \"nope\"");
	ck_assert_ptr_null(r.subject);
	ck_assert_ptr_null(r.text);
	ck_assert_ptr_null(r.html);
	tpl_set_free(set);
	cleanup();
}
END_TEST

START_TEST(syntax_errors_name_the_file)
{
	make_root();
	put_email("a_first", "ok", "ok", "ok");
	put_email("b_broken", "ok", "line 1\n  line 2 {{#each items}}\n", "ok");
	put_email("c_also_broken", "{{#if", "ok", "ok");
	/* The first in name order, the same on every run. */
	expect_load_error(-EINVAL, "b_broken/text.hbs:2:10: unclosed block: {{#each}} has no {{/each}}");
	cleanup();
	make_root();
	put("partials/p.hbs", "ok\n\n   {{/if}}");
	put_email("t", "s", "t", "h");
	expect_load_error(-EINVAL, "partials/p.hbs:3:4: {{/if}} closes no open block");
	cleanup();
}
END_TEST

/* A file saved as Latin-1 fails the load, naming the file and the byte's place. */
START_TEST(invalid_utf8_fails_the_load)
{
	make_root();
	put_email("generic_welcome", "Caf\xe9 news", "ok", "ok");
	expect_load_error(-EINVAL, "generic_welcome/subject.hbs:1:4: invalid UTF-8 (byte 0xE9)");
	cleanup();
	make_root();
	put("partials/footer.hbs", "\xa9 2026");
	put_email("t", "s", "t", "h");
	expect_load_error(-EINVAL, "partials/footer.hbs:1:1: invalid UTF-8 (byte 0xA9)");
	cleanup();
}
END_TEST

START_TEST(missing_partials_fail_the_load)
{
	make_root();
	put("partials/p.hbs", "{{> q}}");
	put("partials/q.hbs", "Q");
	put_email("t", "s", "t", "<p>\n  {{> header}}\n</p>");
	expect_load_error(-EINVAL, "t/html.hbs:2:3: partial \"header\" not found");
	cleanup();
	make_root();
	put("partials/p.hbs", "x {{> nowhere}}");
	put_email("t", "s", "t", "h");
	expect_load_error(-EINVAL, "partials/p.hbs:1:3: partial \"nowhere\" not found");
	cleanup();
}
END_TEST

START_TEST(partials_may_call_each_other)
{
	tpl_set_t *set;
	tpl_rendered_t r;
	cJSON *data = cJSON_Parse("{\"n\":{\"n\":{\"n\":{}}}}");
	char err[512];

	/* Mutual recursion: b is compiled after a uses it, and it terminates on the data. */
	make_root();
	put("partials/a.hbs", "a{{#if n}}{{> b n}}{{/if}}");
	put("partials/b.hbs", "b{{#if n}}{{> a n}}{{/if}}");
	put_email("t", "{{> a}}", "{{> b}}", "h");
	ck_assert_msg(tpl_set_load(root, &set, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(tpl_render_email(set, "t", data, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.subject, "abab");
	ck_assert_str_eq(r.text, "baba");
	tpl_rendered_free(&r);
	tpl_set_free(set);
	cJSON_Delete(data);
	cleanup();
}
END_TEST

START_TEST(layout_mistakes_are_errors)
{
	make_root();
	put("t/subject.hbs", "s");
	put("t/html.hbs", "h");
	expect_load_error(-ENOENT, "t/text.hbs: missing (a template has subject.hbs, text.hbs and html.hbs)");
	cleanup();

	make_root();
	put_email("t", "s", "t", "h");
	put("t/body.hbs", "typo");
	expect_load_error(-EINVAL, "t/body.hbs: unknown part (a template has subject.hbs, text.hbs and html.hbs)");
	cleanup();

	make_root();
	put_email("t", "s", "t", "h");
	put("welcome.hbs", "flat file");
	{
		char want[256];

		snprintf(want, sizeof(want), "welcome.hbs: a template is a folder (%s/<name>/subject.hbs, text.hbs, html.hbs)",
			 root);
		expect_load_error(-EINVAL, want);
	}
	cleanup();

	make_root();
	put_email("bad name", "s", "t", "h");
	expect_load_error(-EINVAL, "bad name: a template's name may use only letters, digits, _ and -");
	cleanup();
}
END_TEST

START_TEST(folder_errors)
{
	tpl_set_t *set = (tpl_set_t *)1;
	char err[512];

	ck_assert_int_eq(tpl_set_load("/nonexistent/templates", &set, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_null(set);
	ck_assert_str_eq(err, "could not read the template folder \"/nonexistent/templates\": No such file or directory");
	make_root();
	put("partials/p.hbs", "only a partial");
	ck_assert_int_eq(tpl_set_load(root, &set, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "no templates in") != NULL, "%s", err);
	cleanup();
}
END_TEST

START_TEST(default_dir_is_a_template_folder)
{
	const char *dir = tpl_default_dir();
	tpl_set_t *set;
	char err[512];

	ck_assert_ptr_nonnull(dir);
	ck_assert_msg(dir[0] == '/', "not absolute: %s", dir);
	ck_assert_msg(tpl_set_load(dir, &set, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(tpl_set_find(set, "united_welcome"));
	tpl_set_free(set);
}
END_TEST

START_TEST(read_file_limits)
{
	char *text, err[256];
	size_t len;

	make_root();
	put("f", "12345");
	snprintf(err, sizeof(err), "%s/f", root);
	ck_assert_int_eq(tpl_read_file(err, 5, &text, &len, err, sizeof(err)), 0);
	ck_assert_str_eq(text, "12345");
	ck_assert_uint_eq(len, 5);
	free(text);
	snprintf(err, sizeof(err), "%s/f", root);
	ck_assert_int_eq(tpl_read_file(err, 4, &text, &len, err, sizeof(err)), -EFBIG);
	ck_assert_ptr_null(text);
	cleanup();
}
END_TEST

RUNNER_MAIN("template_set", 30, loads_the_layout, renders_three_parts_with_their_escaping,
	    subject_is_folded_to_one_line, unknown_template_is_enoent, syntax_errors_name_the_file,
	    invalid_utf8_fails_the_load, missing_partials_fail_the_load, partials_may_call_each_other, layout_mistakes_are_errors,
	    folder_errors, default_dir_is_a_template_folder, read_file_limits)
