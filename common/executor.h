/*
 * executor.h - the table of node types: one row and one file per type.
 *
 * validate checks a node's own fields when a definition is saved (it runs
 * in the coordinator and in `validate`); execute runs the node in a worker
 * child and says what happened, without touching the database: the step
 * runner commits the outcome, its log rows and the next step together.
 */
#ifndef WF_EXECUTOR_H
#define WF_EXECUTOR_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "config.h"
#include "definition.h"

struct services;

typedef enum {
	EXEC_NEXT,	/* done: continue at next_node (NULL ends the execution) */
	EXEC_DELAY,	/* park until run_at, then resume this node */
	EXEC_WAIT,	/* a child execution was requested (child); wait for it */
	EXEC_ERROR,	/* failed: retried per policy unless permanent */
} exec_status_t;

/* What a step runs with. Everything is borrowed for the duration of execute. */
typedef struct {
	const wf_config_t *cfg;
	const def_t *def;
	const def_node_t *node;
	const char *execution_id;
	const char *kind;	/* run, resume, child_done, child_failed */
	int attempt;
	const cJSON *context;	/* the execution's context */
	double now;		/* epoch seconds when the step started */
	const struct services *services; /* templates and delivery clients; see services.h */
} exec_ctx_t;

/* What a step produced. Trees are owned by the outcome (exec_outcome_clear). */
typedef struct {
	exec_status_t status;
	const char *next_node;	/* EXEC_NEXT; borrowed from the definition */
	double run_at;		/* EXEC_DELAY: epoch seconds */
	bool permanent;		/* EXEC_ERROR: do not retry */
	bool deferred;		/* EXEC_ERROR: rate-limited; retry at run_at without counting an attempt */
	char error[512];
	cJSON *result;		/* recorded in the history */
	cJSON *logs;		/* array of {"email_log": {...}} and the like */
	cJSON *delay;		/* EXEC_DELAY: {"nominal_seconds": .., "scaled_seconds": ..} */
	cJSON *child;		/* EXEC_WAIT: {"workflow": name, "context": {...}} */
} exec_outcome_t;

typedef struct executor {
	const char *type;
	const char *description;
	bool branching;		/* successors are "true"/"false" instead of "next" */
	/* Decides on the user's current data: the trigger row's fresh context
	 * is laid over the execution's snapshot before it runs. */
	bool fresh_context;
	/* May run in line, right after the node before it in the same round
	 * (see worker/runner.c): it neither waits nor starts a child, and
	 * running it again costs nothing when external() is false. */
	bool runs_in_line;
	/* Does this node talk to the outside world? Then its step is committed
	 * on its own right after it ran. NULL: never. */
	bool (*external)(const cJSON *node, const wf_config_t *cfg);
	/* Does this node take long to run (standing for real work)? Then its
	 * step is claimed before it runs, never run unclaimed inside the
	 * round's transaction (worker/runner.c). NULL: never. */
	bool (*slow)(const cJSON *node);
	/* Appends problems with the node's own fields; node_id names them. resolver may be NULL. */
	void (*validate)(const cJSON *node, const char *node_id, const def_resolver_t *resolver,
			 def_problems_t *problems);
	void (*execute)(const exec_ctx_t *ctx, exec_outcome_t *out);
	/*
	 * JSON Schema (draft 2020-12) text of the node's own fields, for
	 * editors (GET /workflow/node-types). Its "examples" are complete
	 * nodes without "type" and successors; a unit test validates them.
	 */
	const char *schema;
} executor_t;

/* JSON Schema of "retry", which every node may carry (see def_retry_t). */
extern const char exec_retry_schema[];

/* The executor of a node type, or NULL when the type is unknown. */
const executor_t *executor_find(const char *type);
/* Every executor, for listings such as GET /workflow/node-types. */
const executor_t *const *executor_all(int *count);

/* Outcome helpers. */
void exec_outcome_init(exec_outcome_t *out);
void exec_outcome_clear(exec_outcome_t *out);
void exec_fail(exec_outcome_t *out, bool permanent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void exec_next(exec_outcome_t *out, const char *next_node);
/*
 * Checks the rate limits of keys (NULL-terminated, with their rates); when
 * one is exhausted, defers the step (not an attempt, not a failure) and
 * returns true.
 */
bool exec_rate_limited(const exec_ctx_t *ctx, exec_outcome_t *out, const char *const *keys,
		       const int *rates);

/*
 * Evaluates a JSON Logic expression on the step's context; a new tree the
 * caller frees, or NULL with the error in err.
 */
cJSON *exec_eval(const exec_ctx_t *ctx, const cJSON *expr, char *err, size_t errlen);
/*
 * A JSON value with JSON Logic inside, e.g. {"user": {"var": "user.id"}}:
 * every object that is a single known operator is evaluated, the rest is
 * copied. A new tree, or NULL with the error in err.
 */
cJSON *exec_fill(const exec_ctx_t *ctx, const cJSON *value, char *err, size_t errlen);
/* The text an expression evaluates to (a string, or a number's JavaScript text); malloc'd, or NULL. */
char *exec_eval_text(const exec_ctx_t *ctx, const cJSON *expr, char *err, size_t errlen);

/*
 * Where a node (its JSON) would send an email with this context, now
 * (epoch seconds) being the time its "to" is evaluated at: malloc'd, or
 * NULL with the reason in err (not a send_email node; no recipient; an
 * expression that fails).
 */
char *exec_email_recipient(const cJSON *node, const cJSON *context, double now, char *err, size_t errlen);

/* The webhook call of the `webhook` node, shared by the `trigger_webhook` action (exec_webhook.c). */
void exec_webhook_validate(const cJSON *node, const char *node_id, bool with_method,
			   def_problems_t *problems);
void exec_webhook_call(const exec_ctx_t *ctx, const cJSON *fields, const cJSON *default_body,
		       exec_outcome_t *out);

/* Field checks shared by the validate functions. */
void exec_check_logic(const cJSON *node, const char *node_id, const char *field, bool required,
		      def_problems_t *problems);
void exec_require_string(const cJSON *node, const char *node_id, const char *field,
			 def_problems_t *problems);
void exec_optional_string(const cJSON *node, const char *node_id, const char *field,
			  def_problems_t *problems);

#endif
