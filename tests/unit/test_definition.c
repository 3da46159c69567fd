/*
 * test_definition.c - definition parsing and validation: every kind of
 * problem is found, all at once, each naming its node.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "definition.h"
#include "json.h"
#include "runner.h"

static def_problems_t problems;

/* Validates text; returns the problems as one string "node: message | ...". */
static const char *check_text(const char *text, const def_resolver_t *resolver)
{
	static char out[4096];
	cJSON *json = cJSON_Parse(text);

	ck_assert_msg(json != NULL, "test JSON does not parse: %s", text);
	def_problems_free(&problems);
	out[0] = '\0';
	if (def_validate(json, resolver, &problems) == 0) {
		cJSON_Delete(json);
		return "valid";
	}
	for (size_t i = 0; i < problems.count; i++) {
		size_t len = strlen(out);

		snprintf(out + len, sizeof(out) - len, "%s%s: %s", i ? " | " : "",
			 problems.items[i].node ? problems.items[i].node : "-", problems.items[i].message);
	}
	cJSON_Delete(json);
	return out;
}

static void expect_problem(const char *text, const char *fragment)
{
	const char *got = check_text(text, NULL);

	ck_assert_msg(strstr(got, fragment) != NULL, "expected \"%s\" in: %s", fragment, got);
}

START_TEST(the_interface_example_is_valid)
{
	const char *example =
		"{\"name\":\"united_welcome\",\"trigger\":{\"source\":\"subscription\",\"rule\":{\"==\":[{\"var\":\"subscription_type.name\"},\"united\"]},\"priority\":10},"
		"\"start\":\"welcome\",\"nodes\":{"
		"\"welcome\":{\"type\":\"delay\",\"seconds\":1,\"next\":\"wait\"},"
		"\"wait\":{\"type\":\"delay\",\"seconds\":172800,\"next\":\"more\"},"
		"\"more\":{\"type\":\"shared_flow\",\"workflow\":\"value_highlight_flow\",\"next\":null}}}";
	def_t *def = NULL;
	cJSON *json = cJSON_Parse(example);

	ck_assert_str_eq(check_text(example, NULL), "valid");
	ck_assert_int_eq(def_parse(json, NULL, &def, NULL), 0);
	ck_assert_str_eq(def->start, "welcome");
	ck_assert_str_eq(def->trigger_source, "subscription");
	ck_assert_int_eq(def->priority, 10);
	ck_assert_int_eq((int)def->nnodes, 3);
	ck_assert_str_eq(def_node(def, "welcome")->next, "wait");
	ck_assert_ptr_null(def_node(def, "more")->next);
	ck_assert_int_eq(def_node(def, "wait")->retry.max_attempts, 5);
	ck_assert_ptr_null(def_node(def, "nope"));
	def_free(def);
	cJSON_Delete(json);
}
END_TEST

START_TEST(each_problem_is_reported)
{
	expect_problem("[]", "a definition must be a JSON object");
	expect_problem("{\"nodes\":{\"a\":{\"type\":\"noop\"}}}", "missing field \"start\"");
	expect_problem("{\"start\":\"a\",\"nodes\":{}}", "\"nodes\" must be an object with at least one node");
	expect_problem("{\"start\":\"b\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}", "start node \"b\" does not exist");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"teleport\"}}}", "a: unknown node type \"teleport\"");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{}}}", "a: missing field \"type\"");
	expect_problem("{\"start\":\"\",\"nodes\":{\"\":{\"type\":\"noop\"}}}", "a node id must not be empty");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"next\":\"ghost\"}}}",
		       "a: \"next\" points to unknown node \"ghost\"");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"next\":5}}}",
		       "a: \"next\" must be a node id or null");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"},\"b\":{\"type\":\"noop\"}}}",
		       "b: node \"b\" is unreachable from the start node");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"next\":\"b\"},\"b\":{\"type\":\"noop\",\"next\":\"a\"}}}",
		       "cycle: a -> b -> a");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"next\":\"a\"}}}", "cycle: a -> a");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"delay\"}}}",
		       "a delay needs exactly one of \"seconds\" or \"until\"");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"delay\",\"seconds\":-1}}}",
		       "\"seconds\" must be a number from 0 to 315360000 (ten years)");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"delay\",\"seconds\":1e300}}}",
		       "\"seconds\" must be a number from 0 to 315360000");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"shared_flow\"}}}",
		       "a: missing field \"workflow\"");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"retry\":{\"max_attempts\":0}}}}",
		       "retry.max_attempts must be an integer from 1 to 100");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"retry\":{\"base_ms\":500,\"max_ms\":10}}}}",
		       "retry.max_ms must be an integer not below base_ms");
	expect_problem("{\"start\":\"a\",\"trigger\":{\"source\":\"carrier\"},\"nodes\":{\"a\":{\"type\":\"noop\"}}}",
		       "trigger.source must be one of");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"},\"a\":{\"type\":\"noop\"}}}",
		       "node \"a\" is defined twice");
	expect_problem("{\"start\":\"a\",\"trigger\":{\"source\":\"manual\",\"rule\":{\"teleport\":[1]}},"
		       "\"nodes\":{\"a\":{\"type\":\"noop\"}}}",
		       "trigger.rule is not a valid JSON Logic rule");
	expect_problem("{\"start\":\"a\",\"trigger\":{\"source\":\"manual\",\"priority\":3e17},\"nodes\":{\"a\":{\"type\":\"noop\"}}}",
		       "trigger.priority must be a number from -2147483648 to 2147483647");
	expect_problem("{\"start\":\"a\",\"exit_when\":{\"==\":[1]},\"nodes\":{\"a\":{\"type\":\"noop\"}}}",
		       "exit_when is not a valid JSON Logic rule");
	/* A webhook is refused at validation for what would fail every call. */
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"webhook\",\"url\":\"http://exa mple.com/\"}}}",
		       "a: \"url\": invalid URL");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"webhook\",\"url\":\"https://example.com/\","
		       "\"headers\":{\"Host\":\"evil.example\"}}}}",
		       "a: header \"Host\": header Host is set by the client, not the caller");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"webhook\",\"url\":\"https://example.com/\","
		       "\"headers\":{\"X-Webhook-Signature\":\"forged\"}}}}",
		       "header X-Webhook-Signature is set by the client");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"webhook\",\"url\":\"https://example.com/\","
		       "\"headers\":{\"Bad(Name)\":\"x\"}}}}",
		       "a: header \"Bad(Name)\": invalid header name");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"webhook\",\"url\":\"https://example.com/\","
		       "\"headers\":{\"X-Note\":\"a\\r\\nBcc: x\"}}}}",
		       "a: header \"X-Note\": header injection refused: X-Note contains CR or LF");
	expect_problem("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"webhook\",\"url\":\"https://example.com/\","
		       "\"headers\":{\"X-Count\":1}}}}",
		       "a: header \"X-Count\" must be a string");
}
END_TEST

START_TEST(all_problems_come_at_once)
{
	const char *got = check_text(
		"{\"start\":\"a\",\"nodes\":{"
		"\"a\":{\"type\":\"noop\",\"next\":\"b\"},"
		"\"b\":{\"type\":\"warp\",\"next\":\"ghost\"},"
		"\"c\":{\"type\":\"delay\"}}}", NULL);

	ck_assert_msg(strstr(got, "b: unknown node type \"warp\"") != NULL, "%s", got);
	ck_assert_msg(strstr(got, "b: \"next\" points to unknown node \"ghost\"") != NULL, "%s", got);
	ck_assert_msg(strstr(got, "c: a delay needs exactly one") != NULL, "%s", got);
	ck_assert_msg(strstr(got, "c: node \"c\" is unreachable") != NULL, "%s", got);
	ck_assert_int_eq((int)problems.count, 4);

	/* An unknown type keeps next, true and false: three successors, all walked. */
	got = check_text("{\"start\":\"a\",\"nodes\":{"
			 "\"a\":{\"type\":\"warp\",\"next\":\"b\",\"true\":\"c\",\"false\":\"d\"},"
			 "\"b\":{\"type\":\"noop\"},\"c\":{\"type\":\"noop\"},\"d\":{\"type\":\"noop\",\"next\":\"a\"}}}", NULL);
	ck_assert_msg(strcmp(got, "a: unknown node type \"warp\" | a: cycle: a -> d -> a") == 0, "%s", got);
}
END_TEST

/* A resolver over a fixed set of definitions: the interface the database lookup implements. */
static const cJSON *lookup_fixed(void *arg, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive((const cJSON *)arg, name);
}

START_TEST(shared_flows_are_checked_through_the_resolver)
{
	cJSON *known = cJSON_Parse(
		"{\"leaf\":{\"start\":\"x\",\"nodes\":{\"x\":{\"type\":\"noop\"}}},"
		" \"loop_b\":{\"start\":\"x\",\"nodes\":{\"x\":{\"type\":\"shared_flow\",\"workflow\":\"loop_a\"}}}}");
	def_resolver_t r = { lookup_fixed, NULL, known };

	ck_assert_str_eq(check_text("{\"name\":\"top\",\"start\":\"s\",\"nodes\":{\"s\":{\"type\":\"shared_flow\",\"workflow\":\"leaf\"}}}",
				    &r), "valid");
	ck_assert_msg(strstr(check_text("{\"name\":\"top\",\"start\":\"s\",\"nodes\":{\"s\":{\"type\":\"shared_flow\",\"workflow\":\"nowhere\"}}}", &r),
			     "unknown workflow \"nowhere\"") != NULL, "unknown target not reported");
	ck_assert_msg(strstr(check_text("{\"name\":\"loop_a\",\"start\":\"s\",\"nodes\":{\"s\":{\"type\":\"shared_flow\",\"workflow\":\"loop_b\"}}}", &r),
			     "cycle through shared flows") != NULL, "indirect cycle not reported");
	ck_assert_msg(strstr(check_text("{\"name\":\"self\",\"start\":\"s\",\"nodes\":{\"s\":{\"type\":\"shared_flow\",\"workflow\":\"self\"}}}", &r),
			     "runs its own workflow") != NULL, "self reference not reported");
	cJSON_Delete(known);
	def_problems_free(&problems);
}
END_TEST

static const char *cron_definition(const char *timezone)
{
	static char text[512];

	snprintf(text, sizeof(text),
		 "{\"trigger\":{\"source\":\"cron\",\"schedule\":\"0 9 * * 1\",\"timezone\":\"%s\"},"
		 "\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\"}}}", timezone);
	return text;
}

/* Stands in for pg_timezone_names: a few zones, as the database would answer. */
static bool known_zone(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "Europe/Paris") == 0 || strcmp(name, "Etc/GMT+2") == 0;
}

/*
 * PostgreSQL reads "+05" and "UTC+5" as POSIX zones, five hours west of
 * Greenwich: the opposite of what they seem to say. Only tz database names
 * pass, and a resolver that knows the zones refuses names it does not know.
 */
START_TEST(cron_time_zones_are_names_the_database_knows)
{
	static const char *const refused[] = { "+05", "-03:00", "UTC+5", "utc-2", "GMT+1", "GMT0", "UTC5", "../x", "" };
	static const char *const accepted[] = { "UTC", "GMT", "Europe/Paris", "Etc/GMT+2", "America/Port-au-Prince" };
	def_resolver_t r = { NULL, NULL, NULL, known_zone };

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ck_assert_msg(strstr(check_text(cron_definition(refused[i]), NULL), "trigger.timezone must be") != NULL,
			      "\"%s\" accepted", refused[i]);
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		ck_assert_msg(strcmp(check_text(cron_definition(accepted[i]), NULL), "valid") == 0, "\"%s\": %s",
			      accepted[i], check_text(cron_definition(accepted[i]), NULL));

	ck_assert_str_eq(check_text(cron_definition("Europe/Paris"), &r), "valid");
	ck_assert_str_eq(check_text(cron_definition("Etc/GMT+2"), &r), "valid");
	ck_assert_str_eq(check_text(cron_definition("Mars/Olympus"), &r),
			 "-: trigger.timezone \"Mars/Olympus\" is not a known time zone");
	/* Without the callback (offline), a well-formed name is all that can be checked. */
	ck_assert_str_eq(check_text(cron_definition("Mars/Olympus"), NULL), "valid");
	def_problems_free(&problems);
}
END_TEST

START_TEST(problems_serialise_with_node_and_edge)
{
	cJSON *list;
	char *text;

	check_text("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"noop\",\"next\":\"ghost\"}}}", NULL);
	list = def_problems_json(&problems);
	text = json_print(list);
	ck_assert_str_eq(text, "[{\"node\":\"a\",\"edge\":\"a.next\",\"message\":\"\\\"next\\\" points to unknown node \\\"ghost\\\"\"}]");
	free(text);
	cJSON_Delete(list);
	def_problems_free(&problems);
}
END_TEST

/*
 * A chain of nodes n0 -> n1 -> ... of the given length; the last node's next
 * is back_to (a node index, making a cycle) or -1 (the end). The caller frees it.
 */
static char *chain_definition(int length, int back_to)
{
	size_t cap = (size_t)length * 64 + 64;
	char *text = malloc(cap);
	size_t len;

	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, cap, "{\"start\":\"n0\",\"nodes\":{");
	for (int i = 0; i < length; i++) {
		char next[32] = "null";

		if (i + 1 < length)
			snprintf(next, sizeof(next), "\"n%d\"", i + 1);
		else if (back_to >= 0)
			snprintf(next, sizeof(next), "\"n%d\"", back_to);
		len += (size_t)snprintf(text + len, cap - len, "%s\"n%d\":{\"type\":\"noop\",\"next\":%s}",
					i ? "," : "", i, next);
	}
	snprintf(text + len, cap - len, "}}");
	return text;
}

/* A long chain is searched without recursion, and the node count is capped. */
START_TEST(long_chains_are_checked_and_capped)
{
	char *text = chain_definition(DEF_NODES_MAX, -1);

	ck_assert_str_eq(check_text(text, NULL), "valid");
	free(text);
	text = chain_definition(DEF_NODES_MAX, DEF_NODES_MAX - 2);
	expect_problem(text, "cycle: n998 -> n999 -> n998");
	free(text);
	text = chain_definition(DEF_NODES_MAX + 1, -1);
	ck_assert_str_eq(check_text(text, NULL), "-: the definition has 1001 nodes; at most 1000 are allowed");
	free(text);

	/* A webhook may name at most 32 headers of its own. */
	{
		char many[4096];
		size_t len = (size_t)snprintf(many, sizeof(many), "{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"webhook\","
					      "\"url\":\"https://example.com/\",\"headers\":{");

		for (int i = 0; i < 33; i++)
			len += (size_t)snprintf(many + len, sizeof(many) - len, "%s\"X-H%d\":\"v\"", i ? "," : "", i);
		snprintf(many + len, sizeof(many) - len, "}}}}");
		ck_assert_str_eq(check_text(many, NULL), "a: at most 32 headers are allowed");
	}

	/* Two paths meeting again are no cycle. */
	ck_assert_str_eq(check_text("{\"start\":\"a\",\"nodes\":{"
				    "\"a\":{\"type\":\"condition\",\"rule\":true,\"true\":\"b\",\"false\":\"c\"},"
				    "\"b\":{\"type\":\"noop\",\"next\":\"d\"},\"c\":{\"type\":\"noop\",\"next\":\"d\"},"
				    "\"d\":{\"type\":\"noop\"}}}", NULL), "valid");
	def_problems_free(&problems);
}
END_TEST

RUNNER_MAIN("definition", 30, the_interface_example_is_valid, each_problem_is_reported,
	    all_problems_come_at_once, shared_flows_are_checked_through_the_resolver,
	    cron_time_zones_are_names_the_database_knows, problems_serialise_with_node_and_edge, long_chains_are_checked_and_capped)
