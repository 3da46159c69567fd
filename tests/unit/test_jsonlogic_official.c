/*
 * test_jsonlogic_official.c - the official JSON Logic test suite of
 * jsonlogic.com, every case through jl_apply(), jl_test() and jl_validate().
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jlcases.h"
#include "jsonlogic.h"

/* Appends a description of a failed case to the report (the first few only). */
static void report(char *out, size_t size, int failed, const cJSON *tc, const char *got)
{
	char *text = cJSON_PrintUnformatted(tc);
	size_t used = strlen(out);

	if (failed <= 5 && used < size)
		snprintf(out + used, size - used, "\n  %s gave %s", text, got);
	free(text);
}

START_TEST(every_case_passes_through_the_c_api)
{
	cJSON *cases = jlcases_load();
	const cJSON *tc;
	char failures[4096] = "";
	int total = 0, failed = 0;

	ck_assert_ptr_nonnull(cases);
	cJSON_ArrayForEach(tc, cases) {
		const cJSON *rule = cJSON_GetArrayItem(tc, 0), *data = cJSON_GetArrayItem(tc, 1);
		const cJSON *expected = cJSON_GetArrayItem(tc, 2);
		char err[256];
		cJSON *got;
		bool truth = false;

		if (!cJSON_IsArray(tc))
			continue; /* a section heading */
		total++;
		got = jl_apply(rule, data, NULL, err, sizeof(err));
		if (got == NULL) {
			report(failures, sizeof(failures), ++failed, tc, err);
			continue;
		}
		if (!jlcases_equal(got, expected)) {
			char *text = jl_to_json(got);

			report(failures, sizeof(failures), ++failed, tc, text);
			free(text);
		} else if (jl_test(rule, data, NULL, &truth, err, sizeof(err)) != 0 ||
			   truth != jl_truthy(expected)) {
			report(failures, sizeof(failures), ++failed, tc, "a different truth in jl_test");
		} else if (jl_validate(rule, err, sizeof(err)) != 0) {
			report(failures, sizeof(failures), ++failed, tc, err);
		}
		cJSON_Delete(got);
	}
	cJSON_Delete(cases);
	printf("official JSON Logic suite (C API): %d of %d cases pass\n", total - failed, total);
	ck_assert_msg(total == 277, "expected 277 cases in the file, found %d", total);
	ck_assert_msg(failed == 0, "%d of %d cases failed:%s", failed, total, failures);
}
END_TEST

JLCASES_MAIN("jsonlogic_official", 60, every_case_passes_through_the_c_api)
