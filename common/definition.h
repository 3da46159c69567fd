/*
 * definition.h - workflow definitions: parse, validate, and walk.
 *
 * A definition is JSON (format in docs and the interface): a start node and
 * a map of nodes, each with a type whose executor checks its own fields.
 * Validation reports every problem at once, each naming its node, so an
 * editor can mark all of them.
 */
#ifndef WF_DEFINITION_H
#define WF_DEFINITION_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct executor;

/* Nodes a definition may have, as many as the visual editor allows. */
#define DEF_NODES_MAX 1000

/* One problem found in a definition; node (or edge) may be NULL for the whole document. */
typedef struct {
	char *node;
	char *edge;
	char *message;
} def_problem_t;

typedef struct {
	def_problem_t *items;
	size_t count;
	size_t cap;
} def_problems_t;

typedef struct {
	int max_attempts; /* including the first; 1 = no retry */
	int base_ms;	  /* backoff before the second attempt */
	int max_ms;	  /* cap of one backoff */
} def_retry_t;

typedef struct {
	const char *id;
	const char *type;
	const struct executor *exec;
	const cJSON *json;	/* the node object, borrowed from the definition */
	const char *next;	/* successor of non-branching nodes; NULL ends the path */
	const char *on_true;	/* condition: successor when the rule is truthy */
	const char *on_false;	/* condition: successor otherwise */
	def_retry_t retry;
} def_node_t;

typedef struct {
	cJSON *json;		/* the whole definition, owned */
	const char *name;
	const char *start;
	const char *trigger_source;  /* subscription, newsletter, manual, cron; NULL = manual */
	const cJSON *trigger_rule;   /* JSON Logic over the trigger context, may be NULL */
	int priority;
	const cJSON *exit_rule;	     /* exit condition checked before every step, may be NULL */
	def_node_t *nodes;
	size_t nnodes;
} def_t;

/*
 * Looks up another workflow's definition by name, for shared_flow checks;
 * returns a borrowed tree or NULL when no such workflow exists.
 */
typedef const cJSON *(*def_lookup_cb)(void *arg, const char *workflow_name);

/* Does an email template of this name exist? */
typedef bool (*def_template_cb)(void *arg, const char *template_name);

/*
 * Does the database know this time zone name (a cron trigger's "timezone")?
 * Without a database only the name's form is checked.
 */
typedef bool (*def_timezone_cb)(void *arg, const char *timezone_name);

/*
 * What validation may look up outside the definition; any member may be
 * NULL. has_timezone comes after arg so that initialisers written before it
 * existed (by position) still mean what they did.
 */
typedef struct {
	def_lookup_cb lookup;		/* NULL: shared_flow targets are not checked */
	def_template_cb has_template;	/* NULL: template names are not checked */
	void *arg;
	def_timezone_cb has_timezone;	/* NULL: time zone names are not looked up */
} def_resolver_t;

/*
 * Parses and validates json (copied; the caller keeps its tree). Returns 0
 * with *out set (free with def_free) when valid; -1 with every problem
 * appended to problems otherwise (then *out is NULL).
 */
int def_parse(const cJSON *json, const def_resolver_t *resolver, def_t **out,
	      def_problems_t *problems);
/* Validates without keeping the result: 0 when valid, -1 with problems. */
int def_validate(const cJSON *json, const def_resolver_t *resolver, def_problems_t *problems);
void def_free(def_t *def);

/* The node with this id, or NULL. */
const def_node_t *def_node(const def_t *def, const char *id);

/* Default retry policy of a node that gives none. */
extern const def_retry_t def_retry_default;

/* Appends a problem; node and edge may be NULL. */
void def_problem(def_problems_t *p, const char *node, const char *edge, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void def_problems_free(def_problems_t *p);
/* [{"node": ..., "edge": ..., "message": ...}], caller owns the tree. */
cJSON *def_problems_json(const def_problems_t *p);

#endif
