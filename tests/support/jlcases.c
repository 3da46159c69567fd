/*
 * jlcases.c - loading and comparing the official JSON Logic test suite.
 */
#include "jlcases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static char *path_of_cases(void)
{
	const char *dir = getenv("WF_SHARED_DATA");
	char *path;

	if (dir == NULL || *dir == '\0')
		return NULL;
	path = malloc(strlen(dir) + 32);
	if (path == NULL)
		abort();
	sprintf(path, "%s/jsonlogic-tests.json", dir);
	return path;
}

cJSON *jlcases_load(void)
{
	char *path = path_of_cases();
	FILE *f = path ? fopen(path, "rb") : NULL;
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	cJSON *cases = NULL;

	free(path);
	if (f == NULL)
		return NULL;
	do {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			text = realloc(text, cap);
			if (text == NULL)
				abort();
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	cases = cJSON_ParseWithLength(text, len);
	free(text);
	return cases;
}

bool jlcases_equal(const cJSON *a, const cJSON *b)
{
	int ta = a->type & 0xff, tb = b->type & 0xff;
	int na = 0, nb = 0;

	if (ta != tb)
		return false;
	switch (ta) {
	case cJSON_Number:
		return a->valuedouble == b->valuedouble;
	case cJSON_String:
		return strcmp(a->valuestring, b->valuestring) == 0;
	case cJSON_Array:
		for (a = a->child, b = b->child; a && b; a = a->next, b = b->next)
			if (!jlcases_equal(a, b))
				return false;
		return a == NULL && b == NULL;
	case cJSON_Object:
		for (const cJSON *m = a->child; m; m = m->next, na++) {
			const cJSON *other = cJSON_GetObjectItemCaseSensitive(b, m->string);

			if (other == NULL || !jlcases_equal(m, other))
				return false;
		}
		for (const cJSON *m = b->child; m; m = m->next)
			nb++;
		return na == nb;
	default:
		return true; /* null, true, false: the type says it all */
	}
}

void jlcases_run(const char *path, jlcases_check_fn check)
{
	cJSON *cases = jlcases_load();
	const cJSON *tc;
	char failures[4096] = "";
	int total = 0, failed = 0;

	ck_assert_ptr_nonnull(cases);
	cJSON_ArrayForEach(tc, cases) {
		char got[1024] = "";

		if (!cJSON_IsArray(tc))
			continue; /* a section heading */
		total++;
		if (!check(cJSON_GetArrayItem(tc, 0), cJSON_GetArrayItem(tc, 1), cJSON_GetArrayItem(tc, 2),
			   got, sizeof(got))) {
			char *text = cJSON_PrintUnformatted(tc);
			size_t used = strlen(failures);

			if (++failed <= 5 && used < sizeof(failures))
				snprintf(failures + used, sizeof(failures) - used, "\n  %.300s gave %.300s", text,
					 got);
			free(text);
		}
	}
	cJSON_Delete(cases);
	printf("official JSON Logic suite (%s): %d of %d cases pass\n", path, total - failed, total);
	ck_assert_msg(total == 277, "expected 277 cases in the file, found %d", total);
	ck_assert_msg(failed == 0, "%d of %d cases failed:%s", failed, total, failures);
}

int jlcases_main(const char *name, double timeout_s, const TTest *const *tests, size_t n)
{
	char *path = path_of_cases();
	FILE *f = path ? fopen(path, "rb") : NULL;

	if (f == NULL) {
		printf("SKIP: the official JSON Logic test suite is not at %s "
		       "(WF_SHARED_DATA/jsonlogic-tests.json, normally ../shared/data of the project)\n",
		       path ? path : "$WF_SHARED_DATA (not set)");
		free(path);
		return 77;
	}
	fclose(f);
	free(path);
	return runner_run(runner_suite(name, timeout_s, tests, n));
}
