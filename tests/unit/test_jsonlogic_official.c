/*
 * test_jsonlogic_official.c - the official JSON Logic test suite of
 * jsonlogic.com, every case through jl_apply(), jl_test() and jl_validate().
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "jlcases.h"
#include "jsonlogic.h"

static bool check_case(const cJSON *rule, const cJSON *data, const cJSON *expected, char *got,
		       size_t gotlen)
{
	cJSON *result = jl_apply(rule, data, NULL, got, gotlen);
	char *text;
	bool truth = false, ok;

	if (result == NULL)
		return false;
	text = jl_to_json(result);
	snprintf(got, gotlen, "%s", text);
	ok = jlcases_equal(result, expected);
	free(text);
	cJSON_Delete(result);
	if (ok && (jl_test(rule, data, NULL, &truth, got, gotlen) != 0 || truth != jl_truthy(expected))) {
		snprintf(got, gotlen, "a different truth in jl_test");
		ok = false;
	}
	/* Every rule of the suite is valid. */
	return ok && jl_validate(rule, got, gotlen) == 0;
}

START_TEST(every_case_passes_through_the_c_api)
{
	jlcases_run("C API", check_case);
}
END_TEST

JLCASES_MAIN("jsonlogic_official", 60, every_case_passes_through_the_c_api)
