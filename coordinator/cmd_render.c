/*
 * cmd_render.c - `wf-coordinator render`: preview email templates offline.
 *
 *   wf-coordinator render <template> [context.json]   subject, text and HTML
 *   wf-coordinator render --stdin [context.json]       template text from stdin
 *
 * It renders exactly as the workers do (the same set, loaded from
 * TEMPLATES_DIR, the same escaping per part), so what a user previews is what
 * is sent. It needs no database. The context defaults to {}; "-" reads it
 * from standard input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "template.h"
#include "template_set.h"

/* The largest context file accepted; contexts are a few kilobytes. */
#define CONTEXT_MAX ((size_t)16 << 20)

static int usage(FILE *out, int code)
{
	fprintf(out, "usage: wf-coordinator render <template> [context.json]\n"
		     "       wf-coordinator render --stdin [context.json]\n"
		     "Renders an email template of TEMPLATES_DIR (subject, text and HTML parts),\n"
		     "or template text read from standard input (partials of TEMPLATES_DIR\n"
		     "available), with the JSON context of the file (\"-\": standard input;\n"
		     "default {}).\n");
	return code;
}

static int fail(const char *msg)
{
	fprintf(stderr, "wf-coordinator render: %s\n", msg);
	return 1;
}

static cJSON *load_context(const char *path, char *err, size_t errlen)
{
	char *text, msg[256];
	size_t len;
	cJSON *data;

	if (path == NULL)
		return json_object();
	if (tpl_read_file(strcmp(path, "-") == 0 ? NULL : path, CONTEXT_MAX, &text, &len, err,
			  errlen) < 0)
		return NULL;
	data = json_parse(text, len, msg, sizeof(msg));
	if (data == NULL)
		snprintf(err, errlen, "%s: %s", path, msg);
	free(text);
	return data;
}

/* The names of the set, for the message about an unknown one. */
static void list_templates(const tpl_set_t *set, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < tpl_set_count(set) && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", tpl_set_at(set, i)->name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void print_part(const char *title, const char *text)
{
	size_t len = strlen(text);

	printf("--- %s ---\n", title);
	fwrite(text, 1, len, stdout);
	if (len == 0 || text[len - 1] != '\n')
		putchar('\n');
}

static int render_named(const tpl_set_t *set, const char *dir, const char *name,
			const cJSON *data)
{
	tpl_rendered_t email;
	char err[1024];

	if (tpl_set_find(set, name) == NULL) {
		char names[512], msg[1024];

		list_templates(set, names, sizeof(names));
		snprintf(msg, sizeof(msg), "unknown template \"%s\" in %s (there: %s)", name, dir, names);
		return fail(msg);
	}
	if (tpl_render_email(set, name, data, &email, err, sizeof(err)) < 0)
		return fail(err);
	print_part("subject", email.subject);
	print_part("text", email.text);
	print_part("html", email.html);
	tpl_rendered_free(&email);
	return 0;
}

static int render_stdin(const tpl_set_t *set, const cJSON *data)
{
	char err[1024], *text, *out;
	size_t len;
	tpl_t *tpl;
	int rc;

	if (tpl_read_file(NULL, TPL_MAX_SOURCE, &text, &len, err, sizeof(err)) < 0)
		return fail(err);
	rc = tpl_compile(text, len, "<stdin>", set, &tpl, err, sizeof(err));
	free(text);
	if (rc < 0)
		return fail(err);
	rc = tpl_render(tpl, data, set, NULL, &out, err, sizeof(err));
	tpl_free(tpl);
	if (rc < 0)
		return fail(err);
	fwrite(out, 1, strlen(out), stdout);
	free(out);
	return 0;
}

int cmd_render(const wf_config_t *cfg, int argc, char **argv)
{
	const char *dir = cfg->templates_dir && *cfg->templates_dir ? cfg->templates_dir
								     : tpl_default_dir();
	const char *name, *context;
	bool from_stdin;
	tpl_set_t *set;
	cJSON *data;
	char err[1024];
	int rc;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return usage(stdout, 0);
	if (argc < 2 || argc > 3 || (argv[1][0] == '-' && strcmp(argv[1], "--stdin") != 0))
		return usage(stderr, 2);
	from_stdin = strcmp(argv[1], "--stdin") == 0;
	name = argv[1];
	context = argc == 3 ? argv[2] : NULL;
	if (from_stdin && context && strcmp(context, "-") == 0) {
		fprintf(stderr, "wf-coordinator render: --stdin reads the template; the context must be a file\n");
		return 2;
	}
	data = load_context(context, err, sizeof(err));
	if (data == NULL)
		return fail(err);
	if (tpl_set_load(dir, &set, err, sizeof(err)) < 0) {
		cJSON_Delete(data);
		return fail(err);
	}
	rc = from_stdin ? render_stdin(set, data) : render_named(set, dir, name, data);
	if (fflush(stdout) != 0 && rc == 0)
		rc = fail(strerror(errno));
	tpl_set_free(set);
	cJSON_Delete(data);
	return rc;
}
