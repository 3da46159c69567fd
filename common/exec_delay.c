/*
 * exec_delay.c - the `delay` node: wait a number of seconds, then go on.
 *
 * The first run of the node parks the execution (status delayed) with a
 * resume step due at the end of the wait; the resume step moves on to the
 * successor. DELAY_SCALE divides every wait, so a demo can run days in
 * seconds; the history keeps both the nominal and the scaled wait.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"
#include "jl_time.h"
#include "json.h"
#include "wftime.h"

/* Ten years: far enough for any lifecycle, near enough for every timestamp type. */
#define DELAY_MAX_S 315360000

static void validate_delay(const cJSON *node, const char *node_id, const def_resolver_t *resolver,
				def_problems_t *problems)
{
	double seconds;
	bool has_seconds = json_has(node, "seconds");
	bool has_until = json_has(node, "until");

	if (has_seconds == has_until) {
		def_problem(problems, node_id, NULL, "a delay needs exactly one of \"seconds\" or \"until\"");
		return;
	}
	if (has_seconds && (!json_number(node, "seconds", &seconds) || seconds < 0 || seconds > DELAY_MAX_S))
		def_problem(problems, node_id, NULL, "\"seconds\" must be a number from 0 to %d (ten years)",
			    DELAY_MAX_S);
	if (has_until) {
		const cJSON *until = cJSON_GetObjectItemCaseSensitive(node, "until");
		double t;

		if (cJSON_IsObject(until))
			exec_check_logic(node, node_id, "until", true, problems);
		else if (!cJSON_IsString(until) || jl_parse_time(until->valuestring, &t) < 0)
			def_problem(problems, node_id, NULL,
				    "\"until\" must be an ISO-8601 timestamp or a JSON Logic expression");
	}
}

/*
 * Seconds from now until the node's wait ends, before scaling; < 0 on error.
 * A time already past waits 0 s.
 */
static double nominal_wait(const exec_ctx_t *ctx, exec_outcome_t *out)
{
	const cJSON *until = cJSON_GetObjectItemCaseSensitive(ctx->node->json, "until");
	double seconds, at;
	char err[256] = "";
	char *text;

	if (json_number(ctx->node->json, "seconds", &seconds))
		return seconds;
	text = cJSON_IsString(until) ? strdup(until->valuestring) : exec_eval_text(ctx, until, err, sizeof(err));
	if (text == NULL || jl_parse_time(text, &at) < 0) {
		exec_fail(out, true, "\"until\" gave %s%s%s", text ? "\"" : "", text ? text : err,
			  text ? "\", not an ISO-8601 timestamp" : "");
		free(text);
		return -1;
	}
	free(text);
	return at > ctx->now ? at - ctx->now : 0;
}

static void execute_delay(const exec_ctx_t *ctx, exec_outcome_t *out)
{
	double nominal, scaled;
	char when[40];

	if (strcmp(ctx->kind, "resume") == 0) { /* the wait is over */
		exec_next(out, ctx->node->next);
		return;
	}
	nominal = nominal_wait(ctx, out);
	if (nominal < 0)
		return;
	scaled = nominal / ctx->cfg->delay_scale;
	out->status = EXEC_DELAY;
	out->run_at = ctx->now + scaled;
	out->delay = json_object();
	json_add_number(out->delay, "nominal_seconds", nominal);
	json_add_number(out->delay, "scaled_seconds", scaled);
	out->result = json_object();
	json_add_string(out->result, "resume_at", wftime_iso(out->run_at, when, sizeof(when)));
	json_add_number(out->result, "nominal_seconds", nominal);
	json_add_number(out->result, "scaled_seconds", scaled);
}

static const char schema[] =
	"{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": \"delay\", "
	"\"description\": \"waits a number of seconds, or until a time, "
	"then continues (DELAY_SCALE divides the wait)\", \"type\": \"object\", "
	"\"properties\": {\"seconds\": {\"type\": \"number\", \"minimum\": 0}, "
	"\"until\": {\"anyOf\": [{\"type\": \"string\", \"format\": \"date-time\"}, {\"type\": \"object\", "
	"\"description\": \"a JSON Logic expression over the execution's context that gives an ISO-8601 time\"}]}}, "
	"\"oneOf\": [{\"required\": [\"seconds\"]}, {\"required\": [\"until\"]}], "
	"\"examples\": [{\"seconds\": 172800}, {\"until\": \"2030-01-01T09:00:00Z\"}, "
	"{\"until\": {\"var\": \"subscription.trial_ends_at\"}}]}";

const executor_t exec_delay = {
	.type = "delay",
	.description = "waits a number of seconds, or until a time, then continues",
	.validate = validate_delay,
	.execute = execute_delay,
	.schema = schema,
};
