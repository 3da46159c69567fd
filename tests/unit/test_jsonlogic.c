/*
 * test_jsonlogic.c - the JSON Logic evaluator beyond the official suite: the
 * edge cases of each operator where JavaScript's semantics matter (the
 * expected texts are what json-logic-js 2.0.5 and JSON.stringify give), the
 * errors, the limits against hostile rules, the static checker, the date
 * operators, and the number and time helpers under them.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jl_number.h"
#include "jl_time.h"
#include "jsonlogic.h"
#include "runner.h"

typedef struct {
	const char *rule;
	const char *data; /* NULL: {} */
	const char *expect; /* the result as jl_to_json prints it */
} case_t;

/* 2024-03-10T12:00:00Z, the clock of every date case. */
#define FIXED_NOW 1710072000.0

/* Evaluates one case; returns the printed result or "error: ..." (caller frees). */
static char *run(const char *rule_text, const char *data_text, const jl_options_t *opts)
{
	cJSON *rule = cJSON_Parse(rule_text);
	cJSON *data = cJSON_Parse(data_text ? data_text : "{}");
	char err[256];
	cJSON *result;
	char *text;

	ck_assert_msg(rule != NULL, "test rule is not JSON: %s", rule_text);
	ck_assert_msg(data != NULL, "test data is not JSON: %s", data_text);
	result = jl_apply(rule, data, opts, err, sizeof(err));
	if (result == NULL) {
		text = malloc(strlen(err) + 8);
		sprintf(text, "error: %s", err);
	} else {
		text = jl_to_json(result);
	}
	cJSON_Delete(result);
	cJSON_Delete(data);
	cJSON_Delete(rule);
	return text;
}

static void check_cases(const case_t *cases, size_t n)
{
	jl_options_t opts = { .now = FIXED_NOW };

	for (size_t i = 0; i < n; i++) {
		char *got = run(cases[i].rule, cases[i].data, &opts);
		bool ok = strncmp(cases[i].expect, "error: ", 7) == 0
				  ? strstr(got, cases[i].expect + 7) != NULL && strncmp(got, "error: ", 7) == 0
				  : strcmp(got, cases[i].expect) == 0;

		ck_assert_msg(ok, "%s with %s: expected %s, got %s", cases[i].rule,
			      cases[i].data ? cases[i].data : "{}", cases[i].expect, got);
		free(got);
	}
}

#define CHECK_CASES(table) check_cases(table, sizeof(table) / sizeof(table[0]))

START_TEST(var_paths_indexes_defaults_and_scope)
{
	static const case_t cases[] = {
		{ "{\"var\":\"a.b.0\"}", "{\"a\":{\"b\":[7,8]}}", "7" },
		{ "{\"var\":\"a.b.length\"}", "{\"a\":{\"b\":[7,8]}}", "2" },
		{ "{\"var\":\"s.length\"}", "{\"s\":\"h\xc3\xa9\xf0\x9f\x98\x80\"}", "4" }, /* UTF-16 units */
		{ "{\"var\":\"s.1\"}", "{\"s\":\"abc\"}", "\"b\"" },
		{ "{\"var\":\"a.01\"}", "{\"a\":[1,2]}", "null" }, /* not a canonical index */
		{ "{\"var\":[\"a\",5]}", "{\"a\":null}", "null" },  /* found null is not missing */
		{ "{\"var\":[\"a.b\",5]}", "{\"a\":null}", "5" },
		{ "{\"var\":[\"x\",{\"+\":[1,2]}]}", NULL, "3" },
		{ "{\"var\":\"\"}", "[1,2]", "[1,2]" },
		{ "{\"var\":[[]]}", "{\"\":9}", "9" }, /* String([]) is "", a real key */
		{ "{\"var\":1.5}", "{\"1\":{\"5\":\"x\"}}", "\"x\"" },
		{ "{\"var\":\"toString\"}", NULL, "null" }, /* JavaScript finds a function here */
		{ "{\"var\":\"k\"}", "{\"k\":1,\"k\":2}", "2" }, /* JSON.parse keeps the last */
		{ "{\"var\":\"a\"}", "5", "null" },
		{ "{\"map\":[{\"var\":\"xs\"},{\"var\":\"n\"}]}", "{\"xs\":[{\"n\":1},{\"m\":2}],\"n\":9}", "[1,null]" },
		{ "{\"reduce\":[[1,2],{\"var\":\"\"},0]}", NULL,
		  "{\"current\":2,\"accumulator\":{\"current\":1,\"accumulator\":0}}" },
		{ "{\"reduce\":[[1,2,3],{\"+\":[{\"var\":\"accumulator\"},{\"var\":\"current\"}]},{\"var\":\"s\"}]}",
		  "{\"s\":10}", "16" },
		{ "{\"reduce\":[5,{\"var\":\"current\"},{\"var\":\"s\"}]}", "{\"s\":4}", "4" },
		{ "{\"reduce\":[[1],{\"var\":\"current\"}]}", NULL, "1" },
		{ "{\"reduce\":[[],{\"var\":\"current\"}]}", NULL, "null" },
	};

	CHECK_CASES(cases);
}
END_TEST

START_TEST(missing_and_missing_some)
{
	static const case_t cases[] = {
		{ "{\"missing\":[\"a\",\"b\",\"c\"]}", "{\"a\":\"\",\"b\":0,\"c\":false}", "[\"a\"]" },
		{ "{\"missing\":[[\"a\",\"b\"],\"c\"]}", "{}", "[\"a\",\"b\"]" }, /* only the first array counts */
		{ "{\"missing\":[\"a\",[\"b\"]]}", "{\"a\":1}", "[[\"b\"]]" },
		{ "{\"missing\":[1]}", "[\"x\",null]", "[1]" },
		{ "{\"missing_some\":[1,[\"a\",\"b\"]]}", "{\"b\":2}", "[]" },
		{ "{\"missing_some\":[2,[\"a\",\"b\"]]}", "{\"b\":2}", "[\"a\"]" },
		{ "{\"missing_some\":[\"1\",[\"a\",\"b\"]]}", "{\"b\":2}", "[]" },
		{ "{\"missing_some\":[0,[]]}", NULL, "[]" },
		{ "{\"missing_some\":[2,\"ab\"]}", NULL, "[\"ab\"]" }, /* "ab".length is 2 */
		{ "{\"missing_some\":[1,\"ab\"]}", NULL, "[]" },
		/* a key that is a rule is evaluated again, as the reference does */
		{ "{\"missing\":[{\"var\":\"k\"}]}", "{\"k\":{\"cat\":[\"a\",\"b\"]}}", "[{\"cat\":[\"a\",\"b\"]}]" },
		{ "{\"missing\":[{\"var\":\"k\"}]}", "{\"k\":{\"cat\":[\"a\",\"b\"]},\"ab\":1}", "[]" },
		{ "{\"missing_some\":[1,null]}", NULL, "error: cannot read the length of null" },
	};

	CHECK_CASES(cases);
}
END_TEST

START_TEST(if_and_or_short_circuit_and_truthiness)
{
	static const case_t cases[] = {
		{ "{\"if\":[{\"var\":\"x\"},\"yes\",{\"tpyo\":1}]}", "{\"x\":1}", "\"yes\"" },
		{ "{\"and\":[false,{\"tpyo\":1}]}", NULL, "false" },
		{ "{\"or\":[1,{\"tpyo\":1}]}", NULL, "1" },
		{ "{\"or\":[0,\"\",[]]}", NULL, "[]" },
		{ "{\"and\":[1,\"a\",{\"k\":1,\"j\":2}]}", NULL, "{\"k\":1,\"j\":2}" },
		{ "{\"?:\":[[],1,2]}", NULL, "2" },
		{ "{\"if\":[0,1]}", NULL, "null" },
		{ "{\"if\":{\"var\":\"x\"}}", "{\"x\":4}", "4" },
		{ "{\"!!\":[{}]}", NULL, "true" },
		{ "{\"!!\":[\"0\"]}", NULL, "true" },
		{ "{\"!!\":[{\"/\":[0,0]}]}", NULL, "false" }, /* NaN */
		{ "{\"!\":[[0]]}", NULL, "false" },
		{ "{\"!\":{\"var\":\"user.engaged\"}}", "{\"user\":{}}", "true" },
		{ "{\"a\":1,\"b\":{\"tpyo\":2}}", NULL, "{\"a\":1,\"b\":{\"tpyo\":2}}" }, /* two keys: a literal */
		{ "{}", NULL, "{}" },
	};

	CHECK_CASES(cases);
}
END_TEST

START_TEST(equality_follows_javascript)
{
	static const case_t cases[] = {
		{ "{\"==\":[null,0]}", NULL, "false" },
		{ "{\"==\":[null,false]}", NULL, "false" },
		{ "{\"==\":[[],false]}", NULL, "true" },
		{ "{\"==\":[[],\"\"]}", NULL, "true" },
		{ "{\"==\":[[1,2],\"1,2\"]}", NULL, "true" },
		{ "{\"==\":[[[1]],1]}", NULL, "true" },
		{ "{\"==\":[\"1\",true]}", NULL, "true" },
		{ "{\"==\":[\"true\",true]}", NULL, "false" },
		{ "{\"==\":[\" 0x10 \",16]}", NULL, "true" },
		{ "{\"==\":[\"\",0]}", NULL, "true" },
		{ "{\"==\":[{\"/\":[0,0]},{\"/\":[0,0]}]}", NULL, "false" },
		{ "{\"==\":[{\"a\":1,\"b\":2},\"[object Object]\"]}", NULL, "true" },
		{ "{\"==\":[[1],[1]]}", NULL, "false" }, /* two arrays, two objects */
		{ "{\"===\":[{\"var\":\"o\"},{\"var\":\"o\"}]}", "{\"o\":{\"k\":1}}", "true" }, /* same object */
		{ "{\"===\":[{\"var\":\"o\"},{\"var\":\"p\"}]}", "{\"o\":[1],\"p\":[1]}", "false" },
		{ "{\"in\":[{\"var\":\"o\"},[{\"var\":\"o\"}]]}", "{\"o\":{\"k\":1}}", "true" },
		{ "{\"in\":[[1],[[1]]]}", NULL, "false" },
		{ "{\"===\":[0,{\"-\":[0]}]}", NULL, "true" },
		{ "{\"!==\":[\"a\",\"a\"]}", NULL, "false" },
		{ "{\"!=\":[\"1\",1]}", NULL, "false" },
		{ "{\"===\":[null,null]}", NULL, "true" },
		{ "{\"===\":[true,true]}", NULL, "true" },
		{ "{\"==\":[true,\"1\"]}", NULL, "true" },
	};

	CHECK_CASES(cases);
}
END_TEST

START_TEST(comparison_coercions_and_between)
{
	static const case_t cases[] = {
		{ "{\"<\":[\"10\",\"9\"]}", NULL, "true" }, /* two strings compare as text */
		{ "{\"<\":[\"10\",9]}", NULL, "false" },
		{ "{\"<\":[null,1]}", NULL, "true" },
		{ "{\"<=\":[null,0]}", NULL, "true" },
		{ "{\"<\":[\"abc\",1]}", NULL, "false" },
		{ "{\">=\":[\"abc\",1]}", NULL, "false" }, /* NaN makes >= false too */
		{ "{\">\":[[2],1]}", NULL, "true" },
		{ "{\"<\":[[1,2],5]}", NULL, "false" },
		{ "{\"<\":[1,5,10]}", NULL, "true" },
		{ "{\"<\":[1,10,5]}", NULL, "false" },
		{ "{\"<=\":[1,1,1]}", NULL, "true" },
		{ "{\"<\":[0,{\"var\":\"t\"},100]}", "{\"t\":\"50\"}", "true" },
		{ "{\"<\":[\"\xef\xbf\xbf\",\"\xf0\x9f\x98\x80\"]}", NULL, "false" }, /* UTF-16 order */
		{ "{\">\":[true,false]}", NULL, "true" },
		{ "{\"<\":[{\"a\":1,\"b\":2},{\"c\":1,\"d\":2}]}", NULL, "false" },
		{ "{\"<=\":[{\"a\":1,\"b\":2},{\"c\":1,\"d\":2}]}", NULL, "true" },
	};

	CHECK_CASES(cases);
}
END_TEST

START_TEST(arithmetic_parses_like_javascript)
{
	static const case_t cases[] = {
		{ "{\"+\":[\"12px\",1]}", NULL, "13" }, /* parseFloat */
		{ "{\"+\":[\"0x10\"]}", NULL, "0" },
		{ "{\"+\":[]}", NULL, "0" },
		{ "{\"+\":[null,1]}", NULL, "null" },
		{ "{\"+\":[0.1,0.2]}", NULL, "0.30000000000000004" },
		{ "{\"+\":[\"Infinity\",1]}", NULL, "null" },
		{ "{\"*\":[\"2\"]}", NULL, "\"2\"" }, /* one argument is returned untouched */
		{ "{\"*\":[\"3\",\"4\"]}", NULL, "12" },
		{ "{\"/\":[-1,{\"*\":[\"-1e-400\",5]}]}", NULL, "null" }, /* -0 from the string stays */
		{ "{\"cat\":[{\"/\":[-1,{\"*\":[\"-1e-400\",5]}]}]}", NULL, "\"Infinity\"" },
		{ "{\"cat\":[{\"/\":[-1,{\"*\":[\"-1e-400\",5,1]}]}]}", NULL, "\"-Infinity\"" },
		{ "{\"*\":[[2],3]}", NULL, "6" },
		{ "{\"-\":[\"5\",\" 2 \"]}", NULL, "3" },
		{ "{\"-\":[\"12px\",1]}", NULL, "null" }, /* ToNumber, not parseFloat */
		{ "{\"-\":[[]]}", NULL, "0" },
		{ "{\"-\":[{\"var\":\"o\"}]}", "{\"o\":{\"a\":1}}", "null" },
		{ "{\"-\":[\"0b101\"]}", NULL, "-5" },
		{ "{\"/\":[1,0]}", NULL, "null" },
		{ "{\"/\":[1,3]}", NULL, "0.3333333333333333" },
		{ "{\"%\":[-7,2]}", NULL, "-1" },
		{ "{\"%\":[7,0]}", NULL, "null" },
		{ "{\"%\":[5.5,2]}", NULL, "1.5" },
		{ "{\"max\":[1,\"3\",2]}", NULL, "3" },
		{ "{\"max\":[1,\"x\"]}", NULL, "null" },
		{ "{\"min\":[[],5]}", NULL, "0" },
		{ "{\"min\":[true,2]}", NULL, "1" },
		{ "{\"*\":[1e21,10]}", NULL, "1e+22" },
		{ "{\"/\":[1,1e7]}", NULL, "1e-7" },
		{ "{\"/\":[1,1e6]}", NULL, "0.000001" },
		{ "{\"+\":[1e21]}", NULL, "1e+21" },
		{ "{\"+\":[123456789012345680000]}", NULL, "123456789012345680000" },
		{ "{\"-\":[0]}", NULL, "0" },
		{ "{\"*\":[5e-324,0.5]}", NULL, "0" },
		{ "{\"+\":[1.7976931348623157e308,1e292]}", NULL, "null" },
	};

	CHECK_CASES(cases);
}
END_TEST

START_TEST(strings_cat_substr_in)
{
	static const case_t cases[] = {
		{ "{\"cat\":[null,\"a\",[1,[2,null]],true,{\"a\":1,\"b\":2}]}", NULL, "\"a1,2,true[object Object]\"" },
		{ "{\"cat\":[0.5,1e21,-0]}", NULL, "\"0.51e+210\"" },
		{ "{\"cat\":[]}", NULL, "\"\"" },
		{ "{\"substr\":[\"jsonlogic\",20]}", NULL, "\"\"" },
		{ "{\"substr\":[\"jsonlogic\",-20,2]}", NULL, "\"js\"" },
		{ "{\"substr\":[\"jsonlogic\",\"4\"]}", NULL, "\"logic\"" },
		{ "{\"substr\":[\"jsonlogic\",1,\"-2\"]}", NULL, "\"\"" }, /* 8 + "-2" is "8-2" */
		{ "{\"substr\":[\"jsonlogic\",1,null]}", NULL, "\"\"" },
		{ "{\"substr\":[12345,1,2]}", NULL, "\"23\"" },
		{ "{\"substr\":[null,0,2]}", NULL, "\"nu\"" },
		{ "{\"substr\":[\"a\xf0\x9f\x98\x80z\",1,1]}", NULL, "\"\\ud83d\"" }, /* half a pair */
		{ "{\"cat\":[{\"substr\":[\"\xf0\x9f\x98\x80\",0,1]},{\"substr\":[\"\xf0\x9f\x98\x80\",1]}]}", NULL,
		  "\"\xf0\x9f\x98\x80\"" },
		{ "{\"in\":[\"\",\"abc\"]}", NULL, "true" },
		{ "{\"in\":[\"a\",\"\"]}", NULL, "false" },
		{ "{\"in\":[1,\"a1\"]}", NULL, "true" },
		{ "{\"in\":[null,\"nullable\"]}", NULL, "true" },
		{ "{\"in\":[\"1\",[1,2]]}", NULL, "false" }, /* strict equality in arrays */
		{ "{\"in\":[1,5]}", NULL, "false" },
		{ "{\"in\":[1,null]}", NULL, "false" },
		{ "{\"in\":[\"a\",{\"a\":1,\"b\":2}]}", NULL, "false" },
		{ "{\"in\":[\"a\",{\"var\":\"o\"}]}", "{\"o\":{\"indexOf\":1}}", "error: indexOf is not a function" },
		{ "{\"in\":[{\"substr\":[\"\xf0\x9f\x98\x80\",0,1]},\"x\xf0\x9f\x98\x80\"]}", NULL, "true" },
		{ "{\"in\":[{\"substr\":[\"\xf0\x9f\x98\x80\",1]},\"\xf0\x9f\x98\x80x\"]}", NULL, "true" },
		{ "{\"in\":[{\"substr\":[\"\xf0\x9f\x98\x80\",1]},\"\xf0\x9f\x98\x81\"]}", NULL, "false" },
		{ "{\"in\":[\"\xed\x95\x9c\",\"\xed\x95\x9c\xea\xb8\x80\"]}", NULL, "true" }, /* Hangul */
	};

	CHECK_CASES(cases);
}
END_TEST

START_TEST(arrays_map_filter_all_none_some_merge)
{
	static const case_t cases[] = {
		{ "{\"map\":[\"abc\",1]}", NULL, "[]" },
		{ "{\"map\":[[1,2],[{\"var\":\"\"},{\"*\":[{\"var\":\"\"},10]}]]}", NULL, "[[1,10],[2,20]]" },
		{ "{\"filter\":[[0,1,\"\",\"a\",[],[0],null],{\"var\":\"\"}]}", NULL, "[1,\"a\",[0]]" },
		{ "{\"filter\":[null,true]}", NULL, "[]" },
		{ "{\"all\":[[1,2],{\">\":[{\"var\":\"\"},0]}]}", NULL, "true" },
		{ "{\"all\":[\"ab\",true]}", NULL, "false" },
		{ "{\"some\":[[0,0,3],{\"var\":\"\"}]}", NULL, "true" },
		{ "{\"none\":[null,true]}", NULL, "true" },
		{ "{\"none\":[[0,[]],{\"var\":\"\"}]}", NULL, "true" },
		{ "{\"merge\":[[1,[2]],3,null,[]]}", NULL, "[1,[2],3,null]" },
		{ "{\"merge\":\"a\"}", NULL, "[\"a\"]" },
		{ "[{\"var\":\"a\"},[{\"var\":\"b\"}]]", "{\"a\":1,\"b\":2}", "[1,[2]]" },
	};

	CHECK_CASES(cases);
}
END_TEST

START_TEST(output_is_json_stringify)
{
	static const case_t cases[] = {
		{ "{\"var\":\"o\"}", "{\"o\":{\"b\":1,\"10\":2,\"a\":3,\"2\":4,\"02\":5}}",
		  "{\"2\":4,\"10\":2,\"b\":1,\"a\":3,\"02\":5}" },
		{ "{\"var\":\"o\"}", "{\"o\":{\"a\":1,\"b\":2,\"a\":3}}", "{\"a\":3,\"b\":2}" },
		{ "{\"var\":\"o\"}", "{\"o\":{\"s\":\"x\",\"t\":true,\"f\":false,\"n\":null}}",
		  "{\"s\":\"x\",\"t\":true,\"f\":false,\"n\":null}" },
		{ "\"tab\\t\\u0001\\\"\\\\\\u2028\"", NULL, "\"tab\\t\\u0001\\\"\\\\\xe2\x80\xa8\"" },
		{ "[1.0,-0.0,1e400,2.5E-3]", NULL, "[1,0,null,0.0025]" },
		{ "{\"log\":[1,2]}", NULL, "error: \"log\" takes 1 argument, not 2" },
	};

	CHECK_CASES(cases);
}
END_TEST

/* Ten U+00E9 (e-acute) in UTF-8. */
#define TEN_E "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"

START_TEST(errors_name_the_problem)
{
	static const case_t cases[] = {
		{ "{\"tpyo\":[1]}", NULL, "error: unknown operator \"tpyo\"" },
		{ "{\"\":[1]}", NULL, "error: unknown operator \"\"" },
		{ "{\"method\":[\"a\",\"toUpperCase\"]}", NULL, "error: unknown operator \"method\"" },
		{ "{\"Math.max\":[1]}", NULL, "error: unknown operator \"Math.max\"" },
		{ "{\"==\":[1]}", NULL, "error: \"==\" takes 2 arguments, not 1" },
		{ "{\"<\":[1,2,3,4]}", NULL, "error: \"<\" takes 2 or 3 arguments, not 4" },
		{ "{\">\":[3,2,1]}", NULL, "error: \">\" takes 2 arguments, not 3" },
		{ "{\"!\":[]}", NULL, "error: \"!\" takes 1 argument, not 0" },
		{ "{\"and\":[]}", NULL, "error: \"and\" takes at least 1 argument, not 0" },
		{ "{\"var\":[1,2,3]}", NULL, "error: \"var\" takes 0 to 2 arguments, not 3" },
		{ "{\"?:\":[1,2]}", NULL, "error: \"?:\" takes 3 arguments, not 2" },
		{ "{\"map\":[[1]]}", NULL, "error: \"map\" takes 2 arguments, not 1" },
		{ "{\"now\":[1]}", NULL, "error: \"now\" takes 0 arguments, not 1" },
		{ "{\"if\":[true,{\"==\":[1]}]}", NULL, "error: \"==\" takes 2 arguments" },
		{ "{\"t\\u0001\":1}", NULL, "error: unknown operator \"t?\"" },
		{ "{\"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789\":1}", NULL,
		  "error: unknown operator \"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwx...\"" },
		/* cut at a character boundary: "a" and 40 e-acute, two bytes each */
		{ "{\"a" TEN_E TEN_E TEN_E TEN_E "\":1}", NULL,
		  "error: unknown operator \"a" TEN_E TEN_E "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...\"" },
	};

	CHECK_CASES(cases);
}
END_TEST

START_TEST(dates_use_the_injected_clock)
{
	static const case_t cases[] = {
		{ "{\"now\":[]}", NULL, "\"2024-03-10T12:00:00.000Z\"" },
		{ "{\"date\":\"2024-02-29T01:02:03.456789+01:30\"}", NULL, "\"2024-02-28T23:32:03.456Z\"" },
		{ "{\"date\":\"2024-01-15 10:30:00+00\"}", NULL, "\"2024-01-15T10:30:00.000Z\"" },
		{ "{\"date\":\"2024-01-15\"}", NULL, "\"2024-01-15T00:00:00.000Z\"" },
		{ "{\"date\":0}", NULL, "\"1970-01-01T00:00:00.000Z\"" },
		{ "{\"date\":-1.5}", NULL, "\"1969-12-31T23:59:58.500Z\"" },
		{ "{\"date\":\"2023-02-29\"}", NULL, "null" },
		{ "{\"date\":\"yesterday\"}", NULL, "null" },
		{ "{\"date\":null}", NULL, "null" },
		{ "{\"days_since\":{\"var\":\"t\"}}", "{\"t\":\"2024-03-03T12:00:00Z\"}", "7" },
		{ "{\"days_since\":\"2024-03-03T12:00:01Z\"}", NULL, "6" },
		{ "{\"days_since\":\"2024-03-11T00:00:00Z\"}", NULL, "-1" },
		{ "{\"days_since\":\"not a date\"}", NULL, "null" },
		{ "{\"hours_since\":\"2024-03-10T09:30:00Z\"}", NULL, "2" },
		{ "{\"add_seconds\":[\"2024-03-10T12:00:00Z\",172800]}", NULL, "\"2024-03-12T12:00:00.000Z\"" },
		{ "{\"add_seconds\":[{\"now\":[]},\"-0.5\"]}", NULL, "\"2024-03-10T11:59:59.500Z\"" },
		{ "{\"add_seconds\":[\"2024-03-10\",\"x\"]}", NULL, "null" },
		{ "{\"add_seconds\":[\"9999-12-31T23:59:59Z\",1]}", NULL, "null" },
		{ "{\">=\":[{\"days_since\":{\"var\":\"user.created_at\"}},7]}",
		  "{\"user\":{\"created_at\":\"2024-03-01T08:00:00.000000+00:00\"}}", "true" },
		{ "{\"<\":[{\"var\":\"due\"},{\"now\":[]}]}", "{\"due\":\"2024-03-09T00:00:00.000Z\"}", "true" },
	};

	CHECK_CASES(cases);
}
END_TEST

START_TEST(the_real_clock_is_the_default)
{
	char *got = run("{\"now\":[]}", NULL, NULL);
	char expect[JL_TIME_MAX];
	int64_t before = (int64_t)time(NULL) * 1000, parsed;

	ck_assert_int_eq(jl_time_parse_ms(got + 1, strlen(got) - 2, &parsed), 0);
	ck_assert_msg(parsed >= before - 1000 && parsed <= before + 5000, "now is %s", got);
	ck_assert_int_eq(jl_time_format(parsed, expect), 0);
	ck_assert_int_eq(strncmp(got + 1, expect, JL_TIME_MAX - 1), 0);
	free(got);
}
END_TEST

START_TEST(hostile_rules_hit_limits_quickly)
{
	static const char *const rules[] = {
		/* a map over 1024 copies of a 1024-item array, both made by doubling */
		"{\"map\":[{\"reduce\":[[1,2,3,4,5,6,7,8,9,10],"
		"{\"merge\":[{\"var\":\"accumulator\"},{\"var\":\"accumulator\"}]},"
		"[{\"reduce\":[[1,2,3,4,5,6,7,8,9,10],"
		"{\"merge\":[{\"var\":\"accumulator\"},{\"var\":\"accumulator\"}]},[1]]}]]},"
		"{\"map\":[{\"var\":\"\"},{\"+\":[{\"var\":\"\"},1]}]}]}",
		/* a string that doubles at each step */
		"{\"reduce\":[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25],"
		"{\"cat\":[{\"var\":\"accumulator\"},{\"var\":\"accumulator\"}]},\"xxxxxxxx\"]}",
		/* an array that doubles at each step */
		"{\"reduce\":[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25],"
		"{\"merge\":[{\"var\":\"accumulator\"},{\"var\":\"accumulator\"}]},[1]]}",
		/* nesting that grows at each step */
		"{\"reduce\":[{\"reduce\":[[1,2,3,4,5,6,7,8,9,10],"
		"{\"merge\":[{\"var\":\"accumulator\"},{\"var\":\"accumulator\"}]},[1]]},"
		"[{\"var\":\"accumulator\"}],[]]}",
	};
	char big[300];

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		double start = (double)clock() / CLOCKS_PER_SEC;
		char *got = run(rules[i], NULL, NULL);
		double spent = (double)clock() / CLOCKS_PER_SEC - start;

		ck_assert_msg(strncmp(got, "error: rule ", 12) == 0, "rule %zu gave %.80s", i, got);
		ck_assert_msg(spent < 5, "rule %zu took %.1f s", i, spent);
		free(got);
	}
	/* Nesting deeper than JL_MAX_DEPTH, below cJSON's own limit. */
	memset(big, 0, sizeof(big));
	for (int i = 0; i < 140; i++)
		big[i] = '[';
	for (int i = 0; i < 140; i++)
		big[140 + i] = ']';
	{
		char *got = run(big, NULL, NULL);

		ck_assert_msg(strstr(got, "nested deeper than 128") != NULL, "got %s", got);
		free(got);
	}
}
END_TEST

START_TEST(the_budget_is_configurable)
{
	jl_options_t small = { .max_ops = 50 };
	char *got = run("{\"map\":[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],"
			"{\"+\":[{\"var\":\"\"},1]}]}",
			NULL, &small);

	ck_assert_str_eq(got, "error: rule exceeds its budget of 50 operations");
	free(got);
	small.max_ops = 200;
	got = run("{\"map\":[[1,2,3],{\"+\":[{\"var\":\"\"},1]}]}", NULL, &small);
	ck_assert_str_eq(got, "[2,3,4]");
	free(got);
}
END_TEST

static char logged[256];

static void capture_log(const char *json, void *arg)
{
	int *calls = arg;

	(*calls)++;
	snprintf(logged, sizeof(logged), "%s", json);
}

START_TEST(log_passes_its_value_through)
{
	int calls = 0;
	jl_options_t opts = { .log_cb = capture_log, .log_arg = &calls };
	char *got = run("{\"+\":[{\"log\":{\"var\":\"x\"}},1]}", "{\"x\":[1.5]}", &opts);

	ck_assert_str_eq(got, "2.5");
	ck_assert_int_eq(calls, 1);
	ck_assert_str_eq(logged, "[1.5]");
	free(got);
}
END_TEST

START_TEST(jl_test_and_jl_truthy)
{
	static const struct {
		const char *json;
		bool truthy;
	} values[] = {
		{ "0", false }, { "-0", false }, { "\"\"", false }, { "[]", false }, { "null", false },
		{ "false", false }, { "\"0\"", true }, { "[0]", true }, { "{}", true }, { "0.1", true },
	};
	cJSON *rule = cJSON_Parse("{\"and\":[{\">=\":[{\"var\":\"age\"},18]},{\"var\":\"ok\"}]}");
	cJSON *data = cJSON_Parse("{\"age\":20,\"ok\":[1]}");
	char err[128];
	bool result = false;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		cJSON *v = cJSON_Parse(values[i].json);

		ck_assert_msg(jl_truthy(v) == values[i].truthy, "%s", values[i].json);
		cJSON_Delete(v);
	}
	ck_assert(!jl_truthy(NULL));
	ck_assert_int_eq(jl_test(rule, data, NULL, &result, err, sizeof(err)), 0);
	ck_assert(result);
	cJSON_ReplaceItemInObject(data, "ok", cJSON_CreateArray());
	ck_assert_int_eq(jl_test(rule, data, NULL, &result, err, sizeof(err)), 0);
	ck_assert(!result);
	cJSON_Delete(rule);
	rule = cJSON_Parse("{\"x\":1}");
	ck_assert_int_eq(jl_test(rule, NULL, NULL, &result, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "unknown operator \"x\"");
	cJSON_Delete(rule);
	rule = cJSON_Parse("{\"var\":\"\"}");
	ck_assert_int_eq(jl_test(rule, NULL, NULL, &result, err, sizeof(err)), 0); /* NULL data is null */
	ck_assert(!result);
	cJSON_Delete(rule);
	cJSON_Delete(data);
}
END_TEST

START_TEST(validate_reports_where_the_problem_is)
{
	static const struct {
		const char *rule;
		const char *expect; /* "" when valid */
	} cases[] = {
		{ "{\"and\":[{\"==\":[{\"var\":\"a\"},1]},{\"!\":{\"var\":\"b\"}}]}", "" },
		{ "{\"var\":\"due\"}", "" },
		{ "{\"if\":[true,{\"tpyo\":1}]}", "unknown operator \"tpyo\" at /if/1" },
		{ "{\"and\":[true,{\"or\":[{\"substr\":[\"x\"]}]}]}",
		  "\"substr\" takes 2 or 3 arguments, not 1, at /and/1/or/0" },
		{ "{\"!\":{\"nope\":[]}}", "unknown operator \"nope\" at /!" },
		{ "{\"a/b~\":1}", "unknown operator \"a/b~\" at /" },
		{ "[1,{\"x\":1}]", "unknown operator \"x\" at /1" },
		{ "{\"map\":[{\"var\":\"xs\"},{\"a/b\":[]}]}", "unknown operator \"a/b\" at /map/1" },
		{ "{\"if\":[{\"k\":{\"x\":1},\"j\":2}]}", "" }, /* a two-key object is a literal */
		{ "{\"days_since\":{\"var\":\"t\"}}", "" },
		{ "{\"var\":[{\"var\":{\"a/b\":1}}]}", "unknown operator \"a/b\" at /var/0/var" },
		{ "{\"missing\":[]}", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *rule = cJSON_Parse(cases[i].rule);
		char err[256];
		int rc = jl_validate(rule, err, sizeof(err));

		if (*cases[i].expect == '\0') {
			ck_assert_msg(rc == 0, "%s: %s", cases[i].rule, err);
		} else {
			ck_assert_int_eq(rc, -EINVAL);
			ck_assert_msg(strcmp(err, cases[i].expect) == 0, "%s: got %s", cases[i].rule, err);
		}
		cJSON_Delete(rule);
	}
	ck_assert_int_eq(jl_validate(NULL, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(validate_limits_depth)
{
	char text[2 * 200 + 1];
	cJSON *rule;
	char err[128];

	for (int i = 0; i < 200; i++) {
		text[i] = '[';
		text[200 + i] = ']';
	}
	text[400] = '\0';
	rule = cJSON_Parse(text);
	ck_assert_int_eq(jl_validate(rule, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "nested deeper than 128 levels") != NULL, "%s", err);
	cJSON_Delete(rule);
}
END_TEST

START_TEST(numbers_format_like_number_tostring)
{
	static const struct {
		double x;
		const char *text;
	} cases[] = {
		{ 0, "0" }, { -0.0, "0" }, { 1, "1" }, { -1.5, "-1.5" }, { 0.1, "0.1" },
		{ 1e21, "1e+21" }, { 1e20, "100000000000000000000" }, { 123e18, "123000000000000000000" },
		{ 1.5e-7, "1.5e-7" }, { 0.000001, "0.000001" }, { 1e-6 * 1.5, "0.0000015" },
		{ 5e-324, "5e-324" }, { 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 9007199254740993.0, "9007199254740992" }, { 2.5e15, "2500000000000000" },
		{ 4.35, "4.35" }, { 1.0 / 3, "0.3333333333333333" }, { 100, "100" },
		{ 1152921504606846976.0, "1152921504606847000" }, { -1e-7, "-1e-7" },
		{ 2e-323, "2e-323" }, { 9.5367431640625e-7, "9.5367431640625e-7" },
	};
	char buf[JL_NUMBER_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = jl_number_format(cases[i].x, buf);

		ck_assert_msg(strcmp(buf, cases[i].text) == 0, "%.17g: got %s", cases[i].x, buf);
		ck_assert_int_eq(n, (int)strlen(buf));
	}
	jl_number_format(NAN, buf);
	ck_assert_str_eq(buf, "NaN");
	jl_number_format(-INFINITY, buf);
	ck_assert_str_eq(buf, "-Infinity");
}
END_TEST

START_TEST(strings_read_like_javascript)
{
	static const struct {
		const char *s;
		double number;	/* ToNumber; NAN for NaN */
		double parsed;	/* parseFloat */
	} cases[] = {
		{ "", 0, NAN }, { "  ", 0, NAN }, { " 12 ", 12, 12 }, { "12px", NAN, 12 },
		{ "0x1F", 31, 0 }, { "0b101", 5, 0 }, { "0o17", 15, 0 }, { "-0x10", NAN, -0.0 },
		{ "0x", NAN, 0 }, { "1e3", 1000, 1000 }, { "1e", NAN, 1 }, { ".5", 0.5, 0.5 },
		{ "5.", 5, 5 }, { ".", NAN, NAN }, { "+3", 3, 3 }, { "Infinity", INFINITY, INFINITY },
		{ "-Infinity", -INFINITY, -INFINITY }, { "infinity", NAN, NAN }, { "NaN", NAN, NAN },
		{ "1_000", NAN, 1 }, { "\xc2\xa0" "7\xe2\x80\xa8", 7, 7 }, { "\xef\xbb\xbf" "8", 8, 8 },
		{ "0x1fffffffffffff1", 144115188075855860.0, 0 }, { "1e400", INFINITY, INFINITY },
		{ "00012", 12, 12 }, { "0b2", NAN, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double n = jl_string_to_number(cases[i].s, strlen(cases[i].s));
		double p = jl_parse_float(cases[i].s, strlen(cases[i].s));

		ck_assert_msg(isnan(cases[i].number) ? isnan(n) : n == cases[i].number,
			      "Number(\"%s\") is %g", cases[i].s, n);
		ck_assert_msg(isnan(cases[i].parsed) ? isnan(p) : p == cases[i].parsed,
			      "parseFloat(\"%s\") is %g", cases[i].s, p);
	}
}
END_TEST

START_TEST(time_parsing_and_printing)
{
	static const struct {
		const char *iso;
		double epoch; /* NAN: invalid */
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0 }, { "2024-03-10T12:00:00Z", 1710072000 },
		{ "2024-03-10t12:00:00.25z", 1710072000.25 }, { "2024-03-10 13:00:00+01", 1710072000 },
		{ "2024-03-10T10:30:00-0130", 1710072000 }, { "2024-03-10T12:00", 1710072000 },
		{ "2000-02-29", 951782400 }, { "1969-12-31T23:59:59.5Z", -0.5 },
		{ "0000-01-01T00:00:00Z", -62167219200 }, { "9999-12-31T23:59:59.999Z", 253402300799.999 },
		{ "1900-02-29", NAN }, { "2024-13-01", NAN }, { "2024-01-01T24:00:00Z", NAN },
		{ "2024-01-01T10:00:00+2400", NAN }, { "2024-1-1", NAN }, { "2024-01-01T10", NAN },
		{ "2024-01-01T10:00:00.Z", NAN }, { "2024-01-01Z", NAN }, { " 2024-01-01", NAN },
		{ "0000-01-01T00:00:00+01:00", NAN }, { "", NAN },
	};
	char text[JL_TIME_MAX];
	double t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = jl_parse_time(cases[i].iso, &t);

		if (isnan(cases[i].epoch))
			ck_assert_msg(rc == -EINVAL, "\"%s\" should be invalid", cases[i].iso);
		else
			ck_assert_msg(rc == 0 && fabs(t - cases[i].epoch) < 1e-6, "\"%s\": rc %d, %f",
				      cases[i].iso, rc, t);
	}
	ck_assert_int_eq(jl_parse_time(NULL, &t), -EINVAL);
	ck_assert_int_eq(jl_time_format(-1, text), 0);
	ck_assert_str_eq(text, "1969-12-31T23:59:59.999Z");
	ck_assert_int_eq(jl_time_format(951868800000, text), 0);
	ck_assert_str_eq(text, "2000-03-01T00:00:00.000Z");
	ck_assert_int_eq(jl_time_format(253402300800000, text), -ERANGE);
}
END_TEST

RUNNER_MAIN("jsonlogic", 60, var_paths_indexes_defaults_and_scope, missing_and_missing_some,
	    if_and_or_short_circuit_and_truthiness, equality_follows_javascript,
	    comparison_coercions_and_between, arithmetic_parses_like_javascript,
	    strings_cat_substr_in, arrays_map_filter_all_none_some_merge, output_is_json_stringify,
	    errors_name_the_problem, dates_use_the_injected_clock, the_real_clock_is_the_default,
	    hostile_rules_hit_limits_quickly, the_budget_is_configurable, log_passes_its_value_through,
	    jl_test_and_jl_truthy, validate_reports_where_the_problem_is, validate_limits_depth,
	    numbers_format_like_number_tostring, strings_read_like_javascript,
	    time_parsing_and_printing)
