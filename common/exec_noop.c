/*
 * exec_noop.c - the built-in `noop` and `log` node types.
 *
 * They touch nothing outside the engine, which makes them the queue's own
 * test and benchmark load: `noop` only moves on (after "sleep_ms", to stand
 * for real work), `log` also writes its message to the worker's log and the
 * step's history.
 */
#include <time.h>

#include "executor.h"
#include "json.h"
#include "log.h"

#define NOOP_SLEEP_MAX_MS 600000

static void validate_noop(const cJSON *node, const char *node_id, const def_resolver_t *resolver,
				def_problems_t *problems)
{
	int ms;

	if (json_has(node, "sleep_ms") &&
	    (!json_int(node, "sleep_ms", &ms) || ms < 0 || ms > NOOP_SLEEP_MAX_MS))
		def_problem(problems, node_id, NULL, "\"sleep_ms\" must be an integer from 0 to %d",
			    NOOP_SLEEP_MAX_MS);
}

static void execute_noop(const exec_ctx_t *ctx, exec_outcome_t *out)
{
	int ms;

	if (json_int(ctx->node->json, "sleep_ms", &ms) && ms > 0) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	exec_next(out, ctx->node->next);
}

/* A noop that sleeps stands for real work, and is run the way real work is. */
static bool noop_is_slow(const cJSON *node)
{
	int ms;

	return json_int(node, "sleep_ms", &ms) && ms > 0;
}

static void validate_log(const cJSON *node, const char *node_id, const def_resolver_t *resolver,
				def_problems_t *problems)
{
	exec_optional_string(node, node_id, "message", problems);
}

static void execute_log(const exec_ctx_t *ctx, exec_outcome_t *out)
{
	const char *message = json_string(ctx->node->json, "message");

	log_info("%s", message ? message : "(log node)");
	out->result = json_object();
	json_add_string(out->result, "logged", message ? message : "");
	exec_next(out, ctx->node->next);
}

static const char noop_schema[] =
	"{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": \"noop\", "
	"\"description\": \"does nothing and moves on (tests and benchmarks)\", \"type\": \"object\", "
	"\"properties\": {\"sleep_ms\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 600000}}, "
	"\"examples\": [{}, {\"sleep_ms\": 50}]}";

const executor_t exec_noop = {
	.type = "noop",
	.description = "does nothing and moves on (tests and benchmarks)",
	.runs_in_line = true,
	.slow = noop_is_slow,
	.validate = validate_noop,
	.execute = execute_noop,
	.schema = noop_schema,
};

static const char log_schema[] =
	"{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": \"log\", "
	"\"description\": \"writes its message to the worker log and the history (tests)\", "
	"\"type\": \"object\", \"properties\": {\"message\": {\"type\": \"string\"}}, "
	"\"examples\": [{\"message\": \"hello from the engine\"}]}";

const executor_t exec_log = {
	.type = "log",
	.description = "writes its message to the worker log and the history (tests)",
	.runs_in_line = true,
	.validate = validate_log,
	.execute = execute_log,
	.schema = log_schema,
};
