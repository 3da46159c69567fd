/*
 * fuzz_jsonlogic.c - libFuzzer target for the JSON Logic evaluator.
 *
 * The input is a rule, a NUL byte (or, failing that, a newline) and data.
 * Each input goes through jl_validate, jl_apply, jl_test and jl_to_json with
 * a small budget, so that a slow input shows up as a budget error and not
 * as a timeout. The raw bytes also go to the number and time readers, which
 * take lengths rather than NUL-terminated strings and must not read past
 * them. ASan and UBSan report what goes wrong; nothing is asserted here.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jl_number.h"
#include "jl_time.h"
#include "jsonlogic.h"

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

static void discard(const char *json, void *arg)
{
	(void)json;
	(void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
	const char *text = (const char *)bytes;
	const char *split = memchr(text, '\0', size);
	jl_options_t opts = { .now = 1710072000.0, .max_ops = 20000, .log_cb = discard };
	char err[256], num[JL_NUMBER_MAX];
	cJSON *rule, *data = NULL, *result;
	size_t rule_len;
	int64_t ms;
	bool truth;

	jl_number_format(jl_string_to_number(text, size), num);
	jl_number_format(jl_parse_float(text, size), num);
	jl_time_parse_ms(text, size, &ms);

	if (split == NULL)
		split = memchr(text, '\n', size);
	rule_len = split ? (size_t)(split - text) : size;
	rule = cJSON_ParseWithLength(text, rule_len);
	if (rule == NULL)
		return 0;
	if (split != NULL)
		data = cJSON_ParseWithLength(split + 1, size - rule_len - 1);

	jl_validate(rule, err, sizeof(err));
	result = jl_apply(rule, data, &opts, err, sizeof(err));
	if (result != NULL) {
		char *json = jl_to_json(result);

		if (json == NULL || jl_truthy(result) != (jl_test(rule, data, &opts, &truth, err,
								   sizeof(err)) == 0 && truth))
			abort(); /* jl_test must agree with jl_apply */
		free(json);
		cJSON_Delete(result);
	}
	cJSON_Delete(data);
	cJSON_Delete(rule);
	return 0;
}
