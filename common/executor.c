/*
 * executor.c - the node type table and the helpers executors share.
 *
 * Adding a node type is one file with its validate/execute pair and one row
 * in executors[] below.
 */
#include "executor.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

extern const executor_t exec_delay;
extern const executor_t exec_log;
extern const executor_t exec_noop;
extern const executor_t exec_shared_flow;

static const executor_t *const executors[] = {
	&exec_delay,
	&exec_shared_flow,
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
