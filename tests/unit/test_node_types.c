/*
 * test_node_types.c - the JSON Schema of every node type (executor_t.schema)
 * agrees with the executor's own validation: each schema is JSON, each of
 * its examples is a node that validates, a node missing a required field
 * or holding a value outside an enum does not, and the retry schema's
 * bounds are the ones the definition parser enforces.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "definition.h"
#include "executor.h"
#include "json.h"
#include "runner.h"
#include "template_set.h"

static tpl_set_t *templates;

static bool has_template(void *arg, const char *name)
{
	return tpl_set_find(templates, name) != NULL;
}

/* Validates {"start": "n", "nodes": {"n": node}} against the shipped templates; the problems joined. */
static const char *validate_node(const cJSON *node, char *out, size_t len)
{
	def_resolver_t resolver = { NULL, has_template, NULL };
	def_problems_t problems = { 0 };
	cJSON *def = json_object();
	cJSON *nodes = json_object();
	int rc;

	json_add_string(def, "start", "n");
	json_add(nodes, "n", cJSON_Duplicate(node, 1));
	json_add(def, "nodes", nodes);
	rc = def_validate(def, &resolver, &problems);
	snprintf(out, len, "%s", rc == 0 ? "valid" : "");
	for (size_t i = 0; i < problems.count; i++) {
		size_t used = strlen(out);

		snprintf(out + used, len - used, "%s%s", i ? " | " : "", problems.items[i].message);
	}
	def_problems_free(&problems);
	cJSON_Delete(def);
	return out;
}

static cJSON *parse_schema(const executor_t *e)
{
	cJSON *schema;

	ck_assert_msg(e->schema != NULL, "node type %s has no schema", e->type);
	schema = cJSON_Parse(e->schema);
	ck_assert_msg(cJSON_IsObject(schema), "the schema of %s is not a JSON object", e->type);
	return schema;
}

static void setup(void)
{
	char err[256];

	if (tpl_set_load(tpl_default_dir(), &templates, err, sizeof(err)) < 0)
		ck_abort_msg("shipped templates: %s", err);
}

static void teardown(void)
{
	tpl_set_free(templates);
	templates = NULL;
}

START_TEST(every_schema_is_a_json_schema_of_its_type)
{
	int n;
	const executor_t *const *all = executor_all(&n);

	setup();
	for (int i = 0; i < n; i++) {
		cJSON *schema = parse_schema(all[i]);
		const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
		const cJSON *required = cJSON_GetObjectItemCaseSensitive(schema, "required");
		const cJSON *r;

		ck_assert_str_eq(json_string(schema, "$schema"), "https://json-schema.org/draft/2020-12/schema");
		ck_assert_str_eq(json_string(schema, "title"), all[i]->type);
		ck_assert_str_eq(json_string(schema, "type"), "object");
		ck_assert_msg(cJSON_IsObject(props), "%s: no properties", all[i]->type);
		ck_assert_msg(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(schema, "examples")) > 0,
			      "%s: no examples", all[i]->type);
		/* Successors come from edges, the type from the node: neither is a field. */
		ck_assert(!cJSON_HasObjectItem(props, "type") && !cJSON_HasObjectItem(props, "next"));
		cJSON_ArrayForEach(r, required)
			ck_assert_msg(cJSON_HasObjectItem(props, r->valuestring), "%s: required \"%s\" is not a property",
				      all[i]->type, r->valuestring);
		cJSON_Delete(schema);
	}
	teardown();
}
END_TEST

/* Is value one of the schema property's "enum" (true when it has none)? */
static bool in_enum(const cJSON *prop, const cJSON *value)
{
	const cJSON *choices = cJSON_GetObjectItemCaseSensitive(prop, "enum");
	const cJSON *c;

	if (choices == NULL)
		return true;
	cJSON_ArrayForEach(c, choices)
		if (cJSON_Compare(c, value, true))
			return true;
	return false;
}

typedef void (*example_fn)(const executor_t *e, const cJSON *schema, const cJSON *example, int index);

/* Calls fn for every example of every node type's schema; how many there were. */
static int each_example(example_fn fn)
{
	int n, count = 0;
	const executor_t *const *all = executor_all(&n);

	setup();
	for (int i = 0; i < n; i++) {
		cJSON *schema = parse_schema(all[i]);
		const cJSON *example;
		int k = 0;

		cJSON_ArrayForEach(example, cJSON_GetObjectItemCaseSensitive(schema, "examples"))
			fn(all[i], schema, example, k++);
		count += k;
		cJSON_Delete(schema);
	}
	teardown();
	return count;
}

/* Every field is in the schema and within its enum, and the node validates. */
static void example_validates(const executor_t *e, const cJSON *schema, const cJSON *example, int k)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	cJSON *node = cJSON_Duplicate(example, 1);
	const cJSON *field;
	char got[2048];

	cJSON_ArrayForEach(field, example) {
		const cJSON *prop = cJSON_GetObjectItemCaseSensitive(props, field->string);

		ck_assert_msg(prop != NULL, "%s example %d: \"%s\" is not in the schema", e->type, k, field->string);
		ck_assert_msg(in_enum(prop, field), "%s example %d: \"%s\" is outside its enum", e->type, k,
			      field->string);
	}
	json_add_string(node, "type", e->type);
	ck_assert_msg(strcmp(validate_node(node, got, sizeof(got)), "valid") == 0, "%s example %d: %s", e->type, k,
		      got);
	cJSON_Delete(node);
}

static int refusals;

/* The example without one of its required fields, or with a value off an enum, is refused. */
static void example_breaks(const executor_t *e, const cJSON *schema, const cJSON *example, int k)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
	const cJSON *field;
	char got[2048];

	cJSON_ArrayForEach(field, cJSON_GetObjectItemCaseSensitive(schema, "required")) {
		cJSON *node = cJSON_Duplicate(example, 1);

		json_add_string(node, "type", e->type);
		cJSON_DeleteItemFromObjectCaseSensitive(node, field->valuestring);
		ck_assert_msg(strcmp(validate_node(node, got, sizeof(got)), "valid") != 0,
			      "%s without \"%s\" validates", e->type, field->valuestring);
		cJSON_Delete(node);
		refusals++;
	}
	cJSON_ArrayForEach(field, example) {
		cJSON *node;

		if (!cJSON_HasObjectItem(cJSON_GetObjectItemCaseSensitive(props, field->string), "enum"))
			continue;
		node = cJSON_Duplicate(example, 1);
		json_add_string(node, "type", e->type);
		cJSON_ReplaceItemInObjectCaseSensitive(node, field->string, cJSON_CreateString("TELEPORT"));
		ck_assert_msg(strcmp(validate_node(node, got, sizeof(got)), "valid") != 0,
			      "%s with %s \"TELEPORT\" validates", e->type, field->string);
		cJSON_Delete(node);
		refusals++;
	}
}

START_TEST(every_example_is_a_valid_node)
{
	/* Seven node types, each with one example at least. */
	ck_assert_int_ge(each_example(example_validates), 7);
}
END_TEST

START_TEST(an_example_without_a_required_field_or_off_its_enum_is_refused)
{
	refusals = 0;
	each_example(example_breaks);
	/* action, condition, shared_flow and webhook have required fields or enums. */
	ck_assert_int_ge(refusals, 10);
}
END_TEST

/* Every retry field at its minimum (max_ms may not be below base_ms, so both are 0). */
#define RETRY_AT_MINIMA "{\"type\":\"noop\",\"retry\":{\"max_attempts\":1,\"base_ms\":0,\"max_ms\":0}}"

START_TEST(the_retry_schema_has_the_parsers_bounds)
{
	cJSON *schema = cJSON_Parse(exec_retry_schema);
	const cJSON *prop;
	char got[1024];

	ck_assert_msg(cJSON_IsObject(schema), "exec_retry_schema is not JSON");
	setup();
	cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(schema, "properties")) {
		double min, max;

		ck_assert_str_eq(json_string(prop, "type"), "integer");
		ck_assert(json_number(prop, "minimum", &min));
		for (int below = 0; below <= 1; below++) {
			cJSON *node = cJSON_Parse(RETRY_AT_MINIMA);

			cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "retry"), prop->string,
							       cJSON_CreateNumber(min - below));
			validate_node(node, got, sizeof(got));
			ck_assert_msg((strcmp(got, "valid") == 0) == !below, "retry.%s = %g: %s", prop->string,
				      min - below, got);
			cJSON_Delete(node);
		}
		if (json_number(prop, "maximum", &max)) {
			cJSON *node = cJSON_Parse(RETRY_AT_MINIMA);

			cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "retry"), prop->string,
							       cJSON_CreateNumber(max + 1));
			ck_assert_str_ne(validate_node(node, got, sizeof(got)), "valid");
			cJSON_Delete(node);
		}
	}
	cJSON_Delete(schema);
	teardown();
}
END_TEST

RUNNER_MAIN("node_types", 30, every_schema_is_a_json_schema_of_its_type, every_example_is_a_valid_node,
	    an_example_without_a_required_field_or_off_its_enum_is_refused, the_retry_schema_has_the_parsers_bounds)
