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

START_TEST(every_case_passes_through_eval)
{
	cJSON *cases = jlcases_load();
	const cJSON *tc;
	char failures[4096] = "";
	int total = 0, failed = 0;

	ck_assert_ptr_nonnull(cases);
	cJSON_ArrayForEach(tc, cases) {
		char *rule, *data, out[8192];
		const char *args[4];
		cJSON *got = NULL;
		char *nl;
		int code;

		if (!cJSON_IsArray(tc))
			continue;
		total++;
		rule = cJSON_PrintUnformatted(cJSON_GetArrayItem(tc, 0));
		data = cJSON_PrintUnformatted(cJSON_GetArrayItem(tc, 1));
		args[0] = "eval";
		args[1] = rule;
		args[2] = data;
		args[3] = NULL;
		code = proc_run("WF_COORDINATOR", args, NULL, NULL, out, sizeof(out));
		/* One line of JSON, and nothing after it. */
		nl = strchr(out, '\n');
		if (code == 0 && nl != NULL && nl[1] == '\0')
			got = cJSON_Parse(out);
		if (got == NULL || !jlcases_equal(got, cJSON_GetArrayItem(tc, 2))) {
			size_t used = strlen(failures);

			if (++failed <= 5 && used < sizeof(failures))
				snprintf(failures + used, sizeof(failures) - used,
					 "\n  eval '%.300s' '%.300s' exited %d with \"%.300s\"", rule, data, code, out);
		}
		cJSON_Delete(got);
		free(rule);
		free(data);
	}
	cJSON_Delete(cases);
	printf("official JSON Logic suite (wf-coordinator eval): %d of %d cases pass\n",
	       total - failed, total);
	ck_assert_msg(total == 277, "expected 277 cases in the file, found %d", total);
	ck_assert_msg(failed == 0, "%d of %d cases failed:%s", failed, total, failures);
}
END_TEST

JLCASES_MAIN("eval_official", 280, every_case_passes_through_eval)
