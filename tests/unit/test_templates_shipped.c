/*
 * test_templates_shipped.c - the six emails in templates/: they load, and
 * every part renders well with the context the engine passes, with a
 * minimal one (no name), and with hostile values.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"
#include "template_set.h"

static const char *const names[] = {
	"engagement_nudge", "generic_welcome", "newsletter_welcome",
	"podcast_welcome", "united_welcome", "value_highlight",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

/* As an href: Handlebars escapes = and & (both decode back in an attribute). */
#define UNSUBSCRIBE_HREF "href=\"https://lifecycle.example.com/unsubscribe?token&#x3D;t0k&amp;id&#x3D;42\""
#define UNSUBSCRIBE_RAW "https://lifecycle.example.com/unsubscribe?token=t0k&id=42"

static tpl_set_t *shipped(void)
{
	const char *src = getenv("WF_SOURCE_ROOT");
	char dir[512], err[512];
	tpl_set_t *set;

	ck_assert_msg(src != NULL, "WF_SOURCE_ROOT is not set (run through meson test)");
	snprintf(dir, sizeof(dir), "%s/templates", src);
	ck_assert_msg(tpl_set_load(dir, &set, err, sizeof(err)) == 0, "%s", err);
	return set;
}

static bool is_newsletter(const char *name)
{
	return strcmp(name, "newsletter_welcome") == 0;
}

/* The trigger context of the template's source plus the keys the engine adds. */
static cJSON *context(const char *name, const char *user_json)
{
	char json[2048];
	cJSON *data;

	if (is_newsletter(name))
		snprintf(json, sizeof(json),
			 "{\"user\":%s,\"newsletter\":{\"id\":7,\"email\":\"reader@example.org\","
			 "\"name\":\"\",\"created_at\":\"2026-11-27T14:36:22Z\"},"
			 "\"execution\":{\"id\":\"0b6f3c1e-5d2a-4f0e-9a51-2c8d7e6f1a3b\"},"
			 "\"unsubscribe_url\":\"" UNSUBSCRIBE_RAW "\"}",
			 user_json);
	else
		snprintf(json, sizeof(json),
			 "{\"user\":%s,\"subscription\":{\"id\":1001,\"created_at\":\"2026-11-27T14:36:22Z\","
			 "\"status\":\"active\"},\"subscription_type\":{\"id\":3,\"name\":\"%s\","
			 "\"description\":\"Everything we publish, ad-free.\"},"
			 "\"execution\":{\"id\":\"0b6f3c1e-5d2a-4f0e-9a51-2c8d7e6f1a3b\"},"
			 "\"unsubscribe_url\":\"" UNSUBSCRIBE_RAW "\"}",
			 user_json,
			 strcmp(name, "podcast_welcome") == 0 ? "podcast"
			 : strcmp(name, "generic_welcome") == 0 ? "gardening weekly" : "united");
	data = cJSON_Parse(json);
	ck_assert_msg(data != NULL, "bad test JSON: %s", json);
	return data;
}

static const char *const realistic_user =
	"{\"id\":42,\"email\":\"ada@example.com\",\"name\":\"Ada\",\"engaged\":false,"
	"\"attributes\":{\"plan\":\"annual\",\"country\":\"GB\"}}";

/* What every rendered email must satisfy, whatever the data. */
static void check_email(const char *name, const tpl_rendered_t *r)
{
	const char *const parts[] = { r->subject, r->text, r->html };

	for (int i = 0; i < 3; i++) {
		ck_assert_msg(parts[i] && strlen(parts[i]) > 0, "%s: part %d is empty", name, i);
		/* Missing values render empty; nothing JavaScript-ish leaks through. */
		ck_assert_msg(strstr(parts[i], "[object Object]") == NULL, "%s: object printed", name);
		ck_assert_msg(strstr(parts[i], "undefined") == NULL, "%s: undefined printed", name);
	}
	ck_assert_msg(strpbrk(r->subject, "\r\n\t") == NULL, "%s: subject \"%s\" is not one line", name,
		      r->subject);
	ck_assert_msg(r->subject[0] != ' ' && r->subject[strlen(r->subject) - 1] != ' ',
		      "%s: subject \"%s\" has outer spaces", name, r->subject);
	ck_assert_msg(strlen(r->subject) < 120, "%s: subject too long", name);
	ck_assert_msg(strstr(r->text, "Unsubscribe") && strstr(r->text, UNSUBSCRIBE_RAW),
		      "%s: no unsubscribe link in the text part", name);
	ck_assert_msg(strstr(r->html, UNSUBSCRIBE_HREF) != NULL, "%s: no unsubscribe link in the HTML part",
		      name);
	ck_assert_msg(strncmp(r->html, "<!DOCTYPE html>", 15) == 0, "%s: HTML does not start with a doctype", name);
	ck_assert_msg(strstr(r->html, "</html>") != NULL, "%s: HTML is not closed", name);
	/* Plain inline CSS only: no stylesheets, scripts, images, fonts or CDNs. */
	ck_assert_msg(strstr(r->html, "<style") == NULL && strstr(r->html, "<link") == NULL &&
			      strstr(r->html, "<script") == NULL && strstr(r->html, "<img") == NULL &&
			      strstr(r->html, "@import") == NULL && strstr(r->html, "url(") == NULL,
		      "%s: HTML loads something", name);
}

static tpl_rendered_t render(const tpl_set_t *set, const char *name, const char *user_json)
{
	cJSON *data = context(name, user_json);
	tpl_rendered_t r;
	char err[512];

	ck_assert_msg(tpl_render_email(set, name, data, &r, err, sizeof(err)) == 0, "%s: %s", name, err);
	cJSON_Delete(data);
	check_email(name, &r);
	return r;
}

START_TEST(all_six_load)
{
	tpl_set_t *set = shipped();

	ck_assert_uint_eq(tpl_set_count(set), NNAMES);
	for (size_t i = 0; i < NNAMES; i++)
		ck_assert_msg(tpl_set_find(set, names[i]) != NULL, "%s missing", names[i]);
	tpl_set_free(set);
}
END_TEST

START_TEST(realistic_context)
{
	tpl_set_t *set = shipped();

	for (size_t i = 0; i < NNAMES; i++) {
		tpl_rendered_t r = render(set, names[i], realistic_user);

		ck_assert_msg(strstr(r.text, "Hi Ada,") && strstr(r.html, "Hi Ada,"),
			      "%s: not greeted by name", names[i]);
		tpl_rendered_free(&r);
	}
	tpl_set_free(set);
}
END_TEST

START_TEST(minimal_context_without_a_name)
{
	tpl_set_t *set = shipped();

	for (size_t i = 0; i < NNAMES; i++) {
		tpl_rendered_t r = render(set, names[i], is_newsletter(names[i]) ? "null"
						    : "{\"id\":42,\"email\":\"ada@example.com\"}");

		ck_assert_msg(strstr(r.text, "Hi there,") && strstr(r.html, "Hi there,"),
			      "%s: no fallback greeting", names[i]);
		ck_assert_msg(strstr(r.subject, ", ,") == NULL && strstr(r.subject, " ,") == NULL,
			      "%s: subject \"%s\" has a hole", names[i], r.subject);
		tpl_rendered_free(&r);
	}
	tpl_set_free(set);
}
END_TEST

START_TEST(hostile_values_are_escaped_in_html)
{
	tpl_set_t *set = shipped();
	const char *hostile = "{\"id\":1,\"email\":\"a\\\"b@example.com\","
			      "\"name\":\"<script>alert('x')</script>\\r\\nBcc: victim@example.com\"}";

	for (size_t i = 0; i < NNAMES; i++) {
		tpl_rendered_t r = render(set, names[i], hostile);

		ck_assert_msg(strstr(r.html, "<script>") == NULL && strstr(r.html, "alert('x')") == NULL,
			      "%s: script in the HTML", names[i]);
		ck_assert_msg(strstr(r.html, "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") != NULL,
			      "%s: name not escaped", names[i]);
		ck_assert_msg(strstr(r.html, "a\"b@") == NULL, "%s: quote not escaped", names[i]);
		/* Subject and text are not HTML: the value is kept, but on one subject line. */
		ck_assert_msg(strstr(r.text, "<script>alert('x')</script>") != NULL, "%s: text part altered",
			      names[i]);
		if (strstr(r.subject, "script"))
			ck_assert_msg(strstr(r.subject, "</script> Bcc: victim@example.com") != NULL,
				      "%s: subject \"%s\"", names[i], r.subject);
		tpl_rendered_free(&r);
	}
	tpl_set_free(set);
}
END_TEST

START_TEST(generic_welcome_names_the_subscription_type)
{
	tpl_set_t *set = shipped();
	tpl_rendered_t r = render(set, "generic_welcome", realistic_user);

	ck_assert_str_eq(r.subject, "Welcome to gardening weekly, Ada");
	ck_assert_ptr_nonnull(strstr(r.text, "Thanks for subscribing to gardening weekly."));
	ck_assert_ptr_nonnull(strstr(r.html, "Everything we publish, ad-free."));
	tpl_rendered_free(&r);
	tpl_set_free(set);
}
END_TEST

START_TEST(empty_context_still_renders)
{
	tpl_set_t *set = shipped();
	cJSON *empty = cJSON_CreateObject();

	for (size_t i = 0; i < NNAMES; i++) {
		tpl_rendered_t r;
		char err[512];

		ck_assert_msg(tpl_render_email(set, names[i], empty, &r, err, sizeof(err)) == 0, "%s", err);
		ck_assert_msg(*r.subject && *r.text && *r.html, "%s: empty part", names[i]);
		tpl_rendered_free(&r);
	}
	cJSON_Delete(empty);
	tpl_set_free(set);
}
END_TEST

RUNNER_MAIN("templates_shipped", 30, all_six_load, realistic_context, minimal_context_without_a_name,
	    hostile_values_are_escaped_in_html, generic_welcome_names_the_subscription_type,
	    empty_context_still_renders)
