/*
 * executor.c - the node type table and the helpers executors share.
 *
 * Adding a node type is one file with its validate/execute pair and one row
 * in executors[] below.
 */
#include "executor.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonlogic.h"
#include "services.h"

extern const executor_t exec_action;
extern const executor_t exec_condition;
extern const executor_t exec_delay;
extern const executor_t exec_log;
extern const executor_t exec_noop;
extern const executor_t exec_shared_flow;
extern const executor_t exec_webhook;

static const executor_t *const executors[] = {
	&exec_action,
	&exec_delay,
	&exec_condition,
	&exec_shared_flow,
	&exec_webhook,
	&exec_noop,
	&exec_log,
};

#define NEXECUTORS ((int)(sizeof(executors) / sizeof(executors[0])))

const executor_t *executor_find(const char *type)
{
	for (int i = 0; i < NEXECUTORS; i++)
		if (strcmp(executors[i]->type, type) == 0)
			return executors[i];
	return NULL;
}

const executor_t *const *executor_all(int *count)
{
	*count = NEXECUTORS;
	return executors;
}

void exec_outcome_init(exec_outcome_t *out)
{
	memset(out, 0, sizeof(*out));
}

void exec_outcome_clear(exec_outcome_t *out)
{
	cJSON_Delete(out->result);
	cJSON_Delete(out->logs);
	cJSON_Delete(out->delay);
	cJSON_Delete(out->child);
	exec_outcome_init(out);
}

void exec_fail(exec_outcome_t *out, bool permanent, const char *fmt, ...)
{
	va_list ap;

	out->status = EXEC_ERROR;
	out->permanent = permanent;
	va_start(ap, fmt);
	vsnprintf(out->error, sizeof(out->error), fmt, ap);
	va_end(ap);
}

void exec_next(exec_outcome_t *out, const char *next_node)
{
	out->status = EXEC_NEXT;
	out->next_node = next_node;
}

void exec_require_string(const cJSON *node, const char *node_id, const char *field,
			 def_problems_t *problems)
{
	const char *v = json_string(node, field);

	if (v == NULL || *v == '\0')
		def_problem(problems, node_id, NULL, "missing field \"%s\" (a non-empty string)", field);
}

void exec_optional_string(const cJSON *node, const char *node_id, const char *field,
			  def_problems_t *problems)
{
	if (json_has(node, field) && json_string(node, field) == NULL)
		def_problem(problems, node_id, NULL, "\"%s\" must be a string", field);
}

cJSON *exec_eval(const exec_ctx_t *ctx, const cJSON *expr, char *err, size_t errlen)
{
	jl_options_t opts = { .now = ctx->now };

	return jl_apply(expr, ctx->context, &opts, err, errlen);
}

/* A single-key object whose key is an operator JSON Logic knows. */
static bool is_logic(const cJSON *value)
{
	char err[8];

	return cJSON_IsObject(value) && cJSON_GetArraySize(value) == 1 &&
	       jl_validate(value, err, sizeof(err)) == 0;
}

cJSON *exec_fill(const exec_ctx_t *ctx, const cJSON *value, char *err, size_t errlen)
{
	const cJSON *item;
	cJSON *out;

	if (is_logic(value))
		return exec_eval(ctx, value, err, errlen);
	if (!cJSON_IsObject(value) && !cJSON_IsArray(value))
		return cJSON_Duplicate(value, 1);
	out = cJSON_IsObject(value) ? cJSON_CreateObject() : cJSON_CreateArray();
	cJSON_ArrayForEach(item, value) {
		cJSON *filled = exec_fill(ctx, item, err, errlen);

		if (filled == NULL) {
			cJSON_Delete(out);
			return NULL;
		}
		if (cJSON_IsObject(value))
			json_add(out, item->string, filled);
		else
			cJSON_AddItemToArray(out, filled);
	}
	return out;
}

char *exec_eval_text(const exec_ctx_t *ctx, const cJSON *expr, char *err, size_t errlen)
{
	cJSON *v = exec_eval(ctx, expr, err, errlen);
	char *text = NULL;

	if (cJSON_IsString(v))
		text = strdup(v->valuestring);
	else if (cJSON_IsNumber(v))
		text = jl_to_json(v);
	else if (v != NULL)
		snprintf(err, errlen, "expression gave %s, not a text", cJSON_IsNull(v) ? "null" : "a non-text value");
	cJSON_Delete(v);
	return text;
}

void exec_check_logic(const cJSON *node, const char *node_id, const char *field, bool required,
		      def_problems_t *problems)
{
	const cJSON *rule = cJSON_GetObjectItemCaseSensitive(node, field);
	char err[256];

	if (rule == NULL || cJSON_IsNull(rule)) {
		if (required)
			def_problem(problems, node_id, NULL, "missing field \"%s\" (a JSON Logic rule)", field);
		return;
	}
	if (jl_validate(rule, err, sizeof(err)) < 0)
		def_problem(problems, node_id, NULL, "\"%s\" is not a valid JSON Logic rule: %s", field, err);
}

bool exec_rate_limited(const exec_ctx_t *ctx, exec_outcome_t *out, const char *const *keys,
		       const int *rates)
{
	for (int i = 0; keys[i]; i++) {
		double wait = services_rate_wait(ctx->services, keys[i], rates[i]);

		if (wait > 0) {
			out->status = EXEC_ERROR;
			out->deferred = true;
			out->run_at = ctx->now + wait;
			snprintf(out->error, sizeof(out->error), "rate limit \"%s\" (%d/s): waiting %.3f s",
				 keys[i], rates[i], wait);
			out->result = json_object();
			json_add_string(out->result, "deferred", out->error);
			return true;
		}
	}
	return false;
}
