/*
 * fuzz_template.c - libFuzzer target for the template compiler and renderer.
 *
 * An input is up to three parts separated by NUL bytes: the template text,
 * the text of a partial named "p" (which may call itself), and the JSON
 * data; a missing or unparsable data part renders against a fixed object
 * with one value of every kind. Besides the sanitizers' findings, a broken
 * contract aborts: an error without a file:line:col message, output past
 * the cap, or a result and an error at once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "template_set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fallback_data[] =
	"{\"s\":\"<a href='x'>&\\\"=`\",\"n\":-1.5e-7,\"z\":0,\"t\":true,\"f\":false,\"nul\":null,"
	"\"a\":[1,\"two\",[3,[4]],null,{\"k\":\"v\"}],\"e\":[],\"o\":{\"x\":{\"y\":{\"z\":\"deep\"}},\"a\":[]},"
	"\"eo\":{},\"next\":{\"next\":{\"next\":{}}}}";

/* Where the next NUL is, or end. */
static size_t part_end(const uint8_t *data, size_t from, size_t size)
{
	const uint8_t *nul = from < size ? memchr(data + from, '\0', size - from) : NULL;

	return nul ? (size_t)(nul - data) : size;
}

static void check_compile_error(int rc, const char *err, const char *file)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "%s:", file);
	/* Every compile error is a syntax error with a position in the named file. */
	if (rc != -EINVAL || strncmp(err, prefix, strlen(prefix)) != 0)
		abort();
}

static void render(const tpl_t *tpl, const cJSON *json, const tpl_set_t *set, bool no_escape)
{
	const tpl_options_t opts = {
		.no_escape = no_escape,
		.max_output = 1 << 16,
		.max_partial_depth = 8,
		.max_steps = 100000,
	};
	char err[512] = "", *out = (char *)"unset";
	int rc = tpl_render(tpl, json, set, &opts, &out, err, sizeof(err));

	if (rc == 0) {
		if (out == NULL || strlen(out) > opts.max_output)
			abort();
		free(out);
	} else if (out != NULL || err[0] == '\0' ||
		   (rc != -EFBIG && rc != -ELOOP && rc != -ETIMEDOUT)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t a = part_end(data, 0, size);
	size_t b = part_end(data, a + 1, size);
	const char *text = (const char *)data;
	tpl_set_t *set;
	tpl_t *tpl;
	cJSON *json = NULL;
	char err[512] = "";
	int rc;

	tpl_set_new(&set);
	if (a < size) {
		rc = tpl_set_add_partial(set, "p", text + a + 1, b - a - 1, "p.hbs", err, sizeof(err));
		if (rc < 0)
			check_compile_error(rc, err, "p.hbs");
	}
	if (b < size)
		json = cJSON_ParseWithLength(text + b + 1, size - b - 1);
	if (json == NULL)
		json = cJSON_Parse(fallback_data);
	rc = tpl_compile(text, a, "fuzz.hbs", set, &tpl, err, sizeof(err));
	if (rc == 0) {
		render(tpl, json, set, false);
		render(tpl, json, set, true);
		tpl_free(tpl);
	} else {
		check_compile_error(rc, err, "fuzz.hbs");
	}
	cJSON_Delete(json);
	tpl_set_free(set);
	return 0;
}
