/*
 * fuzz_reactflow.c - libFuzzer target for the React Flow converter.
 *
 * The input is a JSON document. It goes through rf_convert as a flow (with
 * a resolver that knows one workflow and one template, so that shared flow
 * and template checks run too) and through rf_from_definition as a
 * definition. Besides what ASan and UBSan report, the target aborts when a
 * contract breaks: a result together with problems, a problem naming both
 * a node and an edge or without a message, or a round trip that changes
 * the definition (a converted flow laid out again must convert to the same
 * definition, and a valid definition laid out must convert without problems).
 * It found that a duplicate key was checked as cJSON reads it (the first)
 * but would be stored as jsonb reads it (the last), and that an empty node
 * id passed validation although the converter refuses it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "definition.h"
#include "json.h"
#include "reactflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

static cJSON *leaf;

static const cJSON *lookup(void *arg, const char *name)
{
	return strcmp(name, "leaf") == 0 ? leaf : NULL;
}

static bool has_template(void *arg, const char *name)
{
	return strcmp(name, "welcome") == 0;
}

/* Converts; aborts when the result and the problems disagree. */
static int convert(const cJSON *flow, const def_resolver_t *resolver, cJSON **def)
{
	def_problems_t problems = { 0 };
	int rc = rf_convert(flow, "fuzz", resolver, def, &problems);

	if ((rc == 0) != (*def != NULL) || (rc == 0) != (problems.count == 0))
		abort();
	for (size_t i = 0; i < problems.count; i++)
		if ((problems.items[i].node && problems.items[i].edge) || problems.items[i].message[0] == '\0')
			abort();
	def_problems_free(&problems);
	return rc;
}

/* A valid definition, laid out and converted back, gives def again. */
static void round_trip(const cJSON *def, const def_resolver_t *resolver)
{
	cJSON *flow = NULL, *again = NULL;

	if (rf_from_definition(def, &flow) < 0 || convert(flow, resolver, &again) < 0 ||
	    !cJSON_Compare(def, again, true))
		abort();
	cJSON_Delete(again);
	cJSON_Delete(flow);
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
	def_resolver_t resolver = { lookup, has_template, NULL };
	cJSON *json = cJSON_ParseWithLength((const char *)bytes, size);
	cJSON *def = NULL, *flow = NULL, *back = NULL;

	if (leaf == NULL)
		leaf = cJSON_Parse("{\"name\":\"leaf\",\"start\":\"x\",\"nodes\":{\"x\":{\"type\":\"noop\"}}}");
	if (json == NULL)
		return 0;
	if (convert(json, &resolver, &def) == 0)
		round_trip(def, &resolver);
	cJSON_Delete(def);

	/*
	 * The input as a definition: laid out, whatever it holds; converted
	 * back without problems when valid (and without duplicate keys, which
	 * the converter refuses).
	 */
	if (rf_from_definition(json, &flow) == 0) {
		if (def_validate(json, NULL, NULL) == 0 && json_duplicate_key(json, true) == NULL) {
			if (convert(flow, NULL, &back) < 0)
				abort();
		} else {
			def_problems_t problems = { 0 };

			rf_convert(flow, NULL, NULL, &back, &problems);
			def_problems_free(&problems);
		}
		cJSON_Delete(back);
		cJSON_Delete(flow);
	}
	cJSON_Delete(json);
	return 0;
}
