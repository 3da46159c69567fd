/*
 * exec_shared_flow.c - the `shared_flow` node: run another workflow as a
 * child execution and continue when it has completed.
 *
 * The child starts with a copy of the parent's context. A failed child fails
 * the parent, unless the node has a "retry" policy: then the node runs again
 * (a new child) with backoff, up to its attempts.
 */
#include <string.h>

#include "executor.h"
#include "json.h"

static void validate_shared_flow(const cJSON *node, const char *node_id, const def_resolver_t *resolver,
				def_problems_t *problems)
{
	exec_require_string(node, node_id, "workflow", problems);
}

static void execute_shared_flow(const exec_ctx_t *ctx, exec_outcome_t *out)
{
	const char *workflow = json_string(ctx->node->json, "workflow");

	if (strcmp(ctx->kind, "child_done") == 0) {
		exec_next(out, ctx->node->next);
		return;
	}
	if (strcmp(ctx->kind, "child_failed") == 0) {
		bool has_policy = json_has(ctx->node->json, "retry");

		exec_fail(out, !has_policy, "shared flow \"%s\" failed", workflow);
		return;
	}
	out->status = EXEC_WAIT;
	out->child = json_object();
	json_add_string(out->child, "workflow", workflow);
	json_add(out->child, "context", cJSON_Duplicate(ctx->context, 1));
	out->result = json_object();
	json_add_string(out->result, "workflow", workflow);
}

static const char schema[] =
	"{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": \"shared_flow\", "
	"\"description\": \"runs another workflow as a child execution with a copy of the context, "
	"and continues when it has completed\", \"type\": \"object\", \"required\": [\"workflow\"], "
	"\"properties\": {\"workflow\": {\"type\": \"string\", \"minLength\": 1, "
	"\"description\": \"the name of the workflow to run\"}}, "
	"\"examples\": [{\"workflow\": \"value_highlight_flow\"}]}";

const executor_t exec_shared_flow = {
	.type = "shared_flow",
	.description = "runs another workflow as a child execution and waits for it",
	.validate = validate_shared_flow,
	.execute = execute_shared_flow,
	.schema = schema,
};
