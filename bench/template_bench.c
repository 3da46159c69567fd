/*
 * template_bench.c - wf-bench-template: how many united_welcome emails
 * (subject, text and HTML) one core renders per second.
 *
 *   wf-bench-template [templates_dir] [seconds]
 *
 * The folder defaults to TEMPLATES_DIR, else the default of the daemons; the
 * run to 3 seconds. The set is compiled once, as in the workers, and every
 * render is a whole email with the context the engine passes. Prints one
 * JSON line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "template_set.h"

static const char context[] =
	"{\"user\":{\"id\":42,\"email\":\"ada@example.com\",\"name\":\"Ada Lovelace\",\"engaged\":false,"
	"\"attributes\":{\"plan\":\"annual\",\"country\":\"GB\"}},"
	"\"subscription\":{\"id\":1001,\"user_id\":42,\"subscription_type_id\":1,"
	"\"created_at\":\"2026-11-27T14:36:22.123Z\",\"status\":\"active\"},"
	"\"subscription_type\":{\"id\":1,\"name\":\"united\","
	"\"description\":\"The premium membership: everything we publish, without ads.\"},"
	"\"execution\":{\"id\":\"0b6f3c1e-5d2a-4f0e-9a51-2c8d7e6f1a3b\"},"
	"\"unsubscribe_url\":\"https://lifecycle.example.com/unsubscribe?token=0b6f3c1e5d2a&id=42\"}";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("TEMPLATES_DIR");
	double seconds = argc > 2 ? atof(argv[2]) : 3.0, start, elapsed;
	unsigned long renders = 0;
	size_t bytes = 0;
	tpl_set_t *set;
	cJSON *data = cJSON_Parse(context);
	char err[1024];

	if (dir == NULL || *dir == '\0')
		dir = tpl_default_dir();
	if (seconds <= 0 || data == NULL) {
		fprintf(stderr, "usage: wf-bench-template [templates_dir] [seconds]\n");
		return 2;
	}
	if (tpl_set_load(dir, &set, err, sizeof(err)) < 0) {
		fprintf(stderr, "wf-bench-template: %s\n", err);
		return 1;
	}
	start = now_s();
	do {
		/* Check the clock every 64 emails; a render takes microseconds. */
		for (int i = 0; i < 64; i++) {
			tpl_rendered_t r;

			if (tpl_render_email(set, "united_welcome", data, &r, err, sizeof(err)) < 0) {
				fprintf(stderr, "wf-bench-template: %s\n", err);
				return 1;
			}
			bytes = strlen(r.subject) + strlen(r.text) + strlen(r.html);
			tpl_rendered_free(&r);
			renders++;
		}
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	printf("{\"bench\":\"template\",\"template\":\"united_welcome\",\"parts\":3,"
	       "\"renders_per_s\":%.0f,\"renders\":%lu,\"seconds\":%.3f,\"bytes_per_render\":%zu}\n",
	       renders / elapsed, renders, elapsed, bytes);
	tpl_set_free(set);
	cJSON_Delete(data);
	return 0;
}
