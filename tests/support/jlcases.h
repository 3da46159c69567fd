/*
 * jlcases.h - the official JSON Logic test suite (jsonlogic.com's tests.json)
 * for the tests that run it, through the C API and through `eval`.
 *
 * The file is not part of the project: it is read from $WF_SHARED_DATA
 * (tests/meson.build points it at ../shared/data). Where it is absent the
 * program says so and exits 77, which meson reports as a skip.
 */
#ifndef WF_JLCASES_H
#define WF_JLCASES_H

#include <check.h>
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The file's cases as a tree ([rule, data, expected] items and heading strings), or NULL. Caller frees. */
cJSON *jlcases_load(void);

/* Deep equality as the suite means it: numbers compared by value, object keys in any order. */
bool jlcases_equal(const cJSON *a, const cJSON *b);

/*
 * Checks one case: true when it passes, else false with what came out (or
 * what went wrong) written to got.
 */
typedef bool (*jlcases_check_fn)(const cJSON *rule, const cJSON *data, const cJSON *expected,
				 char *got, size_t gotlen);

/*
 * Runs check on each of the 277 cases and fails the test, naming the first
 * failures, unless all pass. path names the way in for the summary line
 * ("C API", "eval").
 */
void jlcases_run(const char *path, jlcases_check_fn check);

/* main() of a program that runs the suite: exits 77 with a message when the file is absent. */
int jlcases_main(const char *name, double timeout_s, const TTest *const *tests, size_t n);

#define JLCASES_MAIN(name, timeout_s, ...)                                                  \
	int main(void)                                                                      \
	{                                                                                   \
		const TTest *const tests_[] = { __VA_ARGS__ };                              \
		return jlcases_main(name, timeout_s, tests_, sizeof(tests_) / sizeof(tests_[0])); \
	}

#endif
