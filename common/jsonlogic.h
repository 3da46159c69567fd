/*
 * jsonlogic.h - JSON Logic (jsonlogic.com) rules evaluated exactly as the
 * reference implementation json-logic-js evaluates them.
 *
 * Rules decide which workflow a trigger row starts and which way a condition
 * branches. Users write them by hand and try them in a browser, so every
 * operator of the spec follows JavaScript: truthiness, == and < coercions,
 * number text, and the reference's own quirks. A few extra operators for
 * dates (now, date, days_since, hours_since, add_seconds) are added through
 * a table in jsonlogic.c. Rules are untrusted: recursion, work and result
 * size are bounded, and a bad rule is an error, never a crash.
 *
 * Everything here is thread-safe; nothing keeps state between calls.
 * Allocation failure aborts the process, as in json.h.
 */
#ifndef WF_JSONLOGIC_H
#define WF_JSONLOGIC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Nesting allowed for rules and for the values a rule builds. */
#define JL_MAX_DEPTH 128
/* Operations one evaluation may spend when jl_options_t.max_ops is 0. */
#define JL_DEFAULT_MAX_OPS 1000000L
/* Longest string (bytes) and longest array a rule may build. */
#define JL_MAX_STRING (1024 * 1024)
#define JL_MAX_ARRAY 100000

typedef struct {
	/* Seconds since the epoch that "now" and the date operators see; 0: the real clock. */
	double now;
	/* Operation budget; 0: JL_DEFAULT_MAX_OPS. */
	long max_ops;
	/* Receives the JSON text of each "log" operation; NULL: log_info(). */
	void (*log_cb)(const char *json, void *arg);
	void *log_arg;
} jl_options_t;

/*
 * Evaluates rule against data (NULL is JSON null) and returns the result as a
 * new tree that the caller frees with cJSON_Delete(). opts may be NULL.
 * Numbers keep JavaScript's values: a result may be NaN or Infinity (printed
 * as null by jl_to_json, as JSON.stringify does). On error returns NULL with
 * a one-line message in err: an unknown operator or a wrong number of
 * arguments where evaluation reaches it, a JavaScript TypeError of the
 * reference, or a limit (depth, operations, string or array size).
 * rule and data are only read, and must stay alive during the call.
 */
cJSON *jl_apply(const cJSON *rule, const cJSON *data, const jl_options_t *opts, char *err,
		size_t errlen);

/*
 * Evaluates rule like jl_apply() and stores only whether the result is
 * truthy, without building it: what trigger routing and condition nodes
 * need. Returns 0, or a negative errno (-EINVAL for a bad rule, -E2BIG for a
 * limit) with a message in err.
 */
int jl_test(const cJSON *rule, const cJSON *data, const jl_options_t *opts, bool *result,
	    char *err, size_t errlen);

/* JSON Logic truthiness: false, null, 0, NaN, "" and [] are false; "0" and {} are true. NULL is false. */
bool jl_truthy(const cJSON *v);

/*
 * Checks a rule without data, for saving workflow definitions: every
 * operator known, every argument count allowed, nesting within JL_MAX_DEPTH.
 * Returns 0, or -EINVAL with the first problem in err, naming where it is as
 * a JSON pointer into the rule ("unknown operator \"tpyo\" at /and/1").
 */
int jl_validate(const cJSON *rule, char *err, size_t errlen);

/*
 * v as one line of JSON, as JSON.stringify prints it: JavaScript number
 * text, NaN and Infinity as null, object keys in JavaScript's order (array
 * index keys first, ascending) and a repeated key once with its last value.
 * The caller frees the text with free(). NULL when v is NULL.
 */
char *jl_to_json(const cJSON *v);

#endif
