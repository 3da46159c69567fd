/*
 * jsonlogic_bench.c - wf-bench-jsonlogic: how many times a second a typical
 * trigger condition (five operators: and, ==, >=, in, !) is evaluated
 * against a 1 KB trigger context. Prints one line of JSON.
 *
 * The rule and the context are parsed once, as the engine does per trigger
 * row; the figure is jl_apply() with its result tree built and freed, and
 * jl_test() (truthiness only, what routing uses) beside it.
 *
 * usage: wf-bench-jsonlogic [seconds per measurement, default 2]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonlogic.h"
#include "wftime.h"

static const char rule_text[] =
	"{\"and\":["
	"{\"==\":[{\"var\":\"subscription_type.name\"},\"united\"]},"
	"{\">=\":[{\"var\":\"user.age\"},18]},"
	"{\"in\":[\"newsletter\",{\"var\":\"user.tags\"}]},"
	"{\"!\":{\"var\":\"user.unsubscribed\"}}]}";

/* A subscription trigger context as the coordinator builds it, about 1 KB. */
static const char context_text[] =
	"{\"user\":{\"id\":48213,\"email\":\"ada.lovelace@example.com\",\"name\":\"Ada Lovelace\","
	"\"age\":36,\"country\":\"GB\",\"city\":\"London\",\"locale\":\"en-GB\",\"timezone\":\"Europe/London\","
	"\"tags\":[\"beta\",\"vip\",\"newsletter\",\"podcast-listener\"],\"engaged\":false,"
	"\"unsubscribed\":false,\"created_at\":\"2024-01-15T10:30:00.000000+00:00\","
	"\"last_login_at\":\"2024-03-08T19:02:11.482000+00:00\",\"marketing_opt_in\":true,"
	"\"plan\":{\"name\":\"pro\",\"seats\":5,\"billing\":\"annual\",\"renews_at\":\"2025-01-15\"},"
	"\"utm\":{\"source\":\"newsletter\","
	"\"medium\":\"email\",\"campaign\":\"spring-launch\"}},"
	"\"subscription\":{\"id\":991722,\"user_id\":48213,\"subscription_type_id\":1,"
	"\"created_at\":\"2024-03-10T11:59:58.120331+00:00\",\"processed\":false,\"status\":\"active\","
	"\"trial\":false,\"price_cents\":1299,\"currency\":\"GBP\",\"payment_method\":\"card\","
	"\"coupon\":null,\"source\":\"web\"},"
	"\"subscription_type\":{\"id\":1,\"name\":\"united\",\"display_name\":\"United\","
	"\"description\":\"Every newsletter and the podcast, one subscription\",\"price_cents\":1299,"
	"\"interval\":\"month\",\"active\":true,\"features\":[\"newsletters\",\"podcast\",\"archive\","
	"\"events\"],\"created_at\":\"2023-06-01T00:00:00+00:00\"}}";

/* Evaluations per second over at least `seconds`, with jl_test when test_only. */
static double measure(const cJSON *rule, const cJSON *data, double seconds, bool test_only,
		      long *count)
{
	double start = wftime_monotonic_ms(), elapsed;
	char err[256];
	long n = 0;

	do {
		for (int i = 0; i < 10000; i++) {
			bool truth = false;

			if (test_only) {
				if (jl_test(rule, data, NULL, &truth, err, sizeof(err)) < 0 || !truth)
					goto fail;
			} else {
				cJSON *result = jl_apply(rule, data, NULL, err, sizeof(err));

				if (result == NULL || !jl_truthy(result))
					goto fail;
				cJSON_Delete(result);
			}
		}
		n += 10000;
		elapsed = (wftime_monotonic_ms() - start) / 1000;
	} while (elapsed < seconds);
	*count = n;
	return (double)n / elapsed;
fail:
	fprintf(stderr, "wf-bench-jsonlogic: the rule did not evaluate to true: %s\n", err);
	exit(1);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2;
	cJSON *rule = cJSON_Parse(rule_text), *data = cJSON_Parse(context_text);
	long applied, tested;
	double apply_rate, test_rate;

	if (rule == NULL || data == NULL || seconds <= 0) {
		fprintf(stderr, "usage: wf-bench-jsonlogic [seconds]\n");
		return 2;
	}
	measure(rule, data, seconds / 4, false, &applied); /* warm the caches */
	apply_rate = measure(rule, data, seconds, false, &applied);
	test_rate = measure(rule, data, seconds, true, &tested);
	printf("{\"benchmark\":\"jsonlogic\",\"rule_operators\":5,\"context_bytes\":%zu,"
	       "\"evaluations\":%ld,\"evals_per_sec\":%.0f,\"tests_per_sec\":%.0f}\n",
	       strlen(context_text), applied, apply_rate, test_rate);
	cJSON_Delete(rule);
	cJSON_Delete(data);
	return 0;
}
