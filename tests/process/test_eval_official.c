/*
 * test_eval_official.c - the official JSON Logic test suite of jsonlogic.com
 * through the real binary: `wf-coordinator eval '<rule>' '<data>'` for every
 * case, its output read back as JSON.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jlcases.h"
#include "proc.h"

static bool check_case(const cJSON *rule, const cJSON *data, const cJSON *expected, char *got,
		       size_t gotlen)
{
	char *rule_text = cJSON_PrintUnformatted(rule), *data_text = cJSON_PrintUnformatted(data);
	const char *args[] = { "eval", rule_text, data_text, NULL };
	cJSON *result = NULL;
	char *nl;
	int code = proc_run("WF_COORDINATOR", args, NULL, NULL, got, gotlen);
	bool ok;

	/* One line of JSON, and nothing after it. */
	nl = strchr(got, '\n');
	if (code == 0 && nl != NULL && nl[1] == '\0')
		result = cJSON_Parse(got);
	ok = result != NULL && jlcases_equal(result, expected);
	if (code != 0)
		snprintf(got, gotlen, "exit %d", code);
	cJSON_Delete(result);
	free(rule_text);
	free(data_text);
	return ok;
}

START_TEST(every_case_passes_through_eval)
{
	jlcases_run("wf-coordinator eval", check_case);
}
END_TEST

JLCASES_MAIN("eval_official", 280, every_case_passes_through_eval)
