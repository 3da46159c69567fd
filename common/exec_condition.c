/*
 * exec_condition.c - the `condition` node: a JSON Logic rule over the
 * execution's context chooses the "true" or the "false" successor.
 *
 * The context it sees is refreshed from the trigger row first (see
 * fresh_context): "has the user engaged?" after a two-day wait must be
 * asked of today's data, not of the snapshot taken at the start.
 */
#include "executor.h"
#include "json.h"
#include "jsonlogic.h"

static void validate_condition(const cJSON *node, const char *node_id, const def_resolver_t *resolver,
			       def_problems_t *problems)
{
	exec_check_logic(node, node_id, "rule", true, problems);
}

static void execute_condition(const exec_ctx_t *ctx, exec_outcome_t *out)
{
	const cJSON *rule = cJSON_GetObjectItemCaseSensitive(ctx->node->json, "rule");
	jl_options_t opts = { .now = ctx->now };
	bool truthy = false;
	char err[256];

	/* A rule that cannot be evaluated fails the same way every time. */
	if (jl_test(rule, ctx->context, &opts, &truthy, err, sizeof(err)) < 0) {
		exec_fail(out, true, "condition rule failed: %s", err);
		return;
	}
	out->result = json_object();
	json_add_bool(out->result, "result", truthy);
	exec_next(out, truthy ? ctx->node->on_true : ctx->node->on_false);
}

static const char schema[] =
	"{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": \"condition\", "
	"\"description\": \"follows the \\\"true\\\" or the \\\"false\\\" edge by a JSON Logic rule over the context, "
	"refreshed from the trigger row\", \"type\": \"object\", \"required\": [\"rule\"], "
	"\"properties\": {\"rule\": {\"description\": \"the JSON Logic rule\"}}, "
	"\"examples\": [{\"rule\": {\"!\": {\"var\": \"user.engaged\"}}}, "
	"{\"rule\": {\"==\": [{\"var\": \"subscription_type.name\"}, \"united\"]}}]}";

const executor_t exec_condition = {
	.type = "condition",
	.description = "follows \"true\" or \"false\" by a JSON Logic rule over the context",
	.runs_in_line = true,
	.branching = true,
	.fresh_context = true,
	.validate = validate_condition,
	.execute = execute_condition,
	.schema = schema,
};
