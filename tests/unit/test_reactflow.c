/*
 * test_reactflow.c - React Flow documents to definitions and back: a valid
 * flow gives the expected definition; every kind of problem is found, all
 * at once, each naming its React Flow node or edge; the inverse lays a
 * definition out so that converting it back gives the same definition,
 * for every workflow that sql/007_shipped_workflows.sql ships (read from a
 * migrated database).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "reactflow.h"
#include "runner.h"
#include "testdb.h"

/* Converts text; "valid" or the problems, one "node X: ..." / "edge Y: ..." / "workflow: ..." a line. */
static const char *convert(const char *text, const def_resolver_t *resolver, cJSON **def_out)
{
	static char out[8192];
	def_problems_t problems = { 0 };
	cJSON *flow = cJSON_Parse(text);
	cJSON *def = NULL;
	int rc;

	ck_assert_msg(flow != NULL, "test JSON does not parse: %s", text);
	rc = rf_convert(flow, "test-flow", resolver, &def, &problems);
	ck_assert_int_eq(rc == 0, def != NULL);
	ck_assert_int_eq(rc == 0, problems.count == 0);
	snprintf(out, sizeof(out), "%s", rc == 0 ? "valid" : "");
	for (size_t i = 0; i < problems.count; i++) {
		const def_problem_t *p = &problems.items[i];
		size_t used = strlen(out);

		ck_assert_msg(!(p->node && p->edge), "a problem names both node %s and edge %s", p->node, p->edge);
		snprintf(out + used, sizeof(out) - used, "%s%s %s: %s", i ? "\n" : "", p->node ? "node" : p->edge ? "edge" : "workflow",
			 p->node ? p->node : p->edge ? p->edge : "-", p->message);
	}
	if (def_out)
		*def_out = def;
	else
		cJSON_Delete(def);
	def_problems_free(&problems);
	cJSON_Delete(flow);
	return out;
}

/* A flow of a trigger (with data trigger_data) leading to node "a"; more nodes and edges appended. */
static const char *flow_text(const char *trigger_data, const char *nodes, const char *edges)
{
	static char out[4096];

	snprintf(out, sizeof(out),
		 "{\"nodes\":[{\"id\":\"t\",\"type\":\"trigger\",\"position\":{\"x\":0,\"y\":0},\"data\":%s}%s%s],"
		 "\"edges\":[{\"id\":\"t-a\",\"source\":\"t\",\"target\":\"a\"}%s%s],\"viewport\":{\"x\":0,\"y\":0,\"zoom\":1}}",
		 trigger_data, *nodes ? "," : "", nodes, *edges ? "," : "", edges);
	return out;
}

/* Long lists do not fit Check's message: the difference goes to stderr. */
static void expect_all(const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "got:\n%s\nwanted:\n%s\n", got, want);
		ck_abort_msg("the problems differ (see stderr)");
	}
}

static void expect(const char *text, const char *problem)
{
	const char *got = convert(text, NULL, NULL);

	ck_assert_msg(strstr(got, problem) != NULL, "expected \"%s\" in:\n%s", problem, got);
}

START_TEST(a_four_node_flow_converts_to_its_definition)
{
	const char *flow =
		"{\"nodes\":["
		"{\"id\":\"start\",\"type\":\"trigger\",\"position\":{\"x\":0,\"y\":0},"
		" \"data\":{\"source\":\"subscription\",\"rule\":{\"==\":[{\"var\":\"subscription_type.name\"},\"united\"]},"
		"  \"priority\":10,\"exit_when\":{\"var\":\"user.unsubscribed\"}}},"
		"{\"id\":\"welcome\",\"type\":\"action\",\"position\":{\"x\":0,\"y\":100},"
		" \"data\":{\"label\":\"Welcome\",\"action\":\"send_email\",\"template\":\"united_welcome\",\"next\":\"ignored\"}},"
		"{\"id\":\"wait\",\"type\":\"delay\",\"position\":{\"x\":0,\"y\":200},\"data\":{\"seconds\":172800,"
		" \"retry\":{\"max_attempts\":2}}},"
		"{\"id\":\"check\",\"type\":\"condition\",\"data\":{\"rule\":{\"!\":{\"var\":\"user.engaged\"}}}},"
		"{\"id\":\"more\",\"type\":\"sharedFlow\",\"data\":{\"workflow\":\"value_highlight_flow\"}}],"
		"\"edges\":["
		"{\"id\":\"e1\",\"source\":\"start\",\"target\":\"welcome\",\"sourceHandle\":null,\"targetHandle\":null},"
		"{\"id\":\"e2\",\"source\":\"welcome\",\"target\":\"wait\",\"sourceHandle\":\"out\"},"
		"{\"id\":\"e3\",\"source\":\"wait\",\"target\":\"check\"},"
		"{\"id\":\"e4\",\"source\":\"check\",\"target\":\"more\",\"sourceHandle\":\"true\"}],"
		"\"viewport\":{\"x\":10,\"y\":-20,\"zoom\":0.8}}";
	cJSON *expected = cJSON_Parse(
		"{\"name\":\"test-flow\","
		"\"trigger\":{\"source\":\"subscription\",\"rule\":{\"==\":[{\"var\":\"subscription_type.name\"},\"united\"]},\"priority\":10},"
		"\"exit_when\":{\"var\":\"user.unsubscribed\"},"
		"\"start\":\"welcome\","
		"\"nodes\":{"
		"\"welcome\":{\"type\":\"action\",\"label\":\"Welcome\",\"action\":\"send_email\",\"template\":\"united_welcome\",\"next\":\"wait\"},"
		"\"wait\":{\"type\":\"delay\",\"seconds\":172800,\"retry\":{\"max_attempts\":2},\"next\":\"check\"},"
		"\"check\":{\"type\":\"condition\",\"rule\":{\"!\":{\"var\":\"user.engaged\"}},\"true\":\"more\",\"false\":null},"
		"\"more\":{\"type\":\"shared_flow\",\"workflow\":\"value_highlight_flow\",\"next\":null}}}");
	cJSON *def = NULL;
	char *text;

	ck_assert_str_eq(convert(flow, NULL, &def), "valid");
	text = json_print(def);
	ck_assert_msg(cJSON_Compare(def, expected, true), "got %s", text);
	/* The nodes keep the flow's order. */
	ck_assert_str_eq(cJSON_GetObjectItem(def, "nodes")->child->string, "welcome");
	free(text);
	cJSON_Delete(def);
	cJSON_Delete(expected);
}
END_TEST

START_TEST(a_trigger_without_source_is_manual_and_null_fields_are_absent)
{
	cJSON *def = NULL;

	ck_assert_str_eq(convert(flow_text("{\"label\":\"Start\",\"rule\":null,\"exit_when\":null}",
					   "{\"id\":\"a\",\"type\":\"noop\",\"data\":{}}", ""), NULL, &def), "valid");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(def, "trigger"), "source"), "manual");
	ck_assert(!cJSON_HasObjectItem(cJSON_GetObjectItem(def, "trigger"), "rule"));
	ck_assert(!cJSON_HasObjectItem(def, "exit_when"));
	cJSON_Delete(def);
	/* No data at all is fine too, and the internal types keep their names. */
	ck_assert_str_eq(convert("{\"nodes\":[{\"id\":\"t\",\"type\":\"trigger\"},{\"id\":\"a\",\"type\":\"log\"}],"
				 "\"edges\":[{\"id\":\"x\",\"source\":\"t\",\"target\":\"a\"}]}", NULL, NULL), "valid");
}
END_TEST

START_TEST(each_problem_names_its_node_or_edge)
{
	static const char *const A = "{\"id\":\"a\",\"type\":\"noop\",\"data\":{}}";
	static const char *const B = "{\"id\":\"b\",\"type\":\"noop\",\"data\":{}}";
	static const char *const C = "{\"id\":\"c\",\"type\":\"condition\",\"data\":{\"rule\":true}}";
	char nodes[512];

	/* The document. */
	expect("[]", "workflow -: a React Flow document must be an object");
	expect("{\"nodes\":{},\"edges\":[]}", "workflow -: \"nodes\" must be an array");
	expect("{\"nodes\":[],\"edges\":{}}", "workflow -: \"edges\" must be an array");
	expect("{\"nodes\":[],\"edges\":[]}", "workflow -: the flow has no trigger node");
	/* Nodes. */
	expect(flow_text("{}", "{\"id\":\"a\",\"type\":\"teleport\"}", ""), "node a: unknown node type \"teleport\"");
	expect(flow_text("{}", "{\"id\":\"a\",\"type\":\"shared_flow\",\"data\":{\"workflow\":\"x\"}}", ""),
	       "node a: unknown node type \"shared_flow\"");
	expect(flow_text("{}", "{\"id\":\"a\"}", ""), "node a: missing \"type\"");
	expect(flow_text("{}", "{\"id\":\"a\",\"type\":\"delay\",\"data\":[1]}", ""), "node a: \"data\" must be an object");
	expect(flow_text("{}", "{\"id\":\"a\",\"type\":\"delay\",\"data\":{}}", ""),
	       "node a: a delay needs exactly one of \"seconds\" or \"until\"");
	/* The editor renders a label as text: an object there broke its page. */
	expect(flow_text("{}", "{\"id\":\"a\",\"type\":\"delay\",\"data\":{\"seconds\":1,\"label\":{\"en\":\"Wait\"}}}", ""),
	       "node a: \"label\" must be a string");
	expect(flow_text("{\"label\":7}", A, ""), "node t: \"label\" must be a string");
	expect(flow_text("{}", "{\"id\":\"a\",\"type\":\"action\",\"data\":{\"action\":\"send_fax\"}}", ""),
	       "node a: \"action\" must be send_email, send_sms or trigger_webhook");
	expect(flow_text("{}", "{\"id\":\"a\",\"type\":\"webhook\",\"data\":{\"url\":\"ftp://x\"}}", ""),
	       "node a: \"url\" must be an http:// or https:// address");
	expect(flow_text("{}", "{\"id\":\"a\",\"type\":\"noop\",\"data\":{\"retry\":{\"max_attempts\":0}}}", ""),
	       "node a: retry.max_attempts must be an integer from 1 to 100");
	expect(flow_text("{}", "7", ""), "node nodes[1]: a node must be an object");
	expect(flow_text("{}", "{\"type\":\"noop\"}", ""), "node nodes[1]: a node needs an \"id\"");
	snprintf(nodes, sizeof(nodes), "%s,%s", A, A);
	expect(flow_text("{}", nodes, ""), "node a: two nodes have the id \"a\"");
	/* The trigger. */
	expect(flow_text("{\"source\":\"carrier\"}", A, ""), "node t: trigger.source must be one of");
	expect(flow_text("{\"source\":\"manual\",\"rule\":{\"nope\":1}}", A, ""), "node t: trigger.rule is not a valid JSON Logic rule");
	expect(flow_text("{\"exit_when\":{\"==\":[1]}}", A, ""), "node t: exit_when is not a valid JSON Logic rule");
	expect(flow_text("{\"source\":\"cron\"}", A, ""), "node t: a cron trigger needs \"schedule\"");
	snprintf(nodes, sizeof(nodes), "%s,{\"id\":\"t2\",\"type\":\"trigger\"}", A);
	expect(flow_text("{}", nodes, ""), "node t2: a flow has one trigger node, and \"t\" is one already");
	expect("{\"nodes\":[{\"id\":\"t\",\"type\":\"trigger\"},{\"id\":\"a\",\"type\":\"noop\"}],\"edges\":[]}",
	       "node t: the trigger has no outgoing edge");
	/* Edges. */
	snprintf(nodes, sizeof(nodes), "%s,%s", A, B);
	expect(flow_text("{}", nodes, "{\"id\":\"x\",\"source\":\"a\",\"target\":\"ghost\"}"),
	       "edge x: target \"ghost\" is not a node of the flow");
	expect(flow_text("{}", nodes, "{\"id\":\"x\",\"source\":\"ghost\",\"target\":\"b\"}"),
	       "edge x: source \"ghost\" is not a node of the flow");
	expect(flow_text("{}", nodes, "{\"id\":\"x\",\"source\":\"a\"}"), "edge x: missing \"target\"");
	expect(flow_text("{}", nodes, "{\"id\":\"x\",\"source\":\"a\",\"target\":\"t\"}"), "edge x: an edge cannot enter the trigger \"t\"");
	expect(flow_text("{}", nodes, "{\"id\":\"x\",\"source\":\"a\",\"target\":\"b\"},{\"id\":\"y\",\"source\":\"a\",\"target\":\"b\"}"),
	       "edge y: node \"a\" already continues through edge \"x\"");
	expect(flow_text("{}", nodes, "{\"id\":\"x\",\"source\":\"t\",\"target\":\"b\"}"),
	       "edge x: node \"t\" already continues through edge \"t-a\"");
	expect(flow_text("{}", nodes, "{\"id\":\"t-a\",\"source\":\"a\",\"target\":\"b\"}"), "edge t-a: two edges have the id \"t-a\"");
	expect(flow_text("{}", nodes, "[]"), "edge edges[1]: an edge must be an object");
	expect(flow_text("{}", nodes, "{\"source\":\"a\",\"target\":\"b\"}"), "edge edges[1]: an edge needs an \"id\"");
	snprintf(nodes, sizeof(nodes), "%s,%s,%s", A, B, C);
	expect(flow_text("{}", nodes, "{\"id\":\"ab\",\"source\":\"a\",\"target\":\"c\"},{\"id\":\"x\",\"source\":\"c\",\"target\":\"b\"}"),
	       "edge x: an edge leaving condition \"c\" needs sourceHandle \"true\" or \"false\"");
	expect(flow_text("{}", nodes, "{\"id\":\"ac\",\"source\":\"a\",\"target\":\"c\"},"
				      "{\"id\":\"x\",\"source\":\"c\",\"sourceHandle\":\"false\",\"target\":\"b\"},"
				      "{\"id\":\"y\",\"source\":\"c\",\"sourceHandle\":\"false\",\"target\":\"a\"}"),
	       "edge y: the \"false\" handle of condition \"c\" already has edge \"x\"");
	/* Duplicate keys: jsonb would store the last where the check read the first. */
	expect(flow_text("{}", "{\"id\":\"a\",\"type\":\"action\",\"data\":{\"action\":\"send_email\",\"template\":\"x\","
			       "\"retry\":{\"base_ms\":1,\"base_ms\":2}}}", ""),
	       "node a: the key \"base_ms\" appears twice in one object");
	expect(flow_text("{}", A, "{\"id\":\"x\",\"source\":\"a\",\"target\":\"a\",\"target\":\"t\"}"),
	       "edge x: the key \"target\" appears twice in one object");
	expect("{\"nodes\":[],\"edges\":[],\"nodes\":[]}", "workflow -: the key \"nodes\" appears twice in one object");
	/* The graph. */
	expect(flow_text("{}", nodes, "{\"id\":\"ab\",\"source\":\"a\",\"target\":\"b\"}"), "node c: node \"c\" is unreachable");
	expect(flow_text("{}", nodes, "{\"id\":\"ab\",\"source\":\"a\",\"target\":\"b\"},{\"id\":\"ba\",\"source\":\"b\",\"target\":\"a\"}"),
	       "node a: cycle: a -> b -> a");
}
END_TEST

START_TEST(every_problem_comes_at_once)
{
	const char *flow =
		"{\"nodes\":["
		"{\"id\":\"t\",\"type\":\"trigger\",\"data\":{\"source\":\"carrier\"}},"
		"{\"id\":\"t2\",\"type\":\"trigger\"},"
		"{\"id\":\"a\",\"type\":\"action\",\"data\":{\"action\":\"send_fax\"}},"
		"{\"id\":\"c\",\"type\":\"condition\",\"data\":{}},"
		"{\"id\":\"d\",\"type\":\"teleport\"},"
		"{\"id\":\"e\",\"type\":\"delay\",\"data\":{\"seconds\":1}},"
		"{\"id\":\"f\",\"type\":\"delay\",\"data\":{\"seconds\":1}},"
		"{\"id\":\"a\",\"type\":\"delay\"},"
		"\"not a node\","
		"{\"id\":\"lonely\",\"type\":\"delay\",\"data\":{\"seconds\":1}}],"
		"\"edges\":["
		"{\"id\":\"e1\",\"source\":\"t\",\"target\":\"a\"},"
		"{\"id\":\"e2\",\"source\":\"a\",\"target\":\"c\"},"
		"{\"id\":\"e3\",\"source\":\"a\",\"target\":\"d\"},"
		"{\"id\":\"e4\",\"source\":\"c\",\"target\":\"d\"},"
		"{\"id\":\"e5\",\"source\":\"c\",\"sourceHandle\":\"true\",\"target\":\"e\"},"
		"{\"id\":\"e6\",\"source\":\"c\",\"sourceHandle\":\"true\",\"target\":\"f\"},"
		"{\"id\":\"e7\",\"source\":\"c\",\"sourceHandle\":\"false\",\"target\":\"ghost\"},"
		"{\"id\":\"e8\",\"source\":\"e\",\"target\":\"f\"},"
		"{\"id\":\"e9\",\"source\":\"f\",\"target\":\"e\"},"
		"{\"id\":\"e10\",\"source\":\"d\",\"target\":\"t\"},"
		"{\"id\":\"e1\",\"source\":\"d\",\"target\":\"e\"},"
		"null]}";

	expect_all(convert(flow, NULL, NULL),
		"node t2: a flow has one trigger node, and \"t\" is one already\n"
		"node d: unknown node type \"teleport\" (one of trigger, action, delay, condition, sharedFlow, webhook)\n"
		"node a: two nodes have the id \"a\"\n"
		"node nodes[8]: a node must be an object\n"
		"edge e3: node \"a\" already continues through edge \"e2\": a node has one outgoing edge (a condition one per handle)\n"
		"edge e4: an edge leaving condition \"c\" needs sourceHandle \"true\" or \"false\"\n"
		"edge e6: the \"true\" handle of condition \"c\" already has edge \"e5\": one edge per handle\n"
		"edge e7: target \"ghost\" is not a node of the flow\n"
		"edge e10: an edge cannot enter the trigger \"t\"\n"
		"edge e1: two edges have the id \"e1\"\n"
		"edge edges[11]: an edge must be an object\n"
		"node a: \"action\" must be send_email, send_sms or trigger_webhook\n"
		"node c: missing field \"rule\" (a JSON Logic rule)\n"
		"node t: trigger.source must be one of subscription, newsletter, manual, cron\n"
		"node d: node \"d\" is unreachable from the start node\n"
		"node lonely: node \"lonely\" is unreachable from the start node\n"
		"node e: cycle: e -> f -> e");
}
END_TEST

/* A resolver that knows one workflow, and the templates "known" and nothing else. */
static const cJSON *lookup_one(void *arg, const char *name)
{
	return strcmp(name, "leaf") == 0 ? arg : NULL;
}

static bool known_template(void *arg, const char *name)
{
	return strcmp(name, "known") == 0;
}

START_TEST(shared_flows_and_templates_are_checked_through_the_resolver)
{
	cJSON *leaf = cJSON_Parse("{\"name\":\"leaf\",\"start\":\"x\",\"nodes\":{\"x\":{\"type\":\"noop\"}}}");
	def_resolver_t r = { lookup_one, known_template, leaf };
	char nodes[512];

	snprintf(nodes, sizeof(nodes), "{\"id\":\"a\",\"type\":\"sharedFlow\",\"data\":{\"workflow\":\"leaf\"}},"
				       "{\"id\":\"b\",\"type\":\"action\",\"data\":{\"action\":\"send_email\",\"template\":\"known\"}}");
	ck_assert_str_eq(convert(flow_text("{}", nodes, "{\"id\":\"ab\",\"source\":\"a\",\"target\":\"b\"}"), &r, NULL), "valid");
	snprintf(nodes, sizeof(nodes), "{\"id\":\"a\",\"type\":\"sharedFlow\",\"data\":{\"workflow\":\"nowhere\"}},"
				       "{\"id\":\"b\",\"type\":\"action\",\"data\":{\"action\":\"send_email\",\"template\":\"unknown\"}},"
				       "{\"id\":\"c\",\"type\":\"sharedFlow\",\"data\":{\"workflow\":\"test-flow\"}}");
	expect_all(convert(flow_text("{}", nodes, "{\"id\":\"ab\",\"source\":\"a\",\"target\":\"b\"},"
							"{\"id\":\"bc\",\"source\":\"b\",\"target\":\"c\"}"), &r, NULL),
			 "node b: unknown email template \"unknown\"\n"
			 "node a: shared flow runs unknown workflow \"nowhere\"\n"
			 "node c: shared flow \"test-flow\" runs its own workflow (cycle)");
	cJSON_Delete(leaf);
}
END_TEST

START_TEST(the_flow_is_not_changed_and_an_empty_name_is_refused)
{
	cJSON *flow = cJSON_Parse(flow_text("{\"source\":\"manual\"}", "{\"id\":\"a\",\"type\":\"log\",\"data\":{\"message\":\"m\"}}", ""));
	cJSON *copy = cJSON_Duplicate(flow, 1);
	def_problems_t problems = { 0 };
	cJSON *def = NULL;

	ck_assert_int_eq(rf_convert(flow, NULL, NULL, &def, NULL), 0);
	ck_assert(!cJSON_HasObjectItem(def, "name"));
	ck_assert(cJSON_Compare(flow, copy, true));
	cJSON_Delete(def);
	ck_assert_int_eq(rf_convert(flow, "", NULL, &def, &problems), -EINVAL);
	ck_assert_ptr_null(def);
	ck_assert_int_eq((int)problems.count, 1);
	ck_assert_str_eq(problems.items[0].message, "the workflow's name must not be empty");
	def_problems_free(&problems);
	cJSON_Delete(copy);
	cJSON_Delete(flow);
}
END_TEST

START_TEST(every_trigger_schema_example_converts)
{
	cJSON *schema = cJSON_Parse(rf_trigger_schema);
	const cJSON *example;
	int n = 0;

	ck_assert_msg(cJSON_IsObject(schema), "rf_trigger_schema is not JSON");
	ck_assert_str_eq(json_string(schema, "$schema"), "https://json-schema.org/draft/2020-12/schema");
	cJSON_ArrayForEach(example, cJSON_GetObjectItem(schema, "examples")) {
		char *data = json_print(example);
		const cJSON *field;

		ck_assert_str_eq(convert(flow_text(data, "{\"id\":\"a\",\"type\":\"noop\"}", ""), NULL, NULL), "valid");
		cJSON_ArrayForEach(field, example)
			ck_assert_msg(cJSON_HasObjectItem(cJSON_GetObjectItem(schema, "properties"), field->string),
				      "example field \"%s\" is not in the schema", field->string);
		free(data);
		n++;
	}
	ck_assert_int_ge(n, 3);
	cJSON_Delete(schema);
}
END_TEST

START_TEST(type_names_map_both_ways)
{
	ck_assert_str_eq(rf_type_of("shared_flow"), "sharedFlow");
	ck_assert_str_eq(rf_type_of("action"), "action");
	ck_assert_str_eq(rf_type_of("noop"), "noop");
	ck_assert_ptr_null(rf_type_of("teleport"));
	ck_assert_str_eq(rf_node_type("sharedFlow"), "shared_flow");
	ck_assert_str_eq(rf_node_type("log"), "log");
	ck_assert_ptr_null(rf_node_type("shared_flow"));
	ck_assert_ptr_null(rf_node_type("trigger"));
	ck_assert(rf_type_public("webhook"));
	ck_assert(!rf_type_public("noop"));
}
END_TEST

/* The node of a flow with this id. */
static const cJSON *flow_node(const cJSON *flow, const char *id)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, cJSON_GetObjectItem(flow, "nodes"))
		if (strcmp(json_string(n, "id"), id) == 0)
			return n;
	ck_abort_msg("no node %s", id);
	return NULL;
}

static double coord(const cJSON *flow, const char *id, const char *axis)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(flow_node(flow, id), "position"), axis)->valuedouble;
}

START_TEST(a_definition_is_laid_out_top_down)
{
	cJSON *def = cJSON_Parse(
		"{\"trigger\":{\"source\":\"newsletter\"},\"exit_when\":{\"var\":\"x\"},\"start\":\"c\",\"nodes\":{"
		"\"trigger\":{\"type\":\"log\",\"next\":null},"
		"\"c\":{\"type\":\"condition\",\"rule\":true,\"true\":\"y\",\"false\":\"n\"},"
		"\"y\":{\"type\":\"delay\",\"seconds\":5,\"next\":\"trigger\"},"
		"\"n\":{\"type\":\"shared_flow\",\"workflow\":\"w\"},"
		"\"stray\":{\"type\":\"noop\"}}}");
	cJSON *flow = NULL;
	char *text;

	ck_assert_int_eq(rf_from_definition(def, &flow), 0);
	text = json_print(cJSON_GetObjectItem(flow, "edges"));
	/* "trigger" is taken by a node, so the trigger node is "trigger-1". */
	ck_assert_str_eq(text,
		"[{\"id\":\"trigger-1->c\",\"source\":\"trigger-1\",\"target\":\"c\"},"
		"{\"id\":\"c:true->y\",\"source\":\"c\",\"target\":\"y\",\"sourceHandle\":\"true\"},"
		"{\"id\":\"c:false->n\",\"source\":\"c\",\"target\":\"n\",\"sourceHandle\":\"false\"},"
		"{\"id\":\"y->trigger\",\"source\":\"y\",\"target\":\"trigger\"}]");
	free(text);
	ck_assert_str_eq(json_string(flow_node(flow, "trigger-1"), "type"), "trigger");
	ck_assert_str_eq(json_string(flow_node(flow, "n"), "type"), "sharedFlow");
	ck_assert_str_eq(json_string(cJSON_GetObjectItem(flow_node(flow, "trigger-1"), "data"), "source"), "newsletter");
	ck_assert(cJSON_HasObjectItem(cJSON_GetObjectItem(flow_node(flow, "trigger-1"), "data"), "exit_when"));
	/* Rows by distance from the start, centred; what the start does not reach goes last. */
	ck_assert(coord(flow, "trigger-1", "y") < coord(flow, "c", "y"));
	ck_assert(coord(flow, "c", "y") < coord(flow, "y", "y"));
	ck_assert(coord(flow, "y", "y") == coord(flow, "n", "y"));
	ck_assert(coord(flow, "y", "x") == -coord(flow, "n", "x"));
	ck_assert(coord(flow, "trigger", "y") > coord(flow, "y", "y"));
	ck_assert(coord(flow, "stray", "y") > coord(flow, "trigger", "y"));
	ck_assert(coord(flow, "trigger-1", "x") == 0 && coord(flow, "c", "x") == 0);
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(flow, "viewport")));
	/* The stray node stays unreachable when converted back. */
	text = json_print(flow);
	ck_assert_str_eq(convert(text, NULL, NULL), "node stray: node \"stray\" is unreachable from the start node");
	free(text);
	cJSON_Delete(flow);
	cJSON_Delete(def);
	/* Not a definition at all. */
	ck_assert_int_eq(rf_from_definition(NULL, &flow), -EINVAL);
	def = cJSON_Parse("{\"nodes\":[]}");
	ck_assert_int_eq(rf_from_definition(def, &flow), -EINVAL);
	ck_assert_ptr_null(flow);
	cJSON_Delete(def);
}
END_TEST

START_TEST(an_invalid_definition_keeps_its_problems_through_the_round_trip)
{
	cJSON *def = cJSON_Parse("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"warp\",\"next\":\"ghost\"},"
				 "\"b\":[],\"c\":{\"type\":\"delay\",\"next\":null}}}");
	cJSON *flow = NULL;
	char *text;

	ck_assert_int_eq(rf_from_definition(def, &flow), 0);
	text = json_print(flow);
	expect_all(convert(text, NULL, NULL),
			 "node a: unknown node type \"warp\" (one of trigger, action, delay, condition, sharedFlow, webhook)\n"
			 "node b: missing \"type\" (one of trigger, action, delay, condition, sharedFlow, webhook)\n"
			 "edge a->ghost: target \"ghost\" is not a node of the flow\n"
			 "node c: a delay needs exactly one of \"seconds\" or \"until\"\n"
			 "node b: node \"b\" is unreachable from the start node\n"
			 "node c: node \"c\" is unreachable from the start node");
	free(text);
	cJSON_Delete(flow);
	cJSON_Delete(def);
}
END_TEST

START_TEST(every_shipped_workflow_survives_the_round_trip)
{
	testdb_t *t = testdb_new("rfshipped");
	PGresult *res = testdb_query(t, "SELECT name, definition FROM workflow ORDER BY name", 0, NULL);

	ck_assert_int_ge(PQntuples(res), 5);
	for (int i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);
		cJSON *def = cJSON_Parse(PQgetvalue(res, i, 1));
		def_problems_t problems = { 0 };
		cJSON *flow = NULL, *back = NULL;
		char *a, *b;

		ck_assert_int_eq(rf_from_definition(def, &flow), 0);
		ck_assert_msg(rf_convert(flow, name, NULL, &back, &problems) == 0, "%s: %s", name,
			      problems.count ? problems.items[0].message : "");
		a = json_print(def);
		b = json_print(back);
		ck_assert_msg(cJSON_Compare(def, back, true), "%s:\n%s\n%s", name, a, b);
		free(a);
		free(b);
		cJSON_Delete(back);
		cJSON_Delete(flow);
		cJSON_Delete(def);
	}
	PQclear(res);
	testdb_free(t);
}
END_TEST

RUNNER_MAIN("reactflow", 60, a_four_node_flow_converts_to_its_definition,
	    a_trigger_without_source_is_manual_and_null_fields_are_absent, each_problem_names_its_node_or_edge,
	    every_problem_comes_at_once, shared_flows_and_templates_are_checked_through_the_resolver,
	    the_flow_is_not_changed_and_an_empty_name_is_refused, every_trigger_schema_example_converts,
	    type_names_map_both_ways, a_definition_is_laid_out_top_down,
	    an_invalid_definition_keeps_its_problems_through_the_round_trip,
	    every_shipped_workflow_survives_the_round_trip)
