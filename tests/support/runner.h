/*
 * runner.h - the main() of every Check test program.
 */
#ifndef WF_RUNNER_H
#define WF_RUNNER_H

#include <check.h>
#include <stddef.h>

/* A suite of one test case holding the tests, each with timeout_s seconds. */
Suite *runner_suite(const char *name, double timeout_s, const TTest *const *tests, size_t n);
/* Runs the suite and returns the exit code (0 when every test passed). */
int runner_run(Suite *suite);

/* RUNNER_MAIN("name", timeout, test_a, test_b, ...) defines main(). */
#define RUNNER_MAIN(name, timeout_s, ...)                                                   \
	int main(void)                                                                      \
	{                                                                                   \
		const TTest *const tests_[] = { __VA_ARGS__ };                              \
		return runner_run(runner_suite(name, timeout_s, tests_,                      \
					       sizeof(tests_) / sizeof(tests_[0])));          \
	}

#endif
