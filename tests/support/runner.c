/*
 * runner.c - runs a Check suite with the settings every test program shares.
 */
#include "runner.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

Suite *runner_suite(const char *name, double timeout_s, const TTest *const *tests, size_t n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create(name);

	for (size_t i = 0; i < n; i++)
		_tcase_add_test(tc, tests[i], 0, 0, 0, 1);
	/* CK_DEFAULT_TIMEOUT (set by meson) would override a smaller default. */
	tcase_set_timeout(tc, timeout_s);
	suite_add_tcase(s, tc);
	return s;
}

int runner_run(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
